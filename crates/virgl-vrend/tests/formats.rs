//! Every format the host accepts: its GL enums are valid (a texture of it can be created) and
//! uploads round-trip bit-exactly through GL on llvmpipe.

use std::rc::Rc;

use virgl_resource::ResourceCreateArgs;
use virgl_vrend::formats::{all_entries, vf};
use virgl_vrend::{
    pipe_target, virgl_bind, EglOptions, EglProvider, GlResource, GuestLayout, GuestMemory, HostGl,
    TexBox,
};

fn host(use_gles: bool) -> HostGl {
    let provider = EglProvider::new(&EglOptions {
        use_gles,
        ..Default::default()
    })
    .unwrap();
    HostGl::new(Rc::new(provider)).unwrap()
}

/// Test data that GL stores without canonicalising (no NaNs, no -128 snorm...).
fn sample(format: u32, ty: u32, len: usize, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        s
    };
    match ty {
        glow::FLOAT => (0..len / 4)
            .flat_map(|_| ((next() % 1024) as f32 / 1024.0).to_ne_bytes())
            .collect(),
        glow::HALF_FLOAT => (0..len / 2)
            // Halves with exponent 14 (0.5..1.0): finite, normal.
            .flat_map(|_| ((14u16 << 10) | (next() as u16 & 0x3ff)).to_ne_bytes())
            .collect(),
        glow::FLOAT_32_UNSIGNED_INT_24_8_REV => (0..len / 8)
            .flat_map(|_| {
                let d = ((next() % 1024) as f32 / 1024.0).to_ne_bytes();
                let st = (next() & 0xff).to_ne_bytes();
                [d, st].concat()
            })
            .collect(),
        glow::BYTE if format != glow::RED_INTEGER && !is_int_format(format) => (0..len)
            .map(|_| ((next() % 255) as i32 - 127) as i8 as u8)
            .collect(),
        glow::SHORT if !is_int_format(format) => (0..len / 2)
            .flat_map(|_| (((next() % 65535) as i32 - 32767) as i16).to_ne_bytes())
            .collect(),
        _ => (0..len).map(|_| next() as u8).collect(),
    }
}

fn is_int_format(f: u32) -> bool {
    matches!(
        f,
        glow::RED_INTEGER
            | glow::RG_INTEGER
            | glow::RGB_INTEGER
            | glow::RGBA_INTEGER
            | glow::BGRA_INTEGER
    ) || (0x8D94..=0x8D9D).contains(&f)
}

/// Formats whose storage cannot be bit-exact for arbitrary bytes.
fn lossy(virgl: u32) -> bool {
    matches!(
        virgl,
        vf::R9G9B9E5_FLOAT      // shared exponent: many encodings per value
            | vf::R11G11B10_FLOAT // unsigned small floats: NaN/denormal patterns
            | vf::Z24X8_UNORM     // the X byte is dropped
            | vf::Z32_UNORM       // stored as a float depth on llvmpipe
            | vf::B2G3R3_UNORM
            | vf::X24S8_UINT
    )
}

fn roundtrip(host: &HostGl, virgl: u32) -> Result<(), String> {
    let hf = host.formats.get(virgl).unwrap();
    let layout = hf.entry.layout();
    let (w, h) = (layout.width * 2, layout.height * 2);
    let args = ResourceCreateArgs {
        handle: 1,
        target: pipe_target::TEXTURE_2D,
        format: virgl,
        bind: virgl_bind::SAMPLER_VIEW,
        width: w,
        height: h,
        depth: 1,
        array_size: 1,
        ..Default::default()
    };
    let res = GlResource::create(host, &args).map_err(|e| format!("create: {e}"))?;
    let size = (layout.row_bytes(w) * u64::from(layout.rows(h))) as usize;
    let mut input = sample(hf.entry.format, hf.entry.ty, size, virgl);
    if virgl == vf::S8_UINT_Z24_UNORM {
        // Depth in the top 24 bits, stencil in the low 8: all bits are kept.
        input = input.chunks(4).flat_map(|c| c.to_vec()).collect();
    }
    let bx = TexBox {
        width: w,
        height: h,
        depth: 1,
        ..Default::default()
    };
    let g = GuestLayout::default();
    res.write(host, 0, &bx, &input, &g)
        .map_err(|e| format!("write: {e}"))?;
    let mut out = vec![0u8; size];
    res.read(host, 0, &bx, &mut out as &mut dyn GuestMemory, &g)
        .map_err(|e| format!("read: {e}"))?;
    res.destroy(host);
    if out != input {
        return Err(format!(
            "mismatch:\n in  {:02x?}\n out {:02x?}",
            &input[..16.min(size)],
            &out[..16.min(size)]
        ));
    }
    Ok(())
}

#[test]
fn every_probed_entry_creates_a_valid_texture_and_round_trips() {
    let host = host(false);
    host.make_root_current().unwrap();
    let mut failures = Vec::new();
    let mut tested = 0;
    for hf in host.formats.iter() {
        let virgl = hf.entry.virgl;
        if lossy(virgl) || hf.entry.layout().compressed && hf.entry.internal >= 0x93B0 {
            continue;
        }
        tested += 1;
        if let Err(e) = roundtrip(&host, virgl) {
            failures.push(format!("format {virgl}: {e}"));
        }
    }
    assert!(tested > 100, "only {tested} formats tested");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn candidate_entries_have_valid_enums_or_are_rejected_cleanly() {
    // Every candidate either made it into the table or was refused by the host with a GL error
    // (no crash, no stale error state): the table's own probe proves the enums. Here we check
    // the well-known formats that llvmpipe must support.
    let host = host(false);
    for f in [
        vf::B8G8R8A8_UNORM,
        vf::R8G8B8A8_UNORM,
        vf::Z24X8_UNORM,
        vf::S8_UINT_Z24_UNORM,
        vf::DXT1_RGB,
    ] {
        assert!(host.formats.get(f).is_some(), "format {f} missing");
    }
    assert!(all_entries().count() > 200);
    let bgra = host.formats.get(vf::B8G8R8A8_UNORM).unwrap();
    assert!(bgra.caps.bind & virgl_bind::RENDER_TARGET != 0);
    assert!(bgra.caps.can_readback);
}

#[test]
fn gles_host_round_trips_bgra_and_rgba() {
    let host = host(true);
    assert!(host.is_gles());
    for f in [vf::B8G8R8A8_UNORM, vf::R8G8B8A8_UNORM, vf::R8_UNORM] {
        roundtrip(&host, f).unwrap();
    }
}
