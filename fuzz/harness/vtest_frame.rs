//! Fuzz harness: vtest framing. Shared by `fuzz_targets/vtest_frame.rs` (libFuzzer) and the
//! corpus-replay smoke test `crates/virgl-protocol/tests/smoke_vtest.rs` (stable `cargo test`).
//!
//! The first input byte picks the chunk size the stream is fed to `FrameDecoder` in (a socket
//! returns arbitrary pieces); the rest is the client's byte stream. Checked:
//! - no panic, and the decoder never buffers more than it was fed;
//! - `FrameDecoder` and the one-shot `Request::parse` agree request for request;
//! - every decoded request re-encodes to bytes that parse back to the same request.

use virgl_protocol::vtest::FrameDecoder;
use virgl_protocol::vtest::{Request, HEADER_SIZE};

/// Small enough that a fuzzer can reach the cap, large enough for real SUBMIT_CMDs.
const MAX_PAYLOAD: usize = 1 << 20;

pub fn run(data: &[u8]) {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk % 64) + 1;
    let mut framed = FrameDecoder::new(MAX_PAYLOAD);
    let mut via_decoder = Vec::new();
    let mut fed = 0usize;
    'outer: for piece in stream.chunks(chunk) {
        framed.feed(piece);
        fed += piece.len();
        assert!(framed.buffered() <= fed);
        loop {
            match framed.next_request() {
                Ok(Some(req)) => {
                    if let Request::ProtocolVersion { version } = &req {
                        framed.set_protocol_version((*version).min(4));
                    }
                    via_decoder.push(req);
                }
                Ok(None) => {
                    // Whatever it still needs is a positive, bounded amount.
                    let wanted = framed.bytes_wanted();
                    if let Ok(n) = wanted {
                        assert!((1..=MAX_PAYLOAD + 64 * 1024).contains(&n));
                    }
                    break;
                }
                Err(_) => break 'outer,
            }
        }
    }

    // The same stream parsed in one piece gives the same requests (up to where the decoder
    // stopped).
    let mut pos = 0usize;
    let mut version = 0u32;
    let mut via_parse = Vec::new();
    while via_parse.len() < via_decoder.len() {
        match Request::parse(&stream[pos..], version, MAX_PAYLOAD) {
            Ok(Some((req, used))) => {
                assert!(used >= HEADER_SIZE && pos + used <= stream.len());
                pos += used;
                if let Request::ProtocolVersion { version: v } = &req {
                    version = (*v).min(4);
                }
                via_parse.push(req);
            }
            other => panic!("parse disagrees with FrameDecoder: {other:?}"),
        }
    }
    assert_eq!(via_parse, via_decoder);

    // Round trip: what decoded encodes back to itself.
    let mut version = 0u32;
    for req in &via_decoder {
        let bytes = req.encode(version);
        match Request::parse(&bytes, version, usize::MAX) {
            Ok(Some((again, used))) => {
                assert_eq!(used, bytes.len(), "{req:?}");
                assert_eq!(&again, req);
            }
            other => panic!("{req:?} re-encoded to {bytes:?}, which parses as {other:?}"),
        }
        if let Request::ProtocolVersion { version: v } = req {
            version = (*v).min(4);
        }
    }
}
