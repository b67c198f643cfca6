use super::*;

#[test]
fn table_is_sorted_and_complete() {
    assert_eq!(FORMATS.len(), 470, "468 upstream values + 2 emulated");
    for w in FORMATS.windows(2) {
        assert!(
            w[0].format.raw() < w[1].format.raw(),
            "{} then {}",
            w[0].name,
            w[1].name
        );
    }
    for info in FORMATS.iter() {
        assert_eq!(info.format.info(), info, "{}", info.name);
        assert_eq!(VirglFormat::from_raw(info.format.raw()), Some(info.format));
        assert_eq!(format!("{}", info.format), info.name);
        assert_eq!(
            format!("{:?}", info.format),
            info.name,
            "variant name = upstream name"
        );
    }
    assert_eq!(VirglFormat::iter().count(), VirglFormat::COUNT);
}

#[test]
fn every_raw_value_is_accepted_or_rejected() {
    let mut accepted = 0;
    for raw in 0..600u32 {
        match VirglFormat::from_raw(raw) {
            Some(f) => {
                accepted += 1;
                assert_eq!(f.raw(), raw);
            }
            None => assert!(
                matches!(raw, 73 | 78..=81 | 86 | 259..=262 | 307 | 309 | 310 | 481 | 484..),
                "unexpected gap {raw}"
            ),
        }
    }
    assert_eq!(accepted, 470);
    assert_eq!(VirglFormat::from_raw(u32::MAX), None);
}

#[test]
fn known_values() {
    use VirglFormat as F;
    assert_eq!(F::B8G8R8A8_UNORM.raw(), 1);
    assert_eq!(F::B8G8R8X8_UNORM.raw(), 2);
    assert_eq!(F::Z24_UNORM_S8_UINT.raw(), 19);
    assert_eq!(F::S8_UINT.raw(), 23);
    assert_eq!(F::R8G8B8A8_UNORM.raw(), 67);
    assert_eq!(F::R8_SNORM.raw(), 74);
    assert_eq!(F::R16G16B16A16_FLOAT.raw(), 94);
    assert_eq!(F::DXT1_RGB.raw(), 105);
    assert_eq!(F::R11G11B10_FLOAT.raw(), 124);
    assert_eq!(F::Z32_FLOAT_S8X24_UINT.raw(), 126);
    assert_eq!(F::Y8_U8V8_420_UNORM.raw(), 166, "NV12");
    assert_eq!(F::BPTC_RGBA_UNORM.raw(), 255);
    assert_eq!(F::G8R8_UNORM.raw(), 263);
    assert_eq!(F::ASTC_4x4.raw(), 279);
    assert_eq!(F::R10G10B10X2_UNORM.raw(), 308);
    assert_eq!(F::A4B4G4R4_UNORM.raw(), 311);
    assert_eq!(F::X6Y10_X6U10X6V10_420_UNORM.raw(), 314, "P010");
    assert_eq!(F::Y16_U16V16_420_UNORM.raw(), 316, "P016");
    assert_eq!(F::Y12X4_U12X4_V12X4_444_UNORM.raw(), 480);
    assert_eq!(F::B8G8R8X8_UNORM_EMULATED.raw(), 482);
    assert_eq!(F::B8G8R8A8_UNORM_EMULATED.raw(), 483);
}

#[test]
fn guest_cannot_name_host_only_formats() {
    assert_eq!(VirglFormat::from_guest(1), Ok(VirglFormat::B8G8R8A8_UNORM));
    assert_eq!(
        VirglFormat::from_guest(482),
        Err(ProtocolError::InvalidFormat(482))
    );
    assert_eq!(
        VirglFormat::from_guest(483),
        Err(ProtocolError::InvalidFormat(483))
    );
    assert_eq!(
        VirglFormat::try_from(73),
        Err(ProtocolError::InvalidFormat(73))
    );
    assert_eq!(
        VirglFormat::from_raw(482),
        Some(VirglFormat::B8G8R8X8_UNORM_EMULATED)
    );
    for f in VirglFormat::iter() {
        assert_eq!(f.info().is_host_only(), f.raw() >= VIRGL_FORMAT_MAX);
        assert!(f.raw() < VIRGL_FORMAT_MAX_EXTENDED);
    }
}

#[test]
fn blocks_are_sane() {
    for i in FORMATS.iter() {
        assert!(
            i.block_width >= 1 && i.block_height >= 1 && i.block_depth >= 1,
            "{}",
            i.name
        );
        assert!(i.block_bytes >= 1 && i.block_bytes <= 32, "{}", i.name);
        if i.is_compressed() {
            assert!(i.channels.is_empty());
            assert!(
                matches!(i.layout, FormatLayout::Compressed(_)),
                "{}",
                i.name
            );
            assert!(matches!(i.block_bytes, 8 | 16), "{}", i.name);
            assert!(i.block_width >= 3 && i.block_height >= 3, "{}", i.name);
        } else if !i.is_planar() && i.block_width == 1 && i.block_height == 1 {
            // Single-pixel blocks: the channel bits add up to the block, except where a channel
            // is computed rather than stored (R8G8Bx) and for NONE.
            let bits: u32 = i.channels.iter().map(|c| u32::from(c.bits)).sum();
            if !matches!(i.format, VirglFormat::NONE | VirglFormat::R8G8Bx_SNORM) {
                assert_eq!(bits, u32::from(i.block_bytes) * 8, "{}", i.name);
            }
        }
        if i.is_planar() {
            assert!(matches!(
                i.layout,
                FormatLayout::Planar2 | FormatLayout::Planar3
            ));
            let n = if i.layout == FormatLayout::Planar3 {
                3
            } else {
                2
            };
            assert_eq!(i.planes.len(), n, "{}", i.name);
            assert_eq!(i.planes[0].block_bytes, i.block_bytes, "{}", i.name);
            assert_eq!((i.planes[0].subsample_x, i.planes[0].subsample_y), (1, 1));
        } else {
            assert!(i.planes.is_empty(), "{}", i.name);
        }
        assert_eq!(
            i.is_depth(),
            i.channels.iter().any(|c| c.kind == ChannelKind::Z)
        );
        assert_eq!(
            i.has_stencil(),
            i.channels.iter().any(|c| c.kind == ChannelKind::S)
        );
        assert_eq!(i.is_srgb(), i.color_space == ColorSpace::Srgb, "{}", i.name);
        assert_eq!(
            i.color_space == ColorSpace::Zs,
            i.is_depth() || i.has_stencil()
        );
        assert_eq!(i.is_yuv(), i.color_space == ColorSpace::Yuv, "{}", i.name);
    }
}

#[test]
fn compressed_block_sizes() {
    use VirglFormat as F;
    let b = |f: F| {
        let i = f.info();
        (i.block_width, i.block_height, i.block_depth, i.block_bytes)
    };
    assert_eq!(b(F::DXT1_RGB), (4, 4, 1, 8));
    assert_eq!(b(F::DXT5_SRGBA), (4, 4, 1, 16));
    assert_eq!(b(F::RGTC1_SNORM), (4, 4, 1, 8));
    assert_eq!(b(F::RGTC2_UNORM), (4, 4, 1, 16));
    assert_eq!(b(F::BPTC_RGB_UFLOAT), (4, 4, 1, 16));
    assert_eq!(b(F::ETC1_RGB8), (4, 4, 1, 8));
    assert_eq!(b(F::ETC2_RGB8A1), (4, 4, 1, 8));
    assert_eq!(b(F::ETC2_RGBA8), (4, 4, 1, 16));
    assert_eq!(b(F::ETC2_RG11_SNORM), (4, 4, 1, 16));
    assert_eq!(b(F::ASTC_12x10), (12, 10, 1, 16));
    assert_eq!(b(F::ASTC_6x6x5_SRGB), (6, 6, 5, 16));
    assert_eq!(b(F::ASTC_10x8_FLOAT), (10, 8, 1, 16));
    assert_eq!(b(F::FXT1_RGBA), (8, 4, 1, 16));
    assert_eq!(b(F::ATC_RGB), (4, 4, 1, 8));
    assert!(F::ASTC_8x8_SRGB.is_srgb() && F::ETC2_SRGB8.is_srgb() && !F::ASTC_8x8.is_srgb());
}

#[test]
fn plain_spot_checks() {
    use ChannelKind::*;
    use ChannelType::*;
    use VirglFormat as F;
    let i = F::B8G8R8A8_UNORM.info();
    assert_eq!(i.block_bytes, 4);
    let kinds: Vec<_> = i.channels.iter().map(|c| (c.kind, c.ty, c.bits)).collect();
    assert_eq!(
        kinds,
        [(B, Unorm, 8), (G, Unorm, 8), (R, Unorm, 8), (A, Unorm, 8)]
    );
    assert_eq!(F::R32G32B32A32_FLOAT.block_bytes(), 16);
    assert_eq!(F::R64G64B64A64_UINT.block_bytes(), 32);
    assert!(F::R64G64B64A64_UINT.info().is_pure_integer());
    assert!(!F::R8G8B8A8_UNORM.info().is_pure_integer());
    assert_eq!(F::B5G6R5_UNORM.block_bytes(), 2);
    assert_eq!(F::R1_UNORM.block_size(), (8, 1));
    let z = F::Z24_UNORM_S8_UINT.info();
    assert!(z.is_depth() && z.has_stencil() && z.block_bytes == 4);
    assert!(F::Z32_FLOAT_S8X24_UINT.has_stencil() && F::Z32_FLOAT_S8X24_UINT.block_bytes() == 8);
    assert!(F::S8_UINT.has_stencil() && !F::S8_UINT.is_depth());
    assert!(F::Z16_UNORM.is_depth() && !F::Z16_UNORM.has_stencil());
    assert!(!F::Z24_UNORM_S8_UINT_AS_R8G8B8A8.is_depth());
    let s = F::R8G8B8A8_SRGB.info();
    assert!(s.is_srgb());
    assert_eq!(s.channels[0].ty, Srgb);
    assert_eq!(s.channels[3].ty, Unorm, "alpha of sRGB formats is linear");
    assert_eq!(F::R32G32B32_FIXED.info().channels[0].ty, Fixed);
    assert_eq!(F::R9G9B9E5_FLOAT.block_bytes(), 4);
}

#[test]
fn yuv_layouts() {
    use VirglFormat as F;
    let nv12 = F::Y8_U8V8_420_UNORM.info();
    assert!(nv12.is_yuv() && nv12.is_planar());
    assert_eq!(nv12.planes.len(), 2);
    assert_eq!(nv12.planes[1], pl(1, 1, 2, 2, 2));
    // 64x32 NV12: 2048 bytes of luma, 32x16 chroma pairs of 2 bytes = 1024.
    assert_eq!(nv12.image_size(64, 32, 1), Some(2048 + 1024));
    // Odd sizes round chroma up.
    assert_eq!(nv12.image_size(3, 3, 1), Some(9 + 2 * 2 * 2));

    let i420 = F::Y8_U8_V8_420_UNORM.info();
    assert_eq!(i420.planes.len(), 3);
    assert_eq!(i420.image_size(64, 32, 1), Some(2048 + 512 + 512));

    let p010 = F::X6Y10_X6U10X6V10_420_UNORM.info();
    assert_eq!(p010.block_bytes, 2);
    assert_eq!(p010.image_size(64, 32, 1), Some(4096 + 2048));

    let yuyv = F::Y8U8Y8V8_422_UNORM.info();
    assert!(yuyv.is_yuv() && !yuyv.is_planar());
    assert_eq!(yuyv.block_size_tuple(), (2, 1, 4));
    assert_eq!(yuyv.row_stride(5), Some(12));

    let nv15 = F::Y10_U10V10_420_UNORM.info();
    assert_eq!(nv15.planes[0], pl(4, 1, 5, 1, 1));
    assert_eq!(nv15.image_size(8, 2, 1), Some(10 * 2 + 10));

    assert!(F::Y8_400_UNORM.is_yuv());
    assert!(!F::G8_B8R8_420_UNORM.is_yuv() && F::G8_B8R8_420_UNORM.info().is_planar());
}

#[test]
fn sizes_are_checked() {
    let i = VirglFormat::R32G32B32A32_FLOAT.info();
    assert_eq!(i.row_stride(u32::MAX), Some(u64::from(u32::MAX) * 16));
    assert_eq!(i.image_size(u32::MAX, u32::MAX, u32::MAX), None);
    let bc = VirglFormat::DXT1_RGB.info();
    assert_eq!(bc.image_size(5, 5, 1), Some(4 * 8));
    let astc3d = VirglFormat::ASTC_3x3x3.info();
    assert_eq!(astc3d.image_size(3, 3, 4), Some(32));
}

impl FormatInfo {
    fn block_size_tuple(&self) -> (u8, u8, u8) {
        (self.block_width, self.block_height, self.block_bytes)
    }
}
