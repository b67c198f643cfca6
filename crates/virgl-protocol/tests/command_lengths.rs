//! Length rules: every command at every payload length 0..=160, against the rule upstream's
//! `vrend_decode.c` enforces (or our stricter one), plus stream-level errors.

use virgl_protocol::command::*;
use virgl_protocol::ProtocolError;

/// Whether `len` is a valid payload length for `(id, obj)` when the payload is all zeros except
/// the overrides in [`payload`].
fn valid(id: CommandId, obj: ObjectType, len: usize) -> bool {
    use CommandId as I;
    let records = |base: usize, size: usize, max: usize| {
        len >= base && (len - base).is_multiple_of(size) && (len - base) / size <= max
    };
    match id {
        I::Nop | I::EndTransfers | I::DecodeMacroblock => true,
        I::CreateObject => match obj {
            ObjectType::Blend => len == 11,
            ObjectType::Rasterizer => len == 9,
            ObjectType::Dsa => len == 5,
            // Zero total length: a text-less header only.
            ObjectType::Shader => len == 5,
            ObjectType::VertexElements => records(1, 4, 32),
            ObjectType::SamplerView => len == 6,
            ObjectType::SamplerState => len == 9,
            ObjectType::Surface => len == 5,
            ObjectType::Query | ObjectType::StreamoutTarget => len == 4,
            ObjectType::MsaaSurface => len == 6,
            ObjectType::Null => false,
        },
        I::BindObject | I::DestroyObject => len == 1,
        I::SetViewportState => records(1, 6, 16),
        // nr_cbufs = 0
        I::SetFramebufferState => len == 2,
        I::SetVertexBuffers => records(0, 3, 32),
        I::Clear => len == 8,
        I::DrawVbo => matches!(len, 12 | 14 | 20),
        I::ResourceInlineWrite => len >= 12,
        I::SetSamplerViews => records(2, 1, 128),
        I::SetIndexBuffer => matches!(len, 1 | 3),
        I::SetConstantBuffer => len >= 2,
        I::SetStencilRef | I::SetSampleMask | I::SetMinSamples => len == 1,
        I::SetBlendColor => len == 4,
        I::SetScissorState => records(1, 2, 16),
        I::Blit => len == 21,
        I::ResourceCopyRegion => len == 13,
        I::BindSamplerStates => records(2, 1, 32),
        I::BeginQuery | I::EndQuery => len == 1,
        I::GetQueryResult => len == 2,
        I::SetPolygonStipple | I::SetClipState => len == 32,
        I::SetStreamoutTargets => records(1, 1, 16),
        I::SetRenderCondition => len == 3,
        I::SetUniformBuffer => len == 5,
        I::SetSubCtx | I::CreateSubCtx | I::DestroySubCtx => len == 1,
        I::BindShader => len == 2,
        I::SetTessState => len == 6,
        I::SetShaderBuffers => records(2, 3, 32),
        I::SetShaderImages => records(2, 5, 32),
        I::MemoryBarrier | I::TextureBarrier => len == 1,
        I::LaunchGrid => len == 8,
        I::SetFramebufferStateNoAttach => len == 2,
        I::SetAtomicBuffers => len >= 4 && records(1, 3, 32),
        I::SetDebugFlags => len >= 1,
        I::GetQueryResultQbo => len == 6,
        I::Transfer3d => len == 13,
        I::CopyTransfer3d => len == 14,
        I::SetTweaks => len == 2,
        I::ClearTexture => len == 12,
        I::PipeResourceCreate => len == 11,
        I::PipeResourceSetType => matches!(len, 10 | 12 | 14 | 16),
        I::GetMemoryInfo => len == 1,
        I::SendStringMarker => len >= 2,
        I::LinkShader => len == 6,
        I::CreateVideoCodec => matches!(len, 7 | 8),
        I::DestroyVideoCodec | I::DestroyVideoBuffer => len == 1,
        I::CreateVideoBuffer => (5..=7).contains(&len),
        I::BeginFrame | I::EndFrame => len == 2,
        I::DecodeBitstream | I::EncodeBitstream => len == 5,
        I::ClearSurface => len == 10,
        I::GetPipeResourceLayout => len == 2,
    }
}

/// A zero payload with the few fields that must be non-zero to be valid.
fn payload(id: CommandId, obj: ObjectType, len: usize) -> Vec<u32> {
    let mut p = vec![0u32; len];
    let mut set = |i: usize, v: u32| {
        if let Some(d) = p.get_mut(i - 1) {
            *d = v;
        }
    };
    match (id, obj) {
        (CommandId::CreateObject, o) => {
            set(1, 1); // handle
            if o == ObjectType::SamplerView {
                set(3, 1); // format 1, target buffer
            }
        }
        (CommandId::Transfer3d, _) => set(13, 1), // direction: to host
        _ => {}
    }
    p
}

fn decode_one(id: CommandId, obj: ObjectType, len: usize) -> Result<(), ProtocolError> {
    let mut e = Encoder::new();
    e.push_raw(
        Header {
            cmd: id.raw(),
            obj: obj.raw(),
            len: len as u16,
        },
        &payload(id, obj, len),
    );
    let mut it = CommandIter::new(e.as_slice());
    let r = it.next().expect("one item").map(|_| ());
    assert!(it.next().is_none());
    r
}

#[test]
fn every_command_obeys_its_length_rule() {
    let objects: &[ObjectType] = ObjectType::ALL;
    for &id in CommandId::ALL {
        let objs: Vec<ObjectType> = match id {
            CommandId::CreateObject => objects[1..].to_vec(),
            CommandId::BindObject => vec![ObjectType::Rasterizer],
            CommandId::DestroyObject => vec![ObjectType::Surface],
            _ => vec![ObjectType::Null],
        };
        for obj in objs {
            for len in 0..=160 {
                let got = decode_one(id, obj, len);
                let want = valid(id, obj, len);
                match (&got, want) {
                    (Ok(()), true) => {}
                    (Err(ProtocolError::BadCommandLength { len: l, .. }), false) => {
                        assert_eq!(*l, len)
                    }
                    // Count limits (e.g. > 16 viewports) are field errors, also fine when invalid.
                    (Err(ProtocolError::InvalidCommandField { .. }), false) => {}
                    _ => panic!(
                        "{} {:?} len {len}: got {got:?}, want valid={want}",
                        id.name(),
                        obj
                    ),
                }
            }
        }
    }
}

#[test]
fn overrun_unknown_and_stop_after_error() {
    // A header declaring more than the buffer holds: upstream's `off + len + 1 > total`.
    let words = [
        Header {
            cmd: 24,
            obj: 0,
            len: 2,
        }
        .to_raw(),
        7,
    ];
    let items: Vec<_> = CommandIter::new(&words).collect();
    assert_eq!(
        items,
        vec![Err(ProtocolError::CommandOverrun {
            offset: 0,
            len: 2,
            available: 1
        })]
    );

    // Unknown id after a valid command; nothing after the error is decoded.
    let mut e = Encoder::new();
    e.push(&Command::SetSampleMask(1)).unwrap();
    e.push_raw(
        Header {
            cmd: 64,
            obj: 0,
            len: 0,
        },
        &[],
    );
    e.push(&Command::SetSampleMask(2)).unwrap();
    let mut it = CommandIter::new(e.as_slice());
    assert_eq!(it.next(), Some(Ok((0, Command::SetSampleMask(1)))));
    assert_eq!(
        it.next(),
        Some(Err(ProtocolError::UnknownCommand { offset: 2, cmd: 64 }))
    );
    assert_eq!(it.position(), 2);
    assert_eq!(it.next(), None);

    // Command::decode on a caller-cut slice.
    let w = [
        Header {
            cmd: 24,
            obj: 0,
            len: 1,
        }
        .to_raw(),
        1,
        2,
    ];
    assert_eq!(Command::decode(0, &w[..2]), Ok(Command::SetSampleMask(1)));
    assert!(matches!(
        Command::decode(0, &w),
        Err(ProtocolError::BadCommandLength { .. })
    ));
    assert!(matches!(
        Command::decode(0, &w[..1]),
        Err(ProtocolError::CommandOverrun { .. })
    ));
    assert!(matches!(
        Command::decode(0, &[]),
        Err(ProtocolError::Truncated { .. })
    ));

    // Empty buffer: nothing.
    assert_eq!(CommandIter::new(&[]).next(), None);
}

#[test]
fn field_checks() {
    let bad = |words: &[u32]| CommandIter::new(words).next().unwrap().unwrap_err();
    let h = |cmd: CommandId, obj: ObjectType, len: u16| {
        Header {
            cmd: cmd.raw(),
            obj: obj.raw(),
            len,
        }
        .to_raw()
    };
    // Handle 0 on create.
    assert!(matches!(
        bad(&[h(CommandId::CreateObject, ObjectType::Query, 4), 0, 0, 0, 0]),
        ProtocolError::InvalidCommandField {
            field: "handle",
            ..
        }
    ));
    // Object type 12 and NULL.
    assert!(matches!(
        bad(&[
            Header {
                cmd: 1,
                obj: 12,
                len: 1
            }
            .to_raw(),
            1
        ]),
        ProtocolError::BadObjectType { obj: 12, .. }
    ));
    assert!(matches!(
        bad(&[h(CommandId::CreateObject, ObjectType::Null, 1), 1]),
        ProtocolError::BadObjectType { .. }
    ));
    // BIND_OBJECT of a type upstream cannot bind.
    assert!(matches!(
        bad(&[h(CommandId::BindObject, ObjectType::Shader, 1), 1]),
        ProtocolError::BadObjectType { .. }
    ));
    // Shader type 6.
    assert!(matches!(
        bad(&[h(CommandId::BindShader, ObjectType::Null, 2), 1, 6]),
        ProtocolError::InvalidCommandField {
            field: "shader_type",
            value: 6,
            ..
        }
    ));
    // 9 colour buffers.
    let mut fb = vec![
        h(CommandId::SetFramebufferState, ObjectType::Null, 11),
        9,
        0,
    ];
    fb.extend([0; 9]);
    assert!(matches!(
        bad(&fb),
        ProtocolError::InvalidCommandField {
            field: "nr_cbufs",
            ..
        }
    ));
    // Sampler views past slot 128.
    assert!(matches!(
        bad(&[
            h(CommandId::SetSamplerViews, ObjectType::Null, 3),
            0,
            128,
            1
        ]),
        ProtocolError::InvalidCommandField {
            field: "start_slot",
            ..
        }
    ));
    // start_slot near u32::MAX must not overflow.
    assert!(matches!(
        bad(&[
            h(CommandId::SetViewportState, ObjectType::Null, 7),
            u32::MAX,
            0,
            0,
            0,
            0,
            0,
            0
        ]),
        ProtocolError::InvalidCommandField { .. }
    ));
    // Transfer direction 3.
    let mut t = vec![h(CommandId::Transfer3d, ObjectType::Null, 13)];
    t.extend([0; 12]);
    t.push(3);
    assert!(matches!(
        bad(&t),
        ProtocolError::InvalidCommandField {
            field: "direction",
            value: 3,
            ..
        }
    ));
    // Sampler state mip filter 3.
    let mut s = vec![
        h(CommandId::CreateObject, ObjectType::SamplerState, 9),
        1,
        3 << 11,
    ];
    s.extend([0; 7]);
    assert!(matches!(
        bad(&s),
        ProtocolError::InvalidCommandField {
            field: "min_mip_filter",
            ..
        }
    ));
    // String marker longer than its data.
    assert!(matches!(
        bad(&[h(CommandId::SendStringMarker, ObjectType::Null, 2), 5, 0]),
        ProtocolError::InvalidCommandField {
            field: "string_size",
            ..
        }
    ));
    // Vertex element buffer index 32.
    assert!(matches!(
        bad(&[
            h(CommandId::CreateObject, ObjectType::VertexElements, 5),
            1,
            0,
            0,
            32,
            0
        ]),
        ProtocolError::InvalidCommandField {
            field: "vertex_buffer_index",
            ..
        }
    ));
    // Surface with last layer < first layer.
    assert!(matches!(
        bad(&[
            h(CommandId::CreateObject, ObjectType::Surface, 5),
            1,
            2,
            3,
            0,
            1
        ]),
        ProtocolError::InvalidCommandField {
            field: "layers",
            ..
        }
    ));
    // First shader chunk longer than the declared total.
    assert!(matches!(
        bad(&[
            h(CommandId::CreateObject, ObjectType::Shader, 7),
            1,
            0,
            4,
            0,
            0,
            0x41,
            0x42
        ]),
        ProtocolError::BadCommandLength { .. }
    ));
}

#[test]
fn encoder_refuses_oversized_payloads() {
    let data = vec![0u32; MAX_PAYLOAD_DWORDS];
    let mut e = Encoder::new();
    let cmd = Command::ResourceInlineWrite(ResourceInlineWrite {
        region: TransferRegion::default(),
        data: &data,
    });
    assert!(matches!(
        e.push(&cmd),
        Err(ProtocolError::CommandTooLarge { .. })
    ));
    assert!(e.is_empty());
    let ok = Command::ResourceInlineWrite(ResourceInlineWrite {
        region: TransferRegion::default(),
        data: &data[..MAX_PAYLOAD_DWORDS - 11],
    });
    e.push(&ok).unwrap();
    assert_eq!(e.len(), MAX_PAYLOAD_DWORDS + 1);
    assert_eq!(CommandIter::new(e.as_slice()).next(), Some(Ok((0, ok))));
}
