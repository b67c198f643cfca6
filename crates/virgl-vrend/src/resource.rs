//! GL storage of 3D resources and transfers between it and guest memory.
//!
//! A resource is a GL buffer (`PIPE_BUFFER`), a GL texture of the requested target, levels,
//! layers and samples, or — for staging buffers — nothing at all on the host (their bytes live
//! only in guest memory and are read by COPY_TRANSFER3D).
//!
//! Transfers always go through a tightly packed staging copy: the guest's box is gathered with
//! its stride/layer stride (every range checked against the guest memory's size before any copy),
//! converted where the host stores the format differently (Z24X8 depth scale, BGRA on GLES,
//! Y_0_TOP row order), then handed to GL with default pack/unpack state. Guest memory is shared
//! with a racing writer, so nothing is ever read from it twice or in place.

use std::num::NonZeroU32;

use glow::HasContext;
use virgl_resource::ResourceCreateArgs;

use crate::error::{VrendError, VrendResult};
use crate::features::Feature;
use crate::formats::{vf, BlockLayout, HostFormat};
use crate::host::HostGl;

/// `enum pipe_texture_target`.
pub mod pipe_target {
    pub const BUFFER: u32 = 0;
    pub const TEXTURE_1D: u32 = 1;
    pub const TEXTURE_2D: u32 = 2;
    pub const TEXTURE_3D: u32 = 3;
    pub const TEXTURE_CUBE: u32 = 4;
    pub const TEXTURE_RECT: u32 = 5;
    pub const TEXTURE_1D_ARRAY: u32 = 6;
    pub const TEXTURE_2D_ARRAY: u32 = 7;
    pub const TEXTURE_CUBE_ARRAY: u32 = 8;
}

/// `VIRGL_BIND_*` flags the backend looks at.
pub mod virgl_bind {
    pub const DEPTH_STENCIL: u32 = 1 << 0;
    pub const RENDER_TARGET: u32 = 1 << 1;
    pub const SAMPLER_VIEW: u32 = 1 << 3;
    pub const VERTEX_BUFFER: u32 = 1 << 4;
    pub const INDEX_BUFFER: u32 = 1 << 5;
    pub const CONSTANT_BUFFER: u32 = 1 << 6;
    pub const COMMAND_ARGS: u32 = 1 << 8;
    pub const STREAM_OUTPUT: u32 = 1 << 11;
    pub const SHADER_BUFFER: u32 = 1 << 14;
    pub const QUERY_BUFFER: u32 = 1 << 15;
    pub const CURSOR: u32 = 1 << 16;
    pub const CUSTOM: u32 = 1 << 17;
    pub const SCANOUT: u32 = 1 << 18;
    pub const STAGING: u32 = 1 << 19;
    pub const SHARED: u32 = 1 << 20;
    pub const LINEAR: u32 = 1 << 22;
}

/// `VIRGL_RESOURCE_Y_0_TOP`: row 0 is the top of the image (scanouts), GL's is the bottom.
pub const RESOURCE_Y_0_TOP: u32 = 1 << 0;
const RESOURCE_FLAGS_KNOWN: u32 = RESOURCE_Y_0_TOP | (1 << 1) | (1 << 2);

/// Largest buffer resource accepted (the guest sizes buffers with a u32 width; GL takes i32).
const MAX_BUFFER_SIZE: u32 = i32::MAX as u32;

/// Guest memory transfers copy from and to: virgl-resource's trait, implemented by its backings
/// (iovecs, shm, blobs) and by plain byte buffers.
pub use virgl_resource::GuestMemory;

/// A box in texels (x, y, z = first layer/slice/face), like `struct pipe_box` (non-negative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TexBox {
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
}

/// Where a transfer's bytes sit in guest memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuestLayout {
    /// Byte offset of the box's first texel.
    pub offset: u64,
    /// Bytes between rows of blocks; 0 = tightly packed for the level's width.
    pub stride: u32,
    /// Bytes between layers/slices; 0 = tightly packed for the level's height.
    pub layer_stride: u32,
}

/// The host storage of a resource.
#[derive(Debug)]
pub enum Storage {
    /// A GL buffer object of `args.width` bytes.
    Buffer(glow::Buffer),
    /// A GL texture; `target` is the GL target it was created with.
    Texture { tex: glow::Texture, target: u32 },
    /// Staging: no host storage, the guest memory is the resource.
    GuestOnly,
}

/// One resource as the GL backend stores it.
#[derive(Debug)]
pub struct GlResource {
    pub args: ResourceCreateArgs,
    pub storage: Storage,
    /// The host format (textures only; buffers carry none).
    pub format: Option<HostFormat>,
    /// The texture is another context's memory imported by `import.rs`: the import owns the
    /// GL names (not [`Self::destroy`]), and BGRA formats sit in it with red and blue swapped.
    pub imported: bool,
}

/// The GL target for a pipe target and sample count; `None` if invalid.
pub fn gl_target(target: u32, nr_samples: u32) -> Option<u32> {
    use pipe_target as p;
    let ms = nr_samples > 1;
    Some(match target {
        p::BUFFER => glow::ARRAY_BUFFER,
        p::TEXTURE_1D => glow::TEXTURE_1D,
        p::TEXTURE_2D if ms => glow::TEXTURE_2D_MULTISAMPLE,
        p::TEXTURE_2D => glow::TEXTURE_2D,
        p::TEXTURE_3D => glow::TEXTURE_3D,
        p::TEXTURE_CUBE => glow::TEXTURE_CUBE_MAP,
        p::TEXTURE_RECT => glow::TEXTURE_RECTANGLE,
        p::TEXTURE_1D_ARRAY => glow::TEXTURE_1D_ARRAY,
        p::TEXTURE_2D_ARRAY if ms => glow::TEXTURE_2D_MULTISAMPLE_ARRAY,
        p::TEXTURE_2D_ARRAY => glow::TEXTURE_2D_ARRAY,
        p::TEXTURE_CUBE_ARRAY => glow::TEXTURE_CUBE_MAP_ARRAY,
        _ => return None,
    })
}

fn minify(size: u32, level: u32) -> u32 {
    (size.checked_shr(level).unwrap_or(0)).max(1)
}

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

fn gl_i32(v: u32, what: &str) -> VrendResult<i32> {
    i32::try_from(v).map_err(|_| invalid(format!("{what} {v} too large")))
}

/// Checks a create request against upstream's rules and the host's limits.
fn validate(host: &HostGl, a: &ResourceCreateArgs) -> VrendResult<()> {
    use pipe_target as p;
    use virgl_bind as b;
    if a.target > p::TEXTURE_CUBE_ARRAY {
        return Err(invalid(format!("texture target {}", a.target)));
    }
    if a.format >= vf::MAX {
        return Err(invalid(format!("format {}", a.format)));
    }
    if a.flags & !RESOURCE_FLAGS_KNOWN != 0 {
        return Err(invalid(format!("resource flags {:#x}", a.flags)));
    }
    if a.flags & RESOURCE_Y_0_TOP != 0 && a.target != p::TEXTURE_2D && a.target != p::TEXTURE_RECT {
        return Err(invalid("Y_0_TOP only for 2D and RECT textures"));
    }
    let buffer_binds = [
        0,
        b::CUSTOM,
        b::STAGING,
        b::INDEX_BUFFER,
        b::STREAM_OUTPUT,
        b::VERTEX_BUFFER,
        b::CONSTANT_BUFFER,
        b::QUERY_BUFFER,
        b::COMMAND_ARGS,
        b::SHADER_BUFFER,
    ];
    if a.target == p::BUFFER {
        if a.height != 1 || a.depth != 1 || a.array_size > 1 {
            return Err(invalid("buffers must be width x 1 x 1"));
        }
        if a.last_level != 0 || a.nr_samples > 1 {
            return Err(invalid("buffers have no levels or samples"));
        }
        if a.width > MAX_BUFFER_SIZE {
            return Err(invalid(format!("buffer of {} bytes", a.width)));
        }
        return Ok(());
    }
    if buffer_binds.contains(&a.bind) {
        return Err(invalid(format!(
            "buffer bind {:#x} on texture target {}",
            a.bind, a.target
        )));
    }
    if a.bind
        & (b::SAMPLER_VIEW
            | b::DEPTH_STENCIL
            | b::RENDER_TARGET
            | b::CURSOR
            | b::SHARED
            | b::LINEAR)
        == 0
    {
        return Err(invalid(format!("texture bind flags {:#x}", a.bind)));
    }
    if a.width == 0 || a.height == 0 || a.depth == 0 {
        return Err(invalid("zero-sized texture"));
    }
    let l = &host.limits;
    let (max_w, max_h, max_d) = match a.target {
        p::TEXTURE_3D => (
            l.max_texture_3d_size,
            l.max_texture_3d_size,
            l.max_texture_3d_size,
        ),
        p::TEXTURE_CUBE | p::TEXTURE_CUBE_ARRAY => {
            (l.max_texture_cube_size, l.max_texture_cube_size, 1)
        }
        p::TEXTURE_1D | p::TEXTURE_1D_ARRAY => (l.max_texture_2d_size, 1, 1),
        _ => (l.max_texture_2d_size, l.max_texture_2d_size, 1),
    };
    if a.width > max_w || a.height > max_h || a.depth > max_d {
        return Err(invalid(format!(
            "texture {}x{}x{} exceeds host limits",
            a.width, a.height, a.depth
        )));
    }
    match a.target {
        p::TEXTURE_CUBE if a.array_size != 6 => return Err(invalid("cube needs 6 faces")),
        p::TEXTURE_CUBE_ARRAY => {
            if !host.features.has(Feature::CubeMapArray) {
                return Err(invalid("cube map arrays unsupported"));
            }
            if a.array_size == 0 || !a.array_size.is_multiple_of(6) {
                return Err(invalid("cube array size not a multiple of 6"));
            }
        }
        p::TEXTURE_1D_ARRAY | p::TEXTURE_2D_ARRAY if a.array_size == 0 => {
            return Err(invalid("array of 0 layers"))
        }
        p::TEXTURE_1D_ARRAY | p::TEXTURE_2D_ARRAY => {}
        p::TEXTURE_CUBE => {}
        _ if a.array_size > 1 => return Err(invalid("array size on a non-array target")),
        _ => {}
    }
    if a.array_size > l.max_array_layers.max(6) {
        return Err(invalid(format!(
            "{} layers exceed the host limit",
            a.array_size
        )));
    }
    if a.last_level > 0 {
        if a.target == p::TEXTURE_RECT {
            return Err(invalid("RECT textures have no mipmaps"));
        }
        let max_dim = a.width.max(a.height).max(if a.target == p::TEXTURE_3D {
            a.depth
        } else {
            1
        });
        if a.last_level > 31 - max_dim.leading_zeros() {
            return Err(invalid(format!("{} levels too many", a.last_level + 1)));
        }
    }
    if a.target == p::TEXTURE_1D && a.height != 1 {
        return Err(invalid("1D texture with height"));
    }
    if a.nr_samples > 1 {
        if a.target != p::TEXTURE_2D && a.target != p::TEXTURE_2D_ARRAY {
            return Err(invalid("multisample textures must be 2D"));
        }
        if a.last_level > 0 {
            return Err(invalid("multisample textures have no mipmaps"));
        }
    }
    Ok(())
}

impl GlResource {
    /// Creates the host storage for `args` on the current (root) context.
    pub fn create(host: &HostGl, args: &ResourceCreateArgs) -> VrendResult<Self> {
        validate(host, args)?;
        let gl = &host.gl;
        if args.target == pipe_target::BUFFER {
            if args.bind == virgl_bind::STAGING {
                return Ok(Self {
                    args: *args,
                    storage: Storage::GuestOnly,
                    format: None,
                    imported: false,
                });
            }
            // SAFETY: current context; the buffer is bound to COPY_WRITE_BUFFER only for the
            // allocation and unbound again; the size was validated to fit in i32.
            let buf = unsafe {
                let buf = gl.create_buffer().map_err(VrendError::HostGlMissing)?;
                gl.bind_buffer(glow::COPY_WRITE_BUFFER, Some(buf));
                gl.buffer_data_size(
                    glow::COPY_WRITE_BUFFER,
                    args.width as i32,
                    glow::STREAM_DRAW,
                );
                gl.bind_buffer(glow::COPY_WRITE_BUFFER, None);
                buf
            };
            if let Err(e) = host.check("buffer allocation") {
                // SAFETY: the buffer was created above and is unused.
                unsafe { gl.delete_buffer(buf) };
                return Err(e);
            }
            return Ok(Self {
                args: *args,
                storage: Storage::Buffer(buf),
                format: None,
                imported: false,
            });
        }
        let format = *host
            .formats
            .get(args.format)
            .ok_or_else(|| invalid(format!("format {} not supported by the host", args.format)))?;
        let target = gl_target(args.target, args.nr_samples)
            .ok_or_else(|| invalid(format!("target {}", args.target)))?;
        if args.nr_samples > 1 && !format.caps.can_multisample {
            return Err(invalid(format!(
                "format {} cannot be multisampled",
                args.format
            )));
        }
        if host.is_gles()
            && matches!(
                target,
                glow::TEXTURE_1D | glow::TEXTURE_1D_ARRAY | glow::TEXTURE_RECTANGLE
            )
        {
            return Err(VrendError::Unsupported(format!(
                "GL target {target:#x} on a GLES host"
            )));
        }
        if target == glow::TEXTURE_RECTANGLE && !format.caps.can_rectangle {
            return Err(invalid(format!(
                "format {} unsupported as RECT",
                args.format
            )));
        }
        // SAFETY: current context; the texture is created and bound to its own target only.
        let tex = unsafe {
            let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
            gl.bind_texture(target, Some(tex));
            tex
        };
        let result = allocate_texture(host, target, args, &format);
        // SAFETY: unbinding the target bound above.
        unsafe { gl.bind_texture(target, None) };
        if let Err(e) = result.and_then(|()| host.check("texture allocation")) {
            // SAFETY: the texture was created above and is referenced nowhere.
            unsafe { gl.delete_texture(tex) };
            return Err(e);
        }
        Ok(Self {
            args: *args,
            storage: Storage::Texture { tex, target },
            format: Some(format),
            imported: false,
        })
    }

    /// Deletes the GL objects (on whatever context sharing them is current).
    pub fn destroy(&self, host: &HostGl) {
        if self.imported {
            return;
        }
        // SAFETY: the objects belong to this resource, which is being dropped.
        unsafe {
            match self.storage {
                Storage::Buffer(b) => host.gl.delete_buffer(b),
                Storage::Texture { tex, .. } => host.gl.delete_texture(tex),
                Storage::GuestOnly => {}
            }
        }
    }

    /// The GL texture name, if this is a texture (for `virgl_renderer_resource_get_info`).
    pub fn texture_name(&self) -> Option<NonZeroU32> {
        match self.storage {
            Storage::Texture { tex, .. } => Some(tex.0),
            _ => None,
        }
    }

    pub fn y_0_top(&self) -> bool {
        self.args.flags & RESOURCE_Y_0_TOP != 0
    }

    /// Layers of the texture (array size, or 6 faces of a cube).
    pub fn layers(&self) -> u32 {
        self.args.array_size.max(1)
    }

    /// The level's size in texels; `depth` is 3D slices or array layers.
    pub fn level_size(&self, level: u32) -> (u32, u32, u32) {
        let a = &self.args;
        let w = minify(a.width, level);
        let h = if a.target == pipe_target::TEXTURE_1D_ARRAY || a.target == pipe_target::TEXTURE_1D
        {
            1
        } else {
            minify(a.height, level)
        };
        let d = if a.target == pipe_target::TEXTURE_3D {
            minify(a.depth, level)
        } else {
            self.layers()
        };
        (w, h, d)
    }

    /// The guest layout of a texel block (buffers: bytes).
    pub fn layout(&self) -> BlockLayout {
        match &self.format {
            Some(f) => f.entry.layout(),
            None => BlockLayout {
                width: 1,
                height: 1,
                bytes: 1,
                compressed: false,
            },
        }
    }

    /// Checks that `level` and `bx` lie inside the resource (and are block aligned where the
    /// format is compressed).
    pub fn check_box(&self, level: u32, bx: &TexBox) -> VrendResult<()> {
        if matches!(self.storage, Storage::Buffer(_) | Storage::GuestOnly) {
            if level != 0 || bx.y != 0 || bx.z != 0 || bx.height != 1 || bx.depth != 1 {
                return Err(invalid("buffer box must be 1-dimensional on level 0"));
            }
            return match bx.x.checked_add(bx.width) {
                Some(end) if end <= self.args.width => Ok(()),
                _ => Err(invalid(format!(
                    "buffer range {}+{} outside {}",
                    bx.x, bx.width, self.args.width
                ))),
            };
        }
        if level > self.args.last_level {
            return Err(invalid(format!(
                "level {level} > last level {}",
                self.args.last_level
            )));
        }
        let (w, h, d) = self.level_size(level);
        let inside = |o: u32, s: u32, lim: u32| o.checked_add(s).is_some_and(|e| e <= lim);
        if bx.width == 0 || bx.height == 0 || bx.depth == 0 {
            return Err(invalid("empty box"));
        }
        if !inside(bx.x, bx.width, w) || !inside(bx.y, bx.height, h) || !inside(bx.z, bx.depth, d) {
            return Err(invalid(format!(
                "box {bx:?} outside level {level} of {w}x{h}x{d}"
            )));
        }
        let l = self.layout();
        if l.compressed
            && (!bx.x.is_multiple_of(l.width)
                || !bx.y.is_multiple_of(l.height)
                || (!bx.width.is_multiple_of(l.width) && bx.x + bx.width != w)
                || (!bx.height.is_multiple_of(l.height) && bx.y + bx.height != h))
        {
            return Err(invalid("compressed box not block aligned"));
        }
        Ok(())
    }

    /// Guest-side geometry of a box: (row bytes, rows per layer, stride, layer stride).
    fn guest_geometry(
        &self,
        level: u32,
        bx: &TexBox,
        g: &GuestLayout,
    ) -> VrendResult<(u64, u32, u64, u64)> {
        let l = self.layout();
        let row_bytes = l.row_bytes(bx.width);
        let rows = l.rows(bx.height);
        let (w, h, _) = self.level_size(level);
        let stride = if g.stride == 0 {
            l.row_bytes(w)
        } else {
            u64::from(g.stride)
        };
        let layer_stride = if g.layer_stride == 0 {
            stride * u64::from(l.rows(h))
        } else {
            u64::from(g.layer_stride)
        };
        if rows > 1 && stride < row_bytes {
            return Err(invalid(format!(
                "stride {stride} below row size {row_bytes}"
            )));
        }
        let layer_bytes = stride * u64::from(rows.saturating_sub(1)) + row_bytes;
        if bx.depth > 1 && layer_stride < layer_bytes {
            return Err(invalid(format!(
                "layer stride {layer_stride} below layer size {layer_bytes}"
            )));
        }
        Ok((row_bytes, rows, stride, layer_stride))
    }

    /// Copies a box from guest memory into the resource.
    pub fn write(
        &self,
        host: &HostGl,
        level: u32,
        bx: &TexBox,
        src: &dyn GuestMemory,
        g: &GuestLayout,
    ) -> VrendResult<()> {
        self.check_box(level, bx)?;
        let gl = &host.gl;
        match self.storage {
            Storage::GuestOnly => Ok(()),
            Storage::Buffer(buf) => with_upload_staging(bx.width as usize, |data| {
                src.read_at(g.offset, data)?;
                // SAFETY: current context; the range was checked against the buffer's size.
                unsafe {
                    gl.bind_buffer(glow::COPY_WRITE_BUFFER, Some(buf));
                    gl.buffer_sub_data_u8_slice(glow::COPY_WRITE_BUFFER, bx.x as i32, data);
                    gl.bind_buffer(glow::COPY_WRITE_BUFFER, None);
                }
                host.check("buffer upload")
            }),
            Storage::Texture { tex, target } => {
                let total = self.packed_size(level, bx, g)?;
                with_upload_staging(total, |data| {
                    self.gather(level, bx, src, g, data)?;
                    self.to_host_order(host, data, bx);
                    upload(host, self, tex, target, level, bx, data)
                })
            }
        }
    }

    /// Copies a box of the resource out to guest memory.
    pub fn read(
        &self,
        host: &HostGl,
        level: u32,
        bx: &TexBox,
        dst: &mut dyn GuestMemory,
        g: &GuestLayout,
    ) -> VrendResult<()> {
        self.check_box(level, bx)?;
        let gl = &host.gl;
        match self.storage {
            Storage::GuestOnly => Ok(()),
            Storage::Buffer(buf) => {
                let mut data = vec![0u8; bx.width as usize];
                // SAFETY: current context; the range was checked against the buffer's size.
                unsafe {
                    gl.bind_buffer(glow::COPY_READ_BUFFER, Some(buf));
                    if host.is_gles() {
                        let ptr = gl.map_buffer_range(
                            glow::COPY_READ_BUFFER,
                            bx.x as i32,
                            bx.width as i32,
                            glow::MAP_READ_BIT,
                        );
                        if !ptr.is_null() && !data.is_empty() {
                            std::ptr::copy_nonoverlapping(ptr, data.as_mut_ptr(), data.len());
                        }
                        gl.unmap_buffer(glow::COPY_READ_BUFFER);
                    } else {
                        gl.get_buffer_sub_data(glow::COPY_READ_BUFFER, bx.x as i32, &mut data);
                    }
                    gl.bind_buffer(glow::COPY_READ_BUFFER, None);
                }
                host.check("buffer readback")?;
                dst.write_at(g.offset, &data).map_err(VrendError::from)
            }
            Storage::Texture { tex, target } => {
                let mut data = download(host, self, tex, target, level, bx)?;
                self.to_guest_order(host, &mut data, bx);
                self.scatter(level, bx, dst, g, &data)
            }
        }
    }

    /// Bytes of the box tightly packed (rows of blocks, then layers).
    fn packed_size(&self, level: u32, bx: &TexBox, g: &GuestLayout) -> VrendResult<usize> {
        let (row_bytes, rows, _, _) = self.guest_geometry(level, bx, g)?;
        row_bytes
            .checked_mul(u64::from(rows) * u64::from(bx.depth))
            .and_then(|t| usize::try_from(t).ok())
            .ok_or_else(|| invalid("transfer too large"))
    }

    /// Reads the guest's box into `data`, tightly packed (rows of blocks, then layers); `data`
    /// is [`Self::packed_size`] bytes and every byte of it is overwritten.
    fn gather(
        &self,
        level: u32,
        bx: &TexBox,
        src: &dyn GuestMemory,
        g: &GuestLayout,
        data: &mut [u8],
    ) -> VrendResult<()> {
        let (row_bytes, rows, stride, layer_stride) = self.guest_geometry(level, bx, g)?;
        let rb = row_bytes as usize;
        let mut chunks = data.chunks_exact_mut(rb.max(1));
        for layer in 0..u64::from(bx.depth) {
            for row in 0..u64::from(rows) {
                let off = layer
                    .checked_mul(layer_stride)
                    .and_then(|o| o.checked_add(row * stride))
                    .and_then(|o| o.checked_add(g.offset))
                    .ok_or_else(|| invalid("guest offset overflows"))?;
                if let Some(chunk) = chunks.next() {
                    src.read_at(off, chunk)?;
                }
            }
        }
        Ok(())
    }

    /// Writes a tightly packed box out to the guest's layout.
    fn scatter(
        &self,
        level: u32,
        bx: &TexBox,
        dst: &mut dyn GuestMemory,
        g: &GuestLayout,
        data: &[u8],
    ) -> VrendResult<()> {
        let (row_bytes, rows, stride, layer_stride) = self.guest_geometry(level, bx, g)?;
        let mut chunks = data.chunks_exact(row_bytes.max(1) as usize);
        for layer in 0..u64::from(bx.depth) {
            for row in 0..u64::from(rows) {
                let off = layer
                    .checked_mul(layer_stride)
                    .and_then(|o| o.checked_add(row * stride))
                    .and_then(|o| o.checked_add(g.offset))
                    .ok_or_else(|| invalid("guest offset overflows"))?;
                let chunk = chunks.next().ok_or_else(|| invalid("short readback"))?;
                dst.write_at(off, chunk)?;
            }
        }
        Ok(())
    }

    /// Converts packed guest data to what GL expects for this resource.
    fn to_host_order(&self, host: &HostGl, data: &mut [u8], bx: &TexBox) {
        let virgl = self.args.format;
        if virgl == vf::Z24X8_UNORM {
            // The guest's 24-bit depth sits in the low bits; GL reads UNSIGNED_INT as a 32-bit
            // normalised value, so move the 24 bits to the top (an exact ×256).
            for px in data.chunks_exact_mut(4) {
                let v = u32::from_ne_bytes([px[0], px[1], px[2], px[3]]) << 8;
                px.copy_from_slice(&v.to_ne_bytes());
            }
        }
        if host.is_gles() && is_bgra8(virgl) && !self.imported {
            swap_red_blue(data);
        }
        if host.is_gles() && is_bgr10(virgl) && !self.imported {
            swap_red_blue_10(data);
        }
        if self.y_0_top() {
            flip_rows(data, &self.layout(), bx);
        }
    }

    /// Converts GL's data back to the guest's byte layout.
    fn to_guest_order(&self, host: &HostGl, data: &mut [u8], bx: &TexBox) {
        let virgl = self.args.format;
        if virgl == vf::Z24X8_UNORM {
            for px in data.chunks_exact_mut(4) {
                let v = u32::from_ne_bytes([px[0], px[1], px[2], px[3]]) >> 8;
                px.copy_from_slice(&v.to_ne_bytes());
            }
        }
        if host.is_gles() && is_bgra8(virgl) && !self.imported {
            swap_red_blue(data);
        }
        if host.is_gles() && is_bgr10(virgl) && !self.imported {
            swap_red_blue_10(data);
        }
        if self.y_0_top() {
            flip_rows(data, &self.layout(), bx);
        }
    }

    /// The GL y of a box's first row (Y_0_TOP resources count rows from the top).
    fn gl_y(&self, level: u32, bx: &TexBox) -> u32 {
        if self.y_0_top() {
            let (_, h, _) = self.level_size(level);
            h - bx.y - bx.height
        } else {
            bx.y
        }
    }
}

fn is_bgra8(format: u32) -> bool {
    matches!(
        format,
        vf::B8G8R8A8_UNORM | vf::B8G8R8X8_UNORM | vf::B8G8R8A8_SRGB | vf::B8G8R8X8_SRGB
    )
}

/// GLES stores B10G10R10{A,X}2 as RGB10_A2 (no BGRA variant of the packed type): the guest's
/// words carry blue in bits 0..10 and red in 20..30, GL's the reverse.
fn is_bgr10(format: u32) -> bool {
    matches!(format, vf::B10G10R10A2_UNORM | vf::B10G10R10X2_UNORM)
}

/// Swaps the 10-bit red and blue fields of each packed 2_10_10_10 word (its own inverse).
fn swap_red_blue_10(data: &mut [u8]) {
    for px in data.chunks_exact_mut(4) {
        let w = u32::from_le_bytes([px[0], px[1], px[2], px[3]]);
        let w = (w & 0xC00F_FC00) | ((w & 0x3FF) << 20) | ((w >> 20) & 0x3FF);
        px.copy_from_slice(&w.to_le_bytes());
    }
}

fn swap_red_blue(data: &mut [u8]) {
    for px in data.chunks_exact_mut(4) {
        px.swap(0, 2);
    }
}

fn flip_rows(data: &mut [u8], layout: &BlockLayout, bx: &TexBox) {
    let row = layout.row_bytes(bx.width) as usize;
    let rows = layout.rows(bx.height) as usize;
    if row == 0 || rows < 2 {
        return;
    }
    for layer in data.chunks_exact_mut(row * rows) {
        for r in 0..rows / 2 {
            let (top, bottom) = layer.split_at_mut((rows - 1 - r) * row);
            top[r * row..(r + 1) * row].swap_with_slice(&mut bottom[..row]);
        }
    }
}

fn allocate_texture(
    host: &HostGl,
    target: u32,
    a: &ResourceCreateArgs,
    format: &HostFormat,
) -> VrendResult<()> {
    let gl = &host.gl;
    let levels = gl_i32(a.last_level + 1, "levels")?;
    let (w, h, d) = (
        gl_i32(a.width, "width")?,
        gl_i32(a.height, "height")?,
        gl_i32(a.depth, "depth")?,
    );
    let layers = gl_i32(a.array_size.max(1), "array size")?;
    let internal = format.entry.internal;
    let samples = gl_i32(a.nr_samples, "samples")?;
    let storage = host.features.has(Feature::TextureStorage) && format.caps.can_texture_storage;
    // SAFETY: current context with `target` bound to a fresh texture; sizes were validated
    // against the host limits and converted to i32 above; null data allocates only.
    unsafe {
        match target {
            glow::TEXTURE_2D_MULTISAMPLE => {
                if storage && host.features.has(Feature::StorageMultisample) {
                    gl.tex_storage_2d_multisample(target, samples, internal, w, h, true);
                } else {
                    gl.tex_image_2d_multisample(target, samples, internal as i32, w, h, true);
                }
            }
            glow::TEXTURE_2D_MULTISAMPLE_ARRAY => {
                let f = host
                    .extra
                    .tex_storage_3d_multisample
                    .ok_or_else(|| VrendError::HostGlMissing("glTexStorage3DMultisample".into()))?;
                f(target, samples, internal, w, h, layers, 1);
            }
            _ if storage => match target {
                glow::TEXTURE_1D => gl.tex_storage_1d(target, levels, internal, w),
                glow::TEXTURE_1D_ARRAY => gl.tex_storage_2d(target, levels, internal, w, layers),
                glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE | glow::TEXTURE_CUBE_MAP => {
                    gl.tex_storage_2d(target, levels, internal, w, h)
                }
                glow::TEXTURE_3D => gl.tex_storage_3d(target, levels, internal, w, h, d),
                _ => gl.tex_storage_3d(target, levels, internal, w, h, layers),
            },
            _ => {
                if format.entry.layout().compressed {
                    return Err(VrendError::Unsupported(
                        "compressed format without texture storage".into(),
                    ));
                }
                let (fmt, ty, int) = (format.entry.format, format.entry.ty, internal as i32);
                let none = || glow::PixelUnpackData::Slice(None);
                for level in 0..=a.last_level {
                    let l = level as i32;
                    let lw = minify(a.width, level) as i32;
                    let lh = minify(a.height, level) as i32;
                    let ld = minify(a.depth, level) as i32;
                    match target {
                        glow::TEXTURE_1D => gl.tex_image_1d(target, l, int, lw, 0, fmt, ty, none()),
                        glow::TEXTURE_1D_ARRAY => {
                            gl.tex_image_2d(target, l, int, lw, layers, 0, fmt, ty, none())
                        }
                        glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE => {
                            gl.tex_image_2d(target, l, int, lw, lh, 0, fmt, ty, none())
                        }
                        glow::TEXTURE_CUBE_MAP => {
                            for face in 0..6 {
                                gl.tex_image_2d(
                                    glow::TEXTURE_CUBE_MAP_POSITIVE_X + face,
                                    l,
                                    int,
                                    lw,
                                    lh,
                                    0,
                                    fmt,
                                    ty,
                                    none(),
                                )
                            }
                        }
                        glow::TEXTURE_3D => {
                            gl.tex_image_3d(target, l, int, lw, lh, ld, 0, fmt, ty, none())
                        }
                        _ => gl.tex_image_3d(target, l, int, lw, lh, layers, 0, fmt, ty, none()),
                    }
                }
            }
        }
        if !matches!(
            target,
            glow::TEXTURE_2D_MULTISAMPLE | glow::TEXTURE_2D_MULTISAMPLE_ARRAY
        ) {
            gl.tex_parameter_i32(target, glow::TEXTURE_BASE_LEVEL, 0);
            gl.tex_parameter_i32(target, glow::TEXTURE_MAX_LEVEL, levels - 1);
        }
    }
    Ok(())
}

/// Resets pixel-store state so tightly packed client memory is read/written as such.
fn reset_pixel_store(gl: &glow::Context) {
    // SAFETY: plain state setters on the current context.
    unsafe {
        for p in [glow::UNPACK_ALIGNMENT, glow::PACK_ALIGNMENT] {
            gl.pixel_store_i32(p, 1);
        }
        for p in [
            glow::UNPACK_ROW_LENGTH,
            glow::UNPACK_IMAGE_HEIGHT,
            glow::UNPACK_SKIP_PIXELS,
            glow::UNPACK_SKIP_ROWS,
            glow::UNPACK_SKIP_IMAGES,
            glow::PACK_ROW_LENGTH,
            glow::PACK_IMAGE_HEIGHT,
            glow::PACK_SKIP_PIXELS,
            glow::PACK_SKIP_ROWS,
            glow::PACK_SKIP_IMAGES,
        ] {
            gl.pixel_store_i32(p, 0);
        }
        gl.bind_buffer(glow::PIXEL_UNPACK_BUFFER, None);
        gl.bind_buffer(glow::PIXEL_PACK_BUFFER, None);
    }
}

/// Runs `body` over a staging buffer of `len` bytes for guest -> host uploads, reused across
/// transfers on this thread: a fresh multi-megabyte buffer per transfer costs page faults and
/// zeroing that dominated large uploads. Every byte handed to `body` is overwritten with guest
/// data before GL reads it, so reuse never exposes one transfer's bytes to another.
fn with_upload_staging<R>(
    len: usize,
    body: impl FnOnce(&mut [u8]) -> VrendResult<R>,
) -> VrendResult<R> {
    thread_local! {
        static STAGING: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    /// Above this a transfer gets its own buffer, so one huge upload does not pin memory forever.
    const KEEP_AT_MOST: usize = 64 << 20;
    STAGING.with(|cell| match cell.try_borrow_mut() {
        Ok(mut staging) if len <= KEEP_AT_MOST => {
            if staging.len() < len {
                let extra = len - staging.len();
                staging
                    .try_reserve_exact(extra)
                    .map_err(|_| invalid("staging allocation"))?;
                staging.resize(len, 0);
            }
            body(&mut staging[..len])
        }
        _ => {
            let mut own = Vec::new();
            own.try_reserve_exact(len)
                .map_err(|_| invalid("staging allocation"))?;
            own.resize(len, 0);
            body(&mut own)
        }
    })
}

fn upload(
    host: &HostGl,
    res: &GlResource,
    tex: glow::Texture,
    target: u32,
    level: u32,
    bx: &TexBox,
    data: &[u8],
) -> VrendResult<()> {
    let gl = &host.gl;
    let entry = res
        .format
        .map(|f| f.entry)
        .ok_or_else(|| invalid("texture without format"))?;
    if matches!(
        target,
        glow::TEXTURE_2D_MULTISAMPLE | glow::TEXTURE_2D_MULTISAMPLE_ARRAY
    ) {
        return Err(invalid("transfers into multisample textures"));
    }
    let compressed = entry.layout().compressed;
    let (x, y, z) = (bx.x as i32, res.gl_y(level, bx) as i32, bx.z as i32);
    let (w, h, d) = (bx.width as i32, bx.height as i32, bx.depth as i32);
    let l = level as i32;
    let (fmt, ty) = (entry.format, entry.ty);
    let size = i32::try_from(data.len()).map_err(|_| invalid("transfer too large"))?;
    reset_pixel_store(gl);
    // SAFETY: current context; the box was checked against the level; `data` holds exactly the
    // tightly packed box (gathered above) and unpack state is reset to tight packing.
    unsafe {
        gl.bind_texture(target, Some(tex));
        let px = || glow::PixelUnpackData::Slice(Some(data));
        let cpx = || glow::CompressedPixelUnpackData::Slice(data);
        match target {
            glow::TEXTURE_1D => {
                if compressed {
                    let f = host.extra.compressed_tex_sub_image_1d.ok_or_else(|| {
                        VrendError::HostGlMissing("glCompressedTexSubImage1D".into())
                    })?;
                    f(target, l, x, w, entry.internal, size, data.as_ptr().cast());
                } else {
                    let f = host
                        .extra
                        .tex_sub_image_1d
                        .ok_or_else(|| VrendError::HostGlMissing("glTexSubImage1D".into()))?;
                    f(target, l, x, w, fmt, ty, data.as_ptr().cast());
                }
            }
            glow::TEXTURE_1D_ARRAY => {
                if compressed {
                    gl.compressed_tex_sub_image_2d(target, l, x, z, w, d, entry.internal, cpx());
                } else {
                    gl.tex_sub_image_2d(target, l, x, z, w, d, fmt, ty, px());
                }
            }
            glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE => {
                if compressed {
                    gl.compressed_tex_sub_image_2d(target, l, x, y, w, h, entry.internal, cpx());
                } else {
                    gl.tex_sub_image_2d(target, l, x, y, w, h, fmt, ty, px());
                }
            }
            glow::TEXTURE_CUBE_MAP => {
                let face_bytes = data.len() / bx.depth.max(1) as usize;
                for (i, face) in data.chunks_exact(face_bytes.max(1)).enumerate() {
                    let face_target = glow::TEXTURE_CUBE_MAP_POSITIVE_X + bx.z + i as u32;
                    if compressed {
                        gl.compressed_tex_sub_image_2d(
                            face_target,
                            l,
                            x,
                            y,
                            w,
                            h,
                            entry.internal,
                            glow::CompressedPixelUnpackData::Slice(face),
                        );
                    } else {
                        gl.tex_sub_image_2d(
                            face_target,
                            l,
                            x,
                            y,
                            w,
                            h,
                            fmt,
                            ty,
                            glow::PixelUnpackData::Slice(Some(face)),
                        );
                    }
                }
            }
            _ => {
                if compressed {
                    gl.compressed_tex_sub_image_3d(
                        target,
                        l,
                        x,
                        y,
                        z,
                        w,
                        h,
                        d,
                        entry.internal,
                        cpx(),
                    );
                } else {
                    gl.tex_sub_image_3d(target, l, x, y, z, w, h, d, fmt, ty, px());
                }
            }
        }
        gl.bind_texture(target, None);
    }
    host.check("texture upload")
}

fn download(
    host: &HostGl,
    res: &GlResource,
    tex: glow::Texture,
    target: u32,
    level: u32,
    bx: &TexBox,
) -> VrendResult<Vec<u8>> {
    let gl = &host.gl;
    let entry = res
        .format
        .map(|f| f.entry)
        .ok_or_else(|| invalid("texture without format"))?;
    if matches!(
        target,
        glow::TEXTURE_2D_MULTISAMPLE | glow::TEXTURE_2D_MULTISAMPLE_ARRAY
    ) {
        return Err(invalid(
            "transfers out of multisample textures (resolve with a blit first)",
        ));
    }
    let layout = entry.layout();
    let size = layout
        .row_bytes(bx.width)
        .checked_mul(u64::from(layout.rows(bx.height)) * u64::from(bx.depth))
        .and_then(|s| usize::try_from(s).ok())
        .filter(|&s| s <= i32::MAX as usize)
        .ok_or_else(|| invalid("transfer too large"))?;
    let mut data = vec![0u8; size];
    let (x, y) = (bx.x as i32, res.gl_y(level, bx) as i32);
    // 1D arrays keep their layers in y; everything else (cube faces included) in z.
    let (y, z, h, d) = if target == glow::TEXTURE_1D_ARRAY {
        (bx.z as i32, 0, bx.depth as i32, 1)
    } else {
        (y, bx.z as i32, bx.height as i32, bx.depth as i32)
    };
    reset_pixel_store(gl);
    let name = tex.0.get();
    if layout.compressed {
        let f = host
            .extra
            .get_compressed_texture_sub_image
            .ok_or_else(|| VrendError::Unsupported("compressed readback on this host".into()))?;
        // SAFETY: `data` has exactly the byte size of the block-aligned box and the size
        // passed; pack state is reset; the texture name is live.
        unsafe {
            f(
                name,
                level as i32,
                x,
                y,
                z,
                bx.width as i32,
                h,
                d,
                size as i32,
                data.as_mut_ptr().cast(),
            )
        };
    } else if let Some(f) = host.extra.get_texture_sub_image {
        // SAFETY: as above, for an uncompressed box with the entry's format/type.
        unsafe {
            f(
                name,
                level as i32,
                x,
                y,
                z,
                bx.width as i32,
                h,
                d,
                entry.format,
                entry.ty,
                size as i32,
                data.as_mut_ptr().cast(),
            )
        };
    } else {
        read_pixels_layers(host, res, tex, target, level, bx, &mut data)?;
    }
    host.check("texture readback")?;
    Ok(data)
}

/// Readback through a framebuffer, one layer at a time (hosts without glGetTextureSubImage).
fn read_pixels_layers(
    host: &HostGl,
    res: &GlResource,
    tex: glow::Texture,
    target: u32,
    level: u32,
    bx: &TexBox,
    data: &mut [u8],
) -> VrendResult<()> {
    let gl = &host.gl;
    let format = res
        .format
        .ok_or_else(|| invalid("texture without format"))?;
    if !format.caps.can_readback {
        return Err(VrendError::Unsupported(format!(
            "readback of format {} on this host",
            res.args.format
        )));
    }
    // Depth/stencil formats read through their own attachment (GLES: NV_read_depth[_stencil],
    // which the format probe checked for `can_readback`).
    let e = &format.entry;
    let attachment = match (e.has_depth(), e.has_stencil()) {
        (false, false) => glow::COLOR_ATTACHMENT0,
        (true, false) => glow::DEPTH_ATTACHMENT,
        (true, true) => glow::DEPTH_STENCIL_ATTACHMENT,
        (false, true) => glow::STENCIL_ATTACHMENT,
    };
    let layer_bytes = data.len() / bx.depth.max(1) as usize;
    // SAFETY: current context; the FBO is created, used for reads and deleted here; each read
    // writes exactly `layer_bytes` into its chunk (tight packing).
    unsafe {
        let fbo = gl.create_framebuffer().map_err(VrendError::HostGlMissing)?;
        gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(fbo));
        for (i, chunk) in data.chunks_exact_mut(layer_bytes.max(1)).enumerate() {
            let layer = bx.z + i as u32;
            attach_for_read(gl, attachment, target, tex, level, layer);
            gl.read_buffer(if attachment == glow::COLOR_ATTACHMENT0 {
                glow::COLOR_ATTACHMENT0
            } else {
                glow::NONE
            });
            gl.read_pixels(
                bx.x as i32,
                res.gl_y(level, bx) as i32,
                bx.width as i32,
                bx.height as i32,
                format.entry.format,
                format.entry.ty,
                glow::PixelPackData::Slice(Some(chunk)),
            );
        }
        gl.bind_framebuffer(glow::READ_FRAMEBUFFER, None);
        gl.delete_framebuffer(fbo);
    }
    Ok(())
}

/// Attaches one layer/face of a texture level as `attachment` of the bound read FBO.
///
/// # Safety
/// A context is current with a framebuffer bound to READ_FRAMEBUFFER; `tex` is live.
unsafe fn attach_for_read(
    gl: &glow::Context,
    attachment: u32,
    target: u32,
    tex: glow::Texture,
    level: u32,
    layer: u32,
) {
    // SAFETY: per this function's contract.
    unsafe {
        match target {
            glow::TEXTURE_CUBE_MAP => gl.framebuffer_texture_2d(
                glow::READ_FRAMEBUFFER,
                attachment,
                glow::TEXTURE_CUBE_MAP_POSITIVE_X + layer,
                Some(tex),
                level as i32,
            ),
            glow::TEXTURE_2D | glow::TEXTURE_RECTANGLE => gl.framebuffer_texture_2d(
                glow::READ_FRAMEBUFFER,
                attachment,
                target,
                Some(tex),
                level as i32,
            ),
            _ => gl.framebuffer_texture_layer(
                glow::READ_FRAMEBUFFER,
                attachment,
                Some(tex),
                level as i32,
                layer as i32,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgr10_swap_exchanges_red_and_blue_fields() {
        // A = 2, R = 0x3FF (bits 20..30 in B10G10R10A2), G = 0x155, B = 0x001.
        let guest: u32 = (2 << 30) | (0x3FF << 20) | (0x155 << 10) | 0x001;
        let mut data = guest.to_le_bytes().to_vec();
        swap_red_blue_10(&mut data);
        let gl = u32::from_le_bytes(data[..4].try_into().unwrap());
        assert_eq!(gl, (2 << 30) | (0x001 << 20) | (0x155 << 10) | 0x3FF);
        swap_red_blue_10(&mut data);
        assert_eq!(data, guest.to_le_bytes());
    }

    #[test]
    fn flip_rows_reverses_each_layer() {
        let layout = BlockLayout {
            width: 1,
            height: 1,
            bytes: 1,
            compressed: false,
        };
        let bx = TexBox {
            width: 2,
            height: 3,
            depth: 2,
            ..Default::default()
        };
        let mut d: Vec<u8> = (0..12).collect();
        flip_rows(&mut d, &layout, &bx);
        assert_eq!(d, vec![4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7]);
    }

    #[test]
    fn slice_guest_memory_is_bounds_checked() {
        let mut mem = vec![0u8; 8];
        assert!(mem.write_at(6, &[1, 2, 3]).is_err());
        assert!(mem.write_at(u64::MAX, &[1]).is_err());
        mem.write_at(5, &[1, 2, 3]).unwrap();
        let mut out = [0u8; 3];
        mem.read_at(5, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
    }
}
