//! The command header dword and the command / object id tables.

/// A decoded header dword: `cmd | obj << 8 | len << 16` (`VIRGL_CMD0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Command id (`VIRGL_CCMD_*`), not yet validated.
    pub cmd: u8,
    /// Object type (`VIRGL_OBJECT_*`) for object commands, else usually 0.
    pub obj: u8,
    /// Payload length in dwords, header excluded.
    pub len: u16,
}

impl Header {
    /// Splits a raw header dword.
    pub const fn from_raw(raw: u32) -> Self {
        Header {
            cmd: (raw & 0xff) as u8,
            obj: ((raw >> 8) & 0xff) as u8,
            len: (raw >> 16) as u16,
        }
    }

    /// Packs the header back into its dword.
    pub const fn to_raw(self) -> u32 {
        self.cmd as u32 | (self.obj as u32) << 8 | (self.len as u32) << 16
    }
}

/// The largest payload a header can declare, in dwords.
pub const MAX_PAYLOAD_DWORDS: usize = 0xffff;

macro_rules! id_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($variant:ident = $value:literal => $cname:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $(#[doc = concat!("`", $cname, "` = ", stringify!($value))] $variant = $value),+
        }

        impl $name {
            /// Every id, in numeric order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The id for a raw value, `None` if unassigned.
            pub const fn from_raw(raw: u8) -> Option<Self> {
                match raw {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The raw id.
            pub const fn raw(self) -> u8 {
                self as u8
            }

            /// The upstream C name, for logs and error messages.
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $cname,)+
                }
            }
        }
    };
}

id_enum! {
    /// `enum virgl_context_cmd`: every command id (`VIRGL_MAX_COMMANDS` = 64).
    CommandId {
        Nop = 0 => "VIRGL_CCMD_NOP",
        CreateObject = 1 => "VIRGL_CCMD_CREATE_OBJECT",
        BindObject = 2 => "VIRGL_CCMD_BIND_OBJECT",
        DestroyObject = 3 => "VIRGL_CCMD_DESTROY_OBJECT",
        SetViewportState = 4 => "VIRGL_CCMD_SET_VIEWPORT_STATE",
        SetFramebufferState = 5 => "VIRGL_CCMD_SET_FRAMEBUFFER_STATE",
        SetVertexBuffers = 6 => "VIRGL_CCMD_SET_VERTEX_BUFFERS",
        Clear = 7 => "VIRGL_CCMD_CLEAR",
        DrawVbo = 8 => "VIRGL_CCMD_DRAW_VBO",
        ResourceInlineWrite = 9 => "VIRGL_CCMD_RESOURCE_INLINE_WRITE",
        SetSamplerViews = 10 => "VIRGL_CCMD_SET_SAMPLER_VIEWS",
        SetIndexBuffer = 11 => "VIRGL_CCMD_SET_INDEX_BUFFER",
        SetConstantBuffer = 12 => "VIRGL_CCMD_SET_CONSTANT_BUFFER",
        SetStencilRef = 13 => "VIRGL_CCMD_SET_STENCIL_REF",
        SetBlendColor = 14 => "VIRGL_CCMD_SET_BLEND_COLOR",
        SetScissorState = 15 => "VIRGL_CCMD_SET_SCISSOR_STATE",
        Blit = 16 => "VIRGL_CCMD_BLIT",
        ResourceCopyRegion = 17 => "VIRGL_CCMD_RESOURCE_COPY_REGION",
        BindSamplerStates = 18 => "VIRGL_CCMD_BIND_SAMPLER_STATES",
        BeginQuery = 19 => "VIRGL_CCMD_BEGIN_QUERY",
        EndQuery = 20 => "VIRGL_CCMD_END_QUERY",
        GetQueryResult = 21 => "VIRGL_CCMD_GET_QUERY_RESULT",
        SetPolygonStipple = 22 => "VIRGL_CCMD_SET_POLYGON_STIPPLE",
        SetClipState = 23 => "VIRGL_CCMD_SET_CLIP_STATE",
        SetSampleMask = 24 => "VIRGL_CCMD_SET_SAMPLE_MASK",
        SetStreamoutTargets = 25 => "VIRGL_CCMD_SET_STREAMOUT_TARGETS",
        SetRenderCondition = 26 => "VIRGL_CCMD_SET_RENDER_CONDITION",
        SetUniformBuffer = 27 => "VIRGL_CCMD_SET_UNIFORM_BUFFER",
        SetSubCtx = 28 => "VIRGL_CCMD_SET_SUB_CTX",
        CreateSubCtx = 29 => "VIRGL_CCMD_CREATE_SUB_CTX",
        DestroySubCtx = 30 => "VIRGL_CCMD_DESTROY_SUB_CTX",
        BindShader = 31 => "VIRGL_CCMD_BIND_SHADER",
        SetTessState = 32 => "VIRGL_CCMD_SET_TESS_STATE",
        SetMinSamples = 33 => "VIRGL_CCMD_SET_MIN_SAMPLES",
        SetShaderBuffers = 34 => "VIRGL_CCMD_SET_SHADER_BUFFERS",
        SetShaderImages = 35 => "VIRGL_CCMD_SET_SHADER_IMAGES",
        MemoryBarrier = 36 => "VIRGL_CCMD_MEMORY_BARRIER",
        LaunchGrid = 37 => "VIRGL_CCMD_LAUNCH_GRID",
        SetFramebufferStateNoAttach = 38 => "VIRGL_CCMD_SET_FRAMEBUFFER_STATE_NO_ATTACH",
        TextureBarrier = 39 => "VIRGL_CCMD_TEXTURE_BARRIER",
        SetAtomicBuffers = 40 => "VIRGL_CCMD_SET_ATOMIC_BUFFERS",
        SetDebugFlags = 41 => "VIRGL_CCMD_SET_DEBUG_FLAGS",
        GetQueryResultQbo = 42 => "VIRGL_CCMD_GET_QUERY_RESULT_QBO",
        Transfer3d = 43 => "VIRGL_CCMD_TRANSFER3D",
        EndTransfers = 44 => "VIRGL_CCMD_END_TRANSFERS",
        CopyTransfer3d = 45 => "VIRGL_CCMD_COPY_TRANSFER3D",
        SetTweaks = 46 => "VIRGL_CCMD_SET_TWEAKS",
        ClearTexture = 47 => "VIRGL_CCMD_CLEAR_TEXTURE",
        PipeResourceCreate = 48 => "VIRGL_CCMD_PIPE_RESOURCE_CREATE",
        PipeResourceSetType = 49 => "VIRGL_CCMD_PIPE_RESOURCE_SET_TYPE",
        GetMemoryInfo = 50 => "VIRGL_CCMD_GET_MEMORY_INFO",
        SendStringMarker = 51 => "VIRGL_CCMD_SEND_STRING_MARKER",
        LinkShader = 52 => "VIRGL_CCMD_LINK_SHADER",
        CreateVideoCodec = 53 => "VIRGL_CCMD_CREATE_VIDEO_CODEC",
        DestroyVideoCodec = 54 => "VIRGL_CCMD_DESTROY_VIDEO_CODEC",
        CreateVideoBuffer = 55 => "VIRGL_CCMD_CREATE_VIDEO_BUFFER",
        DestroyVideoBuffer = 56 => "VIRGL_CCMD_DESTROY_VIDEO_BUFFER",
        BeginFrame = 57 => "VIRGL_CCMD_BEGIN_FRAME",
        DecodeMacroblock = 58 => "VIRGL_CCMD_DECODE_MACROBLOCK",
        DecodeBitstream = 59 => "VIRGL_CCMD_DECODE_BITSTREAM",
        EncodeBitstream = 60 => "VIRGL_CCMD_ENCODE_BITSTREAM",
        EndFrame = 61 => "VIRGL_CCMD_END_FRAME",
        ClearSurface = 62 => "VIRGL_CCMD_CLEAR_SURFACE",
        GetPipeResourceLayout = 63 => "VIRGL_CCMD_GET_PIPE_RESOURCE_LAYOUT",
    }
}

/// `VIRGL_MAX_COMMANDS`.
pub const MAX_COMMANDS: usize = 64;

id_enum! {
    /// `enum virgl_object_type` (`VIRGL_MAX_OBJECTS` = 12).
    ObjectType {
        Null = 0 => "VIRGL_OBJECT_NULL",
        Blend = 1 => "VIRGL_OBJECT_BLEND",
        Rasterizer = 2 => "VIRGL_OBJECT_RASTERIZER",
        Dsa = 3 => "VIRGL_OBJECT_DSA",
        Shader = 4 => "VIRGL_OBJECT_SHADER",
        VertexElements = 5 => "VIRGL_OBJECT_VERTEX_ELEMENTS",
        SamplerView = 6 => "VIRGL_OBJECT_SAMPLER_VIEW",
        SamplerState = 7 => "VIRGL_OBJECT_SAMPLER_STATE",
        Surface = 8 => "VIRGL_OBJECT_SURFACE",
        Query = 9 => "VIRGL_OBJECT_QUERY",
        StreamoutTarget = 10 => "VIRGL_OBJECT_STREAMOUT_TARGET",
        MsaaSurface = 11 => "VIRGL_OBJECT_MSAA_SURFACE",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_packs_like_virgl_cmd0() {
        let h = Header {
            cmd: 8,
            obj: 0,
            len: 12,
        };
        assert_eq!(h.to_raw(), 8 | 12 << 16);
        assert_eq!(
            Header::from_raw(0xffff_0b01),
            Header {
                cmd: 1,
                obj: 11,
                len: 0xffff
            }
        );
    }

    #[test]
    fn id_tables_are_dense() {
        assert_eq!(CommandId::ALL.len(), MAX_COMMANDS);
        for (i, id) in CommandId::ALL.iter().enumerate() {
            assert_eq!(id.raw() as usize, i);
            assert_eq!(CommandId::from_raw(i as u8), Some(*id));
        }
        assert_eq!(CommandId::from_raw(64), None);
        assert_eq!(ObjectType::ALL.len(), 12);
        assert_eq!(ObjectType::from_raw(12), None);
    }
}
