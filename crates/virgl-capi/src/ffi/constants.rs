//! The `#define`s and enums of `virglrenderer.h`, under their C names (the header is generated
//! from these).

use std::ffi::c_int;

pub const VIRGL_RENDERER_CALLBACKS_VERSION: c_int = 4;

pub const VIRGL_RENDERER_USE_EGL: c_int = 1;
pub const VIRGL_RENDERER_THREAD_SYNC: c_int = 2;
pub const VIRGL_RENDERER_USE_GLX: c_int = 1 << 2;
pub const VIRGL_RENDERER_USE_SURFACELESS: c_int = 1 << 3;
pub const VIRGL_RENDERER_USE_GLES: c_int = 1 << 4;
pub const VIRGL_RENDERER_USE_EXTERNAL_BLOB: c_int = 1 << 5;
pub const VIRGL_RENDERER_VENUS: c_int = 1 << 6;
pub const VIRGL_RENDERER_NO_VIRGL: c_int = 1 << 7;
pub const VIRGL_RENDERER_ASYNC_FENCE_CB: c_int = 1 << 8;
pub const VIRGL_RENDERER_RENDER_SERVER: c_int = 1 << 9;
pub const VIRGL_RENDERER_DRM: c_int = 1 << 10;
#[cfg(feature = "unstable-apis")]
pub const VIRGL_RENDERER_USE_VIDEO: c_int = 1 << 11;
pub const VIRGL_RENDERER_D3D11_SHARE_TEXTURE: c_int = 1 << 12;
pub const VIRGL_RENDERER_COMPAT_PROFILE: c_int = 1 << 13;
pub const VIRGL_RENDERER_USE_GUEST_VRAM: c_int = 1 << 14;

pub const VIRGL_RES_BIND_DEPTH_STENCIL: u32 = 1 << 0;
pub const VIRGL_RES_BIND_RENDER_TARGET: u32 = 1 << 1;
pub const VIRGL_RES_BIND_SAMPLER_VIEW: u32 = 1 << 3;
pub const VIRGL_RES_BIND_VERTEX_BUFFER: u32 = 1 << 4;
pub const VIRGL_RES_BIND_INDEX_BUFFER: u32 = 1 << 5;
pub const VIRGL_RES_BIND_CONSTANT_BUFFER: u32 = 1 << 6;
pub const VIRGL_RES_BIND_STREAM_OUTPUT: u32 = 1 << 11;
pub const VIRGL_RES_BIND_CURSOR: u32 = 1 << 16;
pub const VIRGL_RES_BIND_CUSTOM: u32 = 1 << 17;
pub const VIRGL_RES_BIND_SCANOUT: u32 = 1 << 18;
pub const VIRGL_RES_BIND_SHARED: u32 = 1 << 20;

/// `enum virgl_renderer_structure_type_v0`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum virgl_renderer_structure_type_v0 {
    VIRGL_RENDERER_STRUCTURE_TYPE_NONE = 0,
    VIRGL_RENDERER_STRUCTURE_TYPE_EXPORT_QUERY = 1 << 0,
    VIRGL_RENDERER_STRUCTURE_TYPE_SUPPORTED_STRUCTURES = 1 << 1,
}

/// `enum virgl_log_level_flags`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum virgl_log_level_flags {
    VIRGL_LOG_LEVEL_DEBUG,
    VIRGL_LOG_LEVEL_INFO,
    VIRGL_LOG_LEVEL_WARNING,
    VIRGL_LOG_LEVEL_ERROR,
    /// Must stay the highest value; never a level of a message.
    VIRGL_LOG_LEVEL_SILENT,
}

pub const VIRGL_RENDERER_RESOURCE_INFO_EXT_VERSION: c_int = 0;
pub const VIRGL_RENDERER_CONTEXT_FLAG_CAPSET_ID_MASK: u32 = 0xff;

pub const VIRGL_RENDERER_BLOB_MEM_GUEST: u32 = 0x0001;
pub const VIRGL_RENDERER_BLOB_MEM_HOST3D: u32 = 0x0002;
pub const VIRGL_RENDERER_BLOB_MEM_HOST3D_GUEST: u32 = 0x0003;
pub const VIRGL_RENDERER_BLOB_MEM_GUEST_VRAM: u32 = 0x0004;

pub const VIRGL_RENDERER_BLOB_FLAG_USE_MAPPABLE: u32 = 0x0001;
pub const VIRGL_RENDERER_BLOB_FLAG_USE_SHAREABLE: u32 = 0x0002;
pub const VIRGL_RENDERER_BLOB_FLAG_USE_CROSS_DEVICE: u32 = 0x0004;

pub const VIRGL_RENDERER_MAP_CACHE_MASK: u32 = 0x0f;
pub const VIRGL_RENDERER_MAP_CACHE_NONE: u32 = 0x00;
pub const VIRGL_RENDERER_MAP_CACHE_CACHED: u32 = 0x01;
pub const VIRGL_RENDERER_MAP_CACHE_UNCACHED: u32 = 0x02;
pub const VIRGL_RENDERER_MAP_CACHE_WC: u32 = 0x03;

pub const VIRGL_RENDERER_BLOB_FD_TYPE_DMABUF: u32 = 0x0001;
pub const VIRGL_RENDERER_BLOB_FD_TYPE_OPAQUE: u32 = 0x0002;
pub const VIRGL_RENDERER_BLOB_FD_TYPE_SHM: u32 = 0x0003;

pub const VIRGL_RENDERER_FENCE_FLAG_MERGEABLE: u32 = 1 << 0;
