//! The one error type of the bench clients.

use virgl_protocol::ProtocolError;

/// Why a measurement could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("{what}: {source}")]
    Errno {
        what: &'static str,
        source: nix::errno::Errno,
    },
    #[error("decoding the server's reply: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("encoding the command stream: {0}")]
    Encode(ProtocolError),
    #[error("the server closed the connection ({0}); it rejected a request or crashed")]
    Closed(&'static str),
    #[error("unexpected reply to {asked}: {got}")]
    UnexpectedReply { asked: &'static str, got: String },
    #[error("the server negotiated vtest protocol {0}; these clients need 3 or later")]
    OldProtocol(u32),
    #[error("check failed: {0}")]
    Mismatch(String),
    #[error("usage: {0}")]
    Usage(String),
}

pub type BenchResult<T> = Result<T, BenchError>;

impl BenchError {
    pub fn io(what: &'static str) -> impl FnOnce(std::io::Error) -> BenchError {
        move |source| BenchError::Io { what, source }
    }
}
