//! `SET_*` pipeline state commands, sampler/shader binding and shader linking.

use super::reader::{Reader, Result};
use super::records::{Record, Records};
use crate::pipe::{limits, ShaderType, SHADER_TYPES};

/// One viewport transform (`VIRGL_SET_VIEWPORT_STATE_SCALE_0` ..).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Viewport {
    pub scale: [f32; 3],
    pub translate: [f32; 3],
}

impl Record for Viewport {
    const DWORDS: usize = 6;
    fn from_dwords(d: &[u32]) -> Self {
        Viewport {
            scale: [d[0], d[1], d[2]].map(f32::from_bits),
            translate: [d[3], d[4], d[5]].map(f32::from_bits),
        }
    }
    fn write(&self, out: &mut Vec<u32>) {
        out.extend(self.scale.map(f32::to_bits));
        out.extend(self.translate.map(f32::to_bits));
    }
}

/// `SET_VIEWPORT_STATE`: `6n + 1` dwords; `start_slot + n <= PIPE_MAX_VIEWPORTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetViewportStates<'a> {
    pub start_slot: u32,
    pub viewports: Records<'a, Viewport>,
}

impl<'a> SetViewportStates<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        let len = r.len();
        if len < 1 || !(len - 1).is_multiple_of(6) {
            return Err(r.bad_len("VIRGL_SET_VIEWPORT_STATE_SIZE(n) = 6n + 1"));
        }
        let n = (len - 1) / 6;
        let start_slot = r.dw(1);
        r.check(n <= limits::MAX_VIEWPORTS, "num_viewports", n as u64)?;
        r.check_slots(start_slot, n, limits::MAX_VIEWPORTS)?;
        Ok(SetViewportStates {
            start_slot,
            viewports: Records::new(r.tail(2)),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.start_slot);
        out.extend_from_slice(self.viewports.as_dwords());
    }
}

/// `SET_FRAMEBUFFER_STATE`: `nr_cbufs + 2` dwords, `nr_cbufs <= 8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetFramebufferState<'a> {
    /// Depth/stencil surface handle, 0 for none.
    pub zsurf_handle: u32,
    /// Colour surface handles (0 = unbound slot).
    pub cbufs: &'a [u32],
}

impl<'a> SetFramebufferState<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(2, "VIRGL_SET_FRAMEBUFFER_STATE_SIZE(0)")?;
        let nr = r.dw(1);
        r.check(nr as usize <= limits::MAX_COLOR_BUFS, "nr_cbufs", nr)?;
        if r.len() != 2 + nr as usize {
            return Err(r.bad_len("VIRGL_SET_FRAMEBUFFER_STATE_SIZE(nr_cbufs) = nr_cbufs + 2"));
        }
        Ok(SetFramebufferState {
            zsurf_handle: r.dw(2),
            cbufs: r.tail(3),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.cbufs.len() as u32);
        out.push(self.zsurf_handle);
        out.extend_from_slice(self.cbufs);
    }
}

/// `SET_FRAMEBUFFER_STATE_NO_ATTACH` (2 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetFramebufferNoAttach {
    pub width: u16,
    pub height: u16,
    pub layers: u16,
    pub samples: u8,
}

impl SetFramebufferNoAttach {
    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(2, "VIRGL_SET_FRAMEBUFFER_STATE_NO_ATTACH_SIZE")?;
        let (wh, ls) = (r.dw(1), r.dw(2));
        Ok(SetFramebufferNoAttach {
            width: wh as u16,
            height: (wh >> 16) as u16,
            layers: ls as u16,
            samples: (ls >> 16) as u8,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.width as u32 | (self.height as u32) << 16);
        out.push(self.layers as u32 | (self.samples as u32) << 16);
    }
}

/// One vertex buffer binding (`VIRGL_SET_VERTEX_BUFFER_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VertexBuffer {
    pub stride: u32,
    pub offset: u32,
    pub handle: u32,
}

impl Record for VertexBuffer {
    const DWORDS: usize = 3;
    fn from_dwords(d: &[u32]) -> Self {
        VertexBuffer {
            stride: d[0],
            offset: d[1],
            handle: d[2],
        }
    }
    fn write(&self, out: &mut Vec<u32>) {
        out.extend([self.stride, self.offset, self.handle]);
    }
}

/// `SET_VERTEX_BUFFERS`: `3n` dwords, `n <= PIPE_MAX_ATTRIBS`; binds slots `0..n`.
pub type SetVertexBuffers<'a> = Records<'a, VertexBuffer>;

pub(crate) fn decode_vertex_buffers<'a>(r: &Reader<'a>) -> Result<SetVertexBuffers<'a>> {
    if !r.len().is_multiple_of(3) {
        return Err(r.bad_len("VIRGL_SET_VERTEX_BUFFERS_SIZE(n) = 3n"));
    }
    let n = r.len() / 3;
    r.check(n <= limits::MAX_ATTRIBS, "num_buffers", n as u64)?;
    Ok(Records::new(r.tail(1)))
}

/// `SET_SAMPLER_VIEWS`: `n + 2` dwords; `start_slot + n <= PIPE_MAX_SHADER_SAMPLER_VIEWS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetSamplerViews<'a> {
    pub shader_type: ShaderType,
    pub start_slot: u32,
    /// Sampler view handles (0 unbinds).
    pub handles: &'a [u32],
}

impl<'a> SetSamplerViews<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(2, "VIRGL_SET_SAMPLER_VIEWS_SIZE(0)")?;
        let shader_type = r.shader_type(1)?;
        let start_slot = r.dw(2);
        let handles = r.tail(3);
        r.check_slots(start_slot, handles.len(), limits::MAX_SHADER_SAMPLER_VIEWS)?;
        Ok(SetSamplerViews {
            shader_type,
            start_slot,
            handles,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.shader_type.raw(), self.start_slot]);
        out.extend_from_slice(self.handles);
    }
}

/// `BIND_SAMPLER_STATES`: `n + 2` dwords; `start_slot + n <= PIPE_MAX_SAMPLERS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindSamplerStates<'a> {
    pub shader_type: ShaderType,
    pub start_slot: u32,
    pub handles: &'a [u32],
}

impl<'a> BindSamplerStates<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(2, "VIRGL_BIND_SAMPLER_STATES(0)")?;
        let shader_type = r.shader_type(1)?;
        let start_slot = r.dw(2);
        let handles = r.tail(3);
        r.check_slots(start_slot, handles.len(), limits::MAX_SAMPLERS)?;
        Ok(BindSamplerStates {
            shader_type,
            start_slot,
            handles,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.shader_type.raw(), self.start_slot]);
        out.extend_from_slice(self.handles);
    }
}

/// Index size and offset of a bound index buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexBufferLayout {
    /// Bytes per index (1, 2 or 4 from Mesa; validated by the backend).
    pub index_size: u32,
    pub offset: u32,
}

/// `SET_INDEX_BUFFER`: 1 dword (unbind / handle only) or 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetIndexBuffer {
    pub handle: u32,
    pub layout: Option<IndexBufferLayout>,
}

impl SetIndexBuffer {
    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        match r.len() {
            1 => Ok(SetIndexBuffer {
                handle: r.dw(1),
                layout: None,
            }),
            3 => Ok(SetIndexBuffer {
                handle: r.dw(1),
                layout: Some(IndexBufferLayout {
                    index_size: r.dw(2),
                    offset: r.dw(3),
                }),
            }),
            _ => Err(r.bad_len("VIRGL_SET_INDEX_BUFFER_SIZE = 1 or 3")),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.handle);
        if let Some(l) = self.layout {
            out.extend([l.index_size, l.offset]);
        }
    }
}

/// `SET_CONSTANT_BUFFER`: `n + 2` dwords of inline constants (the default uniform block).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetConstantBuffer<'a> {
    pub shader_type: ShaderType,
    /// Sent by Mesa, ignored by upstream.
    pub index: u32,
    /// Constants as raw dwords (floats or ints as the shader declares them).
    pub data: &'a [u32],
}

impl<'a> SetConstantBuffer<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(2, "VIRGL_SET_CONSTANT_BUFFER_DATA_START - 1")?;
        Ok(SetConstantBuffer {
            shader_type: r.shader_type(1)?,
            index: r.dw(2),
            data: r.tail(3),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.shader_type.raw(), self.index]);
        out.extend_from_slice(self.data);
    }
}

/// `SET_UNIFORM_BUFFER` (5 dwords): binds a buffer range as UBO `index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetUniformBuffer {
    pub shader_type: ShaderType,
    /// `< PIPE_MAX_CONSTANT_BUFFERS`.
    pub index: u32,
    pub offset: u32,
    pub length: u32,
    pub handle: u32,
}

impl SetUniformBuffer {
    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(5, "VIRGL_SET_UNIFORM_BUFFER_SIZE")?;
        let index = r.dw(2);
        r.check(
            (index as usize) < limits::MAX_CONSTANT_BUFFERS,
            "index",
            index,
        )?;
        Ok(SetUniformBuffer {
            shader_type: r.shader_type(1)?,
            index,
            offset: r.dw(3),
            length: r.dw(4),
            handle: r.dw(5),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.shader_type.raw(),
            self.index,
            self.offset,
            self.length,
            self.handle,
        ]);
    }
}

/// `SET_STENCIL_REF` (1 dword).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StencilRef {
    pub front: u8,
    pub back: u8,
}

/// One scissor rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scissor {
    pub minx: u16,
    pub miny: u16,
    pub maxx: u16,
    pub maxy: u16,
}

impl Scissor {
    pub(crate) fn from_pair(min: u32, max: u32) -> Self {
        Scissor {
            minx: min as u16,
            miny: (min >> 16) as u16,
            maxx: max as u16,
            maxy: (max >> 16) as u16,
        }
    }

    pub(crate) fn to_pair(self) -> [u32; 2] {
        [
            self.minx as u32 | (self.miny as u32) << 16,
            self.maxx as u32 | (self.maxy as u32) << 16,
        ]
    }
}

impl Record for Scissor {
    const DWORDS: usize = 2;
    fn from_dwords(d: &[u32]) -> Self {
        Scissor::from_pair(d[0], d[1])
    }
    fn write(&self, out: &mut Vec<u32>) {
        out.extend(self.to_pair());
    }
}

/// `SET_SCISSOR_STATE`: `2n + 1` dwords; `start_slot + n <= PIPE_MAX_VIEWPORTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetScissorStates<'a> {
    pub start_slot: u32,
    pub scissors: Records<'a, Scissor>,
}

impl<'a> SetScissorStates<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        let len = r.len();
        if len < 1 || !(len - 1).is_multiple_of(2) {
            return Err(r.bad_len("VIRGL_SET_SCISSOR_STATE_SIZE(n) = 2n + 1"));
        }
        let n = (len - 1) / 2;
        let start_slot = r.dw(1);
        r.check(n <= limits::MAX_VIEWPORTS, "num_scissors", n as u64)?;
        r.check(
            (start_slot as usize) < limits::MAX_VIEWPORTS,
            "start_slot",
            start_slot,
        )?;
        r.check_slots(start_slot, n, limits::MAX_VIEWPORTS)?;
        Ok(SetScissorStates {
            start_slot,
            scissors: Records::new(r.tail(2)),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.start_slot);
        out.extend_from_slice(self.scissors.as_dwords());
    }
}

/// `SET_STREAMOUT_TARGETS`: `n + 1` dwords, `n <= 16` as upstream allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetStreamoutTargets<'a> {
    pub append_bitmask: u32,
    /// Stream-output target object handles.
    pub handles: &'a [u32],
}

impl<'a> SetStreamoutTargets<'a> {
    pub const MAX_TARGETS: usize = 16;

    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(1, "VIRGL_SET_STREAMOUT_TARGETS_APPEND_BITMASK")?;
        let handles = r.tail(2);
        r.check(
            handles.len() <= Self::MAX_TARGETS,
            "num_targets",
            handles.len() as u64,
        )?;
        Ok(SetStreamoutTargets {
            append_bitmask: r.dw(1),
            handles,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.append_bitmask);
        out.extend_from_slice(self.handles);
    }
}

/// `SET_RENDER_CONDITION` (3 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetRenderCondition {
    /// Query handle, 0 to disable.
    pub handle: u32,
    /// Only bit 0 is significant.
    pub condition: bool,
    /// `pipe_render_cond_flag`.
    pub mode: u32,
}

impl SetRenderCondition {
    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(3, "VIRGL_RENDER_CONDITION_SIZE")?;
        Ok(SetRenderCondition {
            handle: r.dw(1),
            condition: r.dw(2) & 1 != 0,
            mode: r.dw(3),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.handle, self.condition as u32, self.mode]);
    }
}

/// `BIND_SHADER` (2 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindShader {
    pub handle: u32,
    pub shader_type: ShaderType,
}

/// `SET_TESS_STATE` (6 dwords): default tessellation levels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SetTessState {
    pub outer: [f32; 4],
    pub inner: [f32; 2],
}

/// One shader storage or atomic counter buffer binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShaderBuffer {
    pub offset: u32,
    pub length: u32,
    /// 0 unbinds the slot.
    pub handle: u32,
}

impl Record for ShaderBuffer {
    const DWORDS: usize = 3;
    fn from_dwords(d: &[u32]) -> Self {
        ShaderBuffer {
            offset: d[0],
            length: d[1],
            handle: d[2],
        }
    }
    fn write(&self, out: &mut Vec<u32>) {
        out.extend([self.offset, self.length, self.handle]);
    }
}

/// `SET_SHADER_BUFFERS`: `3n + 2` dwords; `start_slot + n <= PIPE_MAX_SHADER_BUFFERS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetShaderBuffers<'a> {
    pub shader_type: ShaderType,
    pub start_slot: u32,
    pub buffers: Records<'a, ShaderBuffer>,
}

impl<'a> SetShaderBuffers<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        // Upstream rounds a ragged tail down; we reject it (no Mesa version sends one).
        if r.len() < 2 || !(r.len() - 2).is_multiple_of(3) {
            return Err(r.bad_len("VIRGL_SET_SHADER_BUFFER_SIZE(n) = 3n + 2"));
        }
        let shader_type = r.shader_type(1)?;
        let start_slot = r.dw(2);
        let buffers = Records::new(r.tail(3));
        if !buffers.is_empty() {
            r.check_slots(start_slot, buffers.len(), limits::MAX_SHADER_BUFFERS)?;
        }
        Ok(SetShaderBuffers {
            shader_type,
            start_slot,
            buffers,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.shader_type.raw(), self.start_slot]);
        out.extend_from_slice(self.buffers.as_dwords());
    }
}

/// `SET_ATOMIC_BUFFERS`: `3n + 1` dwords (n >= 1); `start_slot + n <= PIPE_MAX_HW_ATOMIC_BUFFERS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetAtomicBuffers<'a> {
    pub start_slot: u32,
    pub buffers: Records<'a, ShaderBuffer>,
}

impl<'a> SetAtomicBuffers<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        // Upstream requires at least 2 dwords and rounds a ragged tail down; we require whole
        // records, so the smallest accepted payload is one buffer (4 dwords).
        if r.len() < 2 || !(r.len() - 1).is_multiple_of(3) {
            return Err(r.bad_len("VIRGL_SET_ATOMIC_BUFFER_SIZE(n) = 3n + 1, n >= 1"));
        }
        let start_slot = r.dw(1);
        let buffers = Records::new(r.tail(2));
        r.check_slots(start_slot, buffers.len(), limits::MAX_HW_ATOMIC_BUFFERS)?;
        Ok(SetAtomicBuffers {
            start_slot,
            buffers,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.start_slot);
        out.extend_from_slice(self.buffers.as_dwords());
    }
}

/// One image binding (`VIRGL_SET_SHADER_IMAGE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImageView {
    /// `virgl_formats` value.
    pub format: u32,
    /// `PIPE_IMAGE_ACCESS_*`.
    pub access: u32,
    /// Buffers: byte offset. Textures: `first_layer | last_layer << 16`.
    pub layer_offset: u32,
    /// Buffers: byte size. Textures: mip level.
    pub level_size: u32,
    /// 0 unbinds the slot.
    pub handle: u32,
}

impl Record for ImageView {
    const DWORDS: usize = 5;
    fn from_dwords(d: &[u32]) -> Self {
        ImageView {
            format: d[0],
            access: d[1],
            layer_offset: d[2],
            level_size: d[3],
            handle: d[4],
        }
    }
    fn write(&self, out: &mut Vec<u32>) {
        out.extend([
            self.format,
            self.access,
            self.layer_offset,
            self.level_size,
            self.handle,
        ]);
    }
}

/// `SET_SHADER_IMAGES`: `5n + 2` dwords; `start_slot + n <= PIPE_MAX_SHADER_IMAGES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetShaderImages<'a> {
    pub shader_type: ShaderType,
    pub start_slot: u32,
    pub images: Records<'a, ImageView>,
}

impl<'a> SetShaderImages<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        if r.len() < 2 || !(r.len() - 2).is_multiple_of(5) {
            return Err(r.bad_len("VIRGL_SET_SHADER_IMAGE_SIZE(n) = 5n + 2"));
        }
        let shader_type = r.shader_type(1)?;
        let start_slot = r.dw(2);
        let images = Records::new(r.tail(3));
        if !images.is_empty() {
            r.check_slots(start_slot, images.len(), limits::MAX_SHADER_IMAGES)?;
        }
        Ok(SetShaderImages {
            shader_type,
            start_slot,
            images,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.shader_type.raw(), self.start_slot]);
        out.extend_from_slice(self.images.as_dwords());
    }
}

/// `LINK_SHADER` (6 dwords): shader handles indexed by [`ShaderType::index`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkShader {
    pub handles: [u32; SHADER_TYPES],
}
