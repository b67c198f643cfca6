//! Fuzz harness: TGSI parsing and GLSL generation (`virgl_vrend::tgsi`), no GL. Shared by
//! `fuzz_targets/tgsi.rs` and `crates/virgl-vrend/tests/smoke_tgsi.rs`.
//!
//! The input is TGSI text (lossily UTF-8) whose *last* byte picks the GLSL target and a few
//! `ShaderKey` switches, so the captured shaders in `crates/virgl-vrend/tests/tgsi_corpus`
//! (which end in a newline) are usable seeds as they are. Checked: parsing and translation never
//! panic, whatever parses translates to an `Ok` or a typed error, and the GLSL of a successful
//! translation stays below 64 MiB. (Amplification itself is bounded by `tgsi::Limits`, not by
//! the input size: `DCL TEMP[0..4095]` lines up to index 65535 turn ~370 bytes of TGSI into
//! ~1.9 MB of GLSL. The first run of this target flagged that with a ratio check; it is the
//! limits working as designed, reported rather than asserted on.)

use virgl_vrend::tgsi::{self, GlslTarget, ShaderKey};

pub fn run(data: &[u8]) {
    let Some((&sel, text)) = data.split_last() else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let Ok(program) = tgsi::parse(&text) else {
        return;
    };
    let target = match sel % 6 {
        0 => GlslTarget::desktop(450),
        1 => GlslTarget::desktop(330),
        2 => GlslTarget::desktop(140),
        3 => GlslTarget::es(320),
        4 => GlslTarget::es(310),
        _ => GlslTarget::es(300),
    };
    let key = ShaderKey {
        flatshade: sel & 8 != 0,
        color_two_side: sel & 16 != 0,
        clip_plane_enable: if sel & 32 != 0 { 0x3f } else { 0 },
        flip_y: sel & 64 != 0,
        nr_cbufs: 1 + (sel >> 7) * 7,
        shared_mem_bytes: 16384,
        ..Default::default()
    };
    if let Ok(glsl) = tgsi::translate(&program, &key, &target) {
        let out = format!("{glsl:?}");
        assert!(
            out.len() <= 64 << 20,
            "{} bytes of GLSL from {} bytes of TGSI",
            out.len(),
            text.len()
        );
    }
}
