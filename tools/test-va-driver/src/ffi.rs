//! Hand-written `#[repr(C)]` mirror of the driver side of libva 2.17 (`va/va_backend.h`:
//! `VADriverContext`, `VADriverVTable`) and the few `va/va.h` structs the driver fills.
//!
//! Written from the Debian 12 headers (libva-dev 2.17.0); the field order and count must match
//! them exactly, since libva hands us a `VADriverContext` it allocated and reads the vtable we
//! fill. Entries this driver does not implement are kept as untyped pointers and left NULL
//! (libva answers `VA_STATUS_ERROR_UNIMPLEMENTED` for those itself).

use std::os::raw::{c_char, c_int, c_uint, c_ulong, c_void};

pub type VAStatus = c_int;
pub type VAProfile = c_int;
pub type VAEntrypoint = c_int;
pub type VAGenericID = c_uint;
pub type Ctx = *mut VADriverContext;

pub const VA_STATUS_SUCCESS: VAStatus = 0;
pub const VA_STATUS_ERROR_OPERATION_FAILED: VAStatus = 0x01;
pub const VA_STATUS_ERROR_INVALID_CONFIG: VAStatus = 0x04;
pub const VA_STATUS_ERROR_INVALID_CONTEXT: VAStatus = 0x05;
pub const VA_STATUS_ERROR_INVALID_SURFACE: VAStatus = 0x06;
pub const VA_STATUS_ERROR_INVALID_BUFFER: VAStatus = 0x07;
pub const VA_STATUS_ERROR_INVALID_IMAGE: VAStatus = 0x08;
pub const VA_STATUS_ERROR_UNSUPPORTED_PROFILE: VAStatus = 0x0c;
pub const VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT: VAStatus = 0x0d;
pub const VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT: VAStatus = 0x0e;
pub const VA_STATUS_ERROR_INVALID_PARAMETER: VAStatus = 0x12;
pub const VA_STATUS_ERROR_UNIMPLEMENTED: VAStatus = 0x14;
pub const VA_STATUS_ERROR_INVALID_IMAGE_FORMAT: VAStatus = 0x16;

pub const VA_ATTRIB_NOT_SUPPORTED: u32 = 0x8000_0000;
pub const VA_ENTRYPOINT_VLD: VAEntrypoint = 1;
pub const VA_SLICE_DATA_BUFFER_TYPE: c_int = 5;
pub const VA_IMAGE_BUFFER_TYPE: c_int = 9;

pub const ATTRIB_RT_FORMAT: c_int = 0;
pub const ATTRIB_MAX_PICTURE_WIDTH: c_int = 18;
pub const ATTRIB_MAX_PICTURE_HEIGHT: c_int = 19;

/// `VAImageFormat`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct VAImageFormat {
    pub fourcc: u32,
    pub byte_order: u32,
    pub bits_per_pixel: u32,
    pub depth: u32,
    pub red_mask: u32,
    pub green_mask: u32,
    pub blue_mask: u32,
    pub alpha_mask: u32,
    pub va_reserved: [u32; 4],
}

/// `VAImage`.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct VAImage {
    pub image_id: VAGenericID,
    pub format: VAImageFormat,
    pub buf: VAGenericID,
    pub width: u16,
    pub height: u16,
    pub data_size: u32,
    pub num_planes: u32,
    pub pitches: [u32; 3],
    pub offsets: [u32; 3],
    pub num_palette_entries: i32,
    pub entry_bytes: i32,
    pub component_order: [i8; 4],
    pub va_reserved: [u32; 4],
}

/// `VAConfigAttrib`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VAConfigAttrib {
    pub kind: c_int,
    pub value: u32,
}

type P = *const c_void;

/// `struct VADriverVTable` of libva 2.17, in header order. Typed entries are the ones this
/// driver fills; `P` entries stay NULL.
#[repr(C)]
pub struct VADriverVTable {
    pub terminate: Option<unsafe extern "C" fn(Ctx) -> VAStatus>,
    pub query_config_profiles:
        Option<unsafe extern "C" fn(Ctx, *mut VAProfile, *mut c_int) -> VAStatus>,
    pub query_config_entrypoints:
        Option<unsafe extern "C" fn(Ctx, VAProfile, *mut VAEntrypoint, *mut c_int) -> VAStatus>,
    pub get_config_attributes: Option<
        unsafe extern "C" fn(Ctx, VAProfile, VAEntrypoint, *mut VAConfigAttrib, c_int) -> VAStatus,
    >,
    pub create_config: Option<
        unsafe extern "C" fn(
            Ctx,
            VAProfile,
            VAEntrypoint,
            *mut VAConfigAttrib,
            c_int,
            *mut VAGenericID,
        ) -> VAStatus,
    >,
    pub destroy_config: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub query_config_attributes: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            *mut VAProfile,
            *mut VAEntrypoint,
            *mut VAConfigAttrib,
            *mut c_int,
        ) -> VAStatus,
    >,
    pub create_surfaces:
        Option<unsafe extern "C" fn(Ctx, c_int, c_int, c_int, c_int, *mut VAGenericID) -> VAStatus>,
    pub destroy_surfaces: Option<unsafe extern "C" fn(Ctx, *mut VAGenericID, c_int) -> VAStatus>,
    pub create_context: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            c_int,
            c_int,
            c_int,
            *mut VAGenericID,
            c_int,
            *mut VAGenericID,
        ) -> VAStatus,
    >,
    pub destroy_context: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub create_buffer: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            c_int,
            c_uint,
            c_uint,
            *mut c_void,
            *mut VAGenericID,
        ) -> VAStatus,
    >,
    pub buffer_set_num_elements: Option<unsafe extern "C" fn(Ctx, VAGenericID, c_uint) -> VAStatus>,
    pub map_buffer: Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut *mut c_void) -> VAStatus>,
    pub unmap_buffer: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub destroy_buffer: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub begin_picture: Option<unsafe extern "C" fn(Ctx, VAGenericID, VAGenericID) -> VAStatus>,
    pub render_picture:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut VAGenericID, c_int) -> VAStatus>,
    pub end_picture: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub sync_surface: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub query_surface_status:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut c_int) -> VAStatus>,
    pub query_surface_error: P,
    #[allow(clippy::type_complexity)]
    pub put_surface: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            *mut c_void,
            i16,
            i16,
            u16,
            u16,
            i16,
            i16,
            u16,
            u16,
            *mut c_void,
            c_uint,
            c_uint,
        ) -> VAStatus,
    >,
    pub query_image_formats:
        Option<unsafe extern "C" fn(Ctx, *mut VAImageFormat, *mut c_int) -> VAStatus>,
    pub create_image: Option<
        unsafe extern "C" fn(Ctx, *mut VAImageFormat, c_int, c_int, *mut VAImage) -> VAStatus,
    >,
    pub derive_image: Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut VAImage) -> VAStatus>,
    pub destroy_image: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub set_image_palette: Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut u8) -> VAStatus>,
    pub get_image: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            c_int,
            c_int,
            c_uint,
            c_uint,
            VAGenericID,
        ) -> VAStatus,
    >,
    #[allow(clippy::type_complexity)]
    pub put_image: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            VAGenericID,
            c_int,
            c_int,
            c_uint,
            c_uint,
            c_int,
            c_int,
            c_uint,
            c_uint,
        ) -> VAStatus,
    >,
    pub query_subpicture_formats:
        Option<unsafe extern "C" fn(Ctx, *mut VAImageFormat, *mut c_uint, *mut c_uint) -> VAStatus>,
    pub create_subpicture:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut VAGenericID) -> VAStatus>,
    pub destroy_subpicture: Option<unsafe extern "C" fn(Ctx, VAGenericID) -> VAStatus>,
    pub set_subpicture_image:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, VAGenericID) -> VAStatus>,
    pub set_subpicture_chromakey:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, c_uint, c_uint, c_uint) -> VAStatus>,
    pub set_subpicture_global_alpha:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, f32) -> VAStatus>,
    #[allow(clippy::type_complexity)]
    pub associate_subpicture: Option<
        unsafe extern "C" fn(
            Ctx,
            VAGenericID,
            *mut VAGenericID,
            c_int,
            i16,
            i16,
            u16,
            u16,
            i16,
            i16,
            u16,
            u16,
            c_uint,
        ) -> VAStatus,
    >,
    pub deassociate_subpicture:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, *mut VAGenericID, c_int) -> VAStatus>,
    pub query_display_attributes:
        Option<unsafe extern "C" fn(Ctx, *mut c_void, *mut c_int) -> VAStatus>,
    pub get_display_attributes: Option<unsafe extern "C" fn(Ctx, *mut c_void, c_int) -> VAStatus>,
    pub set_display_attributes: Option<unsafe extern "C" fn(Ctx, *mut c_void, c_int) -> VAStatus>,
    pub buffer_info: P,
    pub lock_surface: P,
    pub unlock_surface: P,
    pub get_surface_attributes: P,
    pub create_surfaces2: P,
    pub query_surface_attributes: P,
    pub acquire_buffer_handle: P,
    pub release_buffer_handle: P,
    pub create_mf_context: P,
    pub mf_add_context: P,
    pub mf_release_context: P,
    pub mf_submit: P,
    pub create_buffer2: P,
    pub query_processing_rate: P,
    /// Filled only with `VIRGL_TEST_VA_EXPORT=1` (memfds standing in for dma-bufs).
    pub export_surface_handle:
        Option<unsafe extern "C" fn(Ctx, VAGenericID, u32, u32, *mut c_void) -> VAStatus>,
    pub sync_surface2: P,
    pub sync_buffer: P,
    pub copy: P,
    pub reserved: [c_ulong; 54],
}

/// `struct VADriverContext` of libva 2.17, in header order.
#[repr(C)]
pub struct VADriverContext {
    pub p_driver_data: *mut c_void,
    pub vtable: *mut VADriverVTable,
    pub vtable_glx: *mut c_void,
    pub vtable_egl: *mut c_void,
    pub vtable_tpi: *mut c_void,
    pub native_dpy: *mut c_void,
    pub x11_screen: c_int,
    pub version_major: c_int,
    pub version_minor: c_int,
    pub max_profiles: c_int,
    pub max_entrypoints: c_int,
    pub max_attributes: c_int,
    pub max_image_formats: c_int,
    pub max_subpic_formats: c_int,
    pub max_display_attributes: c_int,
    pub str_vendor: *const c_char,
    pub handle: *mut c_void,
    pub drm_state: *mut c_void,
    pub glx: *mut c_void,
    pub display_type: c_ulong,
    pub vtable_wayland: *mut c_void,
    pub vtable_vpp: *mut c_void,
    pub override_driver_name: *mut c_char,
    pub p_display_context: *mut c_void,
    pub error_callback: *mut c_void,
    pub info_callback: *mut c_void,
    pub vtable_prot: *mut c_void,
    pub reserved: [c_ulong; 37],
}

/// `VADRMPRIMESurfaceDescriptor` (`va/va_drmcommon.h`).
#[repr(C)]
#[derive(Default)]
pub struct PrimeDescriptor {
    pub fourcc: u32,
    pub width: u32,
    pub height: u32,
    pub num_objects: u32,
    pub objects: [PrimeObject; 4],
    pub num_layers: u32,
    pub layers: [PrimeLayer; 4],
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct PrimeObject {
    pub fd: c_int,
    pub size: u32,
    pub drm_format_modifier: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct PrimeLayer {
    pub drm_format: u32,
    pub num_planes: u32,
    pub object_index: [u32; 4],
    pub offset: [u32; 4],
    pub pitch: [u32; 4],
}

pub const VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2: u32 = 0x4000_0000;

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes from the 2.17 headers (x86_64, checked with gcc): 41 + 18 entries + 54 reserved.
    #[test]
    fn layouts_match_libva_2_17() {
        assert_eq!(std::mem::size_of::<VADriverVTable>(), (41 + 18 + 54) * 8);
        assert_eq!(
            std::mem::offset_of!(VADriverVTable, export_surface_handle),
            440
        );
        assert_eq!(std::mem::size_of::<VAImageFormat>(), 48);
        assert_eq!(std::mem::size_of::<PrimeDescriptor>(), 312);
        assert_eq!(std::mem::size_of::<VAImage>(), 120);
        assert_eq!(std::mem::offset_of!(VADriverContext, str_vendor), 88);
        assert_eq!(std::mem::offset_of!(VADriverContext, reserved), 184);
    }
}
