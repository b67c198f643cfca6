//! The C ABI of `virglrenderer.h` 1.3.0.
//!
//! Each export is a thin shim over [`crate::Renderer`]: it checks pointers, converts arguments,
//! catches panics (a panic never crosses into C) and returns the error convention upstream uses
//! for that function (some return positive errno, some negative, some -1: see each function).
//!
//! The renderer's state lives in a thread-local: upstream's library is driven from one thread
//! (QEMU's main loop under the BQL, the vtest server's per-client process), GL contexts are bound
//! to a thread, and a thread-local turns a call from a foreign thread into a clean error instead
//! of a data race. Re-entering the library from inside one of its callbacks is refused the same
//! way (the state is borrowed), never undefined behaviour.

#![allow(non_camel_case_types)]

pub mod constants;
mod exports;
mod gl_callbacks;
mod log;
pub mod types;

use std::cell::RefCell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::Renderer;

/// What `virgl_renderer_init` set up.
struct State {
    cookie: *mut c_void,
    flags: i32,
    callbacks: *const types::virgl_renderer_callbacks,
    renderer: Renderer,
    /// `virgl_renderer_resource_set_priv` values, opaque to us.
    resource_priv: std::collections::HashMap<u32, *mut c_void>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// Runs `body` with the initialised state, or returns `uninitialised` when there is none (or it
/// is borrowed by an outer call, or `body` panics).
fn with_state<R>(uninitialised: R, body: impl FnOnce(&mut State) -> R) -> R {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        STATE.with(|cell| match cell.try_borrow_mut() {
            Ok(mut guard) => guard.as_mut().map(body),
            Err(_) => {
                tracing::error!("virglrenderer re-entered from one of its own callbacks");
                None
            }
        })
    }));
    match outcome {
        Ok(Some(value)) => value,
        Ok(None) => uninitialised,
        Err(_) => {
            tracing::error!("panic inside virglrenderer call caught at the C boundary");
            uninitialised
        }
    }
}

/// Runs `body` without the state, catching panics.
fn guarded<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| {
        tracing::error!("panic inside virglrenderer call caught at the C boundary");
        on_panic
    })
}
