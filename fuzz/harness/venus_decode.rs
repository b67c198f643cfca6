//! Fuzz harness: the Venus command decoders generated from vk.xml (`virgl_venus::generated`),
//! decoding only (nothing reaches Vulkan). Shared by `fuzz_targets/venus_decode.rs` and
//! `crates/virgl-venus/tests/smoke_venus_decode.rs`.
//!
//! The input is a Venus command stream (`VkCommandTypeEXT`, flags, arguments, ...). Every
//! command is decoded into a bounded arena with identity handle translation, and its
//! dispatcher/created/destroyed views are read. Checked: no panic, the reader never runs past
//! the input, the arena never exceeds its budget.

use virgl_venus::generated::commands::decode_command;
use virgl_venus::wire::{Arena, Cx, IdentityHandles, Reader};

const ARENA_BUDGET: usize = 4 << 20;

pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    while r.remaining() >= 8 {
        let (Ok(ty), Ok(_flags)) = (r.u32(), r.u32()) else {
            return;
        };
        let arena = Arena::new(ARENA_BUDGET);
        let handles = IdentityHandles;
        let cx = Cx {
            arena: &arena,
            handles: &handles,
        };
        let before = r.remaining();
        match decode_command(ty, &mut r, &cx) {
            Ok(Some(mut cmd)) => {
                assert_eq!(cmd.ty(), ty);
                let _ = cmd.name();
                let _ = cmd.dispatcher();
                let _ = cmd.destroyed();
                let _ = cmd.created().map(|(t, ids)| (t, ids.len()));
            }
            Ok(None) | Err(_) => return,
        }
        assert!(r.remaining() <= before && r.position() <= data.len());
        assert!(arena.used() <= ARENA_BUDGET);
    }
}
