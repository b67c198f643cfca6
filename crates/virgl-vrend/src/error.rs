//! The one error type of this crate.

use thiserror::Error;
use virgl_resource::ContextError;

/// Errors of the GL backend.
///
/// Guest-caused errors become [`ContextError::InvalidCommand`] (the context is marked broken);
/// host failures become [`ContextError::Host`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VrendError {
    /// libEGL could not be loaded or lacks a required entry point or extension.
    #[error("EGL unavailable: {0}")]
    EglUnavailable(String),
    /// An EGL call failed.
    #[error("EGL call {call} failed: {error}")]
    Egl { call: &'static str, error: String },
    /// The embedder's GL context callbacks failed.
    #[error("GL context provider failed: {0}")]
    Provider(String),
    /// The host GL lacks something the backend needs.
    #[error("host GL lacks {0}")]
    HostGlMissing(String),
    /// A GL call reported an error.
    #[error("GL error 0x{code:04x} in {what}")]
    Gl { what: &'static str, code: u32 },
    /// A requested feature is not available on this machine or in this build.
    #[error("{0} is not supported")]
    Unsupported(String),
    /// The guest sent something invalid.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A guest shader is malformed or uses something the translator cannot express
    /// (`line` is 1-based in the TGSI text; 0 when no line applies).
    #[error("shader line {line}: {message}")]
    Shader { line: usize, message: String },
    /// The guest asked the context to keep more bytes of objects or shader text than its
    /// budget allows (`crate::budget`).
    #[error("{what} of {bytes} bytes exceeds the context's budget ({used} of {limit} bytes used)")]
    OverBudget {
        what: &'static str,
        bytes: usize,
        used: usize,
        limit: usize,
    },
}

impl From<virgl_resource::ResourceError> for VrendError {
    /// Guest memory refusing a copy (out of bounds, unmapped) is the guest's fault.
    fn from(err: virgl_resource::ResourceError) -> Self {
        VrendError::Invalid(err.to_string())
    }
}

impl From<VrendError> for ContextError {
    fn from(err: VrendError) -> Self {
        match err {
            VrendError::Invalid(msg) => ContextError::InvalidCommand(msg),
            shader @ VrendError::Shader { .. } => ContextError::InvalidCommand(shader.to_string()),
            over @ VrendError::OverBudget { .. } => ContextError::InvalidCommand(over.to_string()),
            other => ContextError::Host(other.to_string()),
        }
    }
}

/// Result alias of this crate.
pub type VrendResult<T> = Result<T, VrendError>;
