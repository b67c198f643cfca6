//! Fuzz harness: the virgl command stream decoder alone (no GL). Shared by
//! `fuzz_targets/command_stream.rs` and `crates/virgl-protocol/tests/smoke_command_stream.rs`.
//!
//! Decodes arbitrary bytes as little-endian dwords, re-encodes what decodes, and feeds shader
//! chunks to a bounded `ShaderAssembler`; the re-encoded stream must decode again.

use virgl_protocol::command::{Command, CommandIter, CreateObject, Encoder, ShaderAssembler};

pub fn words(data: &[u8]) -> Vec<u32> {
    data.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

pub fn run(data: &[u8]) {
    let words = words(data);
    let mut shaders = ShaderAssembler::new(1 << 16);
    let mut out = Encoder::new();
    for item in CommandIter::new(&words) {
        let Ok((offset, cmd)) = item else { break };
        assert!(offset < words.len());
        out.push(&cmd).expect("a decoded command re-encodes");
        if let Command::CreateObject(CreateObject::Shader(s)) = &cmd {
            let _ = shaders.push(s);
        }
    }
    for item in CommandIter::new(out.as_slice()) {
        item.expect("re-encoded stream decodes");
    }
}
