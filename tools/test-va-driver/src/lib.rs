//! A VA-API driver for tests. **It stands in for video hardware**: CI machines have no GPU and
//! no `/dev/dri`, so virgl-video's session code is exercised through the *real* libva loader
//! with this driver behind it. It decodes nothing.
//!
//! libva finds it through `LIBVA_DRIVERS_PATH=<dir>` and `LIBVA_DRIVER_NAME=<name>`, where
//! `<dir>/<name>_drv_video.so` is this library (tests link or copy `libtest_va_driver.so` under
//! that name into a temp directory). It exports `__vaDriverInit_1_17` (libva 2.17 of Debian 12;
//! newer libva versions try older init names too) and fills the libva 2.17 vtable, whose layout
//! is mirrored by hand in [`ffi`].
//!
//! Display without `/dev/dri`: libva 2.17's `vaGetDisplayDRM(fd)` asks libdrm's
//! `drmGetNodeTypeFromFd`, which accepts only real DRM nodes (it checks
//! `/sys/dev/char/M:m/device/drm`), so no fd of a GPU-less machine passes. This library therefore
//! also exports `drmGetNodeTypeFromFd`: loaded with `LD_PRELOAD`, it interposes libdrm's and
//! reports `/dev/null` (char 1:3) as a render node (`DRM_NODE_RENDER`), forwarding every other
//! fd to the real libdrm. With `LIBVA_DRIVER_NAME` set libva never asks the fd for a driver
//! name, and render nodes need no DRM authentication, so tests run with `open("/dev/null")` as
//! the "render node" and `LD_PRELOAD=<this library>`.
//!
//! Behaviour:
//! - Reports the profiles in `VIRGL_TEST_VA_PROFILES` (comma-separated `VAProfile` numbers;
//!   default: every profile virgl decodes), entrypoint VLD only, attributes RTFormat (NV12 for
//!   8-bit, P010 for 10-bit profiles, more for JPEG and AV1) and MaxPictureWidth/Height (from
//!   `VIRGL_TEST_VA_MAX_SIZE=WxH`, default 4096x4096). Vendor string
//!   `"virgl-rs test VA driver (no hardware)"`.
//! - Records every call, with every buffer's type, element size, count and bytes (hex), one line
//!   per call to the file named by `VIRGL_TEST_VA_LOG` (appended).
//! - On `vaEndPicture`, fills the target surface (linear planes, pitch = aligned width x bytes
//!   per sample) with a pattern: byte `x` of row `y` of plane `p` is
//!   `fold(seed) + 61*p + 7*x + 13*y` (mod 256), where `seed` is the FNV-1a hash of all slice
//!   data (`VASliceDataBufferType`) bytes rendered since `vaBeginPicture` and
//!   `fold(s) = s ^ s>>8 ^ s>>16 ^ s>>24` truncated to a byte.
//! - Readback through `vaDeriveImage` (a copy, not an alias) or `vaCreateImage` + `vaGetImage`
//!   and `vaMapBuffer`. `VIRGL_TEST_VA_NO_DERIVE=1` makes `vaDeriveImage` fail, so clients take
//!   their `vaGetImage` path.
//! - `vaExportSurfaceHandle` exists only with `VIRGL_TEST_VA_EXPORT=1`: DRM PRIME 2, one memfd
//!   (standing in for a dma-buf: same bytes, linear) holding the surface, one layer per plane
//!   (`R8`/`GR88` for NV12, `R16`/`GR1616` for P010/P016, the packed fourcc otherwise).
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
// The vtable functions are called by libva only, with the pointers it owns.
#![allow(clippy::missing_safety_doc)]

mod driver;
mod expect;
mod ffi;

use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::sync::Mutex;

use driver::{fourcc_str, Buffer, Config, Context, Driver, Image, Surface};
use expect::hex;
use ffi::*;

const VENDOR: &[u8] = b"virgl-rs test VA driver (no hardware)\0";

/// Runs `f` on the driver behind `ctx`.
///
/// # Safety
/// `ctx` must be the context this driver's init filled (libva passes it back unchanged).
unsafe fn with<F: FnOnce(&mut Driver) -> VAStatus>(ctx: Ctx, f: F) -> VAStatus {
    if ctx.is_null() {
        return VA_STATUS_ERROR_OPERATION_FAILED;
    }
    // SAFETY: libva hands back the context it gave `__vaDriverInit_1_17`, whose
    // `p_driver_data` we set to a leaked `Box<Mutex<Driver>>` (cleared in terminate).
    let data = unsafe { (*ctx).p_driver_data } as *const Mutex<Driver>;
    if data.is_null() {
        return VA_STATUS_ERROR_OPERATION_FAILED;
    }
    // SAFETY: see above; the mutex lives until terminate.
    let mutex = unsafe { &*data };
    let mut d = mutex.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut d)
}

/// Writes `v` to `out` if non-null.
///
/// # Safety
/// `out` is null or valid for a write of `T`.
unsafe fn put<T>(out: *mut T, v: T) {
    if !out.is_null() {
        // SAFETY: non-null and valid per the caller.
        unsafe { out.write(v) };
    }
}

/// The `num` ids at `list` (none when `list` is null or `num` is not positive).
///
/// # Safety
/// `list` is null or valid for reads of `num` ids (the VA contract for id arrays).
unsafe fn ids(list: *const VAGenericID, num: c_int) -> Vec<VAGenericID> {
    if list.is_null() {
        return Vec::new();
    }
    // SAFETY: non-null and holding `num` ids per the caller.
    (0..num.max(0) as usize)
        .map(|i| unsafe { *list.add(i) })
        .collect()
}

/// `ids` as the log writes them: comma-separated.
fn id_list(ids: &[VAGenericID]) -> String {
    let text: Vec<String> = ids.iter().map(VAGenericID::to_string).collect();
    text.join(",")
}

/// `VA_STATUS_SUCCESS` when `ok`, else `error`.
fn status(ok: bool, error: VAStatus) -> VAStatus {
    if ok {
        VA_STATUS_SUCCESS
    } else {
        error
    }
}

/// `DRM_NODE_RENDER` of libdrm.
const DRM_NODE_RENDER: c_int = 2;

/// libdrm's `drmGetNodeTypeFromFd`, interposed through `LD_PRELOAD` (see the crate docs):
/// `/dev/null` is a render node, anything else goes to the real libdrm.
///
/// # Safety
/// Any fd value is accepted (fstat just fails on bad ones).
#[no_mangle]
pub unsafe extern "C" fn drmGetNodeTypeFromFd(fd: c_int) -> c_int {
    // SAFETY: an all-zero `stat` is a valid value for fstat to overwrite.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out pointer; a bad fd makes fstat fail, nothing else.
    if unsafe { libc::fstat(fd, &mut st) } == 0
        && st.st_mode & libc::S_IFMT == libc::S_IFCHR
        && st.st_rdev == libc::makedev(1, 3)
    {
        return DRM_NODE_RENDER;
    }
    // SAFETY: RTLD_NEXT lookup of a C symbol name (NUL-terminated literal).
    let next = unsafe { libc::dlsym(libc::RTLD_NEXT, c"drmGetNodeTypeFromFd".as_ptr()) };
    if next.is_null() {
        return -1;
    }
    // SAFETY: libdrm's symbol of this name has exactly this signature.
    let real: unsafe extern "C" fn(c_int) -> c_int = unsafe { std::mem::transmute(next) };
    // SAFETY: forwarding the caller's argument.
    unsafe { real(fd) }
}

/// The libva entry point.
///
/// # Safety
/// Called by libva with a context it allocated.
#[no_mangle]
pub unsafe extern "C" fn __vaDriverInit_1_17(ctx: Ctx) -> VAStatus {
    if ctx.is_null() {
        return VA_STATUS_ERROR_OPERATION_FAILED;
    }
    let driver = Driver::from_env();
    driver.log(&format!(
        "Init profiles={:?} max={}x{}",
        driver.profiles, driver.max_width, driver.max_height
    ));
    // SAFETY: libva passes a valid, zero-initialised context with a vtable it allocated.
    let c = unsafe { &mut *ctx };
    c.version_major = 1;
    c.version_minor = 17;
    c.max_profiles = 64;
    c.max_entrypoints = 8;
    c.max_attributes = 8;
    c.max_image_formats = driver::IMAGE_FORMATS.len() as c_int;
    c.max_subpic_formats = 1;
    c.max_display_attributes = 1;
    c.str_vendor = VENDOR.as_ptr().cast::<c_char>();
    c.p_driver_data = Box::into_raw(Box::new(Mutex::new(driver))).cast::<c_void>();
    if c.vtable.is_null() {
        return VA_STATUS_ERROR_OPERATION_FAILED;
    }
    // SAFETY: libva allocated the vtable (zeroed) before calling init.
    let v = unsafe { &mut *c.vtable };
    v.terminate = Some(terminate);
    v.query_config_profiles = Some(query_config_profiles);
    v.query_config_entrypoints = Some(query_config_entrypoints);
    v.get_config_attributes = Some(get_config_attributes);
    v.create_config = Some(create_config);
    v.destroy_config = Some(destroy_config);
    v.query_config_attributes = Some(query_config_attributes);
    v.create_surfaces = Some(create_surfaces);
    v.destroy_surfaces = Some(destroy_surfaces);
    v.create_context = Some(create_context);
    v.destroy_context = Some(destroy_context);
    v.create_buffer = Some(create_buffer);
    v.buffer_set_num_elements = Some(buffer_set_num_elements);
    v.map_buffer = Some(map_buffer);
    v.unmap_buffer = Some(unmap_buffer);
    v.destroy_buffer = Some(destroy_buffer);
    v.begin_picture = Some(begin_picture);
    v.render_picture = Some(render_picture);
    v.end_picture = Some(end_picture);
    v.sync_surface = Some(sync_surface);
    v.query_surface_status = Some(query_surface_status);
    v.put_surface = Some(put_surface);
    v.query_image_formats = Some(query_image_formats);
    v.create_image = Some(create_image);
    v.derive_image = Some(derive_image);
    v.destroy_image = Some(destroy_image);
    v.set_image_palette = Some(set_image_palette);
    v.get_image = Some(get_image);
    v.put_image = Some(put_image);
    v.query_subpicture_formats = Some(query_subpicture_formats);
    v.create_subpicture = Some(create_subpicture);
    v.destroy_subpicture = Some(destroy_subpicture);
    v.set_subpicture_image = Some(set_subpicture_image);
    v.set_subpicture_chromakey = Some(set_subpicture_chromakey);
    v.set_subpicture_global_alpha = Some(set_subpicture_global_alpha);
    v.associate_subpicture = Some(associate_subpicture);
    v.deassociate_subpicture = Some(deassociate_subpicture);
    v.query_display_attributes = Some(query_display_attributes);
    v.get_display_attributes = Some(get_display_attributes);
    v.set_display_attributes = Some(set_display_attributes);
    if std::env::var_os("VIRGL_TEST_VA_EXPORT").is_some() {
        v.export_surface_handle = Some(export_surface_handle);
    }
    VA_STATUS_SUCCESS
}

unsafe extern "C" fn terminate(ctx: Ctx) -> VAStatus {
    // SAFETY: libva's context; p_driver_data is our box (or null after a first terminate).
    let data = unsafe { (*ctx).p_driver_data } as *mut Mutex<Driver>;
    if !data.is_null() {
        // SAFETY: created by Box::into_raw in init; cleared right after so it is freed once.
        let d = unsafe { Box::from_raw(data) };
        d.lock().unwrap_or_else(|e| e.into_inner()).log("Terminate");
        // SAFETY: as above.
        unsafe { (*ctx).p_driver_data = std::ptr::null_mut() };
    }
    VA_STATUS_SUCCESS
}

unsafe extern "C" fn query_config_profiles(
    ctx: Ctx,
    list: *mut VAProfile,
    num: *mut c_int,
) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            // libva sized `list` with max_profiles (64).
            for (i, &p) in d.profiles.iter().take(64).enumerate() {
                // SAFETY: i < 64 = max_profiles, the size libva documents for the list.
                put(list.add(i), p);
            }
            put(num, d.profiles.len().min(64) as c_int);
            d.log("QueryConfigProfiles");
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn query_config_entrypoints(
    ctx: Ctx,
    profile: VAProfile,
    list: *mut VAEntrypoint,
    num: *mut c_int,
) -> VAStatus {
    // SAFETY: libva's context; list holds max_entrypoints (8).
    unsafe {
        with(ctx, |d| {
            d.log(&format!("QueryConfigEntrypoints profile={profile}"));
            if !d.supports(profile) {
                return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
            }
            put(list, VA_ENTRYPOINT_VLD);
            put(num, 1);
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn get_config_attributes(
    ctx: Ctx,
    profile: VAProfile,
    entrypoint: VAEntrypoint,
    attribs: *mut VAConfigAttrib,
    num: c_int,
) -> VAStatus {
    // SAFETY: libva's context; `attribs` holds `num` entries (caller's array).
    unsafe {
        with(ctx, |d| {
            d.log(&format!(
                "GetConfigAttributes profile={profile} entrypoint={entrypoint}"
            ));
            if !d.supports(profile) {
                return VA_STATUS_ERROR_UNSUPPORTED_PROFILE;
            }
            if entrypoint != VA_ENTRYPOINT_VLD {
                return VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT;
            }
            if attribs.is_null() {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            }
            for i in 0..num.max(0) as usize {
                // SAFETY: i < num, the caller's array length.
                let a = &mut *attribs.add(i);
                a.value = match a.kind {
                    ATTRIB_RT_FORMAT => Driver::rt_formats(profile),
                    ATTRIB_MAX_PICTURE_WIDTH => d.max_width,
                    ATTRIB_MAX_PICTURE_HEIGHT => d.max_height,
                    _ => VA_ATTRIB_NOT_SUPPORTED,
                };
            }
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn create_config(
    ctx: Ctx,
    profile: VAProfile,
    entrypoint: VAEntrypoint,
    attribs: *mut VAConfigAttrib,
    num: c_int,
    out: *mut VAGenericID,
) -> VAStatus {
    // SAFETY: libva's context; `attribs` holds `num` entries.
    unsafe {
        with(ctx, |d| {
            let mut rt_format = 0x1;
            for i in 0..num.max(0) as usize {
                if attribs.is_null() {
                    break;
                }
                // SAFETY: i < num.
                let a = *attribs.add(i);
                if a.kind == ATTRIB_RT_FORMAT {
                    rt_format = a.value;
                }
            }
            let status = if !d.supports(profile) {
                VA_STATUS_ERROR_UNSUPPORTED_PROFILE
            } else if entrypoint != VA_ENTRYPOINT_VLD {
                VA_STATUS_ERROR_UNSUPPORTED_ENTRYPOINT
            } else if rt_format & Driver::rt_formats(profile) != rt_format {
                VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT
            } else {
                VA_STATUS_SUCCESS
            };
            let id = if status == VA_STATUS_SUCCESS {
                let id = d.id();
                d.configs.insert(
                    id,
                    Config {
                        profile,
                        entrypoint,
                        rt_format,
                    },
                );
                put(out, id);
                id
            } else {
                0
            };
            d.log(&format!(
                "CreateConfig profile={profile} entrypoint={entrypoint} rt_format={rt_format:#x} id={id} status={status}"
            ));
            status
        })
    }
}

unsafe extern "C" fn destroy_config(ctx: Ctx, id: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("DestroyConfig id={id}"));
            status(
                d.configs.remove(&id).is_some(),
                VA_STATUS_ERROR_INVALID_CONFIG,
            )
        })
    }
}

unsafe extern "C" fn query_config_attributes(
    ctx: Ctx,
    id: VAGenericID,
    profile: *mut VAProfile,
    entrypoint: *mut VAEntrypoint,
    attribs: *mut VAConfigAttrib,
    num: *mut c_int,
) -> VAStatus {
    // SAFETY: libva's context; `attribs` holds max_attributes (8) entries.
    unsafe {
        with(ctx, |d| {
            let Some(c) = d.configs.get(&id) else {
                return VA_STATUS_ERROR_INVALID_CONFIG;
            };
            put(profile, c.profile);
            put(entrypoint, c.entrypoint);
            put(
                attribs,
                VAConfigAttrib {
                    kind: ATTRIB_RT_FORMAT,
                    value: c.rt_format,
                },
            );
            put(num, 1);
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn create_surfaces(
    ctx: Ctx,
    width: c_int,
    height: c_int,
    format: c_int,
    count: c_int,
    out: *mut VAGenericID,
) -> VAStatus {
    // SAFETY: libva's context; `out` holds `count` ids.
    unsafe {
        with(ctx, |d| {
            let rt = format as u32;
            let Some(fourcc) = driver::fourcc_for_rt_format(rt) else {
                d.log(&format!("CreateSurfaces format={rt:#x} unsupported"));
                return VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT;
            };
            let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            };
            if w == 0 || h == 0 || w > d.max_width || h > d.max_height || out.is_null() {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            }
            let Some(layout) = driver::layout(fourcc, w, h) else {
                return VA_STATUS_ERROR_UNSUPPORTED_RT_FORMAT;
            };
            let mut ids = Vec::new();
            for i in 0..count.max(0) as usize {
                let id = d.id();
                d.surfaces.insert(
                    id,
                    Surface {
                        width: w,
                        height: h,
                        fourcc,
                        layout,
                        data: vec![0; layout.size as usize],
                    },
                );
                // SAFETY: i < count.
                put(out.add(i), id);
                ids.push(id.to_string());
            }
            d.log(&format!(
                "CreateSurfaces width={w} height={h} format={rt:#x} fourcc={} ids={}",
                fourcc_str(fourcc),
                ids.join(",")
            ));
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn destroy_surfaces(ctx: Ctx, list: *mut VAGenericID, num: c_int) -> VAStatus {
    // SAFETY: libva's context; `list` holds `num` ids.
    unsafe {
        with(ctx, |d| {
            let ids = ids(list, num);
            for id in &ids {
                d.surfaces.remove(id);
            }
            d.log(&format!("DestroySurfaces ids={}", id_list(&ids)));
            VA_STATUS_SUCCESS
        })
    }
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn create_context(
    ctx: Ctx,
    config: VAGenericID,
    width: c_int,
    height: c_int,
    flag: c_int,
    targets: *mut VAGenericID,
    num_targets: c_int,
    out: *mut VAGenericID,
) -> VAStatus {
    // SAFETY: libva's context; `targets` holds `num_targets` ids.
    unsafe {
        with(ctx, |d| {
            if !d.configs.contains_key(&config) {
                return VA_STATUS_ERROR_INVALID_CONFIG;
            }
            let targets = ids(targets, num_targets);
            let id = d.id();
            d.contexts.insert(id, Context { picture: None });
            put(out, id);
            d.log(&format!(
                "CreateContext config={config} width={width} height={height} flag={flag} targets={} id={id}",
                id_list(&targets)
            ));
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn destroy_context(ctx: Ctx, id: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("DestroyContext id={id}"));
            status(
                d.contexts.remove(&id).is_some(),
                VA_STATUS_ERROR_INVALID_CONTEXT,
            )
        })
    }
}

unsafe extern "C" fn create_buffer(
    ctx: Ctx,
    context: VAGenericID,
    kind: c_int,
    size: c_uint,
    num: c_uint,
    data: *mut c_void,
    out: *mut VAGenericID,
) -> VAStatus {
    // SAFETY: libva's context; `data` is null or holds size * num bytes.
    unsafe {
        with(ctx, |d| {
            if !d.contexts.contains_key(&context) {
                return VA_STATUS_ERROR_INVALID_CONTEXT;
            }
            let Some(len) = (size as usize).checked_mul(num as usize) else {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            };
            let bytes = if data.is_null() {
                vec![0; len]
            } else {
                // SAFETY: the VA contract: `data` holds `size * num_elements` bytes.
                std::slice::from_raw_parts(data.cast::<u8>(), len).to_vec()
            };
            let id = d.id();
            d.log(&format!(
                "CreateBuffer context={context} type={kind} size={size} num={num} id={id} data={}",
                hex(&bytes)
            ));
            d.buffers.insert(id, Buffer { kind, data: bytes });
            put(out, id);
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn buffer_set_num_elements(ctx: Ctx, id: VAGenericID, num: c_uint) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("BufferSetNumElements id={id} num={num}"));
            VA_STATUS_ERROR_UNIMPLEMENTED
        })
    }
}

unsafe extern "C" fn map_buffer(ctx: Ctx, id: VAGenericID, out: *mut *mut c_void) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("MapBuffer id={id}"));
            match d.buffers.get_mut(&id) {
                Some(b) => {
                    // The Vec is never resized while the buffer exists, so the pointer stays
                    // valid until vaDestroyBuffer / vaDestroyImage.
                    put(out, b.data.as_mut_ptr().cast::<c_void>());
                    VA_STATUS_SUCCESS
                }
                None => VA_STATUS_ERROR_INVALID_BUFFER,
            }
        })
    }
}

unsafe extern "C" fn unmap_buffer(ctx: Ctx, id: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("UnmapBuffer id={id}"));
            status(d.buffers.contains_key(&id), VA_STATUS_ERROR_INVALID_BUFFER)
        })
    }
}

unsafe extern "C" fn destroy_buffer(ctx: Ctx, id: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("DestroyBuffer id={id}"));
            status(
                d.buffers.remove(&id).is_some(),
                VA_STATUS_ERROR_INVALID_BUFFER,
            )
        })
    }
}

unsafe extern "C" fn begin_picture(
    ctx: Ctx,
    context: VAGenericID,
    target: VAGenericID,
) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("BeginPicture context={context} target={target}"));
            if !d.surfaces.contains_key(&target) {
                return VA_STATUS_ERROR_INVALID_SURFACE;
            }
            match d.contexts.get_mut(&context) {
                Some(c) => {
                    c.picture = Some((target, expect::FNV_BASIS));
                    VA_STATUS_SUCCESS
                }
                None => VA_STATUS_ERROR_INVALID_CONTEXT,
            }
        })
    }
}

unsafe extern "C" fn render_picture(
    ctx: Ctx,
    context: VAGenericID,
    list: *mut VAGenericID,
    num: c_int,
) -> VAStatus {
    // SAFETY: libva's context; `list` holds `num` ids.
    unsafe {
        with(ctx, |d| {
            let ids = ids(list, num);
            d.log(&format!(
                "RenderPicture context={context} buffers={}",
                id_list(&ids)
            ));
            let Some(mut hash) = d.contexts.get(&context).and_then(|c| c.picture) else {
                return VA_STATUS_ERROR_INVALID_CONTEXT;
            };
            for id in ids {
                let Some(b) = d.buffers.get(&id) else {
                    return VA_STATUS_ERROR_INVALID_BUFFER;
                };
                if b.kind == VA_SLICE_DATA_BUFFER_TYPE {
                    hash.1 = expect::fnv1a(hash.1, &b.data);
                }
            }
            if let Some(c) = d.contexts.get_mut(&context) {
                c.picture = Some(hash);
            }
            VA_STATUS_SUCCESS
        })
    }
}

unsafe extern "C" fn end_picture(ctx: Ctx, context: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            let Some((target, seed)) = d.contexts.get_mut(&context).and_then(|c| c.picture.take())
            else {
                d.log(&format!("EndPicture context={context} no-picture"));
                return VA_STATUS_ERROR_INVALID_CONTEXT;
            };
            d.log(&format!(
                "EndPicture context={context} target={target} seed={seed:#010x}"
            ));
            status(d.fill(target, seed), VA_STATUS_ERROR_INVALID_SURFACE)
        })
    }
}

unsafe extern "C" fn sync_surface(ctx: Ctx, surface: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("SyncSurface surface={surface}"));
            status(
                d.surfaces.contains_key(&surface),
                VA_STATUS_ERROR_INVALID_SURFACE,
            )
        })
    }
}

unsafe extern "C" fn query_surface_status(
    ctx: Ctx,
    surface: VAGenericID,
    status: *mut c_int,
) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            if !d.surfaces.contains_key(&surface) {
                return VA_STATUS_ERROR_INVALID_SURFACE;
            }
            // VASurfaceReady: decoding is synchronous.
            put(status, 4);
            VA_STATUS_SUCCESS
        })
    }
}

/// The image format of a fourcc this driver knows.
fn image_format(fourcc: u32) -> VAImageFormat {
    let bpp = driver::layout(fourcc, 2, 2).map_or(0, |l| l.bits_per_pixel);
    VAImageFormat {
        fourcc,
        byte_order: 1,
        bits_per_pixel: bpp,
        depth: if bpp == 32 { 24 } else { 0 },
        ..Default::default()
    }
}

unsafe extern "C" fn query_image_formats(
    ctx: Ctx,
    list: *mut VAImageFormat,
    num: *mut c_int,
) -> VAStatus {
    // SAFETY: libva's context; `list` holds max_image_formats entries.
    unsafe {
        with(ctx, |d| {
            d.log("QueryImageFormats");
            for (i, f) in driver::IMAGE_FORMATS.iter().enumerate() {
                // SAFETY: i < max_image_formats (= IMAGE_FORMATS.len()).
                put(list.add(i), image_format(u32::from_le_bytes(**f)));
            }
            put(num, driver::IMAGE_FORMATS.len() as c_int);
            VA_STATUS_SUCCESS
        })
    }
}

/// Creates an image (and its buffer) of `fourcc`, `width`x`height`, holding `data` if given.
fn new_image(
    d: &mut Driver,
    fourcc: u32,
    width: u32,
    height: u32,
    data: Option<Vec<u8>>,
) -> Option<VAImage> {
    let l = driver::layout(fourcc, width, height)?;
    let buf = d.id();
    let image_id = d.id();
    let bytes = data.unwrap_or_else(|| vec![0; l.size as usize]);
    d.buffers.insert(
        buf,
        Buffer {
            kind: VA_IMAGE_BUFFER_TYPE,
            data: bytes,
        },
    );
    let image = VAImage {
        image_id,
        format: image_format(fourcc),
        buf,
        width: u16::try_from(width).ok()?,
        height: u16::try_from(height).ok()?,
        data_size: l.size,
        num_planes: l.planes,
        pitches: l.pitches,
        offsets: l.offsets,
        ..Default::default()
    };
    d.images.insert(image_id, Image { image });
    Some(image)
}

unsafe extern "C" fn create_image(
    ctx: Ctx,
    format: *mut VAImageFormat,
    width: c_int,
    height: c_int,
    out: *mut VAImage,
) -> VAStatus {
    // SAFETY: libva's context; `format` points to the caller's format.
    unsafe {
        with(ctx, |d| {
            if format.is_null() {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            }
            let fourcc = (*format).fourcc;
            let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            };
            match new_image(d, fourcc, w, h, None) {
                Some(image) => {
                    d.log(&format!(
                        "CreateImage fourcc={} width={w} height={h} id={}",
                        fourcc_str(fourcc),
                        image.image_id
                    ));
                    put(out, image);
                    VA_STATUS_SUCCESS
                }
                None => VA_STATUS_ERROR_INVALID_IMAGE_FORMAT,
            }
        })
    }
}

unsafe extern "C" fn derive_image(ctx: Ctx, surface: VAGenericID, out: *mut VAImage) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            if std::env::var_os("VIRGL_TEST_VA_NO_DERIVE").is_some() {
                d.log(&format!("DeriveImage surface={surface} refused"));
                return VA_STATUS_ERROR_OPERATION_FAILED;
            }
            let Some(s) = d.surfaces.get(&surface) else {
                return VA_STATUS_ERROR_INVALID_SURFACE;
            };
            let (fourcc, w, h, data) = (s.fourcc, s.width, s.height, s.data.clone());
            match new_image(d, fourcc, w, h, Some(data)) {
                Some(image) => {
                    d.log(&format!(
                        "DeriveImage surface={surface} fourcc={} id={}",
                        fourcc_str(fourcc),
                        image.image_id
                    ));
                    put(out, image);
                    VA_STATUS_SUCCESS
                }
                None => VA_STATUS_ERROR_OPERATION_FAILED,
            }
        })
    }
}

unsafe extern "C" fn destroy_image(ctx: Ctx, id: VAGenericID) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!("DestroyImage id={id}"));
            match d.images.remove(&id) {
                Some(i) => {
                    d.buffers.remove(&i.image.buf);
                    VA_STATUS_SUCCESS
                }
                None => VA_STATUS_ERROR_INVALID_IMAGE,
            }
        })
    }
}

unsafe extern "C" fn get_image(
    ctx: Ctx,
    surface: VAGenericID,
    x: c_int,
    y: c_int,
    width: c_uint,
    height: c_uint,
    image: VAGenericID,
) -> VAStatus {
    // SAFETY: libva's context.
    unsafe {
        with(ctx, |d| {
            d.log(&format!(
                "GetImage surface={surface} x={x} y={y} width={width} height={height} image={image}"
            ));
            let (Some(s), Some(i)) = (d.surfaces.get(&surface), d.images.get(&image)) else {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            };
            // Whole-surface copies into an image of the surface's own format and size only.
            if x != 0
                || y != 0
                || i.image.format.fourcc != s.fourcc
                || (width, height) != (s.width, s.height)
                || (u32::from(i.image.width), u32::from(i.image.height)) != (s.width, s.height)
            {
                return VA_STATUS_ERROR_UNIMPLEMENTED;
            }
            let data = s.data.clone();
            match d.buffers.get_mut(&i.image.buf) {
                Some(b) if b.data.len() == data.len() => {
                    b.data.copy_from_slice(&data);
                    VA_STATUS_SUCCESS
                }
                _ => VA_STATUS_ERROR_INVALID_IMAGE,
            }
        })
    }
}

/// DRM fourcc of layer `plane` of a surface of VA `fourcc`.
fn layer_format(fourcc: u32, plane: usize) -> u32 {
    let f = |s: &[u8; 4]| u32::from_le_bytes(*s);
    match (&fourcc.to_le_bytes(), plane) {
        (b"NV12", 0) => f(b"R8  "),
        (b"NV12", _) => f(b"GR88"),
        (b"P010" | b"P016", 0) => f(b"R16 "),
        (b"P010" | b"P016", _) => f(b"GR32"),
        _ => fourcc,
    }
}

unsafe extern "C" fn export_surface_handle(
    ctx: Ctx,
    surface: VAGenericID,
    mem_type: u32,
    flags: u32,
    out: *mut c_void,
) -> VAStatus {
    // SAFETY: libva's context; `out` is the caller's VADRMPRIMESurfaceDescriptor.
    unsafe {
        with(ctx, |d| {
            d.log(&format!(
                "ExportSurfaceHandle surface={surface} mem_type={mem_type:#x} flags={flags:#x}"
            ));
            if mem_type != VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2 || out.is_null() {
                return VA_STATUS_ERROR_INVALID_PARAMETER;
            }
            let Some(s) = d.surfaces.get(&surface) else {
                return VA_STATUS_ERROR_INVALID_SURFACE;
            };
            // SAFETY: a NUL-terminated name; flags are valid memfd flags.
            let fd = libc::memfd_create(c"va-surface".as_ptr(), libc::MFD_CLOEXEC);
            if fd < 0 {
                return VA_STATUS_ERROR_OPERATION_FAILED;
            }
            // SAFETY: `fd` is the memfd just created; `data` is valid for its length.
            let written = libc::write(fd, s.data.as_ptr().cast::<c_void>(), s.data.len());
            if written != s.data.len() as isize {
                // SAFETY: our fd.
                libc::close(fd);
                return VA_STATUS_ERROR_OPERATION_FAILED;
            }
            let mut desc = PrimeDescriptor {
                fourcc: s.fourcc,
                width: s.width,
                height: s.height,
                num_objects: 1,
                num_layers: s.layout.planes,
                ..Default::default()
            };
            desc.objects[0] = PrimeObject {
                fd,
                size: s.layout.size,
                drm_format_modifier: 0,
            };
            for p in 0..s.layout.planes as usize {
                desc.layers[p] = PrimeLayer {
                    drm_format: layer_format(s.fourcc, p),
                    num_planes: 1,
                    object_index: [0; 4],
                    offset: [s.layout.offsets[p], 0, 0, 0],
                    pitch: [s.layout.pitches[p], 0, 0, 0],
                };
            }
            out.cast::<PrimeDescriptor>().write(desc);
            VA_STATUS_SUCCESS
        })
    }
}

// What follows is required by libva's loader but unused by virgl: explicit "unimplemented".

unsafe extern "C" fn put_surface(
    _: Ctx,
    _: VAGenericID,
    _: *mut c_void,
    _: i16,
    _: i16,
    _: u16,
    _: u16,
    _: i16,
    _: i16,
    _: u16,
    _: u16,
    _: *mut c_void,
    _: c_uint,
    _: c_uint,
) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn set_image_palette(_: Ctx, _: VAGenericID, _: *mut u8) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn put_image(
    _: Ctx,
    _: VAGenericID,
    _: VAGenericID,
    _: c_int,
    _: c_int,
    _: c_uint,
    _: c_uint,
    _: c_int,
    _: c_int,
    _: c_uint,
    _: c_uint,
) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn query_subpicture_formats(
    _: Ctx,
    _: *mut VAImageFormat,
    _: *mut c_uint,
    num: *mut c_uint,
) -> VAStatus {
    // SAFETY: libva passes a valid out pointer (or null).
    unsafe { put(num, 0) };
    VA_STATUS_SUCCESS
}

unsafe extern "C" fn create_subpicture(_: Ctx, _: VAGenericID, _: *mut VAGenericID) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn destroy_subpicture(_: Ctx, _: VAGenericID) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn set_subpicture_image(_: Ctx, _: VAGenericID, _: VAGenericID) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn set_subpicture_chromakey(
    _: Ctx,
    _: VAGenericID,
    _: c_uint,
    _: c_uint,
    _: c_uint,
) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn set_subpicture_global_alpha(_: Ctx, _: VAGenericID, _: f32) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn associate_subpicture(
    _: Ctx,
    _: VAGenericID,
    _: *mut VAGenericID,
    _: c_int,
    _: i16,
    _: i16,
    _: u16,
    _: u16,
    _: i16,
    _: i16,
    _: u16,
    _: u16,
    _: c_uint,
) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn deassociate_subpicture(
    _: Ctx,
    _: VAGenericID,
    _: *mut VAGenericID,
    _: c_int,
) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn query_display_attributes(_: Ctx, _: *mut c_void, num: *mut c_int) -> VAStatus {
    // SAFETY: libva passes a valid out pointer (or null).
    unsafe { put(num, 0) };
    VA_STATUS_SUCCESS
}

unsafe extern "C" fn get_display_attributes(_: Ctx, _: *mut c_void, _: c_int) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}

unsafe extern "C" fn set_display_attributes(_: Ctx, _: *mut c_void, _: c_int) -> VAStatus {
    VA_STATUS_ERROR_UNIMPLEMENTED
}
