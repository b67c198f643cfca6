use proptest::prelude::*;

use super::*;
use crate::mem::iovecs_over;

const RGBA8: BlockLayout = BlockLayout {
    block_width: 1,
    block_height: 1,
    bytes_per_block: 4,
};
const BC1: BlockLayout = BlockLayout {
    block_width: 4,
    block_height: 4,
    bytes_per_block: 8,
};
const ASTC_12X10: BlockLayout = BlockLayout {
    block_width: 12,
    block_height: 10,
    bytes_per_block: 16,
};

fn geom(
    target: Target,
    w: u32,
    h: u32,
    d: u32,
    layers: u32,
    levels: u32,
    block: BlockLayout,
) -> ImageGeometry {
    let args = ResourceCreateArgs {
        handle: 1,
        target: target as u32,
        format: 0,
        bind: 0,
        width: w,
        height: h,
        depth: d,
        array_size: layers,
        last_level: levels - 1,
        nr_samples: 0,
        flags: 0,
    };
    ImageGeometry::new(&args, block).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn req(
    level: u32,
    x: u32,
    y: u32,
    z: u32,
    w: u32,
    h: u32,
    d: u32,
    stride: u32,
    ls: u32,
    offset: u64,
) -> TransferRequest {
    TransferRequest {
        res_id: 1,
        level,
        x,
        y,
        z,
        width: w,
        height: h,
        depth: d,
        stride,
        layer_stride: ls,
        offset,
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

/// Naive reference: byte offset of block (bx, by) of layer z in guest memory and in the image.
fn reference_copy(g: &ImageGeometry, plan: &TransferPlan, guest: &[u8], image: &mut [u8]) {
    let img = LinearImageLayout::new(g).unwrap();
    let lvl = img.level(plan.level()).unwrap();
    let gl = plan.guest_layout();
    let b = plan.transfer_box();
    let bpb = g.block.bytes_per_block as usize;
    for z in 0..plan.layers() as u64 {
        for row in 0..plan.rows() as u64 {
            for col in 0..g.block.blocks_x(b.width) as u64 {
                let src = gl.offset + z * gl.layer_stride + row * gl.stride + col * bpb as u64;
                let dst = lvl.offset
                    + (u64::from(b.z) + z) * lvl.layer_stride
                    + (u64::from(b.y / g.block.block_height) + row) * lvl.stride
                    + (u64::from(b.x / g.block.block_width) + col) * bpb as u64;
                let (src, dst) = (src as usize, dst as usize);
                image[dst..dst + bpb].copy_from_slice(&guest[src..src + bpb]);
            }
        }
    }
}

/// TO_HOST through scattered iovecs into a linear image, then FROM_HOST back into fresh
/// scattered memory; both compared with the naive reference.
fn round_trip(g: &ImageGeometry, r: &TransferRequest, chunk: usize) {
    let plan = TransferPlan::new(g, r).unwrap();
    let guest_len = plan.guest_end().unwrap() as usize + 5;
    let guest_bytes = pattern(guest_len, 7);
    let mut bufs: Vec<Vec<u8>> = guest_bytes.chunks(chunk).map(<[u8]>::to_vec).collect();
    let (_raw, iov) = iovecs_over(&mut bufs);

    let layout = LinearImageLayout::new(g).unwrap();
    let mut image = zeroed_staging(layout.size()).unwrap();
    plan.guest_to_host(&iov, &mut image, &layout.box_layout(&plan).unwrap())
        .unwrap();
    let mut expect = vec![0u8; image.len()];
    reference_copy(g, &plan, &guest_bytes, &mut expect);
    assert_eq!(image, expect, "TO_HOST {r:?}");

    // Packed staging equals the image's box.
    let packed = plan.gather(&iov).unwrap();
    assert_eq!(packed.len() as u64, plan.packed_size().unwrap());
    let mut guest_back = vec![0u8; guest_len];
    plan.scatter(&packed, &mut guest_back).unwrap();
    let mut from_packed = zeroed_staging(layout.size()).unwrap();
    plan.guest_to_host(
        &guest_back,
        &mut from_packed,
        &layout.box_layout(&plan).unwrap(),
    )
    .unwrap();
    assert_eq!(from_packed, expect);

    // FROM_HOST into scattered zeroed memory writes exactly the box bytes.
    let mut back: Vec<Vec<u8>> = vec![vec![0u8; chunk]; guest_len.div_ceil(chunk)];
    let (_raw2, mut iov2) = iovecs_over(&mut back);
    plan.host_to_guest(&image, &layout.box_layout(&plan).unwrap(), &mut iov2)
        .unwrap();
    drop(iov2);
    let flat: Vec<u8> = back.concat();
    let mut image3 = zeroed_staging(layout.size()).unwrap();
    reference_copy(g, &plan, &flat, &mut image3);
    assert_eq!(image3, expect, "FROM_HOST {r:?}");
}

#[test]
fn target_numbering() {
    for raw in 0..9 {
        assert_eq!(Target::from_raw(raw).unwrap() as u32, raw);
    }
    assert!(matches!(
        Target::from_raw(9),
        Err(ResourceError::InvalidTarget(9))
    ));
}

#[test]
fn buffer_transfer() {
    let g = geom(
        Target::Buffer,
        4096,
        1,
        1,
        1,
        1,
        BlockLayout::uncompressed(1).unwrap(),
    );
    round_trip(&g, &req(0, 100, 0, 0, 1000, 1, 1, 0, 0, 17), 64);
    assert!(TransferPlan::new(&g, &req(0, 4000, 0, 0, 97, 1, 1, 0, 0, 0)).is_err());
}

#[test]
fn texture_1d_and_1d_array_use_z_for_layers() {
    let g = geom(Target::Texture1d, 64, 1, 1, 1, 3, RGBA8);
    round_trip(&g, &req(0, 3, 0, 0, 50, 1, 1, 0, 0, 0), 13);
    round_trip(&g, &req(2, 0, 0, 0, 16, 1, 1, 0, 0, 8), 7);
    assert!(TransferPlan::new(&g, &req(0, 0, 1, 0, 1, 1, 1, 0, 0, 0)).is_err());
    let a = geom(Target::Texture1dArray, 64, 1, 1, 5, 1, RGBA8);
    round_trip(&a, &req(0, 8, 0, 1, 16, 1, 3, 0, 0, 0), 31);
    round_trip(&a, &req(0, 8, 0, 1, 16, 1, 3, 0, 300, 4), 31);
    assert!(TransferPlan::new(&a, &req(0, 0, 0, 3, 1, 1, 3, 0, 0, 0)).is_err());
}

#[test]
fn texture_2d_rect_with_strides_and_offset() {
    let g = geom(Target::Texture2d, 100, 60, 1, 1, 4, RGBA8);
    round_trip(&g, &req(0, 10, 5, 0, 30, 20, 1, 0, 0, 0), 4096);
    round_trip(&g, &req(0, 10, 5, 0, 30, 20, 1, 128, 0, 64), 100);
    round_trip(&g, &req(1, 0, 0, 0, 50, 30, 1, 0, 0, 0), 37);
    round_trip(&g, &req(3, 11, 6, 0, 1, 1, 1, 0, 0, 3), 1);
    let r = geom(Target::Rect, 33, 17, 1, 1, 1, RGBA8);
    round_trip(&r, &req(0, 0, 0, 0, 33, 17, 1, 0, 0, 0), 4096);
}

#[test]
fn arrays_cubes_and_3d() {
    let a = geom(Target::Texture2dArray, 32, 16, 1, 6, 2, RGBA8);
    round_trip(&a, &req(1, 2, 2, 2, 8, 4, 3, 0, 0, 0), 50);
    round_trip(&a, &req(0, 0, 0, 0, 32, 16, 6, 0, 0, 0), 4096);
    let c = geom(Target::Cube, 16, 16, 1, 6, 5, RGBA8);
    round_trip(&c, &req(0, 0, 0, 0, 16, 16, 6, 0, 0, 0), 4096);
    round_trip(&c, &req(4, 0, 0, 5, 1, 1, 1, 0, 0, 0), 3);
    assert!(TransferPlan::new(&c, &req(0, 0, 0, 6, 16, 16, 1, 0, 0, 0)).is_err());
    let ca = geom(Target::CubeArray, 8, 8, 1, 12, 1, RGBA8);
    round_trip(&ca, &req(0, 1, 1, 5, 4, 4, 7, 64, 1024, 0), 333);
    // 3D: depth minifies with the level.
    let v = geom(Target::Texture3d, 16, 8, 8, 1, 4, RGBA8);
    round_trip(&v, &req(0, 1, 2, 3, 10, 5, 4, 0, 0, 0), 100);
    round_trip(&v, &req(2, 0, 0, 0, 4, 2, 2, 0, 0, 0), 8);
    assert!(matches!(
        TransferPlan::new(&v, &req(2, 0, 0, 0, 4, 2, 3, 0, 0, 0)),
        Err(ResourceError::BoxOutside { .. })
    ));
}

#[test]
fn compressed_formats() {
    let g = geom(Target::Texture2d, 64, 32, 1, 1, 3, BC1);
    round_trip(&g, &req(0, 8, 4, 0, 16, 8, 1, 0, 0, 0), 24);
    round_trip(&g, &req(0, 0, 0, 0, 64, 32, 1, 0, 0, 0), 4096);
    // Level 2 is 16x8: a box ending at the edge need not be a block multiple.
    let g2 = geom(Target::Texture2d, 42, 30, 1, 1, 1, BC1);
    round_trip(&g2, &req(0, 40, 28, 0, 2, 2, 1, 0, 0, 0), 5);
    let p = TransferPlan::new(&g2, &req(0, 0, 0, 0, 42, 30, 1, 0, 0, 0)).unwrap();
    assert_eq!(p.row_bytes(), 11 * 8);
    assert_eq!(p.rows(), 8);
    for bad in [
        req(0, 2, 0, 0, 4, 4, 1, 0, 0, 0),
        req(0, 0, 0, 0, 6, 4, 1, 0, 0, 0),
    ] {
        assert!(matches!(
            TransferPlan::new(&g2, &bad),
            Err(ResourceError::UnalignedBox { .. })
        ));
    }
    let a = geom(Target::Texture2dArray, 48, 40, 1, 3, 1, ASTC_12X10);
    round_trip(&a, &req(0, 12, 10, 1, 36, 30, 2, 0, 0, 0), 77);
    let v = geom(Target::Texture3d, 16, 16, 4, 1, 1, BC1);
    round_trip(&v, &req(0, 4, 4, 1, 8, 8, 2, 0, 0, 0), 16);
}

#[test]
fn malformed_requests_copy_nothing() {
    let g = geom(Target::Texture2d, 16, 16, 1, 1, 2, RGBA8);
    let cases = [
        (req(2, 0, 0, 0, 1, 1, 1, 0, 0, 0), "level"),
        (req(0, 10, 0, 0, 7, 1, 1, 0, 0, 0), "box x"),
        (req(0, 0, 0, 0, 1, 17, 1, 0, 0, 0), "box h"),
        (req(0, u32::MAX, 0, 0, 2, 1, 1, 0, 0, 0), "x overflow"),
        (req(0, 0, 0, 1, 1, 1, 1, 0, 0, 0), "z on 2D"),
        (req(0, 0, 0, 0, 8, 2, 1, 31, 0, 0), "stride"),
        (req(0, 0, 0, 0, 8, 2, 1, 0, 0, u64::MAX), "offset overflow"),
    ];
    for (r, what) in cases {
        assert!(TransferPlan::new(&g, &r).is_err(), "{what}");
    }
    let a = geom(Target::Texture2dArray, 16, 16, 1, 4, 1, RGBA8);
    let short_layer = req(0, 0, 0, 0, 16, 16, 2, 0, 1023, 0);
    assert!(matches!(
        TransferPlan::new(&a, &short_layer),
        Err(ResourceError::StrideTooSmall {
            what: "layer_stride",
            ..
        })
    ));

    // Guest memory one byte too small: nothing is read or written.
    let plan = TransferPlan::new(&g, &req(0, 0, 0, 0, 16, 16, 1, 0, 0, 10)).unwrap();
    let need = plan.guest_end().unwrap() as usize;
    let mut bufs = vec![vec![0xAAu8; need - 1]];
    let (_raw, mut iov) = iovecs_over(&mut bufs);
    let mut host = vec![0x55u8; 16 * 16 * 4];
    let layout = plan.packed_layout();
    assert!(matches!(
        plan.guest_to_host(&iov, &mut host, &layout),
        Err(ResourceError::OutOfBounds { .. })
    ));
    assert!(host.iter().all(|&b| b == 0x55));
    assert!(plan.host_to_guest(&host, &layout, &mut iov).is_err());
    drop(iov);
    assert!(bufs[0].iter().all(|&b| b == 0xAA));

    // Host staging too small, or a host stride shorter than a row.
    let mut guest = vec![1u8; need];
    let mut small = vec![0u8; 16 * 16 * 4 - 1];
    assert!(plan.guest_to_host(&guest, &mut small, &layout).is_err());
    assert!(small.iter().all(|&b| b == 0));
    let bad = HostLayout {
        offset: 0,
        stride: 63,
        layer_stride: 0,
    };
    assert!(plan.host_to_guest(&host, &bad, &mut guest).is_err());
    let far = HostLayout {
        offset: u64::MAX,
        ..layout
    };
    assert!(plan.host_to_guest(&host, &far, &mut guest).is_err());
    assert!(guest.iter().all(|&b| b == 1));

    // Bad geometry.
    let mut args = ResourceCreateArgs {
        target: 2,
        width: 1,
        height: 1,
        depth: 1,
        ..Default::default()
    };
    args.width = 0;
    assert!(ImageGeometry::new(&args, RGBA8).is_err());
    args.width = 1;
    args.last_level = 32;
    assert!(ImageGeometry::new(&args, RGBA8).is_err());
    args.last_level = 0;
    args.target = 7;
    assert!(ImageGeometry::new(&args, RGBA8).is_err());
    args.target = 99;
    assert!(ImageGeometry::new(&args, RGBA8).is_err());
    assert!(BlockLayout::new(0, 1, 1).is_err());
    assert!(BlockLayout::new(1, 1, 0).is_err());
}

#[test]
fn empty_box_is_a_checked_no_op() {
    let g = geom(Target::Texture2d, 16, 16, 1, 1, 1, RGBA8);
    let plan = TransferPlan::new(&g, &req(0, 4, 4, 0, 0, 3, 1, 0, 0, 8)).unwrap();
    assert!(plan.is_empty());
    let mut guest = vec![3u8; 8];
    plan.host_to_guest(&[], &HostLayout::default(), &mut guest)
        .unwrap();
    assert_eq!(guest, [3; 8]);
    assert!(plan.check_guest(7).is_err());
}

#[test]
fn from_host_never_returns_unwritten_host_memory() {
    // CVE-2022-0175: fresh host staging is zeroed, and the guest's gaps between rows are left
    // as the guest had them.
    let g = geom(Target::Texture2d, 8, 4, 1, 1, 1, RGBA8);
    let plan = TransferPlan::new(&g, &req(0, 0, 0, 0, 8, 4, 1, 40, 0, 0)).unwrap();
    let image = zeroed_staging(LinearImageLayout::new(&g).unwrap().size()).unwrap();
    let mut guest = vec![0xEEu8; plan.guest_end().unwrap() as usize];
    plan.host_to_guest(&image, &plan.packed_layout(), &mut guest)
        .unwrap();
    for (i, &b) in guest.iter().enumerate() {
        let in_row = i % 40 < 32;
        assert_eq!(b, if in_row { 0 } else { 0xEE }, "byte {i}");
    }
    assert!(zeroed_staging(u64::MAX).is_err());
    // The same through the direction-generic entry point.
    let mut image = vec![7u8; 8 * 4 * 4];
    plan.copy(
        TransferDirection::FromHost,
        &mut guest,
        &mut image,
        &plan.packed_layout(),
    )
    .unwrap();
    assert_eq!(guest[..32], [7; 32]);
    guest[..4].copy_from_slice(&[1, 2, 3, 4]);
    plan.copy(
        TransferDirection::ToHost,
        &mut guest,
        &mut image,
        &plan.packed_layout(),
    )
    .unwrap();
    assert_eq!(image[..5], [1, 2, 3, 4, 7]);
}

#[test]
fn default_strides_are_the_level_pitch() {
    let g = geom(Target::Texture2dArray, 20, 10, 1, 3, 2, RGBA8);
    let plan = TransferPlan::new(&g, &req(1, 2, 1, 1, 4, 2, 2, 0, 0, 0)).unwrap();
    let gl = plan.guest_layout();
    assert_eq!(gl.stride, 10 * 4);
    assert_eq!(gl.layer_stride, 10 * 4 * 5);
    assert_eq!(plan.guest_end().unwrap(), 200 + 40 + 16);
    let img = LinearImageLayout::new(&g).unwrap();
    assert_eq!(img.size(), 20 * 10 * 4 * 3 + 10 * 5 * 4 * 3);
}

fn arb_case() -> impl Strategy<Value = (ImageGeometry, TransferRequest, usize)> {
    let targets = prop_oneof![
        Just(Target::Buffer),
        Just(Target::Texture1d),
        Just(Target::Texture2d),
        Just(Target::Texture3d),
        Just(Target::Cube),
        Just(Target::Rect),
        Just(Target::Texture1dArray),
        Just(Target::Texture2dArray),
        Just(Target::CubeArray),
    ];
    let blocks = prop_oneof![
        Just(RGBA8),
        Just(BC1),
        Just(ASTC_12X10),
        Just(BlockLayout {
            block_width: 1,
            block_height: 1,
            bytes_per_block: 3
        })
    ];
    (
        targets,
        blocks,
        1u32..40,
        1u32..40,
        1u32..6,
        1u32..8,
        0u32..4,
    )
        .prop_flat_map(|(t, b, w, h, d, layers, last)| {
            let h = if matches!(
                t,
                Target::Buffer | Target::Texture1d | Target::Texture1dArray
            ) {
                1
            } else {
                h
            };
            let d = if t == Target::Texture3d { d } else { 1 };
            let layers = match t {
                Target::Cube => 6,
                Target::CubeArray => 6 * layers.min(2),
                _ => layers,
            };
            let g = geom(t, w, h, d, layers, last + 1, b);
            let r = (
                0..=last,
                0u32..48,
                0u32..48,
                0u32..13,
                0u32..48,
                0u32..48,
                0u32..13,
                prop_oneof![Just(0u32), 0u32..400],
                prop_oneof![Just(0u32), 0u32..20000],
                0u64..64,
                1usize..70,
            );
            (Just(g), r)
        })
        .prop_map(
            |(g, (level, x, y, z, w, h, d, stride, ls, offset, chunk))| {
                (g, req(level, x, y, z, w, h, d, stride, ls, offset), chunk)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any request either is refused or round-trips exactly like the naive reference.
    #[test]
    fn any_request_is_refused_or_exact((g, r, chunk) in arb_case()) {
        if TransferPlan::new(&g, &r).is_ok() {
            round_trip(&g, &r, chunk);
        }
    }
}

#[test]
fn block_layout_from_the_format_table() {
    use virgl_protocol::VirglFormat;
    let b = BlockLayout::for_format(VirglFormat::B8G8R8A8_UNORM.raw()).unwrap();
    assert_eq!(b, RGBA8);
    assert_eq!(
        BlockLayout::for_format(VirglFormat::R8_UNORM.raw())
            .unwrap()
            .bytes_per_block,
        1
    );
    assert_eq!(
        BlockLayout::for_format(VirglFormat::R8G8B8_UNORM.raw())
            .unwrap()
            .bytes_per_block,
        3
    );
    assert_eq!(
        BlockLayout::for_format(VirglFormat::DXT1_RGB.raw()).unwrap(),
        BC1
    );
    assert_eq!(
        BlockLayout::for_format(VirglFormat::ASTC_12x10.raw()).unwrap(),
        ASTC_12X10
    );
    for refused in [
        0,                                          // NONE
        VirglFormat::Y8_U8_V8_420_UNORM.raw(),      // planar
        VirglFormat::ASTC_3x3x3.raw(),              // 3D blocks
        VirglFormat::B8G8R8X8_UNORM_EMULATED.raw(), // host-only
        100_000,                                    // unassigned
    ] {
        assert!(
            matches!(
                BlockLayout::for_format(refused),
                Err(ResourceError::UnknownFormat(_))
            ),
            "{refused}"
        );
    }
    for format in VirglFormat::iter() {
        // Never panics, whatever the row.
        let _ = BlockLayout::for_format(format.raw());
    }
}
