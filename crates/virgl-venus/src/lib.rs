//! The Vulkan (Venus) backend of virgl-rs (capset VENUS).
//!
//! Layers:
//! - [`wire`]: the Venus wire format (bounds-checked reader, reply writer, decode arena);
//! - `generated`: structures, argument decoders and reply encoders generated from vk.xml by
//!   `cargo xtask codegen` (see `xtask/src/venus_codegen` for what is generated and why);
//! - the runtime (backend, contexts, object tables, rings, reply streams) dispatching through ash
//!   on the host's Vulkan driver.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

#[rustfmt::skip]
#[allow(
    non_snake_case,
    non_camel_case_types,
    non_upper_case_globals,
    unused_unsafe,
    unused_parens,
    unused_imports,
    clippy::all,
    clippy::pedantic,
    missing_docs
)]
pub mod generated;
mod backend;
mod context;
mod dispatch;
mod error;
mod objects;
mod ring;
mod shm;
pub mod wire;

pub use backend::{capset_bytes, VenusBackend, CAPSET_SIZE};
pub use context::{VenusContext, CAPSET_VENUS};
pub use dispatch::{serves_extension, MAX_API_VERSION, WITHHELD_EXTENSIONS};
pub use error::VenusError;
