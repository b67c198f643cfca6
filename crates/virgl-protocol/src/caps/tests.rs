use super::*;

fn at(bytes: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap())
}

#[test]
fn sizes_match_gcc_x86_64() {
    assert_eq!(FormatMask::SIZE, 64);
    assert_eq!(CapsV1::SIZE, 308);
    assert_eq!(VideoCaps::SIZE, 16);
    assert_eq!(CapsV2::SIZE, 1408);
    assert_eq!(CapsetVenus::SIZE, 160);
    assert_eq!(CapsetDrmHeader::SIZE, 24);
    assert_eq!(CapsetDrmMsm::SIZE, 88);
    assert_eq!(CapsetDrmIntel::SIZE, 24);
    assert_eq!(CapsV2::default().to_bytes().len(), 1408);
}

#[test]
fn key_offsets() {
    let mut c = CapsV2::default();
    c.v1.max_version = 2;
    c.v1.bset = CapsBoolSet1::UBO;
    c.v1.max_texture_gather_components = 0x1111;
    c.min_aliased_point_size = 1.0;
    c.capability_bits = VirglCaps::COPY_TRANSFER;
    c.host_feature_check_version = 23;
    c.capability_bits_v2 = VirglCapsV2::RESOURCE_LAYOUT;
    c.set_renderer("virgl-rs (llvmpipe)");
    c.max_anisotropy = 16.0;
    c.num_video_caps = 1;
    c.video_caps[0].set_profile(7);
    c.video_caps[31].set_max_temporal_layers(0xff);
    c.max_uniform_block_size = 0x2222;
    c.max_shader_storage_blocks[5] = 0x3333;
    c.v1.sampler.insert(VirglFormat::B8G8R8A8_UNORM);
    c.scanout.insert(VirglFormat::R8G8B8A8_UNORM);
    let b = c.to_bytes();
    assert_eq!(at(&b, 0), 2);
    assert_eq!(at(&b, 4), 1 << 1, "sampler mask starts at 4");
    assert_eq!(at(&b, 260), 1 << 18, "bset at 260");
    assert_eq!(at(&b, 304), 0x1111);
    assert_eq!(
        at(&b, 308),
        1.0f32.to_bits(),
        "v2 fields start right after v1"
    );
    assert_eq!(at(&b, 392), 1 << 26, "capability_bits");
    assert_eq!(at(&b, 556), 23, "host_feature_check_version");
    assert_eq!(at(&b, 624 + 8), 1 << 3, "scanout mask: format 67 in word 2");
    assert_eq!(at(&b, 688), 1 << 18, "capability_bits_v2");
    assert_eq!(&b[696..715], b"virgl-rs (llvmpipe)", "renderer[64] at 696");
    assert_eq!(at(&b, 760), 16.0f32.to_bits(), "max_anisotropy");
    assert_eq!(at(&b, 856), 1, "num_video_caps");
    assert_eq!(at(&b, 860), 7, "video_caps at 860");
    assert_eq!(at(&b, 860 + 31 * 16 + 12), 0xff << 4);
    assert_eq!(at(&b, 1372), 0x2222, "max_uniform_block_size");
    assert_eq!(at(&b, 1404), 0x3333, "last field ends at 1408");

    let back = CapsV2::from_bytes(&b).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.renderer(), "virgl-rs (llvmpipe)");
    assert_eq!(back.video_caps().len(), 1);
    assert!(back.v1.sampler.contains(VirglFormat::B8G8R8A8_UNORM));
    assert!(!back.v1.sampler.contains(VirglFormat::R8G8B8A8_UNORM));
}

#[test]
fn truncated_caps_fail_and_trailing_bytes_are_ignored() {
    let b = CapsV2::default().to_bytes();
    assert!(matches!(
        CapsV2::from_bytes(&b[..1407]),
        Err(ProtocolError::Truncated { .. })
    ));
    let mut longer = b.clone();
    longer.extend_from_slice(&[0xff; 64]);
    assert_eq!(CapsV2::from_bytes(&longer), Ok(CapsV2::default()));
    assert_eq!(CapsV1::from_bytes(&b[..308]), Ok(CapsV1::default()));
}

#[test]
fn capset_bytes() {
    let c = CapsV2::default();
    assert_eq!(virgl_capset_bytes(&c, CAPSET_VIRGL, 1).unwrap().len(), 308);
    assert_eq!(
        virgl_capset_bytes(&c, CAPSET_VIRGL2, 2).unwrap().len(),
        1408
    );
    assert!(virgl_capset_bytes(&c, CAPSET_VENUS, 0).is_err());
    assert!(virgl_capset_bytes(&c, CAPSET_VIRGL2, 3).is_err());
}

#[test]
fn flag_counts() {
    assert_eq!(
        <VirglCaps as bitflags::Flags>::FLAGS.len(),
        34,
        "32 bits + NONE + FAKE_FP64"
    );
    assert_eq!(<VirglCapsV2 as bitflags::Flags>::FLAGS.len(), 19);
    assert_eq!(VirglCaps::all().bits(), u32::MAX);
    assert_eq!(VirglCaps::FAKE_FP64, VirglCaps::HOST_IS_GLES);
    assert_eq!(VirglCapsV2::all().iter_names().count(), 19);
    assert_eq!(VirglCapsV2::all().bits(), (1 << 19) - 1);
    assert_eq!(CapsBoolSet1::all().bits(), u32::MAX);
    assert_eq!(
        CapsBoolSet1::TRANSFORM_FEEDBACK_OVERFLOW_QUERY.bits(),
        1 << 31
    );
}

#[test]
fn video_caps_bitfields() {
    let mut v = VideoCaps::default();
    v.set_profile(0x12);
    v.set_entrypoint(1);
    v.set_max_level(0x34);
    v.set_stacked_frames(0x56);
    v.set_max_width(4096);
    v.set_max_height(2304);
    v.set_prefered_format(u32::from(VirglFormat::Y8_U8V8_420_UNORM));
    v.set_max_macroblocks(0xffff);
    v.set_npot_texture(1);
    v.set_supports_progressive(1);
    v.set_supports_interlaced(0);
    v.set_prefers_interlaced(1);
    v.set_max_temporal_layers(4);
    assert_eq!(v.dw0, 0x5634_0112);
    assert_eq!(v.dw1, (2304 << 16) | 4096);
    assert_eq!(v.dw2, 0xffff_0000 | 166);
    assert_eq!(v.dw3, 0b1011 | (4 << 4));
    assert_eq!(v.max_height(), 2304);
    // Overwide values are masked, neighbours untouched.
    v.set_npot_texture(0xffff_fffe);
    assert_eq!(v.npot_texture(), 0);
    assert_eq!(v.supports_progressive(), 1);
    assert_eq!(VideoCaps::from_bytes(&v.to_bytes()), Ok(v));
}

#[test]
fn venus_and_drm() {
    let mut v = CapsetVenus {
        wire_format_version: 1,
        use_guest_vram: 1,
        ..Default::default()
    };
    v.set_extension(0);
    v.set_extension(1023);
    v.set_extension(5000);
    assert!(v.has_extension(1023) && !v.has_extension(1022) && !v.has_extension(5000));
    let b = v.to_bytes();
    assert_eq!(at(&b, 20), 1, "vk_extension_mask1 at 20");
    assert_eq!(at(&b, 20 + 31 * 4), 1 << 31);
    assert_eq!(at(&b, 156), 1, "use_guest_vram last");
    assert_eq!(CapsetVenus::from_bytes(&b), Ok(v));

    let h = CapsetDrmHeader {
        context_type: 1,
        ..Default::default()
    };
    assert_eq!(h.context_type(), Ok(DrmContextType::Msm));
    assert!(CapsetDrmHeader {
        context_type: 9,
        ..Default::default()
    }
    .context_type()
    .is_err());
    let msm = CapsetDrmMsm {
        uche_trap_base: u64::MAX,
        ..Default::default()
    };
    assert_eq!(&msm.to_bytes()[80..88], &[0xff; 8]);
}
