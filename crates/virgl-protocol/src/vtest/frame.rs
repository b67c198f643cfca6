//! Framing: cutting a vtest byte stream into requests.

use super::{payload_size, Header, PayloadSize, Request, DEFAULT_MAX_PAYLOAD, HEADER_SIZE};
use crate::ProtocolError;

/// Cuts a vtest byte stream into [`Request`]s.
///
/// Feed it whatever the socket returned ([`FrameDecoder::feed`]), then take requests until
/// [`FrameDecoder::next_request`] answers `Ok(None)`. A payload larger than the cap is refused
/// from its header (or its size-bearing prefix) before any of it is buffered; buffering grows
/// with the bytes actually received, never with what a header claims.
///
/// After an error the stream cannot be resynchronised: the connection should be dropped.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
    max_payload: usize,
    protocol_version: u32,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PAYLOAD)
    }
}

impl FrameDecoder {
    /// A decoder refusing payloads above `max_payload` bytes, at protocol version 0.
    pub fn new(max_payload: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            max_payload,
            protocol_version: 0,
        }
    }

    /// Sets the negotiated protocol version (it changes how `SUBMIT_CMD2` is framed).
    pub fn set_protocol_version(&mut self, version: u32) {
        self.protocol_version = version;
    }

    /// The protocol version framing currently follows.
    pub fn protocol_version(&self) -> u32 {
        self.protocol_version
    }

    /// Appends bytes received from the stream.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet consumed by a complete request.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// How many more bytes are needed before the next request can be decoded, if known.
    ///
    /// Useful to read exactly up to a frame boundary from a blocking stream.
    pub fn bytes_wanted(&self) -> Result<usize, ProtocolError> {
        let pending = &self.buf[self.start..];
        if pending.len() < HEADER_SIZE {
            return Ok(HEADER_SIZE - pending.len());
        }
        let header = Header::from_bytes(pending)?;
        let body = &pending[HEADER_SIZE..];
        let need = match payload_size(header, body, self.protocol_version, self.max_payload)? {
            PayloadSize::AtLeast(n) | PayloadSize::Exact(n) => n,
        };
        Ok(need.saturating_sub(body.len()).max(1))
    }

    /// The next complete request, `Ok(None)` if more bytes are needed.
    pub fn next_request(&mut self) -> Result<Option<Request>, ProtocolError> {
        let pending = &self.buf[self.start..];
        match Request::parse(pending, self.protocol_version, self.max_payload)? {
            None => Ok(None),
            Some((req, used)) => {
                self.start += used;
                if self.start == self.buf.len() {
                    self.buf.clear();
                    self.start = 0;
                } else if self.start > (1 << 20) && self.start * 2 > self.buf.len() {
                    // Keep memory proportional to what is still pending.
                    self.buf.drain(..self.start);
                    self.start = 0;
                }
                Ok(Some(req))
            }
        }
    }
}
