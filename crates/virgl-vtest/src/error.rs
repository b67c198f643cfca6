//! The one error type of this crate.

use thiserror::Error;
use virgl_capi::RendererError;
use virgl_protocol::ProtocolError;
use virgl_resource::ResourceError;

/// What can end a client session or the server.
///
/// Every variant raised while serving a client ends that client only (upstream's
/// `VTEST_CLIENT_ERROR_*`); the server keeps serving the others.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VtestError {
    /// Bad command line.
    #[error("{0}")]
    Usage(String),
    /// The socket path is unusable (taken by a live server, not ours, not a socket...).
    #[error("socket path {path}: {reason}")]
    SocketPath { path: String, reason: String },
    /// An OS call failed.
    #[error("{op}: {source}")]
    Io {
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The client's bytes do not frame or decode.
    #[error("malformed request: {0}")]
    Protocol(#[from] ProtocolError),
    /// The first request was not CREATE_RENDERER (`VTEST_CLIENT_ERROR_CONTEXT_MISSING`).
    #[error("the first request must be CREATE_RENDERER, got command {0}")]
    ContextMissing(u32),
    /// A command upstream does not serve in this configuration
    /// (`VTEST_CLIENT_ERROR_COMMAND_UNEXPECTED`), e.g. DRM_SYNC_* without `--drm`.
    #[error("command {0} is not served by this server")]
    Unexpected(&'static str),
    /// A request was well-formed but not acceptable (`VTEST_CLIENT_ERROR_COMMAND_DISPATCH`).
    #[error("{cmd}: {reason}")]
    Rejected { cmd: &'static str, reason: String },
    /// The client promised an fd (SCM_RIGHTS) and did not send one.
    #[error("{0}: expected an fd from the client")]
    MissingFd(&'static str),
    /// The renderer refused or failed.
    #[error(transparent)]
    Renderer(#[from] RendererError),
    /// The resource layer (shared memory) failed.
    #[error(transparent)]
    Resource(#[from] ResourceError),
}

impl VtestError {
    /// An [`VtestError::Io`] from the last OS error of `op`.
    pub(crate) fn io(op: &'static str, source: std::io::Error) -> Self {
        Self::Io { op, source }
    }

    pub(crate) fn errno(op: &'static str, errno: nix::errno::Errno) -> Self {
        Self::Io {
            op,
            source: std::io::Error::from(errno),
        }
    }

    pub(crate) fn rejected(cmd: &'static str, reason: impl Into<String>) -> Self {
        Self::Rejected {
            cmd,
            reason: reason.into(),
        }
    }
}

/// Result alias of this crate.
pub type VtestResult<T> = Result<T, VtestError>;
