//! The C structs of `virglrenderer.h` 1.3.0, laid out exactly as gcc lays them out on x86_64
//! (the size assertions at the bottom check it).

use std::ffi::{c_char, c_int, c_void};

use super::constants::virgl_log_level_flags;

/// `virgl_renderer_gl_context`: an opaque context handle owned by the embedder.
pub type virgl_renderer_gl_context = *mut c_void;

/// `struct virgl_renderer_gl_ctx_param`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct virgl_renderer_gl_ctx_param {
    pub version: c_int,
    pub shared: bool,
    pub major_ver: c_int,
    pub minor_ver: c_int,
    pub compat_ctx: c_int,
}

/// `struct virgl_renderer_callbacks` (versions 1 to 4; later fields are read only when `version`
/// says they exist).
#[repr(C)]
pub struct virgl_renderer_callbacks {
    pub version: c_int,
    pub write_fence: Option<unsafe extern "C" fn(cookie: *mut c_void, fence: u32)>,
    pub create_gl_context: Option<
        unsafe extern "C" fn(
            cookie: *mut c_void,
            scanout_idx: c_int,
            param: *mut virgl_renderer_gl_ctx_param,
        ) -> virgl_renderer_gl_context,
    >,
    pub destroy_gl_context:
        Option<unsafe extern "C" fn(cookie: *mut c_void, ctx: virgl_renderer_gl_context)>,
    pub make_current: Option<
        unsafe extern "C" fn(
            cookie: *mut c_void,
            scanout_idx: c_int,
            ctx: virgl_renderer_gl_context,
        ) -> c_int,
    >,
    /// v2
    pub get_drm_fd: Option<unsafe extern "C" fn(cookie: *mut c_void) -> c_int>,
    /// v3
    pub write_context_fence: Option<
        unsafe extern "C" fn(cookie: *mut c_void, ctx_id: u32, ring_idx: u32, fence_id: u64),
    >,
    /// v3
    pub get_server_fd: Option<unsafe extern "C" fn(cookie: *mut c_void, version: u32) -> c_int>,
    /// v4
    pub get_egl_display: Option<unsafe extern "C" fn(cookie: *mut c_void) -> *mut c_void>,
}

/// `struct virgl_box` from `virgl_hw.h`: the transfer box QEMU passes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct virgl_box {
    pub x: u32,
    pub y: u32,
    pub z: u32,
    pub w: u32,
    pub h: u32,
    pub d: u32,
}

/// `struct virgl_renderer_resource_create_args`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct virgl_renderer_resource_create_args {
    pub handle: u32,
    pub target: u32,
    pub format: u32,
    pub bind: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub array_size: u32,
    pub last_level: u32,
    pub nr_samples: u32,
    pub flags: u32,
}

/// `struct virgl_renderer_hdr`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct virgl_renderer_hdr {
    pub stype: u32,
    pub stype_version: u32,
    pub size: u32,
}

/// `struct virgl_renderer_export_query`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct virgl_renderer_export_query {
    pub hdr: virgl_renderer_hdr,
    pub in_resource_id: u32,
    pub out_num_fds: u32,
    pub in_export_fds: u32,
    pub out_fourcc: u32,
    pub pad: u32,
    pub out_fds: [i32; 4],
    pub out_strides: [u32; 4],
    pub out_offsets: [u32; 4],
    pub out_modifier: u64,
}

/// `struct virgl_renderer_supported_structures`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct virgl_renderer_supported_structures {
    pub hdr: virgl_renderer_hdr,
    pub in_stype_version: u32,
    pub out_supported_structures_mask: u32,
}

/// `struct virgl_renderer_resource_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct virgl_renderer_resource_info {
    pub handle: u32,
    pub virgl_format: u32,
    pub width: u32,
    pub height: u32,
    pub depth: u32,
    pub flags: u32,
    pub tex_id: u32,
    pub stride: u32,
    pub drm_fourcc: c_int,
    pub fd: c_int,
}

/// `struct virgl_renderer_resource_info_ext`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct virgl_renderer_resource_info_ext {
    pub version: c_int,
    pub base: virgl_renderer_resource_info,
    pub has_dmabuf_export: bool,
    pub planes: c_int,
    pub modifiers: u64,
    pub d3d_tex2d: *mut c_void,
}

/// `struct virgl_renderer_resource_create_blob_args`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct virgl_renderer_resource_create_blob_args {
    pub res_handle: u32,
    pub ctx_id: u32,
    pub blob_mem: u32,
    pub blob_flags: u32,
    pub blob_id: u64,
    pub size: u64,
    pub iovecs: *const libc::iovec,
    pub num_iovs: u32,
}

/// `struct virgl_renderer_resource_import_blob_args`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct virgl_renderer_resource_import_blob_args {
    pub res_handle: u32,
    pub blob_mem: u32,
    pub fd_type: u32,
    pub fd: c_int,
    pub size: u64,
}

/// `virgl_log_callback_type`.
pub type virgl_log_callback_type = Option<
    unsafe extern "C" fn(level: virgl_log_level_flags, message: *const c_char, data: *mut c_void),
>;
/// `virgl_free_data_callback_type`.
pub type virgl_free_data_callback_type = Option<unsafe extern "C" fn(data: *mut c_void)>;
/// `virgl_debug_callback_type`: `void (*)(const char *fmt, va_list ap)`. `va_list` cannot be
/// built from Rust on stable, so the deprecated debug callback is stored and returned but never
/// called: messages reach the newer log callback instead.
pub type virgl_debug_callback_type = Option<unsafe extern "C" fn(fmt: *const c_char, ap: va_list)>;

/// C's `va_list` as a parameter: on x86_64 (and aarch64) it is passed as a pointer. The header
/// uses `<stdarg.h>`'s own type (cbindgen.toml excludes this alias).
pub type va_list = *mut c_void;

const _: () = {
    use std::mem::{offset_of, size_of};
    assert!(size_of::<virgl_renderer_gl_ctx_param>() == 20);
    assert!(size_of::<virgl_renderer_callbacks>() == 72);
    assert!(size_of::<virgl_box>() == 24);
    assert!(size_of::<virgl_renderer_resource_create_args>() == 44);
    assert!(size_of::<virgl_renderer_export_query>() == 88);
    assert!(offset_of!(virgl_renderer_export_query, out_modifier) == 80);
    assert!(size_of::<virgl_renderer_supported_structures>() == 20);
    assert!(size_of::<virgl_renderer_resource_info>() == 40);
    assert!(size_of::<virgl_renderer_resource_info_ext>() == 72);
    assert!(offset_of!(virgl_renderer_resource_info_ext, has_dmabuf_export) == 44);
    assert!(offset_of!(virgl_renderer_resource_info_ext, modifiers) == 56);
    assert!(size_of::<virgl_renderer_resource_create_blob_args>() == 48);
    assert!(size_of::<virgl_renderer_resource_import_blob_args>() == 24);
};
