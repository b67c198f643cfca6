//! The conversion table from virgl formats to host GL formats, and its probing on the host.
//!
//! Each [`FormatEntry`] names the GL internal format, pixel format and type a virgl format is
//! stored and transferred with, plus the swizzle that emulates formats GL lacks (alpha-only,
//! luminance, RGBX...). Several entries may exist for one virgl format (e.g. GL_ALPHA8 on
//! compatibility contexts, GL_R8 + swizzle on core ones): at start-up [`FormatTable::probe`]
//! creates a texture of each candidate on the host and keeps the first one the host accepts,
//! recording whether it can be rendered to, read back, used with glTexStorage or multisampled.
//! Those results feed the guest-visible format masks in the caps.
//!
//! The byte layout of a pixel in guest memory is derived from the GL format/type pair (what GL
//! reads in glTexSubImage), so a transfer's size can be checked without trusting the guest.

use glow::HasContext;

use crate::error::{VrendError, VrendResult};

mod table;

pub use table::vf;
use table::*;

/// `VIRGL_BIND_*` bits this module reports.
pub mod bind {
    pub const DEPTH_STENCIL: u32 = 1 << 0;
    pub const RENDER_TARGET: u32 = 1 << 1;
    pub const SAMPLER_VIEW: u32 = 1 << 3;
}

/// `PIPE_SWIZZLE_*` values.
pub mod swz {
    pub const X: u8 = 0;
    pub const Y: u8 = 1;
    pub const Z: u8 = 2;
    pub const W: u8 = 3;
    pub const ZERO: u8 = 4;
    pub const ONE: u8 = 5;
}

/// One candidate mapping of a virgl format to GL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatEntry {
    pub virgl: u32,
    pub internal: u32,
    pub format: u32,
    pub ty: u32,
    /// Swizzle applied when sampling (emulated channels), `None` for identity.
    pub swizzle: Option<[u8; 4]>,
}

/// How a format's texels are laid out in guest memory, derived from its GL transfer format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockLayout {
    /// Block width and height in texels (1×1 for uncompressed formats).
    pub width: u32,
    pub height: u32,
    /// Bytes per block.
    pub bytes: u32,
    pub compressed: bool,
}

impl BlockLayout {
    /// Bytes of one row of blocks covering `texels` texels.
    pub fn row_bytes(&self, texels: u32) -> u64 {
        u64::from(texels.div_ceil(self.width)) * u64::from(self.bytes)
    }

    /// Rows of blocks covering `texels` texel rows.
    pub fn rows(&self, texels: u32) -> u32 {
        texels.div_ceil(self.height)
    }
}

/// Block dimensions and bytes of a compressed GL internal format, `None` if not compressed.
fn compressed_block(internal: u32) -> Option<(u32, u32, u32)> {
    use glow as g;
    Some(match internal {
        g::COMPRESSED_RGB_S3TC_DXT1_EXT
        | g::COMPRESSED_RGBA_S3TC_DXT1_EXT
        | g::COMPRESSED_SRGB_S3TC_DXT1_EXT
        | g::COMPRESSED_SRGB_ALPHA_S3TC_DXT1_EXT
        | g::COMPRESSED_RED_RGTC1
        | g::COMPRESSED_SIGNED_RED_RGTC1
        | g::COMPRESSED_RGB8_ETC2
        | g::COMPRESSED_SRGB8_ETC2
        | g::COMPRESSED_RGB8_PUNCHTHROUGH_ALPHA1_ETC2
        | g::COMPRESSED_SRGB8_PUNCHTHROUGH_ALPHA1_ETC2
        | g::COMPRESSED_R11_EAC
        | g::COMPRESSED_SIGNED_R11_EAC => (4, 4, 8),
        g::COMPRESSED_RGBA_S3TC_DXT3_EXT
        | g::COMPRESSED_RGBA_S3TC_DXT5_EXT
        | g::COMPRESSED_SRGB_ALPHA_S3TC_DXT3_EXT
        | g::COMPRESSED_SRGB_ALPHA_S3TC_DXT5_EXT
        | g::COMPRESSED_RG_RGTC2
        | g::COMPRESSED_SIGNED_RG_RGTC2
        | g::COMPRESSED_RGBA_BPTC_UNORM
        | g::COMPRESSED_SRGB_ALPHA_BPTC_UNORM
        | g::COMPRESSED_RGB_BPTC_SIGNED_FLOAT
        | g::COMPRESSED_RGB_BPTC_UNSIGNED_FLOAT
        | g::COMPRESSED_RGBA8_ETC2_EAC
        | g::COMPRESSED_SRGB8_ALPHA8_ETC2_EAC
        | g::COMPRESSED_RG11_EAC
        | g::COMPRESSED_SIGNED_RG11_EAC => (4, 4, 16),
        _ => {
            // The KHR ASTC enums are two runs of 14 block sizes in the same order.
            const ASTC: [(u32, u32); 14] = [
                (4, 4),
                (5, 4),
                (5, 5),
                (6, 5),
                (6, 6),
                (8, 5),
                (8, 6),
                (8, 8),
                (10, 5),
                (10, 6),
                (10, 8),
                (10, 10),
                (12, 10),
                (12, 12),
            ];
            let idx = match internal {
                0x93B0..=0x93BD => internal - 0x93B0,
                0x93D0..=0x93DD => internal - 0x93D0,
                _ => return None,
            };
            let (w, h) = ASTC[idx as usize];
            (w, h, 16)
        }
    })
}

/// Components a GL pixel transfer format carries.
fn components(format: u32) -> Option<u32> {
    use glow as g;
    Some(match format {
        g::RED
        | g::ALPHA
        | g::LUMINANCE
        | g::DEPTH_COMPONENT
        | g::STENCIL_INDEX
        | g::DEPTH_STENCIL
        | g::RED_INTEGER
        | ext::ALPHA_INTEGER
        | ext::LUMINANCE_INTEGER_EXT => 1,
        g::RG | g::LUMINANCE_ALPHA | g::RG_INTEGER | ext::LUMINANCE_ALPHA_INTEGER_EXT => 2,
        g::RGB | g::BGR | g::RGB_INTEGER => 3,
        g::RGBA | g::BGRA | ext::ABGR_EXT | g::RGBA_INTEGER | g::BGRA_INTEGER => 4,
        _ => return None,
    })
}

impl FormatEntry {
    /// The guest-memory layout of this entry's texels.
    pub fn layout(&self) -> BlockLayout {
        use glow as g;
        if let Some((width, height, bytes)) = compressed_block(self.internal) {
            return BlockLayout {
                width,
                height,
                bytes,
                compressed: true,
            };
        }
        let bytes = match self.ty {
            g::UNSIGNED_BYTE_3_3_2 => 1,
            g::UNSIGNED_SHORT_5_6_5
            | g::UNSIGNED_SHORT_4_4_4_4
            | g::UNSIGNED_SHORT_4_4_4_4_REV
            | g::UNSIGNED_SHORT_1_5_5_5_REV
            | g::UNSIGNED_SHORT_5_5_5_1 => 2,
            g::UNSIGNED_INT_8_8_8_8
            | g::UNSIGNED_INT_8_8_8_8_REV
            | g::UNSIGNED_INT_2_10_10_10_REV
            | g::UNSIGNED_INT_10F_11F_11F_REV
            | g::UNSIGNED_INT_5_9_9_9_REV
            | g::UNSIGNED_INT_24_8 => 4,
            g::FLOAT_32_UNSIGNED_INT_24_8_REV => 8,
            ty => {
                let size = match ty {
                    g::UNSIGNED_BYTE | g::BYTE => 1,
                    g::UNSIGNED_SHORT | g::SHORT | g::HALF_FLOAT => 2,
                    _ => 4,
                };
                // Every entry's format is one `components` knows (tested exhaustively).
                components(self.format).unwrap_or(4) * size
            }
        };
        BlockLayout {
            width: 1,
            height: 1,
            bytes,
            compressed: false,
        }
    }

    /// Whether this is a depth and/or stencil format.
    pub fn is_depth_stencil(&self) -> bool {
        matches!(
            self.format,
            glow::DEPTH_COMPONENT | glow::DEPTH_STENCIL | glow::STENCIL_INDEX
        )
    }

    pub fn has_stencil(&self) -> bool {
        matches!(self.format, glow::DEPTH_STENCIL | glow::STENCIL_INDEX)
    }

    pub fn has_depth(&self) -> bool {
        matches!(self.format, glow::DEPTH_COMPONENT | glow::DEPTH_STENCIL)
    }

    /// Whether the GL transfer format is an integer one (clears and blits differ).
    pub fn is_integer(&self) -> bool {
        matches!(
            self.format,
            glow::RED_INTEGER
                | glow::RG_INTEGER
                | glow::RGB_INTEGER
                | glow::RGBA_INTEGER
                | glow::BGRA_INTEGER
                | ext::ALPHA_INTEGER
                | ext::LUMINANCE_INTEGER_EXT
                | ext::LUMINANCE_ALPHA_INTEGER_EXT
        )
    }
}

/// How a group of candidates is admitted.
#[derive(Debug, Clone, Copy)]
enum Admit {
    /// Probed: kept if a 32×32 texture of it can be created.
    Probe,
    /// Compressed: kept on the extension's word, sampler-only.
    Compressed,
}

/// The candidate groups in probing order (the first working entry per format wins).
fn candidate_groups(
    gles: bool,
    gl_version: u32,
    has_ext: &dyn Fn(&str) -> bool,
) -> Vec<(&'static [FormatEntry], Admit)> {
    use Admit::{Compressed, Probe};
    let mut groups = vec![
        (BASE_RGBA_FORMATS, Probe),
        (BASE_DEPTH_FORMATS, Probe),
        (FLOAT_BASE_FORMATS, Probe),
        (LA_FORMATS_COMPAT, Probe),
        (LA_FORMATS_FALLBACK, Probe),
        (FLOAT_3COMP_FORMATS, Probe),
        (INTEGER_BASE_FORMATS, Probe),
        (INTEGER_3COMP_FORMATS, Probe),
        (RG_BASE_FORMATS, Probe),
        (INTEGER_RG_FORMATS, Probe),
        (FLOAT_RG_FORMATS, Probe),
        (SNORM_FORMATS, Probe),
        (SNORM_LA_FORMATS, Probe),
    ];
    if has_ext("GL_S3_s3tc")
        || has_ext("GL_EXT_texture_compression_s3tc")
        || has_ext("GL_ANGLE_texture_compression_dxt")
    {
        groups.push((DXTN_FORMATS, Compressed));
        groups.push((DXTN_SRGB_FORMATS, Compressed));
    }
    if has_ext("GL_ARB_texture_compression_rgtc") || has_ext("GL_EXT_texture_compression_rgtc") {
        groups.push((RGTC_FORMATS, Compressed));
    }
    if has_ext("GL_ARB_texture_compression_bptc") || has_ext("GL_EXT_texture_compression_bptc") {
        groups.push((BPTC_FORMATS, Compressed));
    }
    groups.extend([
        (SRGB_FORMATS, Probe),
        (BIT10_FORMATS, Probe),
        (PACKED_FLOAT_FORMATS, Probe),
        (EXPONENT_FLOAT_FORMATS, Probe),
    ]);
    if gles {
        // GLES has no BGRA transfers worth the name: BGR* are stored as RGB* and swizzled on
        // the CPU during transfers; Z32 is faked with Z24.
        groups.extend([
            (GLES_BGRA_FORMATS, Probe),
            (GLES_Z32_FORMAT, Probe),
            (GLES_BIT10_FORMATS, Probe),
        ]);
        if has_ext("GL_KHR_texture_compression_astc_ldr") {
            groups.push((ASTC_FORMATS, Compressed));
        }
        if gl_version >= 30 {
            groups.push((ETC2_FORMATS, Compressed));
        }
    } else {
        groups.extend([
            (GL_Z32_FORMAT, Probe),
            (GL_BASE_RGBA_FORMATS, Probe),
            (GL_BGRA_FORMATS, Probe),
            (GL_BIT10_FORMATS, Probe),
        ]);
    }
    groups
}

/// What the host can do with a format, found by probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FormatCaps {
    /// `VIRGL_BIND_SAMPLER_VIEW | RENDER_TARGET | DEPTH_STENCIL` as the host allows.
    pub bind: u32,
    pub can_readback: bool,
    pub can_rectangle: bool,
    pub can_texture_storage: bool,
    pub can_multisample: bool,
}

/// A virgl format the host supports, with its GL mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostFormat {
    pub entry: FormatEntry,
    pub caps: FormatCaps,
}

/// Options steering the probe, from the host's features.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProbeOptions {
    pub gles: bool,
    /// Context version × 10.
    pub gl_version: u32,
    pub texture_storage: bool,
    pub multisample: bool,
    pub storage_multisample: bool,
}

/// The probed conversion table, indexed by virgl format.
#[derive(Debug, Clone)]
pub struct FormatTable {
    formats: Vec<Option<HostFormat>>,
}

fn gl_error(gl: &glow::Context) -> u32 {
    // SAFETY: glGetError has no preconditions beyond a current context, which the caller of
    // `FormatTable::probe` guarantees.
    unsafe { gl.get_error() }
}

fn drain_errors(gl: &glow::Context) {
    // Bounded: a lost context may report errors forever.
    for _ in 0..16 {
        if gl_error(gl) == glow::NO_ERROR {
            break;
        }
    }
}

impl FormatTable {
    /// Probes every candidate on the current context of `gl`.
    ///
    /// The context must be current on this thread. GL state touched: texture bindings of
    /// TEXTURE_2D / RECTANGLE / 2D_MULTISAMPLE and the FRAMEBUFFER binding, reset to 0.
    pub fn probe(
        gl: &glow::Context,
        options: &ProbeOptions,
        has_ext: &dyn Fn(&str) -> bool,
    ) -> VrendResult<Self> {
        let mut formats = vec![None; vf::MAX as usize];
        drain_errors(gl);
        for (group, admit) in candidate_groups(options.gles, options.gl_version, has_ext) {
            for entry in group {
                let slot = formats
                    .get_mut(entry.virgl as usize)
                    .ok_or_else(|| VrendError::Invalid(format!("format {}", entry.virgl)))?;
                if slot.is_some() {
                    continue;
                }
                *slot = match admit {
                    Admit::Compressed => Some(HostFormat {
                        entry: *entry,
                        caps: FormatCaps {
                            bind: bind::SAMPLER_VIEW,
                            can_readback: !options.gles,
                            ..Default::default()
                        },
                    }),
                    Admit::Probe => probe_entry(gl, entry, options, has_ext)?,
                };
            }
        }
        if options.texture_storage {
            for host in formats.iter_mut().flatten() {
                host.caps.can_texture_storage = probe_storage(gl, &host.entry)?;
            }
        }
        if options.multisample {
            for host in formats.iter_mut().flatten() {
                let available = if host.caps.can_texture_storage {
                    options.storage_multisample
                } else {
                    !options.gles
                };
                if available && !host.entry.layout().compressed {
                    host.caps.can_multisample =
                        probe_multisample(gl, &host.entry, host.caps.can_texture_storage)?;
                }
            }
        }
        Ok(Self { formats })
    }

    /// The host mapping of a virgl format, if the host supports it.
    pub fn get(&self, virgl: u32) -> Option<&HostFormat> {
        self.formats.get(virgl as usize).and_then(Option::as_ref)
    }

    /// Every supported format.
    pub fn iter(&self) -> impl Iterator<Item = &HostFormat> {
        self.formats.iter().flatten()
    }
}

fn probe_entry(
    gl: &glow::Context,
    entry: &FormatEntry,
    options: &ProbeOptions,
    has_ext: &dyn Fn(&str) -> bool,
) -> VrendResult<Option<HostFormat>> {
    // SAFETY: the caller holds a current context; every object created here is deleted before
    // returning and bindings are reset to 0. Null pixel data is valid for glTexImage2D.
    unsafe {
        let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        let fbo = gl.create_framebuffer().map_err(VrendError::HostGlMissing)?;
        gl.bind_texture(glow::TEXTURE_2D, Some(tex));
        gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
        drain_errors(gl);
        gl.tex_image_2d(
            glow::TEXTURE_2D,
            0,
            entry.internal as i32,
            32,
            32,
            0,
            entry.format,
            entry.ty,
            glow::PixelUnpackData::Slice(None),
        );
        if gl_error(gl) != glow::NO_ERROR {
            gl.bind_texture(glow::TEXTURE_2D, None);
            gl.bind_framebuffer(glow::FRAMEBUFFER, None);
            gl.delete_texture(tex);
            gl.delete_framebuffer(fbo);
            return Ok(None);
        }
        let mut caps = FormatCaps::default();
        if !options.gles {
            let rect = gl.create_texture().map_err(VrendError::HostGlMissing)?;
            gl.bind_texture(glow::TEXTURE_RECTANGLE, Some(rect));
            gl.tex_image_2d(
                glow::TEXTURE_RECTANGLE,
                0,
                entry.internal as i32,
                32,
                32,
                0,
                entry.format,
                entry.ty,
                glow::PixelUnpackData::Slice(None),
            );
            caps.can_rectangle = gl_error(gl) == glow::NO_ERROR;
            gl.bind_texture(glow::TEXTURE_RECTANGLE, None);
            gl.delete_texture(rect);
        }
        let is_depth = entry.is_depth_stencil();
        if is_depth {
            // Stencil-bearing formats go to the combined attachment, as upstream does (which
            // leaves stencil-only formats unrenderable).
            let attachment = if entry.has_stencil() {
                glow::DEPTH_STENCIL_ATTACHMENT
            } else {
                glow::DEPTH_ATTACHMENT
            };
            gl.framebuffer_texture_2d(
                glow::FRAMEBUFFER,
                attachment,
                glow::TEXTURE_2D,
                Some(tex),
                0,
            );
            gl.draw_buffers(&[glow::NONE]);
        } else {
            gl.framebuffer_texture_2d(
                glow::FRAMEBUFFER,
                glow::COLOR_ATTACHMENT0,
                glow::TEXTURE_2D,
                Some(tex),
                0,
            );
            gl.draw_buffers(&[glow::COLOR_ATTACHMENT0]);
        }
        let complete = gl.check_framebuffer_status(glow::FRAMEBUFFER) == glow::FRAMEBUFFER_COMPLETE;
        caps.bind = bind::SAMPLER_VIEW;
        if complete {
            caps.bind |= if is_depth {
                bind::DEPTH_STENCIL
            } else {
                bind::RENDER_TARGET
            };
        }
        // Desktop GL reads any texture back with glGetTexImage; GLES only through glReadPixels
        // on formats the implementation agrees to.
        caps.can_readback = !options.gles
            || (complete
                && if is_depth {
                    depth_readback(entry, has_ext)
                } else {
                    color_readback(gl, entry, options.gl_version, has_ext)
                });
        gl.bind_texture(glow::TEXTURE_2D, None);
        gl.bind_framebuffer(glow::FRAMEBUFFER, None);
        gl.delete_texture(tex);
        gl.delete_framebuffer(fbo);
        drain_errors(gl);
        Ok(Some(HostFormat {
            entry: *entry,
            caps,
        }))
    }
}

fn depth_readback(entry: &FormatEntry, has_ext: &dyn Fn(&str) -> bool) -> bool {
    match (entry.has_depth(), entry.has_stencil()) {
        (true, false) => has_ext("GL_NV_read_depth"),
        (true, true) => has_ext("GL_NV_read_depth_stencil"),
        _ => has_ext("GL_NV_read_stencil"),
    }
}

fn color_readback(
    gl: &glow::Context,
    entry: &FormatEntry,
    gles_ver: u32,
    has_ext: &dyn Fn(&str) -> bool,
) -> bool {
    match entry.virgl {
        vf::R8G8B8A8_UNORM => return true,
        vf::R32G32B32A32_SINT | vf::R32G32B32A32_UINT if gles_ver >= 30 => return true,
        vf::R32G32B32A32_FLOAT if gles_ver >= 32 || has_ext("GL_EXT_color_buffer_float") => {
            return true
        }
        vf::B10G10R10A2_UNORM | vf::B10G10R10X2_UNORM => return false,
        _ => {}
    }
    // SAFETY: a current context with the probe framebuffer bound.
    unsafe {
        gl.get_parameter_i32(glow::IMPLEMENTATION_COLOR_READ_TYPE) == entry.ty as i32
            && gl.get_parameter_i32(glow::IMPLEMENTATION_COLOR_READ_FORMAT) == entry.format as i32
    }
}

fn probe_storage(gl: &glow::Context, entry: &FormatEntry) -> VrendResult<bool> {
    // SAFETY: current context; the texture is deleted before returning.
    unsafe {
        let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        gl.bind_texture(glow::TEXTURE_2D, Some(tex));
        drain_errors(gl);
        gl.tex_storage_2d(glow::TEXTURE_2D, 1, entry.internal, 32, 32);
        let ok = gl_error(gl) == glow::NO_ERROR;
        gl.bind_texture(glow::TEXTURE_2D, None);
        gl.delete_texture(tex);
        Ok(ok)
    }
}

fn probe_multisample(gl: &glow::Context, entry: &FormatEntry, storage: bool) -> VrendResult<bool> {
    // SAFETY: current context; the texture is deleted before returning.
    unsafe {
        let tex = gl.create_texture().map_err(VrendError::HostGlMissing)?;
        gl.bind_texture(glow::TEXTURE_2D_MULTISAMPLE, Some(tex));
        drain_errors(gl);
        if storage {
            gl.tex_storage_2d_multisample(
                glow::TEXTURE_2D_MULTISAMPLE,
                2,
                entry.internal,
                32,
                32,
                true,
            );
        } else {
            gl.tex_image_2d_multisample(
                glow::TEXTURE_2D_MULTISAMPLE,
                2,
                entry.internal as i32,
                32,
                32,
                true,
            );
        }
        let ok = gl_error(gl) == glow::NO_ERROR;
        gl.bind_texture(glow::TEXTURE_2D_MULTISAMPLE, None);
        gl.delete_texture(tex);
        Ok(ok)
    }
}

/// Every candidate entry of every group, for exhaustive tests.
pub fn all_entries() -> impl Iterator<Item = &'static FormatEntry> {
    candidate_groups(false, 45, &|_| true)
        .into_iter()
        .chain(candidate_groups(true, 32, &|_| true))
        .flat_map(|(g, _)| g.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_a_known_layout() {
        for entry in all_entries() {
            assert!(entry.virgl < vf::MAX);
            let layout = entry.layout();
            if !layout.compressed {
                assert!(
                    components(entry.format).is_some(),
                    "format {:#x}",
                    entry.format
                );
            }
            assert!(
                matches!(layout.bytes, 1 | 2 | 3 | 4 | 6 | 8 | 12 | 16),
                "{entry:?}"
            );
        }
    }

    #[test]
    fn layouts_of_well_known_formats() {
        let find = |v| all_entries().find(|e| e.virgl == v).unwrap().layout();
        assert_eq!(find(vf::B8G8R8A8_UNORM).bytes, 4);
        assert_eq!(find(vf::B5G6R5_UNORM).bytes, 2);
        assert_eq!(find(vf::R32G32B32_FLOAT).bytes, 12);
        assert_eq!(find(vf::Z32_FLOAT_S8X24_UINT).bytes, 8);
        let dxt1 = find(vf::DXT1_RGB);
        assert_eq!((dxt1.width, dxt1.height, dxt1.bytes), (4, 4, 8));
        let astc = find(vf::ASTC_10x8_SRGB);
        assert_eq!((astc.width, astc.height, astc.bytes), (10, 8, 16));
    }

    #[test]
    fn gl_layouts_agree_with_the_virgl_format_table() {
        // Entries whose GL transfer layout cannot equal the guest layout; transfers of these are
        // not bit-exact (upstream has the same limitation).
        let known = [vf::X24S8_UINT];
        let mut mismatches = Vec::new();
        for entry in all_entries() {
            let Some(f) = virgl_protocol::VirglFormat::from_raw(entry.virgl) else {
                mismatches.push(format!("{}: unknown to virgl-protocol", entry.virgl));
                continue;
            };
            let l = entry.layout();
            let (bw, bh) = f.block_size();
            let ours = (l.width, l.height, l.bytes);
            let theirs = (u32::from(bw), u32::from(bh), u32::from(f.block_bytes()));
            if ours != theirs && !known.contains(&entry.virgl) {
                mismatches.push(format!(
                    "{} {}: GL {ours:?} vs virgl {theirs:?}",
                    entry.virgl,
                    f.name()
                ));
            }
        }
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }
}
