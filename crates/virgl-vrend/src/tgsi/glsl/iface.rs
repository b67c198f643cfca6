//! What a generated shader exposes to the draw code and to the neighbouring stages.

use crate::tgsi::ir::{InterpLocation, Interpolation, Processor, ReturnType, Semantic, TexTarget};

/// Interpolation a consumer uses for one varying (for [`ShaderKey::next_interp`]).
///
/// [`ShaderKey::next_interp`]: super::ShaderKey::next_interp
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VaryingInterp {
    pub semantic: Semantic,
    pub interpolation: Interpolation,
    pub location: InterpLocation,
}

/// A user varying (input or output) of the generated shader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Varying {
    pub semantic: Semantic,
    /// GLSL name (`vs_g0`).
    pub name: String,
    /// Interpolation as declared (inputs of fragment shaders; outputs when the key said).
    pub interpolation: Option<Interpolation>,
    pub location: InterpLocation,
    /// Patch (per-primitive) varying of tessellation shaders.
    pub patch: bool,
}

/// GLSL sampler type family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SamplerKind {
    /// Target without the shadow flag.
    pub target: TexTarget,
    pub shadow: bool,
    /// `Sint` → isampler, `Uint` → usampler, anything else → sampler.
    pub return_type: ReturnType,
}

/// A sampler uniform: set it to the unit where sampler view and sampler state `index` are bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplerBinding {
    /// `SAMP[index]`.
    pub index: u32,
    /// Uniform name for `glGetUniformLocation` (`fs_samp0` or `fs_samp[0]`).
    pub name: String,
    pub kind: SamplerKind,
    /// Shadow samplers: `vec4` uniforms (mask, add) that apply the view's swizzle to the
    /// comparison result (`result * mask + add`): GLSL returns a bare float there, so the
    /// texture swizzle cannot. Per component: mask 1 for X/Y/Z/W, 0 for ZERO/ONE; add 1 for
    /// ONE.
    pub shadow_swizzle: Option<(String, String)>,
}

/// A uniform block holding constant buffer `buffer_index` (≥ 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UniformBlockBinding {
    pub buffer_index: u32,
    /// Block name for `glGetUniformBlockIndex`.
    pub name: String,
    /// Declared size in vec4s (the bound range must be at least 16 × this many bytes).
    pub vec4s: u32,
}

/// An image uniform (`layout(binding = index)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageBinding {
    pub index: u32,
    pub name: String,
    pub target: TexTarget,
    pub format: String,
}

/// A shader storage block (`layout(binding = index)`), `BUFFER[index]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageBinding {
    pub index: u32,
    pub name: String,
}

/// Everything the draw code and the next stage need to know about a generated shader.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ShaderInterface {
    pub stage: Option<Processor>,
    /// Constant buffer 0: uniform array name and length in vec4s (upload raw with
    /// `glUniform4uiv`).
    pub const0: Option<(String, u32)>,
    pub uniform_blocks: Vec<UniformBlockBinding>,
    pub samplers: Vec<SamplerBinding>,
    pub images: Vec<ImageBinding>,
    pub storage: Vec<StorageBinding>,
    /// Atomic counter buffer bindings the shader declares (`HWATOMIC[b]`).
    pub atomic_buffers: Vec<u32>,
    /// Vertex shader: (attribute index, GLSL name).
    pub attributes: Vec<(u32, String)>,
    /// Fragment shader: (colour buffer / location, GLSL name).
    pub frag_outputs: Vec<(u32, String)>,
    /// User varyings read.
    pub inputs: Vec<Varying>,
    /// User varyings written.
    pub outputs: Vec<Varying>,
    /// `uniform vec4 virgl_clip_plane[8]` is declared (user clip planes).
    pub clip_plane_uniform: Option<String>,
    /// `uniform float virgl_fb_height` is declared: a GLES fragment shader emulating an
    /// upper-left `gl_FragCoord` origin (ES has no `layout(origin_upper_left)`); the draw sets
    /// it to the framebuffer's height.
    pub fb_height_uniform: Option<String>,
    /// Number of `gl_ClipDistance` entries written.
    pub num_clip_distances: u32,
    /// Whether a fragment shader writes depth.
    pub writes_depth: bool,
    /// Whether a fragment shader uses `discard`.
    pub uses_discard: bool,
    /// Compute shader local size.
    pub local_size: [u32; 3],
    /// Transform feedback varyings in capture order, for `glTransformFeedbackVaryings` with
    /// `INTERLEAVED_ATTRIBS` (empty: nothing captured).
    pub so_varyings: Vec<String>,
}
