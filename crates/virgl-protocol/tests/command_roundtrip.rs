//! Encode -> decode -> equal, for every command id and every object type.

use std::collections::BTreeSet;

use virgl_protocol::command::*;
use virgl_protocol::pipe::{ShaderType, TransferDirection};

/// Encodes `cmd`, decodes it back through `CommandIter`, checks equality and that re-encoding
/// reproduces the same dwords.
fn round_trip(cmd: &Command<'_>) -> Vec<u32> {
    let mut e = Encoder::new();
    e.push(cmd).expect("encodes");
    let words = e.as_slice().to_vec();
    let decoded: Vec<_> = CommandIter::new(&words)
        .collect::<Result<_, _>>()
        .expect("decodes");
    assert_eq!(decoded.len(), 1, "{:?}", cmd.id());
    assert_eq!(decoded[0].0, 0);
    assert_eq!(&decoded[0].1, cmd, "{:?}", cmd.id());
    let mut again = Encoder::new();
    again.push(&decoded[0].1).unwrap();
    assert_eq!(again.as_slice(), &words[..]);
    words
}

fn bx(base: u32) -> Box3 {
    Box3 {
        x: base,
        y: base + 1,
        z: base + 2,
        width: 64,
        height: 32,
        depth: 1,
    }
}

#[test]
fn every_command_and_object_round_trips() {
    let payload = [1u32, 2, 3];
    let handles = [5u32, 6, 7];
    let vbs = Records::<VertexBuffer>::dwords_of(&[
        VertexBuffer {
            stride: 16,
            offset: 0,
            handle: 9,
        },
        VertexBuffer {
            stride: 32,
            offset: 128,
            handle: 10,
        },
    ]);
    let ves = VertexElements::dwords_of(&[
        VertexElement {
            src_offset: 0,
            instance_divisor: 0,
            vertex_buffer_index: 0,
            src_format: 31,
        },
        VertexElement {
            src_offset: 12,
            instance_divisor: 1,
            vertex_buffer_index: 1,
            src_format: 29,
        },
    ]);
    let vps = Records::<Viewport>::dwords_of(&[Viewport {
        scale: [320.0, -240.0, 0.5],
        translate: [320.0, 240.0, 0.5],
    }]);
    let scissors = Records::<Scissor>::dwords_of(&[
        Scissor {
            minx: 0,
            miny: 0,
            maxx: 640,
            maxy: 480,
        },
        Scissor {
            minx: 1,
            miny: 2,
            maxx: 3,
            maxy: 4,
        },
    ]);
    let ssbos = Records::<ShaderBuffer>::dwords_of(&[ShaderBuffer {
        offset: 0,
        length: 256,
        handle: 3,
    }]);
    let images = Records::<ImageView>::dwords_of(&[ImageView {
        format: 1,
        access: 3,
        layer_offset: 0,
        level_size: 0,
        handle: 4,
    }]);
    let planes = Records::<PlaneLayout>::dwords_of(&[
        PlaneLayout {
            stride: 256,
            offset: 0,
        },
        PlaneLayout {
            stride: 128,
            offset: 4096,
        },
    ]);
    let so_raw = StreamOutput::dwords_of(&[StreamOutputEntry {
        register_index: 1,
        start_component: 0,
        num_components: 4,
        output_buffer: 0,
        dst_offset: 0,
        stream: 0,
    }]);
    let text = bytes_to_dwords(b"VERT\nDCL IN[0]\nEND\n\0");
    let marker = bytes_to_dwords(b"frame 1");
    let flags = bytes_to_dwords(b"dbg\0");

    let rt0 = RtBlend {
        blend_enable: true,
        rgb_func: 0,
        rgb_src_factor: 3,
        rgb_dst_factor: 0x13,
        alpha_func: 0,
        alpha_src_factor: 1,
        alpha_dst_factor: 0x11,
        colormask: 0xf,
    };
    let mut rt = [RtBlend::default(); 8];
    rt[0] = rt0;
    rt[3] = RtBlend {
        colormask: 0x5,
        ..rt0
    };

    let objects = [
        CreateObject::Blend(BlendState {
            handle: 1,
            independent_blend_enable: true,
            logicop_enable: false,
            dither: true,
            alpha_to_coverage: false,
            alpha_to_one: true,
            logicop_func: 12,
            rt,
        }),
        CreateObject::Rasterizer(RasterizerState {
            handle: 2,
            flags: RasterizerFlags::DEPTH_CLIP
                | RasterizerFlags::FRONT_CCW
                | RasterizerFlags::HALF_PIXEL_CENTER
                | RasterizerFlags::FORCE_PERSAMPLE_INTERP,
            cull_face: 2,
            fill_front: 1,
            fill_back: 2,
            point_size: 1.0,
            sprite_coord_enable: 0x8,
            line_stipple_pattern: 0xf0f0,
            line_stipple_factor: 3,
            clip_plane_enable: 0x81,
            line_width: 1.5,
            offset_units: -2.0,
            offset_scale: 0.25,
            offset_clamp: 0.0,
        }),
        CreateObject::Dsa(DsaState {
            handle: 3,
            depth_enabled: true,
            depth_writemask: true,
            depth_func: 3,
            alpha_enabled: true,
            alpha_func: 6,
            stencil: [
                StencilState {
                    enabled: true,
                    func: 7,
                    fail_op: 1,
                    zpass_op: 2,
                    zfail_op: 3,
                    valuemask: 0xff,
                    writemask: 0x0f,
                },
                StencilState::default(),
            ],
            alpha_ref: 0.5,
        }),
        CreateObject::Shader(CreateShader {
            handle: 4,
            shader_type: ShaderType::Vertex,
            chunk: ShaderChunk::First {
                total_len: (text.len() * 4) as u32,
            },
            num_tokens: 100,
            req_local_mem: 0,
            stream_output: Some(StreamOutput::new([4, 0, 0, 0], &so_raw)),
            text: &text,
        }),
        CreateObject::Shader(CreateShader {
            handle: 40,
            shader_type: ShaderType::Compute,
            chunk: ShaderChunk::First {
                total_len: (text.len() * 4) as u32,
            },
            num_tokens: 100,
            req_local_mem: 4096,
            stream_output: None,
            text: &text,
        }),
        CreateObject::VertexElements(VertexElements::new(5, &ves)),
        CreateObject::SamplerView(SamplerView {
            handle: 6,
            res_handle: 7,
            format: 1,
            target: 2,
            val0: 0x0003_0000,
            val1: 0x0400,
            swizzle: [0, 1, 2, 5],
        }),
        CreateObject::SamplerState(SamplerState {
            handle: 8,
            wrap_s: 0,
            wrap_t: 2,
            wrap_r: 7,
            min_img_filter: 1,
            min_mip_filter: 2,
            mag_img_filter: 1,
            compare_mode: true,
            compare_func: 3,
            seamless_cube_map: true,
            max_anisotropy: 16,
            lod_bias: -0.5,
            min_lod: 0.0,
            max_lod: 1000.0,
            border_color: [0, 0x3f80_0000, 2, 3],
        }),
        CreateObject::Surface(Surface {
            handle: 9,
            res_handle: 10,
            format: 2,
            val0: 0,
            val1: 0x0002_0001,
        }),
        CreateObject::Query(Query {
            handle: 11,
            query_type: 4,
            index: 1,
            offset: 16,
            res_handle: 12,
        }),
        CreateObject::StreamoutTarget(StreamoutTarget {
            handle: 13,
            res_handle: 14,
            buffer_offset: 0,
            buffer_size: 1024,
        }),
        CreateObject::MsaaSurface(MsaaSurface {
            surface: Surface {
                handle: 15,
                res_handle: 16,
                format: 2,
                val0: 0,
                val1: 0,
            },
            sample_count: 4,
        }),
    ];

    let tr = TransferRegion {
        handle: 3,
        level: 1,
        usage: 2,
        stride: 256,
        layer_stride: 0,
        bx: bx(4),
    };
    let mut commands = vec![
        Command::Nop(&payload),
        Command::BindObject {
            object_type: ObjectType::Blend,
            handle: 1,
        },
        Command::BindObject {
            object_type: ObjectType::VertexElements,
            handle: 5,
        },
        Command::DestroyObject {
            object_type: ObjectType::Query,
            handle: 11,
        },
        Command::SetViewportState(SetViewportStates {
            start_slot: 0,
            viewports: Records::new(&vps),
        }),
        Command::SetFramebufferState(SetFramebufferState {
            zsurf_handle: 4,
            cbufs: &handles,
        }),
        Command::SetVertexBuffers(Records::new(&vbs)),
        Command::Clear(Clear {
            buffers: 0x7,
            color: [0, 1, 2, 3],
            depth: 1.0,
            stencil: 0x80,
        }),
        Command::DrawVbo(DrawVbo {
            start: 0,
            count: 3,
            mode: 4,
            instance_count: 1,
            max_index: !0,
            ..Default::default()
        }),
        Command::DrawVbo(DrawVbo {
            count: 6,
            mode: 14,
            indexed: true,
            index_bias: -4,
            tess: Some(DrawTess {
                vertices_per_patch: 3,
                drawid: 1,
            }),
            ..Default::default()
        }),
        Command::DrawVbo(DrawVbo {
            mode: 4,
            primitive_restart: true,
            restart_index: 0xffff,
            tess: Some(DrawTess {
                vertices_per_patch: 0,
                drawid: 0,
            }),
            indirect: Some(DrawIndirect {
                handle: 7,
                offset: 16,
                stride: 20,
                draw_count: 2,
                draw_count_offset: 4,
                draw_count_handle: 8,
            }),
            ..Default::default()
        }),
        Command::ResourceInlineWrite(ResourceInlineWrite {
            region: tr,
            data: &payload,
        }),
        Command::SetSamplerViews(SetSamplerViews {
            shader_type: ShaderType::Fragment,
            start_slot: 2,
            handles: &handles,
        }),
        Command::SetIndexBuffer(SetIndexBuffer {
            handle: 0,
            layout: None,
        }),
        Command::SetIndexBuffer(SetIndexBuffer {
            handle: 5,
            layout: Some(IndexBufferLayout {
                index_size: 2,
                offset: 64,
            }),
        }),
        Command::SetConstantBuffer(SetConstantBuffer {
            shader_type: ShaderType::Vertex,
            index: 0,
            data: &payload,
        }),
        Command::SetStencilRef(StencilRef {
            front: 1,
            back: 0xff,
        }),
        Command::SetBlendColor([0.0, 0.25, 0.5, 1.0]),
        Command::SetScissorState(SetScissorStates {
            start_slot: 1,
            scissors: Records::new(&scissors),
        }),
        Command::Blit(Blit {
            mask: 0xf,
            filter: 1,
            scissor_enable: true,
            render_condition_enable: false,
            alpha_blend: true,
            scissor: Scissor {
                minx: 1,
                miny: 2,
                maxx: 3,
                maxy: 4,
            },
            dst: BlitSurface {
                handle: 1,
                level: 0,
                format: 1,
                bx: bx(0),
            },
            src: BlitSurface {
                handle: 2,
                level: 1,
                format: 2,
                bx: bx(9),
            },
        }),
        Command::ResourceCopyRegion(ResourceCopyRegion {
            dst_handle: 1,
            dst_level: 0,
            dst_x: 1,
            dst_y: 2,
            dst_z: 0,
            src_handle: 2,
            src_level: 3,
            src_box: bx(5),
        }),
        Command::BindSamplerStates(BindSamplerStates {
            shader_type: ShaderType::Geometry,
            start_slot: 0,
            handles: &handles,
        }),
        Command::BeginQuery { handle: 11 },
        Command::EndQuery { handle: 11 },
        Command::GetQueryResult {
            handle: 11,
            wait: true,
        },
        Command::SetPolygonStipple(core::array::from_fn(|i| i as u32 * 3)),
        Command::SetClipState(core::array::from_fn(|p| {
            core::array::from_fn(|c| (p * 4 + c) as f32)
        })),
        Command::SetSampleMask(0xffff),
        Command::SetStreamoutTargets(SetStreamoutTargets {
            append_bitmask: 1,
            handles: &handles,
        }),
        Command::SetRenderCondition(SetRenderCondition {
            handle: 11,
            condition: true,
            mode: 2,
        }),
        Command::SetUniformBuffer(SetUniformBuffer {
            shader_type: ShaderType::TessEval,
            index: 31,
            offset: 256,
            length: 1024,
            handle: 4,
        }),
        Command::SetSubCtx { sub_ctx_id: 1 },
        Command::CreateSubCtx { sub_ctx_id: 2 },
        Command::DestroySubCtx { sub_ctx_id: 2 },
        Command::BindShader(BindShader {
            handle: 4,
            shader_type: ShaderType::TessCtrl,
        }),
        Command::SetTessState(SetTessState {
            outer: [1.0, 2.0, 3.0, 4.0],
            inner: [5.0, 6.0],
        }),
        Command::SetMinSamples(4),
        Command::SetShaderBuffers(SetShaderBuffers {
            shader_type: ShaderType::Compute,
            start_slot: 31,
            buffers: Records::new(&ssbos),
        }),
        Command::SetShaderImages(SetShaderImages {
            shader_type: ShaderType::Fragment,
            start_slot: 0,
            images: Records::new(&images),
        }),
        Command::MemoryBarrier(0x3fff),
        Command::LaunchGrid(LaunchGrid {
            block: [8, 8, 1],
            grid: [16, 16, 1],
            indirect_handle: 0,
            indirect_offset: 0,
        }),
        Command::SetFramebufferStateNoAttach(SetFramebufferNoAttach {
            width: 1920,
            height: 1080,
            layers: 1,
            samples: 4,
        }),
        Command::TextureBarrier(1),
        Command::SetAtomicBuffers(SetAtomicBuffers {
            start_slot: 0,
            buffers: Records::new(&ssbos),
        }),
        Command::SetDebugFlags(DebugFlags { data: &flags }),
        Command::GetQueryResultQbo(GetQueryResultQbo {
            handle: 11,
            qbo_handle: 3,
            wait: false,
            result_type: 3,
            offset: 8,
            index: -1,
        }),
        Command::Transfer3d(Transfer3d {
            region: tr,
            offset: 4096,
            direction: TransferDirection::FromHost,
        }),
        Command::EndTransfers(&payload),
        Command::CopyTransfer3d(CopyTransfer3d {
            region: tr,
            staging_handle: 9,
            staging_offset: 64,
            flags: COPY_TRANSFER3D_SYNCHRONIZED | COPY_TRANSFER3D_READ_FROM_HOST,
        }),
        Command::SetTweaks { id: 2, value: 4 },
        Command::ClearTexture(ClearTexture {
            handle: 3,
            level: 0,
            bx: bx(0),
            data: [1, 2, 3, 4],
        }),
        Command::PipeResourceCreate(PipeResourceCreate {
            target: 2,
            format: 1,
            bind: 2,
            width: 64,
            height: 64,
            depth: 1,
            array_size: 1,
            last_level: 6,
            nr_samples: 0,
            flags: 0,
            blob_id: 77,
        }),
        Command::PipeResourceSetType(PipeResourceSetType {
            handle: 3,
            format: 1,
            bind: 2,
            width: 64,
            height: 64,
            usage: 0,
            modifier: 0x0100_0000_0000_0001,
            planes: Records::new(&planes),
        }),
        Command::GetMemoryInfo { handle: 12 },
        Command::SendStringMarker(StringMarker {
            len: 7,
            data: &marker,
        }),
        Command::LinkShader(LinkShader {
            handles: [1, 2, 0, 0, 0, 0],
        }),
        Command::CreateVideoCodec(CreateVideoCodec {
            handle: 1,
            profile: 6,
            entrypoint: 1,
            chroma_format: 1,
            level: 41,
            width: 1920,
            height: 1088,
            max_references: None,
        }),
        Command::CreateVideoCodec(CreateVideoCodec {
            handle: 2,
            profile: 6,
            entrypoint: 1,
            chroma_format: 1,
            level: 41,
            width: 1920,
            height: 1088,
            max_references: Some(16),
        }),
        Command::DestroyVideoCodec { handle: 1 },
        Command::CreateVideoBuffer(CreateVideoBuffer {
            handle: 3,
            format: 166,
            width: 1920,
            height: 1088,
            plane_handles: &handles[..2],
        }),
        Command::DestroyVideoBuffer { handle: 3 },
        Command::BeginFrame(VideoFrame {
            codec_handle: 1,
            target_handle: 3,
        }),
        Command::DecodeMacroblock(&[]),
        Command::DecodeBitstream(DecodeBitstream {
            codec_handle: 1,
            target_handle: 3,
            desc_handle: 20,
            buffer_handle: 21,
            buffer_size: 4096,
        }),
        Command::EncodeBitstream(EncodeBitstream {
            codec_handle: 1,
            source_handle: 3,
            dest_handle: 22,
            desc_handle: 20,
            feedback_handle: 23,
        }),
        Command::EndFrame(VideoFrame {
            codec_handle: 1,
            target_handle: 3,
        }),
        Command::ClearSurface(ClearSurface {
            render_condition_enable: true,
            buffers: 4,
            surface_handle: 9,
            color: [1, 2, 3, 4],
            dst_x: 1,
            dst_y: 2,
            width: 3,
            height: 4,
        }),
        Command::GetPipeResourceLayout(GetPipeResourceLayout {
            out_handle: 30,
            target_handle: 3,
        }),
    ];
    commands.extend(objects.iter().map(|o| Command::CreateObject(*o)));

    let mut ids = BTreeSet::new();
    let mut objs = BTreeSet::new();
    let mut stream = Encoder::new();
    for cmd in &commands {
        round_trip(cmd);
        ids.insert(cmd.id().raw());
        if let Command::CreateObject(o) = cmd {
            objs.insert(o.object_type().raw());
        }
        stream.push(cmd).unwrap();
    }
    assert_eq!(
        ids.len(),
        MAX_COMMANDS,
        "missing ids: {:?}",
        (0..64u8).filter(|i| !ids.contains(i)).collect::<Vec<_>>()
    );
    assert_eq!(objs.len(), 11);

    // The same commands back to back decode in order with correct offsets.
    let words = stream.as_slice();
    let mut expect_offset = 0;
    let mut n = 0;
    for (item, cmd) in CommandIter::new(words).zip(&commands) {
        let (offset, decoded) = item.unwrap();
        assert_eq!(offset, expect_offset);
        assert_eq!(&decoded, cmd);
        expect_offset += 1 + (words[offset] >> 16) as usize;
        n += 1;
    }
    assert_eq!(n, commands.len());
    assert_eq!(expect_offset, words.len());
}

#[test]
fn accessors_read_packed_fields() {
    let sv = SamplerView {
        handle: 1,
        res_handle: 2,
        format: 3,
        target: 7,
        val0: 2 | 5 << 16,
        val1: 1 | 4 << 8,
        swizzle: [0; 4],
    };
    let r = sv.texture_range();
    assert_eq!(
        (r.first_layer, r.last_layer, r.first_level, r.last_level),
        (2, 5, 1, 4)
    );
    assert_eq!(sv.buffer_elements(), (2 | 5 << 16, 1 | 4 << 8));
    let s = Surface {
        handle: 1,
        res_handle: 2,
        format: 3,
        val0: 2,
        val1: 1 | 3 << 16,
    };
    assert_eq!((s.level(), s.layers()), (2, (1, 3)));
    let m = StringMarker {
        len: 5,
        data: &bytes_to_dwords(b"hello world"),
    };
    assert_eq!(m.bytes().collect::<Vec<_>>(), b"hello");
    let flags = bytes_to_dwords(b"abc\0\0\0\0\0");
    assert_eq!(
        DebugFlags { data: &flags }.bytes().collect::<Vec<_>>(),
        b"abc"
    );
}
