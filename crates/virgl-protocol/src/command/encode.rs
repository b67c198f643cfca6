//! [`Encoder`]: writes commands as a guest driver would (tests, test clients, fuzz seeds).

use super::header::{Header, MAX_PAYLOAD_DWORDS};
use super::misc::bytes_to_dwords;
use super::shader::{encode_so_info, ShaderChunk, StreamOutputInfo};
use super::{Command, CreateObject};
use crate::pipe::ShaderType;
use crate::ProtocolError;

/// A shader text to send with [`Encoder::create_shader`].
#[derive(Debug, Clone, Copy)]
pub struct ShaderSource<'a> {
    pub handle: u32,
    pub shader_type: ShaderType,
    pub num_tokens: u32,
    /// Compute only.
    pub req_local_mem: u32,
    /// Non-compute only; sent with the first chunk.
    pub stream_output: Option<&'a StreamOutputInfo>,
    /// The whole text, NUL terminator included (as Mesa sends it).
    pub text: &'a [u8],
}

/// Builds a command buffer of dwords.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoder {
    buf: Vec<u32>,
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(dwords: usize) -> Self {
        Encoder {
            buf: Vec::with_capacity(dwords),
        }
    }

    /// The dwords written so far.
    pub fn as_slice(&self) -> &[u32] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn clear(&mut self) {
        self.buf.clear();
    }

    pub fn into_inner(self) -> Vec<u32> {
        self.buf
    }

    /// The buffer as little-endian bytes (what goes over a vtest socket).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.buf.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// Appends one command. Fails, writing nothing, if its payload exceeds 65535 dwords.
    pub fn push(&mut self, cmd: &Command<'_>) -> Result<&mut Self, ProtocolError> {
        let start = self.buf.len();
        self.buf.push(0);
        encode_payload(cmd, &mut self.buf);
        let len = self.buf.len() - start - 1;
        if len > MAX_PAYLOAD_DWORDS {
            self.buf.truncate(start);
            return Err(ProtocolError::CommandTooLarge {
                cmd: cmd.id().name(),
                len,
            });
        }
        let h = Header {
            cmd: cmd.id().raw(),
            obj: cmd.object_type_raw(),
            len: len as u16,
        };
        self.buf[start] = h.to_raw();
        Ok(self)
    }

    /// Appends a raw header and payload verbatim (for malformed-input tests).
    pub fn push_raw(&mut self, header: Header, payload: &[u32]) -> &mut Self {
        self.buf.push(header.to_raw());
        self.buf.extend_from_slice(payload);
        self
    }

    /// Sends a shader as Mesa does: one `CREATE_OBJECT(SHADER)` if the text fits in
    /// `max_text_dwords`, else a first chunk carrying the total length and continuations
    /// carrying their byte offsets.
    pub fn create_shader(
        &mut self,
        src: &ShaderSource<'_>,
        max_text_dwords: usize,
    ) -> Result<&mut Self, ProtocolError> {
        let words = bytes_to_dwords(src.text);
        let step = max_text_dwords.max(1);
        let total_len = u32::try_from(src.text.len())
            .ok()
            .filter(|&l| l & super::SHADER_OFFSET_CONT == 0)
            .ok_or(ProtocolError::CommandTooLarge {
                cmd: "VIRGL_CCMD_CREATE_OBJECT",
                len: words.len(),
            })?;
        let mut first = true;
        let mut chunks = words.chunks(step).peekable();
        if chunks.peek().is_none() {
            // An empty text still needs its header.
            self.shader_chunk(src, ShaderChunk::First { total_len }, true, &[])?;
        }
        let mut offset = 0u32;
        for chunk in chunks {
            let kind = if first {
                ShaderChunk::First { total_len }
            } else {
                ShaderChunk::Continuation { offset }
            };
            self.shader_chunk(src, kind, first, chunk)?;
            offset = offset.saturating_add((chunk.len() * 4) as u32);
            first = false;
        }
        Ok(self)
    }

    fn shader_chunk(
        &mut self,
        src: &ShaderSource<'_>,
        chunk: ShaderChunk,
        first: bool,
        text: &[u32],
    ) -> Result<(), ProtocolError> {
        let start = self.buf.len();
        self.buf.extend([
            0,
            src.handle,
            src.shader_type.raw(),
            chunk.to_raw(),
            src.num_tokens,
        ]);
        if src.shader_type == ShaderType::Compute {
            self.buf.push(src.req_local_mem);
        } else {
            match src.stream_output {
                Some(so) if first => encode_so_info(&mut self.buf, so),
                _ => self.buf.push(0),
            }
        }
        self.buf.extend_from_slice(text);
        let len = self.buf.len() - start - 1;
        if len > MAX_PAYLOAD_DWORDS {
            self.buf.truncate(start);
            return Err(ProtocolError::CommandTooLarge {
                cmd: "VIRGL_CCMD_CREATE_OBJECT",
                len,
            });
        }
        self.buf[start] = Header {
            cmd: super::CommandId::CreateObject.raw(),
            obj: super::ObjectType::Shader.raw(),
            len: len as u16,
        }
        .to_raw();
        Ok(())
    }
}

fn encode_payload(cmd: &Command<'_>, out: &mut Vec<u32>) {
    match cmd {
        Command::Nop(d) | Command::EndTransfers(d) | Command::DecodeMacroblock(d) => {
            out.extend_from_slice(d)
        }
        Command::CreateObject(o) => CreateObject::encode(o, out),
        Command::BindObject { handle, .. } | Command::DestroyObject { handle, .. } => {
            out.push(*handle)
        }
        Command::SetViewportState(c) => c.encode(out),
        Command::SetFramebufferState(c) => c.encode(out),
        Command::SetVertexBuffers(c) => out.extend_from_slice(c.as_dwords()),
        Command::Clear(c) => c.encode(out),
        Command::DrawVbo(c) => c.encode(out),
        Command::ResourceInlineWrite(c) => c.encode(out),
        Command::SetSamplerViews(c) => c.encode(out),
        Command::SetIndexBuffer(c) => c.encode(out),
        Command::SetConstantBuffer(c) => c.encode(out),
        Command::SetStencilRef(s) => out.push(s.front as u32 | (s.back as u32) << 8),
        Command::SetBlendColor(c) => out.extend(c.map(f32::to_bits)),
        Command::SetScissorState(c) => c.encode(out),
        Command::Blit(c) => c.encode(out),
        Command::ResourceCopyRegion(c) => c.encode(out),
        Command::BindSamplerStates(c) => c.encode(out),
        Command::BeginQuery { handle } | Command::EndQuery { handle } => out.push(*handle),
        Command::GetQueryResult { handle, wait } => out.extend([*handle, *wait as u32]),
        Command::SetPolygonStipple(p) => out.extend_from_slice(p),
        Command::SetClipState(planes) => {
            for p in planes {
                out.extend(p.map(f32::to_bits));
            }
        }
        Command::SetSampleMask(v)
        | Command::SetMinSamples(v)
        | Command::MemoryBarrier(v)
        | Command::TextureBarrier(v) => out.push(*v),
        Command::SetStreamoutTargets(c) => c.encode(out),
        Command::SetRenderCondition(c) => c.encode(out),
        Command::SetUniformBuffer(c) => c.encode(out),
        Command::SetSubCtx { sub_ctx_id }
        | Command::CreateSubCtx { sub_ctx_id }
        | Command::DestroySubCtx { sub_ctx_id } => out.push(*sub_ctx_id),
        Command::BindShader(b) => out.extend([b.handle, b.shader_type.raw()]),
        Command::SetTessState(t) => {
            out.extend(t.outer.map(f32::to_bits));
            out.extend(t.inner.map(f32::to_bits));
        }
        Command::SetShaderBuffers(c) => c.encode(out),
        Command::SetShaderImages(c) => c.encode(out),
        Command::LaunchGrid(c) => c.encode(out),
        Command::SetFramebufferStateNoAttach(c) => c.encode(out),
        Command::SetAtomicBuffers(c) => c.encode(out),
        Command::SetDebugFlags(c) => out.extend_from_slice(c.data),
        Command::GetQueryResultQbo(c) => c.encode(out),
        Command::Transfer3d(c) => c.encode(out),
        Command::CopyTransfer3d(c) => c.encode(out),
        Command::SetTweaks { id, value } => out.extend([*id, *value]),
        Command::ClearTexture(c) => c.encode(out),
        Command::PipeResourceCreate(c) => c.encode(out),
        Command::PipeResourceSetType(c) => c.encode(out),
        Command::GetMemoryInfo { handle }
        | Command::DestroyVideoCodec { handle }
        | Command::DestroyVideoBuffer { handle } => out.push(*handle),
        Command::SendStringMarker(c) => c.encode(out),
        Command::LinkShader(l) => out.extend_from_slice(&l.handles),
        Command::CreateVideoCodec(c) => c.encode(out),
        Command::CreateVideoBuffer(c) => c.encode(out),
        Command::BeginFrame(f) | Command::EndFrame(f) => {
            out.extend([f.codec_handle, f.target_handle])
        }
        Command::DecodeBitstream(d) => out.extend([
            d.codec_handle,
            d.target_handle,
            d.desc_handle,
            d.buffer_handle,
            d.buffer_size,
        ]),
        Command::EncodeBitstream(e) => out.extend([
            e.codec_handle,
            e.source_handle,
            e.dest_handle,
            e.desc_handle,
            e.feedback_handle,
        ]),
        Command::ClearSurface(c) => c.encode(out),
        Command::GetPipeResourceLayout(g) => out.extend([g.out_handle, g.target_handle]),
    }
}
