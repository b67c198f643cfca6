//! Logging for C embedders: `virgl_set_log_callback` and the deprecated `virgl_set_debug_callback`.
//!
//! The library logs through `tracing`. When a C embedder loads us, a global subscriber is
//! installed on first use (unless the process already has one) that forwards each event to the
//! embedder's log callback, or to stderr when none is set — what upstream does by default.

use std::ffi::{c_void, CString};
use std::fmt::Write as _;
use std::sync::{Mutex, Once};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer};

use super::constants::virgl_log_level_flags::{self, *};
use super::types::*;

/// The embedder's log callback and its user data.
struct LogSink {
    callback: virgl_log_callback_type,
    user_data: *mut c_void,
    free_user_data: virgl_free_data_callback_type,
}

// SAFETY: the user data pointer is only handed back to the embedder's own callbacks, which the
// C API documents as callable from any thread the library logs on.
unsafe impl Send for LogSink {}

static SINK: Mutex<Option<LogSink>> = Mutex::new(None);
static DEBUG_CALLBACK: Mutex<virgl_debug_callback_type> = Mutex::new(None);
static INSTALL: Once = Once::new();

fn level_of(level: &Level) -> virgl_log_level_flags {
    match *level {
        Level::ERROR => VIRGL_LOG_LEVEL_ERROR,
        Level::WARN => VIRGL_LOG_LEVEL_WARNING,
        Level::INFO => VIRGL_LOG_LEVEL_INFO,
        _ => VIRGL_LOG_LEVEL_DEBUG,
    }
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}

struct CallbackLayer;

impl<S: Subscriber> Layer<S> for CallbackLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let level = level_of(event.metadata().level());
        let sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
        match sink
            .as_ref()
            .and_then(|s| s.callback.map(|cb| (cb, s.user_data)))
        {
            Some((callback, user_data)) => {
                let message = CString::new(visitor.0.replace('\0', " ")).unwrap_or_default();
                // SAFETY: the embedder registered `callback` for exactly this call shape; the
                // message is a valid NUL-terminated string that lives across the call.
                unsafe { callback(level, message.as_ptr(), user_data) };
            }
            None => eprintln!("virglrenderer: {}", visitor.0),
        }
    }
}

/// Installs the forwarding subscriber once (no-op if the process has its own).
pub(super) fn install() {
    INSTALL.call_once(|| {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
        let subscriber = tracing_subscriber::registry()
            .with(filter)
            .with(CallbackLayer);
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Replaces the log sink, freeing the previous user data through its free callback.
pub(super) fn set_sink(
    callback: virgl_log_callback_type,
    user_data: *mut c_void,
    free_user_data: virgl_free_data_callback_type,
) {
    install();
    let previous = SINK
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .replace(LogSink {
            callback,
            user_data,
            free_user_data,
        });
    if let Some(LogSink {
        user_data,
        free_user_data: Some(free),
        ..
    }) = previous
    {
        // SAFETY: the embedder gave us `free` to release exactly this user data when replaced.
        unsafe { free(user_data) };
    }
}

/// Stores the deprecated debug callback and returns the previous one.
pub(super) fn set_debug_callback(cb: virgl_debug_callback_type) -> virgl_debug_callback_type {
    install();
    std::mem::replace(
        &mut *DEBUG_CALLBACK.lock().unwrap_or_else(|e| e.into_inner()),
        cb,
    )
}
