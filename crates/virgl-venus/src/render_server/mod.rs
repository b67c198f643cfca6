//! `virgl-render-server`: Venus contexts in a separate process, one worker per context.
//!
//! The proxy in `virgl-capi` (when the embedder sets `VIRGL_RENDERER_RENDER_SERVER`) starts the
//! server with `--socket-fd N` or reaches it through the `get_server_fd` callback, and speaks
//! the render-server protocol of `virgl_protocol::render_server` over `SOCK_SEQPACKET`:
//! - [`run_server`] serves the client ops (init, reset, create/destroy context). Each context
//!   gets a worker — a forked process by default, a thread with [`WorkerMode::Thread`] — and the
//!   proxy a socket to it;
//! - [`run_worker`] serves one context's ops by driving an in-process `VenusContext`: blob
//!   resources go back to the proxy as fds (`SCM_RIGHTS`), fences retire by writing the ring's
//!   seqno into the shared timeline array and signalling the eventfd, and our `GET_RESOURCE`
//!   describes and exports a resource's memory.
//! - [`transport`] frames packets and passes fds, [`spawn_server`] starts the binary; the
//!   proxy uses both.
//!
//! Not done: seccomp/minijail sandboxing of workers (upstream's `--worker-seccomp-*` options
//! are refused by the binary) and the macOS `SOCK_STREAM` framing.

mod launch;
mod server;
pub mod transport;
mod worker;

pub use launch::spawn_server;
pub use server::{run_server, ServerExit, WorkerMode};
pub use worker::{run_worker, WorkerArgs, MAX_TIMELINES};
