//! [`Program`] → GLSL source.
//!
//! # Binding contract (what the draw code must do)
//!
//! Every name below is listed in [`ShaderInterface`], so the draw code never has to guess.
//! `<s>` is the stage prefix: `vs`, `tcs`, `tes`, `gs`, `fs`, `cs`.
//!
//! - **Constant buffer 0** (`CONST[i]` / `CONST[0][i]`) is a plain uniform array
//!   `uniform uvec4 <s>_c0[N]`; upload the guest's bytes unchanged with `glUniform4uiv`
//!   (TGSI registers are untyped: the shader reinterprets the bits itself).
//! - **Constant buffers k ≥ 1** (`CONST[k][i]`) are std140 uniform blocks named `<s>_ubo<k>`
//!   holding `uvec4 <s>_ubo<k>_d[N]`; the draw code picks a binding point, calls
//!   `glUniformBlockBinding` with the block index and binds the guest buffer there.
//! - **Samplers**: `SAMP[n]` becomes `uniform <type> <s>_samp<n>` (or `<s>_samp[n]` when the
//!   shader indexes samplers indirectly); the GLSL type comes from `SVIEW[n]` (return type,
//!   target) and the instruction's target (shadow). Set each to a texture unit with
//!   `glUniform1i` and bind sampler view n / sampler state n on that unit.
//! - **Images** and **shader buffers** carry explicit `layout(binding = n)` equal to their TGSI
//!   index. **Atomic counters** (`HWATOMIC[b][i..j]`) are `layout(binding = b, offset = 4i)
//!   uniform atomic_uint ac<b>_<i>[j - i + 1]`; bind atomic buffer b to
//!   `GL_ATOMIC_COUNTER_BUFFER` index b ([`ShaderInterface::atomic_buffers`]).
//! - **Vertex attributes**: `IN[n]` of a vertex shader is `in vec4 attr<n>` (ivec4/uvec4 when
//!   the key says the vertex element is an integer format), with `layout(location = n)` when
//!   the target has explicit locations; otherwise call `glBindAttribLocation(prog, n, "attr<n>")`
//!   before linking.
//! - **Fragment outputs**: `COLOR[i]` becomes `out vec4 fsout_c<i>` (ivec4/uvec4 for integer
//!   colour buffers per the key) with `layout(location = i)` when available, otherwise
//!   `glBindFragDataLocation(prog, i, "fsout_c<i>")`.
//! - **Varyings** link by name: an output of stage X with semantic S is `<x>_<S>` (`vs_g3` for
//!   GENERIC[3], `vs_c0` for COLOR[0], `tcs_p0` for PATCH[0]...); the consumer names its inputs
//!   after [`ShaderKey::prev_stage`]. With GLSL before 4.40 (and GLSL ES) interpolation
//!   qualifiers must match across the interface: give the producing stage the consumer's
//!   inputs in [`ShaderKey::next_interp`] (from the fragment shader's [`ShaderInterface`]).
//! - **Transform feedback** ([`ShaderKey::stream_output`]): captured output i is copied to
//!   `out float|vecN virgl_tf<i>`; pass [`ShaderInterface::so_varyings`] (with
//!   `gl_NextBuffer`/`gl_SkipComponentsN` markers for the layout) to
//!   `glTransformFeedbackVaryings(.., INTERLEAVED_ATTRIBS)` before linking.
//! - **User clip planes** ([`ShaderKey::clip_plane_enable`]): the last vertex stage declares
//!   `uniform vec4 virgl_clip_plane[8]`; upload the planes there (eye-space planes are the
//!   guest's business: Gallium gives them in clip space already).
//!
//! # Register model
//! TGSI registers are untyped vec4s. Temporaries are `vec4` (one variable per register, arrays
//! for `ARRAY(n)` declarations); integer and double operations reinterpret the bits with
//! `floatBitsToUint`/`uintBitsToFloat`/`packDouble2x32`, so values survive moves bit-exactly.
//! Outputs are written to shadow registers and copied to the GLSL outputs at the end of the
//! shader (and before each `EmitVertex`), where the key's fix-ups (BGRA swizzle, alpha test,
//! clip distances, Y flip) are applied.

mod emit;
mod emit_inst;
mod emit_io;
mod emit_tex;
mod expr;
mod iface;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::ir::*;
use crate::error::VrendError;

pub use iface::{
    ImageBinding, SamplerBinding, SamplerKind, ShaderInterface, StorageBinding,
    UniformBlockBinding, Varying, VaryingInterp,
};

/// The GLSL dialect to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlslTarget {
    /// GLSL ES instead of desktop GLSL.
    pub es: bool,
    /// `#version` number: 140..=460 (desktop, core profile) or 300..=320 (ES).
    pub version: u32,
    /// Extensions the host compiler offers (`GL_ARB_gpu_shader5`...), used when a feature is
    /// not core in `version`.
    pub extensions: Vec<String>,
}

impl GlslTarget {
    /// Desktop GLSL, core profile.
    pub fn desktop(version: u32) -> Self {
        GlslTarget {
            es: false,
            version,
            extensions: Vec::new(),
        }
    }

    /// GLSL ES.
    pub fn es(version: u32) -> Self {
        GlslTarget {
            es: true,
            version,
            extensions: Vec::new(),
        }
    }

    fn has_ext(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e == name)
    }
}

/// Alpha test comparison (`PIPE_FUNC_*` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlphaFunc {
    Never,
    Less,
    Equal,
    LessEqual,
    Greater,
    NotEqual,
    GreaterEqual,
    Always,
}

impl AlphaFunc {
    /// From `PIPE_FUNC_*`.
    pub fn from_pipe(v: u32) -> Option<Self> {
        use AlphaFunc::*;
        [
            Never,
            Less,
            Equal,
            LessEqual,
            Greater,
            NotEqual,
            GreaterEqual,
            Always,
        ]
        .get(v as usize)
        .copied()
    }
}

/// Pipeline state the generated GLSL depends on. Equal keys give equal GLSL, so it can key a
/// variant cache.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShaderKey {
    /// Flat-shade COLOR/BCOLOR varyings (rasterizer `flatshade`).
    pub flatshade: bool,
    /// Fragment shader: pick COLOR or BCOLOR inputs by `gl_FrontFacing`.
    pub color_two_side: bool,
    /// Fragment shader: alpha test of colour 0 with a reference value.
    pub alpha_test: Option<(AlphaFunc, f32)>,
    /// Last vertex stage: user clip planes to turn into `gl_ClipDistance` (bit i = plane i).
    pub clip_plane_enable: u8,
    /// Fragment shader: GENERIC/TEXCOORD inputs replaced by the point coordinate (bit = index).
    pub sprite_coord_enable: u32,
    /// Point coordinate origin is the upper left (flip `gl_PointCoord.y` otherwise).
    pub sprite_coord_upper_left: bool,
    /// Fragment shader: colour outputs to write swizzled `.bgra` (bit = colour buffer).
    pub cbuf_bgra_swizzle: u8,
    /// Fragment shader: colour buffers with signed / unsigned integer formats.
    pub cbuf_signed_int: u8,
    pub cbuf_unsigned_int: u8,
    /// Fragment shader: colour buffers bound (for `FS_COLOR0_WRITES_ALL_CBUFS`).
    pub nr_cbufs: u8,
    /// Vertex shader: attributes with signed / unsigned integer formats (bit = attribute).
    pub attrib_signed_int: u32,
    pub attrib_unsigned_int: u32,
    /// The stage whose outputs feed this one (its prefix names this stage's inputs). `None`:
    /// vertex for TCS/GS/FS, tessellation control for TES.
    pub prev_stage: Option<Processor>,
    /// Tessellation evaluation shader: the bound TCS declares its patch outputs as one array
    /// of this length ([`tcs_patch_array`]), so the inputs must be that array too.
    pub prev_patch_array: Option<u32>,
    /// Last vertex stage: outputs captured by transform feedback (the shader object's
    /// stream-output info while stream-output targets are bound).
    pub stream_output: Option<StreamOutputKey>,
    /// This stage is the last before rasterization: apply Y flip and user clip planes.
    /// `None`: true for vertex, tessellation evaluation and geometry shaders.
    pub last_vertex_stage: Option<bool>,
    /// Negate `gl_Position.y` in the last vertex stage (rendering to a Y-inverted surface).
    pub flip_y: bool,
    /// Fragment shader: the host framebuffer's rows run opposite to the guest's for this
    /// draw, so `FS_COORD_ORIGIN` is inverted (upper-left ↔ lower-left) for `gl_FragCoord`.
    pub fragcoord_origin_flip: bool,
    /// Interpolation the consumer declares per varying (GLSL < 4.40 and ES need it to match).
    pub next_interp: Vec<VaryingInterp>,
    /// Varyings the consumer reads (vertex, tessellation evaluation and geometry shaders
    /// write the ones they lack: BCOLOR as their COLOR, others as zero, so the program links
    /// the way Gallium's undefined-but-harmless inputs behave).
    pub next_inputs: Vec<Semantic>,
    /// Compute shader: bytes of shared memory (`MEMORY[n], SHARED`) from the create command.
    pub shared_mem_bytes: u32,
    /// GL_CLAMP emulation: bit `i` of element `c` clamps coordinate `c` (s, t, r) of sampler
    /// `i` to [0, 1] before sampling (the sampler wraps with CLAMP_TO_BORDER instead).
    pub gl_clamp: [u32; 3],
}

/// One captured output: components `start..start + count` of output register `register`
/// go to buffer `buffer` at dword `dst_offset` of each vertex record (Gallium's
/// `pipe_stream_output`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SoOutput {
    pub register: u32,
    pub start: u8,
    pub count: u8,
    pub buffer: u8,
    pub dst_offset: u16,
    pub stream: u8,
}

/// Transform feedback layout of a shader: captured outputs and the per-buffer vertex stride
/// in dwords.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct StreamOutputKey {
    pub outputs: Vec<SoOutput>,
    pub stride: [u32; 4],
}

/// Whether a tessellation control shader keeps its patch outputs in one array
/// `patch out vec4 tcs_pa[n]` (element = PATCH semantic index), and n. It does when it
/// indexes its outputs indirectly: a store through a dynamic array index is the form GL
/// implementations handle for per-patch data written by several invocations (llvmpipe
/// mis-stores lone patch variables written under divergent control flow). The draw code
/// passes the result to the TES in [`ShaderKey::prev_patch_array`].
pub fn tcs_patch_array(p: &Program) -> Option<u32> {
    if p.processor != Processor::TessCtrl {
        return None;
    }
    let indirect = p.instructions.iter().any(|i| {
        i.dst
            .iter()
            .any(|d| d.file == File::Output && d.index.indirect.is_some() && d.dimension.is_none())
            || i.src.iter().any(|s| {
                s.file == File::Output && s.index.indirect.is_some() && s.dimension.is_none()
            })
    });
    if !indirect {
        return None;
    }
    p.decls(File::Output)
        .filter_map(|d| {
            let s = d.semantic?;
            (s.name == SemanticName::Patch && !d.per_vertex)
                .then(|| s.index.saturating_add(d.last - d.first).saturating_add(1))
        })
        .max()
        .filter(|&n| n <= 32)
}

/// A generated shader.
#[derive(Debug, Clone, PartialEq)]
pub struct GlslShader {
    pub stage: Processor,
    /// Complete GLSL source, `#version` line first.
    pub source: String,
    pub interface: ShaderInterface,
}

/// GL shader type (`GL_VERTEX_SHADER`...) of a processor.
pub fn gl_shader_type(p: Processor) -> u32 {
    match p {
        Processor::Vertex => 0x8B31,
        Processor::Fragment => 0x8B30,
        Processor::Geometry => 0x8DD9,
        Processor::TessCtrl => 0x8E88,
        Processor::TessEval => 0x8E87,
        Processor::Compute => 0x91B9,
    }
}

/// Stage prefix used in generated names.
pub fn stage_prefix(p: Processor) -> &'static str {
    match p {
        Processor::Vertex => "vs",
        Processor::Fragment => "fs",
        Processor::Geometry => "gs",
        Processor::TessCtrl => "tcs",
        Processor::TessEval => "tes",
        Processor::Compute => "cs",
    }
}

/// A GLSL feature that is core from some version or needs an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Feature {
    BitEncoding,
    ExplicitAttribLocation,
    Geometry,
    Tessellation,
    Compute,
    GpuShader5,
    Fp64,
    TextureGather,
    QueryLod,
    QueryLevels,
    TextureSamples,
    CubeArray,
    SampleShading,
    ImageLoadStore,
    Ssbo,
    DerivativeControl,
    StencilExport,
    BufferTexture,
    MsArray,
    FragCoordConventions,
    ViewportLayerFs,
    /// `gl_ViewportIndex` on GLSL ES (desktop: the stage's own feature covers it).
    EsViewportIndex,
    /// `gl_ClipDistance` on GLSL ES (built in, never redeclared, behind the extension).
    EsClipDistance,
    PackHalf,
    AtomicCounters,
    AtomicCounterOps,
    ShaderGroupVote,
}

impl Feature {
    /// (desktop core version, ES core version, desktop extension, ES extension).
    fn info(self) -> (u32, u32, &'static str, &'static str) {
        use Feature::*;
        match self {
            BitEncoding => (330, 300, "GL_ARB_shader_bit_encoding", ""),
            ExplicitAttribLocation => (330, 300, "GL_ARB_explicit_attrib_location", ""),
            Geometry => (150, 320, "", "GL_EXT_geometry_shader"),
            Tessellation => (
                400,
                320,
                "GL_ARB_tessellation_shader",
                "GL_EXT_tessellation_shader",
            ),
            Compute => (430, 310, "GL_ARB_compute_shader", ""),
            GpuShader5 => (400, 320, "GL_ARB_gpu_shader5", "GL_EXT_gpu_shader5"),
            Fp64 => (400, u32::MAX, "GL_ARB_gpu_shader_fp64", ""),
            TextureGather => (400, 310, "GL_ARB_texture_gather", ""),
            QueryLod => (400, u32::MAX, "GL_ARB_texture_query_lod", ""),
            QueryLevels => (430, u32::MAX, "GL_ARB_texture_query_levels", ""),
            TextureSamples => (450, u32::MAX, "GL_ARB_shader_texture_image_samples", ""),
            CubeArray => (
                400,
                320,
                "GL_ARB_texture_cube_map_array",
                "GL_EXT_texture_cube_map_array",
            ),
            SampleShading => (400, 320, "GL_ARB_sample_shading", "GL_OES_sample_variables"),
            ImageLoadStore => (420, 310, "GL_ARB_shader_image_load_store", ""),
            Ssbo => (430, 310, "GL_ARB_shader_storage_buffer_object", ""),
            DerivativeControl => (450, u32::MAX, "GL_ARB_derivative_control", ""),
            StencilExport => (u32::MAX, u32::MAX, "GL_ARB_shader_stencil_export", ""),
            BufferTexture => (140, 320, "", "GL_EXT_texture_buffer"),
            MsArray => (
                150,
                320,
                "GL_ARB_texture_multisample",
                "GL_OES_texture_storage_multisample_2d_array",
            ),
            FragCoordConventions => (150, u32::MAX, "GL_ARB_fragment_coord_conventions", ""),
            ViewportLayerFs => (430, 320, "", "GL_EXT_geometry_shader"),
            EsViewportIndex => (0, u32::MAX, "", "GL_OES_viewport_array"),
            EsClipDistance => (0, u32::MAX, "", "GL_EXT_clip_cull_distance"),
            PackHalf => (420, 300, "GL_ARB_shading_language_packing", ""),
            AtomicCounters => (420, 310, "GL_ARB_shader_atomic_counters", ""),
            AtomicCounterOps => (460, u32::MAX, "GL_ARB_shader_atomic_counter_ops", ""),
            ShaderGroupVote => (460, u32::MAX, "GL_ARB_shader_group_vote", ""),
        }
    }
}

pub(crate) fn shader_err(line: usize, message: impl Into<String>) -> VrendError {
    VrendError::Shader {
        line,
        message: message.into(),
    }
}

/// Translates a program for one pipeline state and one GLSL dialect.
pub fn translate(
    prog: &Program,
    key: &ShaderKey,
    target: &GlslTarget,
) -> Result<GlslShader, VrendError> {
    check_target(target)?;
    let mut g = emit::Gen::new(prog, key, target)?;
    g.run()?;
    g.finish()
}

fn check_target(t: &GlslTarget) -> Result<(), VrendError> {
    let ok = if t.es {
        matches!(t.version, 300 | 310 | 320)
    } else {
        matches!(
            t.version,
            140 | 150 | 330 | 400 | 410 | 420 | 430 | 440 | 450 | 460
        )
    };
    if ok {
        Ok(())
    } else {
        Err(VrendError::Unsupported(format!(
            "GLSL {}{}",
            t.version,
            if t.es { " es" } else { "" }
        )))
    }
}

/// The pieces of the output, assembled in [`emit::Gen::finish`].
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub extensions: BTreeSet<&'static str>,
    pub layout: String,
    pub globals: String,
    pub body: String,
    pub indent: usize,
}

impl Out {
    pub fn line(&mut self, s: impl AsRef<str>) {
        for _ in 0..self.indent + 1 {
            self.body.push_str("   ");
        }
        self.body.push_str(s.as_ref());
        self.body.push('\n');
    }

    pub fn global(&mut self, s: impl AsRef<str>) {
        let _ = writeln!(self.globals, "{}", s.as_ref());
    }
}
