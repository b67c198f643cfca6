//! Drawing, clearing, compute dispatch, blits and copies.

use super::reader::{Reader, Result};
use super::resource::Box3;
use super::state::Scissor;

/// `CLEAR` (8 dwords): clears the bound framebuffer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clear {
    /// `PIPE_CLEAR_*` bits.
    pub buffers: u32,
    /// Colour as raw dwords (`union pipe_color_union`: float, int or uint per the target format).
    pub color: [u32; 4],
    pub depth: f64,
    pub stencil: u32,
}

impl Clear {
    pub const SIZE: usize = 8;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_OBJ_CLEAR_SIZE")?;
        // The guest memcpy's a double: low dword first.
        let depth = f64::from_bits(r.dw(6) as u64 | (r.dw(7) as u64) << 32);
        Ok(Clear {
            buffers: r.dw(1),
            color: r.array(2),
            depth,
            stencil: r.dw(8),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.buffers);
        out.extend_from_slice(&self.color);
        let d = self.depth.to_bits();
        out.extend([d as u32, (d >> 32) as u32, self.stencil]);
    }

    pub fn color_f32(&self) -> [f32; 4] {
        self.color.map(f32::from_bits)
    }
}

/// `CLEAR_TEXTURE` (12 dwords): `glClearTexSubImage`-style clear of a resource box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearTexture {
    pub handle: u32,
    pub level: u32,
    pub bx: Box3,
    /// Up to 16 bytes of one texel in the resource's format.
    pub data: [u32; 4],
}

impl ClearTexture {
    pub const SIZE: usize = 12;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_CLEAR_TEXTURE_SIZE")?;
        Ok(ClearTexture {
            handle: r.dw(1),
            level: r.dw(2),
            bx: Box3::read(r, 3),
            data: r.array(9),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([self.handle, self.level]);
        self.bx.write(out);
        out.extend_from_slice(&self.data);
    }
}

/// `CLEAR_SURFACE` (10 dwords): clears a rectangle of one surface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearSurface {
    pub render_condition_enable: bool,
    /// `PIPE_CLEAR_*` bits 0..3 (3 bits).
    pub buffers: u8,
    pub surface_handle: u32,
    /// Colour, or depth (f64, low dword first) and stencil, as raw dwords.
    pub color: [u32; 4],
    pub dst_x: u32,
    pub dst_y: u32,
    pub width: u32,
    pub height: u32,
}

impl ClearSurface {
    pub const SIZE: usize = 10;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_CLEAR_SURFACE_SIZE")?;
        let s0 = r.dw(1);
        Ok(ClearSurface {
            render_condition_enable: s0 & 1 != 0,
            buffers: ((s0 >> 1) & 0x7) as u8,
            surface_handle: r.dw(2),
            color: r.array(3),
            dst_x: r.dw(7),
            dst_y: r.dw(8),
            width: r.dw(9),
            height: r.dw(10),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.render_condition_enable as u32 | (self.buffers as u32 & 0x7) << 1);
        out.push(self.surface_handle);
        out.extend_from_slice(&self.color);
        out.extend([self.dst_x, self.dst_y, self.width, self.height]);
    }
}

/// Tessellation/draw-id tail of `DRAW_VBO` (dwords 13–14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrawTess {
    pub vertices_per_patch: u32,
    pub drawid: u32,
}

/// Indirect tail of `DRAW_VBO` (dwords 15–20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrawIndirect {
    pub handle: u32,
    pub offset: u32,
    pub stride: u32,
    pub draw_count: u32,
    pub draw_count_offset: u32,
    /// Buffer holding the draw count, 0 for none.
    pub draw_count_handle: u32,
}

/// `DRAW_VBO`: 12 dwords, 14 with tessellation/draw id, 20 with an indirect buffer.
///
/// A 20-dword draw always carries the tessellation dwords too: the decoder sets both `tess` and
/// `indirect`; the encoder writes zeros for `tess` if only `indirect` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrawVbo {
    pub start: u32,
    pub count: u32,
    /// `pipe_prim_type`.
    pub mode: u32,
    pub indexed: bool,
    pub instance_count: u32,
    pub index_bias: i32,
    pub start_instance: u32,
    pub primitive_restart: bool,
    pub restart_index: u32,
    pub min_index: u32,
    pub max_index: u32,
    /// Streamout target handle to draw from (`DrawTransformFeedback`), 0 for none.
    pub count_from_so: u32,
    pub tess: Option<DrawTess>,
    pub indirect: Option<DrawIndirect>,
}

impl DrawVbo {
    pub const SIZE: usize = 12;
    pub const SIZE_TESS: usize = 14;
    pub const SIZE_INDIRECT: usize = 20;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        let len = r.len();
        if len != Self::SIZE && len != Self::SIZE_TESS && len != Self::SIZE_INDIRECT {
            return Err(r.bad_len("VIRGL_DRAW_VBO_SIZE 12, _TESS 14 or _INDIRECT 20"));
        }
        let tess = (len >= Self::SIZE_TESS).then(|| DrawTess {
            vertices_per_patch: r.dw(13),
            drawid: r.dw(14),
        });
        let indirect = (len == Self::SIZE_INDIRECT).then(|| DrawIndirect {
            handle: r.dw(15),
            offset: r.dw(16),
            stride: r.dw(17),
            draw_count: r.dw(18),
            draw_count_offset: r.dw(19),
            draw_count_handle: r.dw(20),
        });
        Ok(DrawVbo {
            start: r.dw(1),
            count: r.dw(2),
            mode: r.dw(3),
            indexed: r.dw(4) != 0,
            instance_count: r.dw(5),
            index_bias: r.dw(6) as i32,
            start_instance: r.dw(7),
            primitive_restart: r.dw(8) != 0,
            restart_index: r.dw(9),
            min_index: r.dw(10),
            max_index: r.dw(11),
            count_from_so: r.dw(12),
            tess,
            indirect,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.start,
            self.count,
            self.mode,
            self.indexed as u32,
            self.instance_count,
            self.index_bias as u32,
            self.start_instance,
            self.primitive_restart as u32,
            self.restart_index,
            self.min_index,
            self.max_index,
            self.count_from_so,
        ]);
        if self.tess.is_some() || self.indirect.is_some() {
            let t = self.tess.unwrap_or_default();
            out.extend([t.vertices_per_patch, t.drawid]);
        }
        if let Some(i) = self.indirect {
            out.extend([
                i.handle,
                i.offset,
                i.stride,
                i.draw_count,
                i.draw_count_offset,
                i.draw_count_handle,
            ]);
        }
    }

    pub fn mode(&self) -> Option<crate::pipe::PrimType> {
        crate::pipe::PrimType::from_raw(self.mode)
    }
}

/// `LAUNCH_GRID` (8 dwords): compute dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaunchGrid {
    pub block: [u32; 3],
    pub grid: [u32; 3],
    /// Indirect dispatch buffer, 0 for a direct dispatch.
    pub indirect_handle: u32,
    pub indirect_offset: u32,
}

impl LaunchGrid {
    pub const SIZE: usize = 8;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_LAUNCH_GRID_SIZE")?;
        Ok(LaunchGrid {
            block: r.array(1),
            grid: r.array(4),
            indirect_handle: r.dw(7),
            indirect_offset: r.dw(8),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend_from_slice(&self.block);
        out.extend_from_slice(&self.grid);
        out.extend([self.indirect_handle, self.indirect_offset]);
    }
}

/// Source or destination of a [`Blit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlitSurface {
    pub handle: u32,
    pub level: u32,
    /// `virgl_formats` value.
    pub format: u32,
    pub bx: Box3,
}

impl BlitSurface {
    fn read(r: &Reader<'_>, at: usize) -> Self {
        BlitSurface {
            handle: r.dw(at),
            level: r.dw(at + 1),
            format: r.dw(at + 2),
            bx: Box3::read(r, at + 3),
        }
    }

    fn write(&self, out: &mut Vec<u32>) {
        out.extend([self.handle, self.level, self.format]);
        self.bx.write(out);
    }
}

/// `BLIT` (21 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Blit {
    /// `PIPE_MASK_*` (8 bits).
    pub mask: u8,
    /// `pipe_tex_filter` (2 bits).
    pub filter: u8,
    pub scissor_enable: bool,
    pub render_condition_enable: bool,
    pub alpha_blend: bool,
    pub scissor: Scissor,
    pub dst: BlitSurface,
    pub src: BlitSurface,
}

impl Blit {
    pub const SIZE: usize = 21;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_CMD_BLIT_SIZE")?;
        let s0 = r.dw(1);
        Ok(Blit {
            mask: s0 as u8,
            filter: ((s0 >> 8) & 0x3) as u8,
            scissor_enable: (s0 >> 10) & 1 != 0,
            render_condition_enable: (s0 >> 11) & 1 != 0,
            alpha_blend: (s0 >> 12) & 1 != 0,
            scissor: Scissor::from_pair(r.dw(2), r.dw(3)),
            dst: BlitSurface::read(r, 4),
            src: BlitSurface::read(r, 13),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.push(
            self.mask as u32
                | (self.filter as u32 & 0x3) << 8
                | (self.scissor_enable as u32) << 10
                | (self.render_condition_enable as u32) << 11
                | (self.alpha_blend as u32) << 12,
        );
        out.extend(self.scissor.to_pair());
        self.dst.write(out);
        self.src.write(out);
    }
}

/// `RESOURCE_COPY_REGION` (13 dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceCopyRegion {
    pub dst_handle: u32,
    pub dst_level: u32,
    pub dst_x: u32,
    pub dst_y: u32,
    pub dst_z: u32,
    pub src_handle: u32,
    pub src_level: u32,
    pub src_box: Box3,
}

impl ResourceCopyRegion {
    pub const SIZE: usize = 13;

    pub(crate) fn decode(r: &Reader<'_>) -> Result<Self> {
        r.exact(Self::SIZE, "VIRGL_CMD_RESOURCE_COPY_REGION_SIZE")?;
        Ok(ResourceCopyRegion {
            dst_handle: r.dw(1),
            dst_level: r.dw(2),
            dst_x: r.dw(3),
            dst_y: r.dw(4),
            dst_z: r.dw(5),
            src_handle: r.dw(6),
            src_level: r.dw(7),
            src_box: Box3::read(r, 8),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.dst_handle,
            self.dst_level,
            self.dst_x,
            self.dst_y,
            self.dst_z,
            self.src_handle,
            self.src_level,
        ]);
        self.src_box.write(out);
    }
}
