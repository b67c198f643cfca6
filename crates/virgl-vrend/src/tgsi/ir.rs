//! The typed form of a TGSI program, as the parser builds it and the GLSL generator reads it.
//!
//! It mirrors the text closely (one [`Declaration`] per `DCL` line, one [`Instruction`] per
//! instruction line) so errors can point at a line; it does no semantic analysis beyond what
//! the parser checks (operand counts, index bounds, known names).

pub use super::opcode::{OpClass, Opcode};

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $( $v:ident = $s:literal, )* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $( $v, )* }

        impl $name {
            /// Every value, in Gallium's numbering order.
            pub const ALL: &'static [$name] = &[$( $name::$v, )*];

            /// The spelling in TGSI text.
            pub fn name(self) -> &'static str {
                match self { $( $name::$v => $s, )* }
            }

            /// Looks a spelling up.
            pub fn from_name(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == s)
            }
        }
    };
}

named_enum! {
    /// The shader stage (`VERT`, `FRAG`...).
    Processor {
        Fragment = "FRAG",
        Vertex = "VERT",
        Geometry = "GEOM",
        TessCtrl = "TESS_CTRL",
        TessEval = "TESS_EVAL",
        Compute = "COMP",
    }
}

named_enum! {
    /// A register file.
    File {
        Null = "NULL",
        Const = "CONST",
        Input = "IN",
        Output = "OUT",
        Temp = "TEMP",
        Sampler = "SAMP",
        Address = "ADDR",
        Immediate = "IMM",
        Predicate = "PRED",
        SystemValue = "SV",
        Image = "IMAGE",
        SamplerView = "SVIEW",
        Buffer = "BUFFER",
        Memory = "MEMORY",
        HwAtomic = "HWATOMIC",
        ConstBuf = "CONSTBUF",
    }
}

named_enum! {
    /// Semantic names of inputs, outputs and system values.
    SemanticName {
        Position = "POSITION",
        Color = "COLOR",
        BColor = "BCOLOR",
        Fog = "FOG",
        Psize = "PSIZE",
        Generic = "GENERIC",
        Normal = "NORMAL",
        Face = "FACE",
        Edgeflag = "EDGEFLAG",
        PrimId = "PRIM_ID",
        InstanceId = "INSTANCEID",
        VertexId = "VERTEXID",
        Stencil = "STENCIL",
        ClipDist = "CLIPDIST",
        ClipVertex = "CLIPVERTEX",
        GridSize = "GRID_SIZE",
        BlockId = "BLOCK_ID",
        BlockSize = "BLOCK_SIZE",
        ThreadId = "THREAD_ID",
        Texcoord = "TEXCOORD",
        Pcoord = "PCOORD",
        ViewportIndex = "VIEWPORT_INDEX",
        Layer = "LAYER",
        CullDist = "CULLDIST",
        SampleId = "SAMPLEID",
        SamplePos = "SAMPLEPOS",
        SampleMask = "SAMPLEMASK",
        InvocationId = "INVOCATIONID",
        VertexIdNobase = "VERTEXID_NOBASE",
        BaseVertex = "BASEVERTEX",
        Patch = "PATCH",
        TessCoord = "TESSCOORD",
        TessOuter = "TESSOUTER",
        TessInner = "TESSINNER",
        VerticesIn = "VERTICESIN",
        HelperInvocation = "HELPER_INVOCATION",
        BaseInstance = "BASEINSTANCE",
        DrawId = "DRAWID",
        WorkDim = "WORK_DIM",
        SubgroupSize = "SUBGROUP_SIZE",
        SubgroupInvocation = "SUBGROUP_INVOCATION",
        SubgroupEqMask = "SUBGROUP_EQ_MASK",
        SubgroupGeMask = "SUBGROUP_GE_MASK",
        SubgroupGtMask = "SUBGROUP_GT_MASK",
        SubgroupLeMask = "SUBGROUP_LE_MASK",
        SubgroupLtMask = "SUBGROUP_LT_MASK",
        CsUserDataAmd = "CS_USER_DATA_AMD",
        ViewportMask = "VIEWPORT_MASK",
    }
}

named_enum! {
    /// Texture targets.
    TexTarget {
        Buffer = "BUFFER",
        T1D = "1D",
        T2D = "2D",
        T3D = "3D",
        Cube = "CUBE",
        Rect = "RECT",
        Shadow1D = "SHADOW1D",
        Shadow2D = "SHADOW2D",
        ShadowRect = "SHADOWRECT",
        T1DArray = "1D_ARRAY",
        T2DArray = "2D_ARRAY",
        Shadow1DArray = "SHADOW1D_ARRAY",
        Shadow2DArray = "SHADOW2D_ARRAY",
        ShadowCube = "SHADOWCUBE",
        T2DMsaa = "2D_MSAA",
        T2DArrayMsaa = "2D_ARRAY_MSAA",
        CubeArray = "CUBEARRAY",
        ShadowCubeArray = "SHADOWCUBEARRAY",
        Unknown = "UNKNOWN",
    }
}

impl TexTarget {
    /// Whether sampling compares against a reference value.
    pub fn is_shadow(self) -> bool {
        matches!(
            self,
            TexTarget::Shadow1D
                | TexTarget::Shadow2D
                | TexTarget::ShadowRect
                | TexTarget::Shadow1DArray
                | TexTarget::Shadow2DArray
                | TexTarget::ShadowCube
                | TexTarget::ShadowCubeArray
        )
    }

    /// The same target without comparison.
    pub fn without_shadow(self) -> TexTarget {
        match self {
            TexTarget::Shadow1D => TexTarget::T1D,
            TexTarget::Shadow2D => TexTarget::T2D,
            TexTarget::ShadowRect => TexTarget::Rect,
            TexTarget::Shadow1DArray => TexTarget::T1DArray,
            TexTarget::Shadow2DArray => TexTarget::T2DArray,
            TexTarget::ShadowCube => TexTarget::Cube,
            TexTarget::ShadowCubeArray => TexTarget::CubeArray,
            t => t,
        }
    }
}

named_enum! {
    /// What a sampler view returns.
    ReturnType {
        Unorm = "UNORM",
        Snorm = "SNORM",
        Sint = "SINT",
        Uint = "UINT",
        Float = "FLOAT",
    }
}

named_enum! {
    /// Interpolation mode of a fragment shader input.
    Interpolation {
        Constant = "CONSTANT",
        Linear = "LINEAR",
        Perspective = "PERSPECTIVE",
        Color = "COLOR",
    }
}

named_enum! {
    /// Where an input is interpolated.
    InterpLocation {
        Center = "CENTER",
        Centroid = "CENTROID",
        Sample = "SAMPLE",
    }
}

named_enum! {
    /// Primitive names used by geometry shader properties.
    Primitive {
        Points = "POINTS",
        Lines = "LINES",
        LineLoop = "LINE_LOOP",
        LineStrip = "LINE_STRIP",
        Triangles = "TRIANGLES",
        TriangleStrip = "TRIANGLE_STRIP",
        TriangleFan = "TRIANGLE_FAN",
        Quads = "QUADS",
        QuadStrip = "QUAD_STRIP",
        Polygon = "POLYGON",
        LinesAdjacency = "LINES_ADJACENCY",
        LineStripAdjacency = "LINE_STRIP_ADJACENCY",
        TrianglesAdjacency = "TRIANGLES_ADJACENCY",
        TriangleStripAdjacency = "TRIANGLE_STRIP_ADJACENCY",
        Patches = "PATCHES",
    }
}

impl Primitive {
    /// Gallium's `enum mesa_prim` number (used by numeric `TES_PRIM_MODE` values).
    pub fn from_index(i: u32) -> Option<Primitive> {
        Self::ALL.get(i as usize).copied()
    }
}

named_enum! {
    /// Property names.
    PropertyName {
        GsInputPrimitive = "GS_INPUT_PRIMITIVE",
        GsOutputPrimitive = "GS_OUTPUT_PRIMITIVE",
        GsMaxOutputVertices = "GS_MAX_OUTPUT_VERTICES",
        FsCoordOrigin = "FS_COORD_ORIGIN",
        FsCoordPixelCenter = "FS_COORD_PIXEL_CENTER",
        FsColor0WritesAllCbufs = "FS_COLOR0_WRITES_ALL_CBUFS",
        FsDepthLayout = "FS_DEPTH_LAYOUT",
        VsProhibitUcps = "VS_PROHIBIT_UCPS",
        GsInvocations = "GS_INVOCATIONS",
        VsWindowSpacePosition = "VS_WINDOW_SPACE_POSITION",
        TcsVerticesOut = "TCS_VERTICES_OUT",
        TesPrimMode = "TES_PRIM_MODE",
        TesSpacing = "TES_SPACING",
        TesVertexOrderCw = "TES_VERTEX_ORDER_CW",
        TesPointMode = "TES_POINT_MODE",
        NumClipdistEnabled = "NUM_CLIPDIST_ENABLED",
        NumCulldistEnabled = "NUM_CULLDIST_ENABLED",
        FsEarlyDepthStencil = "FS_EARLY_DEPTH_STENCIL",
        FsPostDepthCoverage = "FS_POST_DEPTH_COVERAGE",
        NextShader = "NEXT_SHADER",
        CsFixedBlockWidth = "CS_FIXED_BLOCK_WIDTH",
        CsFixedBlockHeight = "CS_FIXED_BLOCK_HEIGHT",
        CsFixedBlockDepth = "CS_FIXED_BLOCK_DEPTH",
        MulZeroWins = "MUL_ZERO_WINS",
        LegacyMathRules = "LEGACY_MATH_RULES",
        VsBlitSgprsAmd = "VS_BLIT_SGPRS_AMD",
        CsUserDataComponentsAmd = "CS_USER_DATA_COMPONENTS_AMD",
        LayerViewportRelative = "LAYER_VIEWPORT_RELATIVE",
        FsBlendEquationAdvanced = "FS_BLEND_EQUATION_ADVANCED",
        SeparableProgram = "SEPARABLE_PROGRAM",
    }
}

named_enum! {
    /// Immediate data types.
    ImmType {
        Flt32 = "FLT32",
        Uint32 = "UINT32",
        Int32 = "INT32",
        Flt64 = "FLT64",
        Uint64 = "UINT64",
        Int64 = "INT64",
    }
}

named_enum! {
    /// Memory kinds of `DCL MEMORY`.
    MemoryType {
        Global = "GLOBAL",
        Shared = "SHARED",
        Private = "PRIVATE",
        Input = "INPUT",
    }
}

/// A `PROPERTY` line. Enumerated values (primitives, coordinate conventions, next shader) are
/// stored as their Gallium numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    pub name: PropertyName,
    pub value: u32,
}

/// A semantic: name, index and (geometry outputs) per-component stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Semantic {
    pub name: SemanticName,
    pub index: u32,
    /// Vertex stream of x, y, z, w (geometry shader outputs).
    pub stream: [u8; 4],
}

/// Extra data of `DCL IMAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDecl {
    pub target: TexTarget,
    /// `PIPE_FORMAT_*` name as sent (`PIPE_FORMAT_NONE` for formatless access).
    pub format: String,
    pub writable: bool,
    pub raw: bool,
}

/// One `DCL` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Declaration {
    pub file: File,
    /// The 2D index of `DCL CONST[1][0..3]` / `DCL HWATOMIC[0][0..1]`.
    pub dimension: Option<u32>,
    /// Whether the register is per-vertex (`IN[]` of GEOM/TESS, `OUT[]` of TESS_CTRL).
    pub per_vertex: bool,
    pub first: u32,
    pub last: u32,
    /// Components used (bit 0 = x); 0xf when not written.
    pub usage_mask: u8,
    pub array_id: Option<u32>,
    pub local: bool,
    pub semantic: Option<Semantic>,
    pub interpolation: Option<Interpolation>,
    pub location: InterpLocation,
    pub invariant: bool,
    pub image: Option<ImageDecl>,
    /// `DCL SVIEW[n], target, return type(s)`.
    pub sampler_view: Option<(TexTarget, [ReturnType; 4])>,
    /// `DCL BUFFER[n], ATOMIC`.
    pub atomic: bool,
    pub memory_type: Option<MemoryType>,
    /// Source line (1-based).
    pub line: usize,
}

/// One `IMM` line: up to four 32-bit words as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Immediate {
    pub ty: ImmType,
    pub data: [u32; 4],
    /// Number of 32-bit words present (1..=4).
    pub len: u8,
}

/// An indirect index `ADDR[0].x` (or `TEMP[1].y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indirect {
    pub file: File,
    pub index: u32,
    /// Component 0..=3.
    pub component: u8,
    /// The `(n)` array id after the bracket.
    pub array_id: Option<u32>,
}

/// A register index: constant part plus optional indirect part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegIndex {
    /// The constant offset (may be negative with an indirect part).
    pub offset: i32,
    pub indirect: Option<Indirect>,
}

impl RegIndex {
    pub fn direct(i: u32) -> Self {
        RegIndex {
            offset: i as i32,
            indirect: None,
        }
    }
}

/// A source operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrcOperand {
    pub file: File,
    pub index: RegIndex,
    /// The outer index of 2D registers (`CONST[1][2]`: 1; `IN[2][0]`: 2).
    pub dimension: Option<RegIndex>,
    pub swizzle: [u8; 4],
    pub negate: bool,
    pub absolute: bool,
}

/// A destination operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DstOperand {
    pub file: File,
    pub index: RegIndex,
    pub dimension: Option<RegIndex>,
    /// Bit 0 = x.
    pub write_mask: u8,
}

/// A texture offset operand (`IMM[0].xyz`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TexOffset {
    pub file: File,
    pub index: u32,
    pub swizzle: [u8; 3],
}

/// One instruction line.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    pub opcode: Opcode,
    pub saturate: bool,
    pub precise: bool,
    pub dst: Vec<DstOperand>,
    pub src: Vec<SrcOperand>,
    pub texture: Option<TexTarget>,
    pub tex_offsets: Vec<TexOffset>,
    /// COHERENT = 1, RESTRICT = 2, VOLATILE = 4.
    pub memory_qualifier: u8,
    pub memory_texture: Option<TexTarget>,
    pub memory_format: Option<String>,
    pub label: Option<u32>,
    /// Source line (1-based).
    pub line: usize,
}

/// A parsed TGSI program.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub processor: Processor,
    pub properties: Vec<Property>,
    pub declarations: Vec<Declaration>,
    pub immediates: Vec<Immediate>,
    pub instructions: Vec<Instruction>,
}

impl Program {
    /// The value of a property, if set (the last one wins).
    pub fn property(&self, name: PropertyName) -> Option<u32> {
        self.properties
            .iter()
            .rev()
            .find(|p| p.name == name)
            .map(|p| p.value)
    }

    /// Declarations of one register file.
    pub fn decls(&self, file: File) -> impl Iterator<Item = &Declaration> {
        self.declarations.iter().filter(move |d| d.file == file)
    }
}
