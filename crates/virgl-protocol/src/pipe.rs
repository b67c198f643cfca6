//! Gallium enums and bit sets that the virgl command stream carries as raw integers.
//!
//! The values are those of Mesa's `p_defines.h` as frozen in virglrenderer's copy (the guest
//! driver sends gallium values unchanged). The decoder in [`crate::command`] keeps most of these
//! fields as raw integers, because upstream accepts out-of-range values at decode time and rejects
//! them (or maps them) only when translating to GL; backends convert with the `from_raw`
//! functions here and turn `None` into their own error.
//!
//! This module does not translate to GL or Vulkan: that is the backends' job.

/// Declares a `u32`-valued enum with `from_raw`/`raw` conversions and a list of all values.
macro_rules! pipe_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:expr),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum $name {
            $($(#[$vmeta])* $variant = $value),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value for a raw wire integer, `None` if it is not one of ours.
            pub const fn from_raw(raw: u32) -> Option<Self> {
                match raw {
                    $(x if x == $value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The raw wire integer.
            pub const fn raw(self) -> u32 {
                self as u32
            }
        }

        impl TryFrom<u32> for $name {
            type Error = u32;
            fn try_from(raw: u32) -> Result<Self, u32> {
                Self::from_raw(raw).ok_or(raw)
            }
        }
    };
}

pipe_enum! {
    /// `enum pipe_shader_type`: the shader stage a command targets.
    ShaderType {
        Vertex = 0,
        Fragment = 1,
        Geometry = 2,
        TessCtrl = 3,
        TessEval = 4,
        Compute = 5,
    }
}

/// `PIPE_SHADER_TYPES`: the number of shader stages.
pub const SHADER_TYPES: usize = 6;

impl ShaderType {
    /// The stage as an index into per-stage arrays (`0..SHADER_TYPES`).
    pub const fn index(self) -> usize {
        self as usize
    }
}

pipe_enum! {
    /// `enum pipe_texture_target`.
    TextureTarget {
        Buffer = 0,
        Texture1D = 1,
        Texture2D = 2,
        Texture3D = 3,
        Cube = 4,
        Rect = 5,
        Texture1DArray = 6,
        Texture2DArray = 7,
        CubeArray = 8,
    }
}

pipe_enum! {
    /// `enum pipe_prim_type` (the `mode` of `DRAW_VBO`).
    PrimType {
        Points = 0,
        Lines = 1,
        LineLoop = 2,
        LineStrip = 3,
        Triangles = 4,
        TriangleStrip = 5,
        TriangleFan = 6,
        Quads = 7,
        QuadStrip = 8,
        Polygon = 9,
        LinesAdjacency = 10,
        LineStripAdjacency = 11,
        TrianglesAdjacency = 12,
        TriangleStripAdjacency = 13,
        Patches = 14,
    }
}

pipe_enum! {
    /// `enum pipe_blendfactor` (5-bit fields of the blend object).
    BlendFactor {
        One = 0x01,
        SrcColor = 0x02,
        SrcAlpha = 0x03,
        DstAlpha = 0x04,
        DstColor = 0x05,
        SrcAlphaSaturate = 0x06,
        ConstColor = 0x07,
        ConstAlpha = 0x08,
        Src1Color = 0x09,
        Src1Alpha = 0x0a,
        Zero = 0x11,
        InvSrcColor = 0x12,
        InvSrcAlpha = 0x13,
        InvDstAlpha = 0x14,
        InvDstColor = 0x15,
        InvConstColor = 0x17,
        InvConstAlpha = 0x18,
        InvSrc1Color = 0x19,
        InvSrc1Alpha = 0x1a,
    }
}

pipe_enum! {
    /// `enum pipe_blend_func`.
    BlendFunc {
        Add = 0,
        Subtract = 1,
        ReverseSubtract = 2,
        Min = 3,
        Max = 4,
    }
}

pipe_enum! {
    /// `enum pipe_logicop`.
    LogicOp {
        Clear = 0,
        Nor = 1,
        AndInverted = 2,
        CopyInverted = 3,
        AndReverse = 4,
        Invert = 5,
        Xor = 6,
        Nand = 7,
        And = 8,
        Equiv = 9,
        Noop = 10,
        OrInverted = 11,
        Copy = 12,
        OrReverse = 13,
        Or = 14,
        Set = 15,
    }
}

pipe_enum! {
    /// `enum pipe_compare_func` (depth, alpha, stencil and sampler compare functions).
    CompareFunc {
        Never = 0,
        Less = 1,
        Equal = 2,
        LEqual = 3,
        Greater = 4,
        NotEqual = 5,
        GEqual = 6,
        Always = 7,
    }
}

pipe_enum! {
    /// `enum pipe_stencil_op`.
    StencilOp {
        Keep = 0,
        Zero = 1,
        Replace = 2,
        Incr = 3,
        Decr = 4,
        IncrWrap = 5,
        DecrWrap = 6,
        Invert = 7,
    }
}

pipe_enum! {
    /// `PIPE_POLYGON_MODE_*` (rasterizer fill modes).
    PolygonMode {
        Fill = 0,
        Line = 1,
        Point = 2,
    }
}

pipe_enum! {
    /// `PIPE_FACE_*` (rasterizer cull face).
    Face {
        None = 0,
        Front = 1,
        Back = 2,
        FrontAndBack = 3,
    }
}

pipe_enum! {
    /// `enum pipe_tex_wrap`.
    TexWrap {
        Repeat = 0,
        Clamp = 1,
        ClampToEdge = 2,
        ClampToBorder = 3,
        MirrorRepeat = 4,
        MirrorClamp = 5,
        MirrorClampToEdge = 6,
        MirrorClampToBorder = 7,
    }
}

pipe_enum! {
    /// `enum pipe_tex_filter` (min/mag filters).
    TexFilter {
        Nearest = 0,
        Linear = 1,
    }
}

pipe_enum! {
    /// `enum pipe_tex_mipfilter`.
    TexMipFilter {
        Nearest = 0,
        Linear = 1,
        None = 2,
    }
}

pipe_enum! {
    /// `enum pipe_tex_compare`.
    TexCompare {
        None = 0,
        RToTexture = 1,
    }
}

pipe_enum! {
    /// `enum pipe_swizzle` as used by sampler views (3-bit fields).
    Swizzle {
        X = 0,
        Y = 1,
        Z = 2,
        W = 3,
        Zero = 4,
        One = 5,
        None = 6,
    }
}

pipe_enum! {
    /// `enum pipe_query_type`.
    QueryType {
        OcclusionCounter = 0,
        OcclusionPredicate = 1,
        Timestamp = 2,
        TimestampDisjoint = 3,
        TimeElapsed = 4,
        PrimitivesGenerated = 5,
        PrimitivesEmitted = 6,
        SoStatistics = 7,
        SoOverflowPredicate = 8,
        GpuFinished = 9,
        PipelineStatistics = 10,
        OcclusionPredicateConservative = 11,
        SoOverflowAnyPredicate = 12,
    }
}

pipe_enum! {
    /// `enum pipe_query_value_type` (result type of `GET_QUERY_RESULT_QBO`).
    QueryValueType {
        I32 = 0,
        U32 = 1,
        I64 = 2,
        U64 = 3,
    }
}

pipe_enum! {
    /// `enum pipe_render_cond_flag`.
    RenderCondMode {
        Wait = 0,
        NoWait = 1,
        ByRegionWait = 2,
        ByRegionNoWait = 3,
    }
}

pipe_enum! {
    /// `enum pipe_resource_usage`.
    ResourceUsage {
        Default = 0,
        Immutable = 1,
        Dynamic = 2,
        Stream = 3,
        Staging = 4,
    }
}

pipe_enum! {
    /// `enum vrend_tweak_type` (`SET_TWEAKS` ids).
    Tweak {
        GlesBgraEmulate = 0,
        GlesBgraApplyDestSwizzle = 1,
        GlesTf3SamplesPassesMultiplier = 2,
    }
}

pipe_enum! {
    /// `VIRGL_TRANSFER_TO_HOST` / `VIRGL_TRANSFER_FROM_HOST` (`TRANSFER3D` direction).
    TransferDirection {
        ToHost = 1,
        FromHost = 2,
    }
}

/// `PIPE_MASK_*`: colour/depth/stencil write and blit masks.
pub mod mask {
    pub const R: u32 = 0x1;
    pub const G: u32 = 0x2;
    pub const B: u32 = 0x4;
    pub const A: u32 = 0x8;
    pub const RGBA: u32 = 0xf;
    pub const Z: u32 = 0x10;
    pub const S: u32 = 0x20;
    pub const ZS: u32 = 0x30;
}

/// `PIPE_CLEAR_*`: the `buffers` bits of `CLEAR`.
pub mod clear {
    pub const DEPTH: u32 = 1 << 0;
    pub const STENCIL: u32 = 1 << 1;
    /// `PIPE_CLEAR_COLOR0 << i` for colour buffer `i` (0..8).
    pub const COLOR0: u32 = 1 << 2;
    pub const COLOR: u32 = 0xff << 2;
    pub const DEPTHSTENCIL: u32 = DEPTH | STENCIL;

    /// The bit that clears colour buffer `index` (`index < 8`).
    pub const fn color(index: u32) -> u32 {
        COLOR0 << (index & 7)
    }
}

/// `PIPE_TRANSFER_*` (`pipe_transfer_usage`): the `usage` dword of transfers and inline writes.
pub mod transfer {
    pub const READ: u32 = 1 << 0;
    pub const WRITE: u32 = 1 << 1;
    pub const READ_WRITE: u32 = READ | WRITE;
    pub const MAP_DIRECTLY: u32 = 1 << 2;
    pub const DISCARD_RANGE: u32 = 1 << 8;
    pub const DONTBLOCK: u32 = 1 << 9;
    pub const UNSYNCHRONIZED: u32 = 1 << 10;
    pub const FLUSH_EXPLICIT: u32 = 1 << 11;
    pub const DISCARD_WHOLE_RESOURCE: u32 = 1 << 12;
    pub const PERSISTENT: u32 = 1 << 13;
    pub const COHERENT: u32 = 1 << 14;
}

/// `PIPE_BARRIER_*`: the flags of `MEMORY_BARRIER`.
pub mod barrier {
    pub const MAPPED_BUFFER: u32 = 1 << 0;
    pub const SHADER_BUFFER: u32 = 1 << 1;
    pub const QUERY_BUFFER: u32 = 1 << 2;
    pub const VERTEX_BUFFER: u32 = 1 << 3;
    pub const INDEX_BUFFER: u32 = 1 << 4;
    pub const CONSTANT_BUFFER: u32 = 1 << 5;
    pub const INDIRECT_BUFFER: u32 = 1 << 6;
    pub const TEXTURE: u32 = 1 << 7;
    pub const IMAGE: u32 = 1 << 8;
    pub const FRAMEBUFFER: u32 = 1 << 9;
    pub const STREAMOUT_BUFFER: u32 = 1 << 10;
    pub const GLOBAL_BUFFER: u32 = 1 << 11;
    pub const UPDATE_BUFFER: u32 = 1 << 12;
    pub const UPDATE_TEXTURE: u32 = 1 << 13;
    pub const ALL: u32 = (1 << 14) - 1;
}

/// `PIPE_IMAGE_ACCESS_*`: the `access` dword of `SET_SHADER_IMAGES`.
pub mod image_access {
    pub const READ: u32 = 1 << 0;
    pub const WRITE: u32 = 1 << 1;
    pub const READ_WRITE: u32 = READ | WRITE;
}

/// Gallium limits (`p_state.h`) that bound counts in the command stream.
pub mod limits {
    pub const MAX_ATTRIBS: usize = 32;
    pub const MAX_CLIP_PLANES: usize = 8;
    pub const MAX_COLOR_BUFS: usize = 8;
    pub const MAX_CONSTANT_BUFFERS: usize = 32;
    pub const MAX_SAMPLERS: usize = 32;
    pub const MAX_SHADER_SAMPLER_VIEWS: usize = 128;
    pub const MAX_SHADER_BUFFERS: usize = 32;
    pub const MAX_SHADER_IMAGES: usize = 32;
    pub const MAX_SO_BUFFERS: usize = 4;
    pub const MAX_SO_OUTPUTS: usize = 64;
    pub const MAX_VIEWPORTS: usize = 16;
    pub const MAX_HW_ATOMIC_BUFFERS: usize = 32;
    pub const MAX_TEXTURE_LEVELS: usize = 16;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_raw_round_trips_every_value() {
        for &v in BlendFactor::ALL {
            assert_eq!(BlendFactor::from_raw(v.raw()), Some(v));
        }
        for &v in ShaderType::ALL {
            assert_eq!(ShaderType::try_from(v.raw()), Ok(v));
        }
        assert_eq!(BlendFactor::from_raw(0), None);
        assert_eq!(BlendFactor::from_raw(0x16), None);
        assert_eq!(ShaderType::from_raw(6), None);
        assert_eq!(PrimType::ALL.len(), 15);
        assert_eq!(TextureTarget::ALL.len(), 9);
    }

    #[test]
    fn clear_bits() {
        assert_eq!(clear::color(7), 1 << 9);
        assert_eq!(clear::COLOR, 0x3fc);
    }
}
