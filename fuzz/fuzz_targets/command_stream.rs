//! Decodes arbitrary bytes as a virgl command stream (little-endian dwords), re-encodes what
//! decodes, and feeds shader chunks to a small `ShaderAssembler`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use virgl_protocol::command::{Command, CommandIter, CreateObject, Encoder, ShaderAssembler};

fuzz_target!(|data: &[u8]| {
    let words: Vec<u32> = data
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
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
    // What we re-encoded decodes again without error.
    for item in CommandIter::new(out.as_slice()) {
        item.expect("re-encoded stream decodes");
    }
});
