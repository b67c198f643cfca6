//! The virgl command stream: the dword stream a guest submits with `SUBMIT_3D` / vtest
//! `VCMD_SUBMIT_CMD`, replayed by the GL backend.
//!
//! Each command is a header dword `cmd | obj << 8 | len << 16` followed by `len` payload dwords.
//! [`CommandIter`] walks a buffer and yields `(dword offset, Command)`; every [`Command`] is fully
//! length-checked against the rules upstream's `vrend_decode.c` enforces (or stricter ones, noted
//! where they differ) and borrows its variable-length parts from the buffer, so decoding allocates
//! nothing. Iteration stops after the first error, as upstream drops the rest of a bad buffer.
//!
//! Not done here: resource and object lookups, format validation against the format table, GL
//! translation, and joining split shader text (see [`ShaderAssembler`], which the consumer drives).
//! [`Encoder`] writes every command back out, for tests, test clients and fuzz seeds.

mod draw;
mod encode;
mod header;
mod misc;
mod objects;
mod reader;
mod records;
mod resource;
mod shader;
mod state;
mod video;

pub use draw::{
    Blit, BlitSurface, Clear, ClearSurface, ClearTexture, DrawIndirect, DrawTess, DrawVbo,
    LaunchGrid, ResourceCopyRegion,
};
pub use encode::{Encoder, ShaderSource};
pub use header::{CommandId, Header, ObjectType, MAX_COMMANDS, MAX_PAYLOAD_DWORDS};
pub use misc::{bytes_to_dwords, DebugFlags, GetQueryResultQbo, StringMarker};
pub use objects::{
    BlendState, DsaState, MsaaSurface, Query, RasterizerFlags, RasterizerState, RtBlend,
    SamplerState, SamplerView, StencilState, StreamoutTarget, Surface, TextureRange, VertexElement,
    VertexElements,
};
pub use records::{Record, Records};
pub use resource::{
    Box3, CopyTransfer3d, GetPipeResourceLayout, PipeResourceCreate, PipeResourceSetType,
    PlaneLayout, ResourceInlineWrite, Transfer3d, TransferRegion, COPY_TRANSFER3D_READ_FROM_HOST,
    COPY_TRANSFER3D_SYNCHRONIZED,
};
pub use shader::{
    AssembledShader, CreateShader, ShaderAssembler, ShaderChunk, StreamOutput, StreamOutputEntry,
    StreamOutputInfo, SHADER_OFFSET_CONT,
};
pub use state::{
    BindSamplerStates, BindShader, ImageView, IndexBufferLayout, LinkShader, Scissor,
    SetAtomicBuffers, SetConstantBuffer, SetFramebufferNoAttach, SetFramebufferState,
    SetIndexBuffer, SetRenderCondition, SetSamplerViews, SetScissorStates, SetShaderBuffers,
    SetShaderImages, SetStreamoutTargets, SetTessState, SetUniformBuffer, SetVertexBuffers,
    SetViewportStates, ShaderBuffer, StencilRef, VertexBuffer, Viewport,
};
pub use video::{
    CreateVideoBuffer, CreateVideoCodec, DecodeBitstream, EncodeBitstream, VideoFrame,
};

use crate::ProtocolError;
use reader::Reader;

/// `CREATE_OBJECT`, by object type. Every object carries its (non-zero) handle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CreateObject<'a> {
    Blend(BlendState),
    Rasterizer(RasterizerState),
    Dsa(DsaState),
    Shader(CreateShader<'a>),
    VertexElements(VertexElements<'a>),
    SamplerView(SamplerView),
    SamplerState(SamplerState),
    Surface(Surface),
    Query(Query),
    StreamoutTarget(StreamoutTarget),
    MsaaSurface(MsaaSurface),
}

impl<'a> CreateObject<'a> {
    pub fn object_type(&self) -> ObjectType {
        match self {
            CreateObject::Blend(_) => ObjectType::Blend,
            CreateObject::Rasterizer(_) => ObjectType::Rasterizer,
            CreateObject::Dsa(_) => ObjectType::Dsa,
            CreateObject::Shader(_) => ObjectType::Shader,
            CreateObject::VertexElements(_) => ObjectType::VertexElements,
            CreateObject::SamplerView(_) => ObjectType::SamplerView,
            CreateObject::SamplerState(_) => ObjectType::SamplerState,
            CreateObject::Surface(_) => ObjectType::Surface,
            CreateObject::Query(_) => ObjectType::Query,
            CreateObject::StreamoutTarget(_) => ObjectType::StreamoutTarget,
            CreateObject::MsaaSurface(_) => ObjectType::MsaaSurface,
        }
    }

    pub fn handle(&self) -> u32 {
        match self {
            CreateObject::Blend(o) => o.handle,
            CreateObject::Rasterizer(o) => o.handle,
            CreateObject::Dsa(o) => o.handle,
            CreateObject::Shader(o) => o.handle,
            CreateObject::VertexElements(o) => o.handle,
            CreateObject::SamplerView(o) => o.handle,
            CreateObject::SamplerState(o) => o.handle,
            CreateObject::Surface(o) => o.handle,
            CreateObject::Query(o) => o.handle,
            CreateObject::StreamoutTarget(o) => o.handle,
            CreateObject::MsaaSurface(o) => o.surface.handle,
        }
    }

    fn decode(r: &Reader<'a>) -> Result<Self, ProtocolError> {
        r.at_least(1, "VIRGL_OBJ_CREATE_HANDLE")?;
        r.check(r.dw(1) != 0, "handle", 0u32)?;
        let bad_obj = || ProtocolError::BadObjectType {
            offset: r.offset,
            cmd: r.name(),
            obj: r.obj,
        };
        let obj = ObjectType::from_raw(r.obj).ok_or_else(bad_obj)?;
        Ok(match obj {
            ObjectType::Null => return Err(bad_obj()),
            ObjectType::Blend => CreateObject::Blend(BlendState::decode(r)?),
            ObjectType::Rasterizer => CreateObject::Rasterizer(RasterizerState::decode(r)?),
            ObjectType::Dsa => CreateObject::Dsa(DsaState::decode(r)?),
            ObjectType::Shader => CreateObject::Shader(CreateShader::decode(r)?),
            ObjectType::VertexElements => CreateObject::VertexElements(VertexElements::decode(r)?),
            ObjectType::SamplerView => CreateObject::SamplerView(SamplerView::decode(r)?),
            ObjectType::SamplerState => CreateObject::SamplerState(SamplerState::decode(r)?),
            ObjectType::Surface => CreateObject::Surface(Surface::decode(r)?),
            ObjectType::Query => CreateObject::Query(Query::decode(r)?),
            ObjectType::StreamoutTarget => {
                CreateObject::StreamoutTarget(StreamoutTarget::decode(r)?)
            }
            ObjectType::MsaaSurface => CreateObject::MsaaSurface(MsaaSurface::decode(r)?),
        })
    }

    fn encode(&self, out: &mut Vec<u32>) {
        match self {
            CreateObject::Blend(o) => o.encode(out),
            CreateObject::Rasterizer(o) => o.encode(out),
            CreateObject::Dsa(o) => o.encode(out),
            CreateObject::Shader(o) => o.encode(out),
            CreateObject::VertexElements(o) => o.encode(out),
            CreateObject::SamplerView(o) => o.encode(out),
            CreateObject::SamplerState(o) => o.encode(out),
            CreateObject::Surface(o) => o.encode(out),
            CreateObject::Query(o) => o.encode(out),
            CreateObject::StreamoutTarget(o) => o.encode(out),
            CreateObject::MsaaSurface(o) => o.encode(out),
        }
    }
}

/// One decoded command. Variants are named after `VIRGL_CCMD_*`, in id order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command<'a> {
    /// Payload ignored (any length).
    Nop(&'a [u32]),
    CreateObject(CreateObject<'a>),
    /// Upstream binds only blend, DSA, rasterizer and vertex-elements objects this way.
    BindObject {
        object_type: ObjectType,
        handle: u32,
    },
    DestroyObject {
        object_type: ObjectType,
        handle: u32,
    },
    SetViewportState(SetViewportStates<'a>),
    SetFramebufferState(SetFramebufferState<'a>),
    SetVertexBuffers(SetVertexBuffers<'a>),
    Clear(Clear),
    DrawVbo(DrawVbo),
    ResourceInlineWrite(ResourceInlineWrite<'a>),
    SetSamplerViews(SetSamplerViews<'a>),
    SetIndexBuffer(SetIndexBuffer),
    SetConstantBuffer(SetConstantBuffer<'a>),
    SetStencilRef(StencilRef),
    SetBlendColor([f32; 4]),
    SetScissorState(SetScissorStates<'a>),
    Blit(Blit),
    ResourceCopyRegion(ResourceCopyRegion),
    BindSamplerStates(BindSamplerStates<'a>),
    BeginQuery {
        handle: u32,
    },
    EndQuery {
        handle: u32,
    },
    GetQueryResult {
        handle: u32,
        wait: bool,
    },
    SetPolygonStipple([u32; 32]),
    /// Eight user clip planes.
    SetClipState([[f32; 4]; 8]),
    SetSampleMask(u32),
    SetStreamoutTargets(SetStreamoutTargets<'a>),
    SetRenderCondition(SetRenderCondition),
    SetUniformBuffer(SetUniformBuffer),
    SetSubCtx {
        sub_ctx_id: u32,
    },
    CreateSubCtx {
        sub_ctx_id: u32,
    },
    DestroySubCtx {
        sub_ctx_id: u32,
    },
    BindShader(BindShader),
    SetTessState(SetTessState),
    SetMinSamples(u32),
    SetShaderBuffers(SetShaderBuffers<'a>),
    SetShaderImages(SetShaderImages<'a>),
    /// `PIPE_BARRIER_*` flags.
    MemoryBarrier(u32),
    LaunchGrid(LaunchGrid),
    SetFramebufferStateNoAttach(SetFramebufferNoAttach),
    TextureBarrier(u32),
    SetAtomicBuffers(SetAtomicBuffers<'a>),
    SetDebugFlags(DebugFlags<'a>),
    GetQueryResultQbo(GetQueryResultQbo),
    Transfer3d(Transfer3d),
    /// Pads a transfer buffer to its end; payload ignored (any length).
    EndTransfers(&'a [u32]),
    CopyTransfer3d(CopyTransfer3d),
    /// `vrend_tweak_type` id and its value.
    SetTweaks {
        id: u32,
        value: u32,
    },
    ClearTexture(ClearTexture),
    PipeResourceCreate(PipeResourceCreate),
    PipeResourceSetType(PipeResourceSetType<'a>),
    /// Write a `virgl_memory_info` into the resource.
    GetMemoryInfo {
        handle: u32,
    },
    SendStringMarker(StringMarker<'a>),
    LinkShader(LinkShader),
    CreateVideoCodec(CreateVideoCodec),
    DestroyVideoCodec {
        handle: u32,
    },
    CreateVideoBuffer(CreateVideoBuffer<'a>),
    DestroyVideoBuffer {
        handle: u32,
    },
    BeginFrame(VideoFrame),
    /// Unused by Mesa; upstream ignores the payload (any length).
    DecodeMacroblock(&'a [u32]),
    DecodeBitstream(DecodeBitstream),
    EncodeBitstream(EncodeBitstream),
    EndFrame(VideoFrame),
    ClearSurface(ClearSurface),
    GetPipeResourceLayout(GetPipeResourceLayout),
}

/// Object types `BIND_OBJECT` accepts (upstream rejects the rest).
fn bindable(obj: ObjectType) -> bool {
    matches!(
        obj,
        ObjectType::Blend | ObjectType::Dsa | ObjectType::Rasterizer | ObjectType::VertexElements
    )
}

impl<'a> Command<'a> {
    /// Decodes one command. `words` is the header followed by exactly its payload;
    /// `offset` (its position in the stream, in dwords) only labels errors.
    pub fn decode(offset: usize, words: &'a [u32]) -> Result<Self, ProtocolError> {
        let Some(&raw) = words.first() else {
            return Err(ProtocolError::Truncated { offset, needed: 1 });
        };
        let h = Header::from_raw(raw);
        let id = CommandId::from_raw(h.cmd)
            .ok_or(ProtocolError::UnknownCommand { offset, cmd: h.cmd })?;
        if words.len() - 1 < h.len as usize {
            return Err(ProtocolError::CommandOverrun {
                offset,
                len: h.len as usize,
                available: words.len() - 1,
            });
        }
        let r = Reader::new(offset, id, h.obj, words);
        if r.len() != h.len as usize {
            return Err(r.bad_len("slice longer than the header's length"));
        }
        decode_payload(&r)
    }

    /// The command id.
    pub fn id(&self) -> CommandId {
        use CommandId as I;
        match self {
            Command::Nop(_) => I::Nop,
            Command::CreateObject(_) => I::CreateObject,
            Command::BindObject { .. } => I::BindObject,
            Command::DestroyObject { .. } => I::DestroyObject,
            Command::SetViewportState(_) => I::SetViewportState,
            Command::SetFramebufferState(_) => I::SetFramebufferState,
            Command::SetVertexBuffers(_) => I::SetVertexBuffers,
            Command::Clear(_) => I::Clear,
            Command::DrawVbo(_) => I::DrawVbo,
            Command::ResourceInlineWrite(_) => I::ResourceInlineWrite,
            Command::SetSamplerViews(_) => I::SetSamplerViews,
            Command::SetIndexBuffer(_) => I::SetIndexBuffer,
            Command::SetConstantBuffer(_) => I::SetConstantBuffer,
            Command::SetStencilRef(_) => I::SetStencilRef,
            Command::SetBlendColor(_) => I::SetBlendColor,
            Command::SetScissorState(_) => I::SetScissorState,
            Command::Blit(_) => I::Blit,
            Command::ResourceCopyRegion(_) => I::ResourceCopyRegion,
            Command::BindSamplerStates(_) => I::BindSamplerStates,
            Command::BeginQuery { .. } => I::BeginQuery,
            Command::EndQuery { .. } => I::EndQuery,
            Command::GetQueryResult { .. } => I::GetQueryResult,
            Command::SetPolygonStipple(_) => I::SetPolygonStipple,
            Command::SetClipState(_) => I::SetClipState,
            Command::SetSampleMask(_) => I::SetSampleMask,
            Command::SetStreamoutTargets(_) => I::SetStreamoutTargets,
            Command::SetRenderCondition(_) => I::SetRenderCondition,
            Command::SetUniformBuffer(_) => I::SetUniformBuffer,
            Command::SetSubCtx { .. } => I::SetSubCtx,
            Command::CreateSubCtx { .. } => I::CreateSubCtx,
            Command::DestroySubCtx { .. } => I::DestroySubCtx,
            Command::BindShader(_) => I::BindShader,
            Command::SetTessState(_) => I::SetTessState,
            Command::SetMinSamples(_) => I::SetMinSamples,
            Command::SetShaderBuffers(_) => I::SetShaderBuffers,
            Command::SetShaderImages(_) => I::SetShaderImages,
            Command::MemoryBarrier(_) => I::MemoryBarrier,
            Command::LaunchGrid(_) => I::LaunchGrid,
            Command::SetFramebufferStateNoAttach(_) => I::SetFramebufferStateNoAttach,
            Command::TextureBarrier(_) => I::TextureBarrier,
            Command::SetAtomicBuffers(_) => I::SetAtomicBuffers,
            Command::SetDebugFlags(_) => I::SetDebugFlags,
            Command::GetQueryResultQbo(_) => I::GetQueryResultQbo,
            Command::Transfer3d(_) => I::Transfer3d,
            Command::EndTransfers(_) => I::EndTransfers,
            Command::CopyTransfer3d(_) => I::CopyTransfer3d,
            Command::SetTweaks { .. } => I::SetTweaks,
            Command::ClearTexture(_) => I::ClearTexture,
            Command::PipeResourceCreate(_) => I::PipeResourceCreate,
            Command::PipeResourceSetType(_) => I::PipeResourceSetType,
            Command::GetMemoryInfo { .. } => I::GetMemoryInfo,
            Command::SendStringMarker(_) => I::SendStringMarker,
            Command::LinkShader(_) => I::LinkShader,
            Command::CreateVideoCodec(_) => I::CreateVideoCodec,
            Command::DestroyVideoCodec { .. } => I::DestroyVideoCodec,
            Command::CreateVideoBuffer(_) => I::CreateVideoBuffer,
            Command::DestroyVideoBuffer { .. } => I::DestroyVideoBuffer,
            Command::BeginFrame(_) => I::BeginFrame,
            Command::DecodeMacroblock(_) => I::DecodeMacroblock,
            Command::DecodeBitstream(_) => I::DecodeBitstream,
            Command::EncodeBitstream(_) => I::EncodeBitstream,
            Command::EndFrame(_) => I::EndFrame,
            Command::ClearSurface(_) => I::ClearSurface,
            Command::GetPipeResourceLayout(_) => I::GetPipeResourceLayout,
        }
    }

    /// The header's object-type byte for this command.
    pub fn object_type_raw(&self) -> u8 {
        match self {
            Command::CreateObject(o) => o.object_type().raw(),
            Command::BindObject { object_type, .. }
            | Command::DestroyObject { object_type, .. } => object_type.raw(),
            _ => 0,
        }
    }
}

fn one(r: &Reader<'_>, rule: &'static str) -> Result<u32, ProtocolError> {
    r.exact(1, rule)?;
    Ok(r.dw(1))
}

fn decode_payload<'a>(r: &Reader<'a>) -> Result<Command<'a>, ProtocolError> {
    use CommandId as I;
    Ok(match r.id {
        I::Nop => Command::Nop(r.tail(1)),
        I::CreateObject => Command::CreateObject(CreateObject::decode(r)?),
        I::BindObject | I::DestroyObject => {
            let handle = one(r, "object handle")?;
            let object_type = ObjectType::from_raw(r.obj)
                .filter(|&o| o != ObjectType::Null && (r.id == I::DestroyObject || bindable(o)))
                .ok_or(ProtocolError::BadObjectType {
                    offset: r.offset,
                    cmd: r.name(),
                    obj: r.obj,
                })?;
            if r.id == I::BindObject {
                Command::BindObject {
                    object_type,
                    handle,
                }
            } else {
                Command::DestroyObject {
                    object_type,
                    handle,
                }
            }
        }
        I::SetViewportState => Command::SetViewportState(SetViewportStates::decode(r)?),
        I::SetFramebufferState => Command::SetFramebufferState(SetFramebufferState::decode(r)?),
        I::SetVertexBuffers => Command::SetVertexBuffers(state::decode_vertex_buffers(r)?),
        I::Clear => Command::Clear(Clear::decode(r)?),
        I::DrawVbo => Command::DrawVbo(DrawVbo::decode(r)?),
        I::ResourceInlineWrite => Command::ResourceInlineWrite(ResourceInlineWrite::decode(r)?),
        I::SetSamplerViews => Command::SetSamplerViews(SetSamplerViews::decode(r)?),
        I::SetIndexBuffer => Command::SetIndexBuffer(SetIndexBuffer::decode(r)?),
        I::SetConstantBuffer => Command::SetConstantBuffer(SetConstantBuffer::decode(r)?),
        I::SetStencilRef => {
            let v = one(r, "VIRGL_SET_STENCIL_REF_SIZE")?;
            Command::SetStencilRef(StencilRef {
                front: v as u8,
                back: (v >> 8) as u8,
            })
        }
        I::SetBlendColor => {
            r.exact(4, "VIRGL_SET_BLEND_COLOR_SIZE")?;
            Command::SetBlendColor(r.array::<4>(1).map(f32::from_bits))
        }
        I::SetScissorState => Command::SetScissorState(SetScissorStates::decode(r)?),
        I::Blit => Command::Blit(Blit::decode(r)?),
        I::ResourceCopyRegion => Command::ResourceCopyRegion(ResourceCopyRegion::decode(r)?),
        I::BindSamplerStates => Command::BindSamplerStates(BindSamplerStates::decode(r)?),
        I::BeginQuery => Command::BeginQuery {
            handle: one(r, "VIRGL_QUERY_BEGIN_HANDLE")?,
        },
        I::EndQuery => Command::EndQuery {
            handle: one(r, "VIRGL_QUERY_END_HANDLE")?,
        },
        I::GetQueryResult => {
            r.exact(2, "VIRGL_QUERY_RESULT_SIZE")?;
            Command::GetQueryResult {
                handle: r.dw(1),
                wait: r.dw(2) != 0,
            }
        }
        I::SetPolygonStipple => {
            r.exact(32, "VIRGL_POLYGON_STIPPLE_SIZE")?;
            Command::SetPolygonStipple(r.array(1))
        }
        I::SetClipState => {
            r.exact(32, "VIRGL_SET_CLIP_STATE_SIZE")?;
            Command::SetClipState(core::array::from_fn(|p| {
                core::array::from_fn(|c| r.f32(1 + p * 4 + c))
            }))
        }
        I::SetSampleMask => Command::SetSampleMask(one(r, "VIRGL_SET_SAMPLE_MASK_SIZE")?),
        I::SetStreamoutTargets => Command::SetStreamoutTargets(SetStreamoutTargets::decode(r)?),
        I::SetRenderCondition => Command::SetRenderCondition(SetRenderCondition::decode(r)?),
        I::SetUniformBuffer => Command::SetUniformBuffer(SetUniformBuffer::decode(r)?),
        I::SetSubCtx => Command::SetSubCtx {
            sub_ctx_id: one(r, "sub context id")?,
        },
        I::CreateSubCtx => Command::CreateSubCtx {
            sub_ctx_id: one(r, "sub context id")?,
        },
        I::DestroySubCtx => Command::DestroySubCtx {
            sub_ctx_id: one(r, "sub context id")?,
        },
        I::BindShader => {
            r.exact(2, "VIRGL_BIND_SHADER_SIZE")?;
            Command::BindShader(BindShader {
                handle: r.dw(1),
                shader_type: r.shader_type(2)?,
            })
        }
        I::SetTessState => {
            r.exact(6, "VIRGL_TESS_STATE_SIZE")?;
            Command::SetTessState(SetTessState {
                outer: r.array::<4>(1).map(f32::from_bits),
                inner: r.array::<2>(5).map(f32::from_bits),
            })
        }
        I::SetMinSamples => Command::SetMinSamples(one(r, "VIRGL_SET_MIN_SAMPLES_SIZE")?),
        I::SetShaderBuffers => Command::SetShaderBuffers(SetShaderBuffers::decode(r)?),
        I::SetShaderImages => Command::SetShaderImages(SetShaderImages::decode(r)?),
        I::MemoryBarrier => Command::MemoryBarrier(one(r, "VIRGL_MEMORY_BARRIER_SIZE")?),
        I::LaunchGrid => Command::LaunchGrid(LaunchGrid::decode(r)?),
        I::SetFramebufferStateNoAttach => {
            Command::SetFramebufferStateNoAttach(SetFramebufferNoAttach::decode(r)?)
        }
        I::TextureBarrier => Command::TextureBarrier(one(r, "VIRGL_TEXTURE_BARRIER_SIZE")?),
        I::SetAtomicBuffers => Command::SetAtomicBuffers(SetAtomicBuffers::decode(r)?),
        I::SetDebugFlags => Command::SetDebugFlags(DebugFlags::decode(r)?),
        I::GetQueryResultQbo => Command::GetQueryResultQbo(GetQueryResultQbo::decode(r)?),
        I::Transfer3d => Command::Transfer3d(Transfer3d::decode(r)?),
        I::EndTransfers => Command::EndTransfers(r.tail(1)),
        I::CopyTransfer3d => Command::CopyTransfer3d(CopyTransfer3d::decode(r)?),
        I::SetTweaks => {
            // Upstream accepts a longer payload; Mesa sends exactly two dwords.
            r.exact(2, "VIRGL_SET_TWEAKS_SIZE")?;
            Command::SetTweaks {
                id: r.dw(1),
                value: r.dw(2),
            }
        }
        I::ClearTexture => Command::ClearTexture(ClearTexture::decode(r)?),
        I::PipeResourceCreate => Command::PipeResourceCreate(PipeResourceCreate::decode(r)?),
        I::PipeResourceSetType => Command::PipeResourceSetType(PipeResourceSetType::decode(r)?),
        I::GetMemoryInfo => Command::GetMemoryInfo {
            handle: one(r, "resource handle")?,
        },
        I::SendStringMarker => Command::SendStringMarker(StringMarker::decode(r)?),
        I::LinkShader => {
            r.exact(6, "VIRGL_LINK_SHADER_SIZE")?;
            Command::LinkShader(LinkShader {
                handles: r.array(1),
            })
        }
        I::CreateVideoCodec => Command::CreateVideoCodec(CreateVideoCodec::decode(r)?),
        I::DestroyVideoCodec => Command::DestroyVideoCodec {
            handle: one(r, "VIRGL_DESTROY_VIDEO_CODEC_MIN_SIZE")?,
        },
        I::CreateVideoBuffer => Command::CreateVideoBuffer(CreateVideoBuffer::decode(r)?),
        I::DestroyVideoBuffer => Command::DestroyVideoBuffer {
            handle: one(r, "VIRGL_DESTROY_VIDEO_BUFFER_MIN_SIZE")?,
        },
        I::BeginFrame | I::EndFrame => {
            r.exact(2, "VIRGL_BEGIN_FRAME_MIN_SIZE / VIRGL_END_FRAME_MIN_SIZE")?;
            let f = VideoFrame {
                codec_handle: r.dw(1),
                target_handle: r.dw(2),
            };
            if r.id == I::BeginFrame {
                Command::BeginFrame(f)
            } else {
                Command::EndFrame(f)
            }
        }
        I::DecodeMacroblock => Command::DecodeMacroblock(r.tail(1)),
        I::DecodeBitstream => {
            r.exact(5, "VIRGL_DECODE_BS_MIN_SIZE")?;
            let [codec_handle, target_handle, desc_handle, buffer_handle, buffer_size] = r.array(1);
            Command::DecodeBitstream(DecodeBitstream {
                codec_handle,
                target_handle,
                desc_handle,
                buffer_handle,
                buffer_size,
            })
        }
        I::EncodeBitstream => {
            r.exact(5, "VIRGL_ENCODE_BS_MIN_SIZE")?;
            let [codec_handle, source_handle, dest_handle, desc_handle, feedback_handle] =
                r.array(1);
            Command::EncodeBitstream(EncodeBitstream {
                codec_handle,
                source_handle,
                dest_handle,
                desc_handle,
                feedback_handle,
            })
        }
        I::ClearSurface => Command::ClearSurface(ClearSurface::decode(r)?),
        I::GetPipeResourceLayout => {
            // Upstream accepts a longer payload; Mesa sends exactly two dwords.
            r.exact(2, "VIRGL_RESOURCE_LAYOUT_SIZE")?;
            Command::GetPipeResourceLayout(GetPipeResourceLayout {
                out_handle: r.dw(1),
                target_handle: r.dw(2),
            })
        }
    })
}

/// Walks a command buffer, yielding `(dword offset of the header, command)`.
///
/// Stops after the first error (unknown id, a length past the end of the buffer, or a payload
/// that breaks its command's rules); [`CommandIter::position`] then tells where it stopped.
#[derive(Debug, Clone)]
pub struct CommandIter<'a> {
    buf: &'a [u32],
    pos: usize,
    done: bool,
}

impl<'a> CommandIter<'a> {
    pub fn new(buf: &'a [u32]) -> Self {
        CommandIter {
            buf,
            pos: 0,
            done: false,
        }
    }

    /// Dword offset of the next command to decode (or of the one that failed).
    pub fn position(&self) -> usize {
        self.pos
    }

    fn fail(&mut self, e: ProtocolError) -> Option<<Self as Iterator>::Item> {
        self.done = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for CommandIter<'a> {
    type Item = Result<(usize, Command<'a>), ProtocolError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let offset = self.pos;
        let &raw = self.buf.get(offset)?;
        let h = Header::from_raw(raw);
        if CommandId::from_raw(h.cmd).is_none() {
            return self.fail(ProtocolError::UnknownCommand { offset, cmd: h.cmd });
        }
        let available = self.buf.len() - offset - 1;
        if h.len as usize > available {
            return self.fail(ProtocolError::CommandOverrun {
                offset,
                len: h.len as usize,
                available,
            });
        }
        let end = offset + 1 + h.len as usize;
        match Command::decode(offset, &self.buf[offset..end]) {
            Ok(cmd) => {
                self.pos = end;
                Some(Ok((offset, cmd)))
            }
            Err(e) => self.fail(e),
        }
    }
}

impl core::iter::FusedIterator for CommandIter<'_> {}
