//! Property tests: random field values round-trip; random and mutated dword streams never
//! panic and only report offsets inside the buffer.

use proptest::prelude::*;
use virgl_protocol::command::*;
use virgl_protocol::pipe::{ShaderType, TransferDirection};

fn f() -> impl Strategy<Value = f32> {
    -1.0e6f32..1.0e6f32
}

fn shader_type() -> impl Strategy<Value = ShaderType> {
    prop::sample::select(ShaderType::ALL)
}

fn box3() -> impl Strategy<Value = Box3> {
    any::<[u32; 6]>().prop_map(|[x, y, z, width, height, depth]| Box3 {
        x,
        y,
        z,
        width,
        height,
        depth,
    })
}

fn rt_blend() -> impl Strategy<Value = RtBlend> {
    (
        any::<bool>(),
        0u8..8,
        0u8..32,
        0u8..32,
        0u8..8,
        0u8..32,
        0u8..32,
        0u8..16,
    )
        .prop_map(
            |(
                blend_enable,
                rgb_func,
                rgb_src_factor,
                rgb_dst_factor,
                alpha_func,
                alpha_src_factor,
                alpha_dst_factor,
                colormask,
            )| RtBlend {
                blend_enable,
                rgb_func,
                rgb_src_factor,
                rgb_dst_factor,
                alpha_func,
                alpha_src_factor,
                alpha_dst_factor,
                colormask,
            },
        )
}

fn stencil() -> impl Strategy<Value = StencilState> {
    (
        any::<bool>(),
        0u8..8,
        0u8..8,
        0u8..8,
        0u8..8,
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(
            |(enabled, func, fail_op, zpass_op, zfail_op, valuemask, writemask)| StencilState {
                enabled,
                func,
                fail_op,
                zpass_op,
                zfail_op,
                valuemask,
                writemask,
            },
        )
}

/// Owned inputs for commands that borrow: the list dwords live here.
#[derive(Debug, Clone)]
enum Case {
    Plain(Box<Command<'static>>),
    VertexBuffers(Vec<VertexBuffer>),
    Viewports(u32, Vec<Viewport>),
    Scissors(u32, Vec<Scissor>),
    Elements(u32, Vec<VertexElement>),
    Inline(TransferRegion, Vec<u32>),
    Constants(ShaderType, u32, Vec<u32>),
    Views(ShaderType, u32, Vec<u32>),
}

fn plain() -> impl Strategy<Value = Command<'static>> {
    let draw = (
        any::<[u32; 8]>(),
        any::<(bool, bool, i32)>(),
        prop::option::of(any::<[u32; 2]>()),
        prop::option::of(any::<[u32; 6]>()),
    )
        .prop_map(|(w, (indexed, primitive_restart, index_bias), tess, ind)| {
            let indirect = ind.map(|i| DrawIndirect {
                handle: i[0],
                offset: i[1],
                stride: i[2],
                draw_count: i[3],
                draw_count_offset: i[4],
                draw_count_handle: i[5],
            });
            let tess = tess
                .map(|t| DrawTess {
                    vertices_per_patch: t[0],
                    drawid: t[1],
                })
                .or(indirect.map(|_| DrawTess::default()));
            Command::DrawVbo(DrawVbo {
                start: w[0],
                count: w[1],
                mode: w[2],
                indexed,
                instance_count: w[3],
                index_bias,
                start_instance: w[4],
                primitive_restart,
                restart_index: w[5],
                min_index: w[6],
                max_index: w[7],
                count_from_so: w[0] ^ w[1],
                tess,
                indirect,
            })
        });
    let blend = (
        1u32..,
        any::<[bool; 5]>(),
        0u8..16,
        prop::array::uniform8(rt_blend()),
    )
        .prop_map(|(handle, b, logicop_func, rt)| {
            Command::CreateObject(CreateObject::Blend(BlendState {
                handle,
                independent_blend_enable: b[0],
                logicop_enable: b[1],
                dither: b[2],
                alpha_to_coverage: b[3],
                alpha_to_one: b[4],
                logicop_func,
                rt,
            }))
        });
    let rs = (
        1u32..,
        any::<u32>(),
        0u8..4,
        0u8..4,
        0u8..4,
        (f(), f(), f(), f(), f()),
        any::<(u32, u16, u8, u8)>(),
    )
        .prop_map(
            |(
                handle,
                bits,
                cull_face,
                fill_front,
                fill_back,
                (ps, lw, ou, os, oc),
                (sce, pat, fac, cpe),
            )| {
                Command::CreateObject(CreateObject::Rasterizer(RasterizerState {
                    handle,
                    flags: RasterizerFlags::from_bits_truncate(bits),
                    cull_face,
                    fill_front,
                    fill_back,
                    point_size: ps,
                    sprite_coord_enable: sce,
                    line_stipple_pattern: pat,
                    line_stipple_factor: fac,
                    clip_plane_enable: cpe,
                    line_width: lw,
                    offset_units: ou,
                    offset_scale: os,
                    offset_clamp: oc,
                }))
            },
        );
    let dsa = (
        1u32..,
        any::<(bool, bool, bool)>(),
        0u8..8,
        0u8..8,
        stencil(),
        stencil(),
        f(),
    )
        .prop_map(
            |(handle, (de, dw, ae), depth_func, alpha_func, s0, s1, alpha_ref)| {
                Command::CreateObject(CreateObject::Dsa(DsaState {
                    handle,
                    depth_enabled: de,
                    depth_writemask: dw,
                    depth_func,
                    alpha_enabled: ae,
                    alpha_func,
                    stencil: [s0, s1],
                    alpha_ref,
                }))
            },
        );
    let sampler = (
        1u32..,
        [0u8..8, 0u8..8, 0u8..8],
        0u8..2,
        0u8..3,
        0u8..2,
        any::<(bool, bool)>(),
        0u8..8,
        0u8..32,
        (f(), f(), f()),
        any::<[u32; 4]>(),
    )
        .prop_map(
            |(
                handle,
                w,
                min_img_filter,
                min_mip_filter,
                mag_img_filter,
                (cm, scm),
                compare_func,
                max_anisotropy,
                (lb, mnl, mxl),
                border_color,
            )| {
                Command::CreateObject(CreateObject::SamplerState(SamplerState {
                    handle,
                    wrap_s: w[0],
                    wrap_t: w[1],
                    wrap_r: w[2],
                    min_img_filter,
                    min_mip_filter,
                    mag_img_filter,
                    compare_mode: cm,
                    compare_func,
                    seamless_cube_map: scm,
                    max_anisotropy,
                    lod_bias: lb,
                    min_lod: mnl,
                    max_lod: mxl,
                    border_color,
                }))
            },
        );
    let view = (
        1u32..,
        any::<u32>(),
        1u32..0x0100_0000,
        0u8..9,
        any::<(u32, u32)>(),
        [0u8..8, 0u8..8, 0u8..8, 0u8..8],
    )
        .prop_map(
            |(handle, res_handle, format, target, (val0, val1), swizzle)| {
                Command::CreateObject(CreateObject::SamplerView(SamplerView {
                    handle,
                    res_handle,
                    format,
                    target,
                    val0,
                    val1,
                    swizzle,
                }))
            },
        );
    let blit = (
        any::<u8>(),
        0u8..4,
        any::<[bool; 3]>(),
        any::<[u16; 4]>(),
        any::<[u32; 6]>(),
        box3(),
        box3(),
    )
        .prop_map(|(mask, filter, b, s, h, dbx, sbx)| {
            Command::Blit(Blit {
                mask,
                filter,
                scissor_enable: b[0],
                render_condition_enable: b[1],
                alpha_blend: b[2],
                scissor: Scissor {
                    minx: s[0],
                    miny: s[1],
                    maxx: s[2],
                    maxy: s[3],
                },
                dst: BlitSurface {
                    handle: h[0],
                    level: h[1],
                    format: h[2],
                    bx: dbx,
                },
                src: BlitSurface {
                    handle: h[3],
                    level: h[4],
                    format: h[5],
                    bx: sbx,
                },
            })
        });
    let clear = (
        any::<u32>(),
        any::<[u32; 4]>(),
        -1.0e9f64..1.0e9,
        any::<u32>(),
    )
        .prop_map(|(buffers, color, depth, stencil)| {
            Command::Clear(Clear {
                buffers,
                color,
                depth,
                stencil,
            })
        });
    let transfer =
        (any::<[u32; 5]>(), box3(), any::<u32>(), any::<bool>()).prop_map(|(w, bx, offset, up)| {
            Command::Transfer3d(Transfer3d {
                region: TransferRegion {
                    handle: w[0],
                    level: w[1],
                    usage: w[2],
                    stride: w[3],
                    layer_stride: w[4],
                    bx,
                },
                offset,
                direction: if up {
                    TransferDirection::ToHost
                } else {
                    TransferDirection::FromHost
                },
            })
        });
    let misc = (
        any::<[u32; 6]>(),
        shader_type(),
        0u32..32,
        any::<(u8, u8, u16, u16, u16, u8)>(),
    )
        .prop_flat_map(|(w, st, idx, (a, b, c, d, e, g))| {
            prop::sample::select(vec![
                Command::SetUniformBuffer(SetUniformBuffer {
                    shader_type: st,
                    index: idx,
                    offset: w[0],
                    length: w[1],
                    handle: w[2],
                }),
                Command::SetStencilRef(StencilRef { front: a, back: b }),
                Command::SetFramebufferStateNoAttach(SetFramebufferNoAttach {
                    width: c,
                    height: d,
                    layers: e,
                    samples: g,
                }),
                Command::LaunchGrid(LaunchGrid {
                    block: [w[0], w[1], w[2]],
                    grid: [w[3], w[4], w[5]],
                    indirect_handle: w[0],
                    indirect_offset: w[1],
                }),
                Command::BindShader(BindShader {
                    handle: w[3],
                    shader_type: st,
                }),
                Command::GetQueryResultQbo(GetQueryResultQbo {
                    handle: w[0],
                    qbo_handle: w[1],
                    wait: a & 1 == 1,
                    result_type: w[2],
                    offset: w[3],
                    index: w[4] as i32,
                }),
                Command::CopyTransfer3d(CopyTransfer3d {
                    region: TransferRegion::default(),
                    staging_handle: w[0],
                    staging_offset: w[1],
                    flags: w[2],
                }),
                Command::SetTweaks {
                    id: w[0],
                    value: w[1],
                },
                Command::LinkShader(LinkShader { handles: w }),
                Command::GetQueryResult {
                    handle: w[5],
                    wait: w[5] & 1 == 0,
                },
            ])
        });
    prop_oneof![draw, blend, rs, dsa, sampler, view, blit, clear, transfer, misc]
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![
        plain().prop_map(|c| Case::Plain(Box::new(c))),
        prop::collection::vec(any::<[u32; 3]>(), 0..=32).prop_map(|v| Case::VertexBuffers(
            v.into_iter()
                .map(|[stride, offset, handle]| VertexBuffer {
                    stride,
                    offset,
                    handle
                })
                .collect()
        )),
        (
            0u32..=16,
            prop::collection::vec(prop::array::uniform6(f()), 0..=16)
        )
            .prop_map(|(start, v)| {
                let n = v.len().min(16 - start as usize);
                Case::Viewports(
                    start,
                    v[..n]
                        .iter()
                        .map(|a| Viewport {
                            scale: [a[0], a[1], a[2]],
                            translate: [a[3], a[4], a[5]],
                        })
                        .collect(),
                )
            }),
        (0u32..16, prop::collection::vec(any::<[u16; 4]>(), 0..=16)).prop_map(|(start, v)| {
            let n = v.len().min(16 - start as usize);
            Case::Scissors(
                start,
                v[..n]
                    .iter()
                    .map(|s| Scissor {
                        minx: s[0],
                        miny: s[1],
                        maxx: s[2],
                        maxy: s[3],
                    })
                    .collect(),
            )
        }),
        (
            1u32..,
            prop::collection::vec((any::<[u32; 2]>(), 0u32..32, any::<u32>()), 0..=32)
        )
            .prop_map(|(h, v)| {
                Case::Elements(
                    h,
                    v.into_iter()
                        .map(
                            |([src_offset, instance_divisor], vertex_buffer_index, src_format)| {
                                VertexElement {
                                    src_offset,
                                    instance_divisor,
                                    vertex_buffer_index,
                                    src_format,
                                }
                            },
                        )
                        .collect(),
                )
            }),
        (
            any::<[u32; 5]>(),
            box3(),
            prop::collection::vec(any::<u32>(), 1..256)
        )
            .prop_map(|(w, bx, data)| {
                Case::Inline(
                    TransferRegion {
                        handle: w[0],
                        level: w[1],
                        usage: w[2],
                        stride: w[3],
                        layer_stride: w[4],
                        bx,
                    },
                    data,
                )
            }),
        (
            shader_type(),
            any::<u32>(),
            prop::collection::vec(any::<u32>(), 0..256)
        )
            .prop_map(|(s, i, d)| Case::Constants(s, i, d)),
        (
            shader_type(),
            0u32..=128,
            prop::collection::vec(any::<u32>(), 0..=128)
        )
            .prop_map(|(s, start, h)| {
                let n = h.len().min(128 - start as usize);
                Case::Views(s, start, h[..n].to_vec())
            }),
    ]
}

/// Encodes a case; the dwords of list-carrying commands are built in `scratch`.
fn encode_case(case: &Case, e: &mut Encoder) {
    let scratch: Vec<u32>;
    let cmd = match case {
        Case::Plain(c) => **c,
        Case::VertexBuffers(v) => {
            scratch = Records::dwords_of(v);
            Command::SetVertexBuffers(Records::new(&scratch))
        }
        Case::Viewports(start, v) => {
            scratch = Records::dwords_of(v);
            Command::SetViewportState(SetViewportStates {
                start_slot: *start,
                viewports: Records::new(&scratch),
            })
        }
        Case::Scissors(start, v) => {
            scratch = Records::dwords_of(v);
            Command::SetScissorState(SetScissorStates {
                start_slot: *start,
                scissors: Records::new(&scratch),
            })
        }
        Case::Elements(h, v) => {
            scratch = VertexElements::dwords_of(v);
            Command::CreateObject(CreateObject::VertexElements(VertexElements::new(
                *h, &scratch,
            )))
        }
        Case::Inline(region, data) => Command::ResourceInlineWrite(ResourceInlineWrite {
            region: *region,
            data,
        }),
        Case::Constants(s, i, d) => Command::SetConstantBuffer(SetConstantBuffer {
            shader_type: *s,
            index: *i,
            data: d,
        }),
        Case::Views(s, start, h) => Command::SetSamplerViews(SetSamplerViews {
            shader_type: *s,
            start_slot: *start,
            handles: h,
        }),
    };
    e.push(&cmd).unwrap();
}

/// Checks the iterator's invariants on arbitrary input and returns the decoded count.
fn check_stream(words: &[u32]) -> usize {
    let mut last_end = 0;
    let mut n = 0;
    let mut reencoded = Encoder::new();
    for item in CommandIter::new(words) {
        match item {
            Ok((offset, cmd)) => {
                assert_eq!(offset, last_end, "commands are contiguous");
                let len = (words[offset] >> 16) as usize;
                assert!(offset + 1 + len <= words.len());
                last_end = offset + 1 + len;
                reencoded.push(&cmd).unwrap();
                n += 1;
            }
            Err(e) => {
                let s = format!("{e}");
                assert!(!s.is_empty());
                let offset = match e {
                    virgl_protocol::ProtocolError::UnknownCommand { offset, .. }
                    | virgl_protocol::ProtocolError::CommandOverrun { offset, .. }
                    | virgl_protocol::ProtocolError::BadCommandLength { offset, .. }
                    | virgl_protocol::ProtocolError::BadObjectType { offset, .. }
                    | virgl_protocol::ProtocolError::InvalidCommandField { offset, .. } => offset,
                    other => panic!("unexpected error kind {other:?}"),
                };
                assert_eq!(offset, last_end);
                assert!(offset < words.len());
            }
        }
    }
    // Decoding what we re-encoded is a fixed point (bit-exact, NaNs included).
    let once = reencoded.as_slice().to_vec();
    let mut twice = Encoder::new();
    for item in CommandIter::new(&once) {
        twice.push(&item.unwrap().1).unwrap();
    }
    assert_eq!(twice.as_slice(), &once[..]);
    n
}

/// Dwords with headers biased towards real command ids and small lengths.
fn noisy_word() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => any::<u32>(),
        2 => (0u32..64, 0u32..13, 0u32..24).prop_map(|(c, o, l)| c | o << 8 | l << 16),
        1 => 0u32..8,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_commands_round_trip(cases in prop::collection::vec(case(), 1..8)) {
        let mut e = Encoder::new();
        for c in &cases {
            encode_case(c, &mut e);
        }
        let words = e.as_slice();
        let decoded: Vec<_> = CommandIter::new(words).collect::<Result<_, _>>().unwrap();
        prop_assert_eq!(decoded.len(), cases.len());
        let mut again = Encoder::new();
        for (i, (_, cmd)) in decoded.iter().enumerate() {
            again.push(cmd).unwrap();
            // Struct equality (floats are finite here).
            let mut single = Encoder::new();
            encode_case(&cases[i], &mut single);
            let expect = CommandIter::new(single.as_slice()).next().unwrap().unwrap().1;
            prop_assert_eq!(&expect, cmd);
        }
        prop_assert_eq!(again.as_slice(), words);
    }

    #[test]
    fn random_streams_never_panic(words in prop::collection::vec(noisy_word(), 0..512)) {
        check_stream(&words);
    }

    #[test]
    fn mutated_streams_never_panic(
        cases in prop::collection::vec(case(), 1..6),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u32>(), 0u8..3), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut e = Encoder::new();
        for c in &cases {
            encode_case(c, &mut e);
        }
        let mut words = e.into_inner();
        for (at, value, how) in edits {
            let i = at.index(words.len());
            match how {
                0 => words[i] = value,
                1 => words[i] ^= 1 << (value % 32),
                _ => words[i] = (words[i] & 0xffff) | (value & 0xffff) << 16,
            }
        }
        let keep = cut.index(words.len() + 1);
        check_stream(&words[..keep]);
        check_stream(&words);
    }
}
