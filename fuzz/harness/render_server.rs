//! Fuzz harness: the render-server protocol (client and context sockets). Shared by
//! `fuzz_targets/render_server.rs` and `crates/virgl-protocol/tests/smoke_render_server.rs`.
//!
//! Every packet decoder sees the input; whatever decodes must re-encode to a packet that
//! decodes to the same value. SUBMIT_CMD's split must stay inside the packet.

use virgl_protocol::render_server::{
    ClientRequest, ContextRequest, CreateContextReply, CreateResourceReply, GetResourceReply,
    SubmitCmd,
};

pub fn run(data: &[u8]) {
    if let Ok(r) = ClientRequest::decode(data) {
        assert_eq!(ClientRequest::decode(&r.encode()), Ok(r));
    }
    if let Ok(r) = ContextRequest::decode(data) {
        assert_eq!(ContextRequest::decode(&r.encode()), Ok(r));
    }
    if let Ok(r) = CreateContextReply::decode(data) {
        assert_eq!(CreateContextReply::decode(&r.encode()), Ok(r));
    }
    if let Ok(r) = CreateResourceReply::decode_packet(data) {
        let _ = r.fd_type();
        assert_eq!(CreateResourceReply::decode_packet(&r.to_bytes()), Ok(r));
    }
    if let Ok(r) = GetResourceReply::decode_packet(data) {
        let _ = r.fd_type();
    }
    if let Ok((head, rest)) = SubmitCmd::split(data) {
        assert!(rest.len() <= data.len());
        let _ = head.remaining();
    }
}
