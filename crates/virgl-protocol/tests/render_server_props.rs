//! Property tests: render-server packets from a hostile peer never panic, and whatever decodes
//! re-encodes to a packet that decodes to the same request.

use proptest::prelude::*;
use virgl_protocol::render_server::{
    ClientRequest, ContextRequest, CreateContextReply, CreateResourceReply, GetResourceReply,
};

fn packet() -> impl Strategy<Value = Vec<u8>> {
    // Half the time start with a valid op number so decoding gets past the header.
    (0u32..10, proptest::collection::vec(any::<u8>(), 0..300)).prop_map(|(op, mut rest)| {
        if rest.len() >= 4 && op < 8 {
            rest[..4].copy_from_slice(&op.to_le_bytes());
        }
        rest
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn client_requests(p in packet()) {
        if let Ok(r) = ClientRequest::decode(&p) {
            prop_assert_eq!(ClientRequest::decode(&r.encode()), Ok(r));
        }
    }

    #[test]
    fn context_requests(p in packet()) {
        if let Ok(r) = ContextRequest::decode(&p) {
            prop_assert_eq!(ContextRequest::decode(&r.encode()), Ok(r));
        }
    }

    #[test]
    fn replies(p in proptest::collection::vec(any::<u8>(), 0..100)) {
        let _ = CreateContextReply::decode(&p);
        if let Ok(r) = CreateResourceReply::decode_packet(&p) {
            prop_assert_eq!(CreateResourceReply::decode_packet(&r.to_bytes()), Ok(r));
        }
        if let Ok(r) = GetResourceReply::decode_packet(&p) {
            prop_assert!(r.fd_type().is_ok());
        }
    }
}
