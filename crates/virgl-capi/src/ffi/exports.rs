//! The exported functions, in the order of `virglrenderer.h`.
//!
//! Error conventions follow upstream function by function (they differ): most `int` functions
//! return 0 or a positive errno, the blob functions return a negative errno,
//! `virgl_renderer_init` returns -1/-EBUSY or the backend's error, and `void` functions ignore
//! unknown ids.

use std::ffi::{c_char, c_int, c_void};
use std::os::fd::{BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

use virgl_resource::{
    Backing, BlobFlags, BlobInfo, BlobMem, FdType, GuestIovecs, GuestMemory, ResourceCreateArgs,
    ResourceError, TransferDirection, TransferRequest,
};

use super::gl_callbacks::CallbackGlProvider;
use super::types::*;
use super::{guarded, log, with_state, State, STATE};
use crate::renderer::{capset, RendererCallbacks, RendererFlags};
use crate::Renderer;

const CALLBACKS_VERSION_MAX: c_int = 4;

/// Fence notifications through the embedder's C callbacks.
struct CFenceCallbacks {
    cookie: *mut c_void,
    callbacks: *const virgl_renderer_callbacks,
}

impl CFenceCallbacks {
    fn callbacks(&self) -> &virgl_renderer_callbacks {
        // SAFETY: `virgl_renderer_init` requires the callbacks struct to stay valid until
        // `virgl_renderer_cleanup`, and this object is dropped by cleanup.
        unsafe { &*self.callbacks }
    }
}

impl RendererCallbacks for CFenceCallbacks {
    fn write_fence(&self, fence_id: u32) {
        if let Some(write_fence) = self.callbacks().write_fence {
            // SAFETY: the embedder's callback with its own cookie.
            unsafe { write_fence(self.cookie, fence_id) };
        }
    }

    fn write_context_fence(&self, ctx_id: u32, ring_idx: u32, fence_id: u64) {
        let cbs = self.callbacks();
        if cbs.version < 3 {
            return;
        }
        if let Some(write_context_fence) = cbs.write_context_fence {
            // SAFETY: the embedder's callback (present from version 3) with its own cookie.
            unsafe { write_context_fence(self.cookie, ctx_id, ring_idx, fence_id) };
        }
    }
}

/// # Safety
/// `cb` must be NULL or point at a `virgl_renderer_callbacks` of the version it declares that
/// stays valid until `virgl_renderer_cleanup`; `cookie` is passed back to those callbacks.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_init(
    cookie: *mut c_void,
    flags: c_int,
    cb: *mut virgl_renderer_callbacks,
) -> c_int {
    guarded(-1, || {
        log::install();
        let already = STATE.with(|cell| {
            cell.try_borrow().map(|state| {
                state
                    .as_ref()
                    .map(|s| (s.cookie, s.flags, s.callbacks as *mut _))
            })
        });
        match already {
            Ok(Some(existing)) => {
                return if existing == (cookie, flags, cb) {
                    0
                } else {
                    tracing::error!("renderer already initialized");
                    -libc::EBUSY
                };
            }
            Ok(None) => {}
            Err(_) => return -libc::EBUSY,
        }
        if cb.is_null() {
            tracing::error!("invalid renderer callbacks");
            return -1;
        }
        // SAFETY: non-null and valid by this function's contract.
        let version = unsafe { (*cb).version };
        if !(1..=CALLBACKS_VERSION_MAX).contains(&version) {
            tracing::error!(version, "invalid renderer callbacks version");
            return -1;
        }
        let renderer_flags = RendererFlags::from_bits_truncate(flags as u32);
        // SAFETY: `cb` is valid until cleanup by this function's contract.
        let gl_provider = unsafe { CallbackGlProvider::new(cookie, cb, false) };
        // SAFETY: `cb` is valid by this function's contract; the hook exists from version 3.
        let server_fd = unsafe { render_server_fd(cookie, cb, renderer_flags) };
        // SAFETY: `cb` is valid by this function's contract; the hook exists from version 2.
        let drm_fd = unsafe { video_drm_fd(cookie, cb, renderer_flags) };
        let renderer_result = Renderer::builder(renderer_flags)
            .callbacks(Box::new(CFenceCallbacks {
                cookie,
                callbacks: cb,
            }))
            .embedder_gl(gl_provider.map(|p| Box::new(p) as _))
            .render_server_fd(server_fd)
            .drm_fd(drm_fd)
            .build();
        match renderer_result {
            Ok(renderer) => {
                STATE.with(|cell| {
                    *cell.borrow_mut() = Some(State {
                        cookie,
                        flags,
                        callbacks: cb,
                        renderer,
                        resource_priv: Default::default(),
                    })
                });
                0
            }
            Err(error) => {
                tracing::error!(%error, "virgl_renderer_init failed");
                -1
            }
        }
    })
}

/// The embedder's connection to a render server (`get_server_fd`, callbacks v3), asked for
/// only when Venus contexts go to a render server, as upstream's proxy does; `None` lets the
/// proxy start the server itself.
///
/// # Safety
/// `cb` must point at valid callbacks of the version they declare.
unsafe fn render_server_fd(
    cookie: *mut c_void,
    cb: *const virgl_renderer_callbacks,
    flags: RendererFlags,
) -> Option<OwnedFd> {
    if !flags.contains(RendererFlags::VENUS | RendererFlags::RENDER_SERVER) {
        return None;
    }
    // SAFETY: valid by this function's contract.
    let cbs = unsafe { &*cb };
    if cbs.version < 3 {
        return None;
    }
    let get_server_fd = cbs.get_server_fd?;
    // SAFETY: the embedder's callback (present from version 3) with its own cookie.
    let fd = unsafe { get_server_fd(cookie, crate::proxy::SERVER_VERSION) };
    // SAFETY: a non-negative return is a new fd handed to us (upstream takes ownership too).
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The embedder's DRM fd for video (`get_drm_fd`, callbacks version 2+), duplicated: the
/// embedder keeps its own.
///
/// # Safety
/// `cb` must be valid.
unsafe fn video_drm_fd(
    cookie: *mut c_void,
    cb: *const virgl_renderer_callbacks,
    flags: RendererFlags,
) -> Option<OwnedFd> {
    if !flags.contains(RendererFlags::USE_VIDEO) {
        return None;
    }
    // SAFETY: valid by this function's contract.
    let cbs = unsafe { &*cb };
    if cbs.version < 2 {
        return None;
    }
    let get_drm_fd = cbs.get_drm_fd?;
    // SAFETY: the embedder's callback (present from version 2) with its own cookie.
    let fd = unsafe { get_drm_fd(cookie) };
    if fd < 0 {
        return None;
    }
    // SAFETY: F_DUPFD_CLOEXEC on the embedder's open fd; it keeps the original.
    let dup = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    // SAFETY: a new fd we own.
    (dup >= 0).then(|| unsafe { OwnedFd::from_raw_fd(dup) })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_poll() {
    with_state((), |state| state.renderer.poll());
}

/// # Safety
/// `width` and `height` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_get_cursor_data(
    resource_id: u32,
    width: *mut u32,
    height: *mut u32,
) -> *mut c_void {
    with_state(std::ptr::null_mut(), |state| {
        let Ok(cursor) = state.renderer.cursor_data(resource_id) else {
            return std::ptr::null_mut();
        };
        // SAFETY: the caller passes valid (or NULL) out pointers.
        unsafe {
            if !width.is_null() {
                *width = cursor.width;
            }
            if !height.is_null() {
                *height = cursor.height;
            }
        }
        // The caller frees the buffer with free(): allocate it with malloc.
        let bytes = cursor.pixels.len();
        // SAFETY: malloc with a non-zero size has no precondition; NULL is handled.
        let buffer = unsafe { libc::malloc(bytes.max(1)) } as *mut u8;
        if !buffer.is_null() {
            // SAFETY: `buffer` has room for `bytes` bytes and does not overlap the source.
            unsafe { std::ptr::copy_nonoverlapping(cursor.pixels.as_ptr(), buffer, bytes) };
        }
        buffer as *mut c_void
    })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_get_fd_for_texture(_tex_id: u32, _fd: *mut c_int) -> c_int {
    // No dma-buf export from GL textures on this backend (no GBM/EGL image export here).
    -1
}

#[no_mangle]
pub extern "C" fn virgl_renderer_get_fd_for_texture2(
    _tex_id: u32,
    _fd: *mut c_int,
    _stride: *mut c_int,
    _offset: *mut c_int,
) -> c_int {
    -1
}

/// # Safety
/// `args` must be NULL or valid for reads.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_import_eglimage(
    args: *mut virgl_renderer_resource_create_args,
    _image: *mut c_void,
) -> c_int {
    let _ = args;
    // Importing an embedder's EGLImage needs EGL image support in the GL backend: not built.
    libc::EINVAL
}

#[no_mangle]
pub extern "C" fn virgl_renderer_resource_unref(res_handle: u32) {
    with_state((), |state| {
        state.resource_priv.remove(&res_handle);
        state.renderer.unref_resource(res_handle);
    });
}

#[no_mangle]
pub extern "C" fn virgl_renderer_resource_set_priv(res_handle: u32, private: *mut c_void) {
    with_state((), |state| {
        if state.renderer.resources().get(res_handle).is_some() {
            state.resource_priv.insert(res_handle, private);
        }
    });
}

#[no_mangle]
pub extern "C" fn virgl_renderer_resource_get_priv(res_handle: u32) -> *mut c_void {
    with_state(std::ptr::null_mut(), |state| {
        state
            .resource_priv
            .get(&res_handle)
            .copied()
            .unwrap_or(std::ptr::null_mut())
    })
}

/// Reads a context name of `nlen` bytes (not necessarily NUL-terminated).
///
/// # Safety
/// `name` must be NULL or valid for `nlen` bytes.
unsafe fn context_name(nlen: u32, name: *const c_char) -> String {
    if name.is_null() || nlen == 0 {
        return String::new();
    }
    // SAFETY: valid for `nlen` bytes by the caller's contract.
    let bytes = unsafe { std::slice::from_raw_parts(name as *const u8, nlen as usize) };
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// # Safety
/// `name` must be NULL or valid for `nlen` bytes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_context_create(
    handle: u32,
    nlen: u32,
    name: *const c_char,
) -> c_int {
    // SAFETY: same contract.
    unsafe { virgl_renderer_context_create_with_flags(handle, capset::VIRGL2, nlen, name) }
}

/// # Safety
/// `name` must be NULL or valid for `nlen` bytes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_context_create_with_flags(
    ctx_id: u32,
    ctx_flags: u32,
    nlen: u32,
    name: *const c_char,
) -> c_int {
    // SAFETY: forwarded contract.
    let name = guarded(String::new(), || unsafe { context_name(nlen, name) });
    with_state(libc::EINVAL, |state| {
        match state.renderer.create_context(ctx_id, ctx_flags, &name) {
            Ok(()) => 0,
            Err(error) => {
                tracing::warn!(ctx_id, %error, "context creation failed");
                error.errno()
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_context_destroy(handle: u32) {
    with_state((), |state| state.renderer.destroy_context(handle));
}

/// # Safety
/// `buffer` must be valid for reads of `ndw` dwords.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_submit_cmd(
    buffer: *mut c_void,
    ctx_id: c_int,
    ndw: c_int,
) -> c_int {
    with_state(libc::EINVAL, |state| {
        if !state.renderer.has_context(ctx_id as u32) {
            return libc::EINVAL;
        }
        if ndw < 0 {
            return libc::EINVAL;
        }
        if (buffer as usize) & 3 != 0 {
            return libc::EFAULT;
        }
        let commands: &[u32] = if ndw == 0 || buffer.is_null() {
            &[]
        } else {
            // SAFETY: non-null, 4-byte aligned (checked), valid for `ndw` dwords by contract.
            unsafe { std::slice::from_raw_parts(buffer as *const u32, ndw as usize) }
        };
        match state.renderer.submit_cmd(ctx_id as u32, commands) {
            Ok(()) => 0,
            Err(error) => error.errno(),
        }
    })
}

/// # Safety
/// `max_ver` and `max_size` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_get_cap_set(
    set: u32,
    max_ver: *mut u32,
    max_size: *mut u32,
) {
    // Callable before init: the sizes are fixed by the capset layout, not by the host.
    let (version, size) = guarded((0, 0), || crate::renderer::static_capset_info(set));
    // SAFETY: valid out pointers by contract (NULL tolerated).
    unsafe {
        if !max_ver.is_null() {
            *max_ver = version;
        }
        if !max_size.is_null() {
            *max_size = size;
        }
    }
}

/// # Safety
/// `caps` must be valid for writes of the size `virgl_renderer_get_cap_set` reported.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_fill_caps(set: u32, version: u32, caps: *mut c_void) {
    if caps.is_null() {
        return;
    }
    with_state((), |state| {
        let (_, max_size) = state.renderer.capset_info(set);
        let Ok(bytes) = state.renderer.fill_caps(set, version) else {
            return;
        };
        let len = bytes.len().min(max_size as usize);
        // SAFETY: the caller's buffer holds `max_size` bytes (its documented size).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), caps as *mut u8, len) };
    });
}

#[no_mangle]
pub extern "C" fn virgl_renderer_create_fence(client_fence_id: c_int, _ctx_id: u32) -> c_int {
    with_state(libc::EINVAL, |state| {
        match state.renderer.create_fence(client_fence_id as u32) {
            Ok(()) => 0,
            Err(error) => error.errno(),
        }
    })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_force_ctx_0() {
    with_state((), |state| state.renderer.force_ctx_0());
}

#[no_mangle]
pub extern "C" fn virgl_renderer_ctx_attach_resource(ctx_id: c_int, res_handle: c_int) {
    with_state((), |state| {
        state
            .renderer
            .ctx_attach_resource(ctx_id as u32, res_handle as u32)
    });
}

#[no_mangle]
pub extern "C" fn virgl_renderer_ctx_detach_resource(ctx_id: c_int, res_handle: c_int) {
    with_state((), |state| {
        state
            .renderer
            .ctx_detach_resource(ctx_id as u32, res_handle as u32)
    });
}

#[no_mangle]
pub extern "C" fn virgl_set_debug_callback(
    cb: virgl_debug_callback_type,
) -> virgl_debug_callback_type {
    guarded(None, || log::set_debug_callback(cb))
}

#[no_mangle]
pub extern "C" fn virgl_set_log_callback(
    cb: virgl_log_callback_type,
    user_data: *mut c_void,
    free_user_data_cb: virgl_free_data_callback_type,
) {
    guarded((), || log::set_sink(cb, user_data, free_user_data_cb));
}

/// Scanout information of a resource, importing it for GL first when it is external memory no
/// GL context has attached yet (a Venus window image QEMU scans out directly).
fn scanout_info(state: &mut State, res_handle: u32) -> Option<crate::renderer::ResourceInfo> {
    if let Err(error) = state.renderer.import_external_image(res_handle) {
        tracing::debug!(res_handle, %error, "no external image to import for scanout");
    }
    state.renderer.resource_info(res_handle).ok()
}

fn fill_resource_info(state: &mut State, res_handle: u32) -> Option<virgl_renderer_resource_info> {
    let info = scanout_info(state, res_handle)?;
    Some(virgl_renderer_resource_info {
        handle: res_handle,
        virgl_format: info.format,
        width: info.width,
        height: info.height,
        depth: info.depth,
        flags: info.flags,
        tex_id: info.tex_id,
        stride: info.stride,
        drm_fourcc: info.drm_fourcc,
        fd: -1,
    })
}

/// # Safety
/// `info` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_get_info(
    res_handle: c_int,
    info: *mut virgl_renderer_resource_info,
) -> c_int {
    if info.is_null() {
        return libc::EINVAL;
    }
    with_state(libc::EINVAL, |state| {
        match fill_resource_info(state, res_handle as u32) {
            Some(filled) => {
                // SAFETY: non-null and valid for writes by contract.
                unsafe { *info = filled };
                0
            }
            None => libc::EINVAL,
        }
    })
}

/// # Safety
/// `info` must be valid for reads and writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_get_info_ext(
    res_handle: c_int,
    info: *mut virgl_renderer_resource_info_ext,
) -> c_int {
    if info.is_null() {
        return libc::EINVAL;
    }
    with_state(libc::EINVAL, |state| {
        match fill_resource_info(state, res_handle as u32) {
            Some(base) => {
                // SAFETY: non-null and valid by contract; fields written one by one so that a
                // caller's `version` stays as it set it.
                unsafe {
                    (*info).base = base;
                    (*info).has_dmabuf_export = false;
                    (*info).planes = 0;
                    (*info).modifiers = 0;
                    (*info).d3d_tex2d = std::ptr::null_mut();
                }
                0
            }
            None => libc::EINVAL,
        }
    })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_cleanup(_cookie: *mut c_void) {
    guarded((), || {
        let state = STATE.with(|cell| cell.try_borrow_mut().ok().and_then(|mut s| s.take()));
        drop(state);
    });
}

#[no_mangle]
pub extern "C" fn virgl_renderer_reset() {
    with_state((), |state| {
        state.renderer.reset();
        state.resource_priv.clear();
    });
}

#[no_mangle]
pub extern "C" fn virgl_renderer_get_poll_fd() -> c_int {
    // Fences are retired by virgl_renderer_poll; no eventfd is offered (upstream returns -1 too
    // unless thread sync is active).
    -1
}

/// `DRM_FORMAT_MOD_INVALID` (`fourcc_mod_code(NONE, DRM_FORMAT_RESERVED)`).
const DRM_FORMAT_MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;

/// # Safety
/// `execute_args` must be valid for reads and writes of `execute_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_execute(
    execute_args: *mut c_void,
    execute_size: u32,
) -> c_int {
    let header_size = std::mem::size_of::<virgl_renderer_hdr>() as u32;
    if execute_args.is_null() || execute_size < header_size {
        return -libc::EINVAL;
    }
    // SAFETY: at least a header's worth of readable bytes by contract.
    let header = unsafe { *(execute_args as *const virgl_renderer_hdr) };
    if header.stype_version != 0 {
        return -libc::EINVAL;
    }
    const EXPORT_QUERY: u32 = 1;
    const SUPPORTED_STRUCTURES: u32 = 2;
    // Upstream wants both the caller's size and the header's size to be the struct's exactly.
    let exact = |size: usize| execute_size as usize == size && header.size as usize == size;
    match header.stype {
        SUPPORTED_STRUCTURES => {
            if !exact(std::mem::size_of::<virgl_renderer_supported_structures>()) {
                return -libc::EINVAL;
            }
            let args = execute_args as *mut virgl_renderer_supported_structures;
            // SAFETY: the buffer is exactly this struct (checked above) and writable by contract.
            unsafe {
                (*args).out_supported_structures_mask = if (*args).in_stype_version == 0 {
                    EXPORT_QUERY | SUPPORTED_STRUCTURES
                } else {
                    0
                };
            }
            0
        }
        EXPORT_QUERY => {
            if !exact(std::mem::size_of::<virgl_renderer_export_query>()) {
                return -libc::EINVAL;
            }
            let args = execute_args as *mut virgl_renderer_export_query;
            // SAFETY: the buffer is exactly this struct (checked above) and readable.
            let (res_id, export_fds) = unsafe { ((*args).in_resource_id, (*args).in_export_fds) };
            with_state(-libc::EINVAL, |state| {
                if state.renderer.resources().get(res_id).is_none() {
                    return -libc::EINVAL;
                }
                let typed = state.renderer.resource_info(res_id).is_ok();
                // SAFETY: as above, and writable by contract.
                let query = unsafe { &mut *args };
                if typed {
                    // A GL resource: nothing can be exported as dma-buf here (no GBM), so a
                    // plain query answers "no fds" and an export request fails, as upstream
                    // does for resources without a GBM buffer.
                    query.out_num_fds = 0;
                    query.out_fourcc = 0;
                    query.out_modifier = DRM_FORMAT_MOD_INVALID;
                    if export_fds != 0 {
                        -libc::EINVAL
                    } else {
                        0
                    }
                } else if export_fds == 0 {
                    // Untyped (blob) resources are exported with export_blob; a query gets one
                    // fd slot without type information, as upstream answers.
                    query.out_num_fds = 1;
                    query.out_fourcc = 0;
                    query.out_fds[0] = -1;
                    query.out_strides[0] = 0;
                    query.out_offsets[0] = 0;
                    query.out_modifier = DRM_FORMAT_MOD_INVALID;
                    0
                } else {
                    -libc::EINVAL
                }
            })
        }
        _ => -libc::EINVAL,
    }
}

#[no_mangle]
pub extern "C" fn virgl_renderer_context_create_fence(
    ctx_id: u32,
    flags: u32,
    ring_idx: u32,
    fence_id: u64,
) -> c_int {
    with_state(-libc::EINVAL, |state| {
        match state
            .renderer
            .context_create_fence(ctx_id, flags, ring_idx, fence_id)
        {
            Ok(()) => 0,
            Err(error) => -error.errno(),
        }
    })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_context_poll(ctx_id: u32) {
    with_state((), |state| state.renderer.context_poll(ctx_id));
}

#[no_mangle]
pub extern "C" fn virgl_renderer_context_get_poll_fd(ctx_id: u32) -> c_int {
    with_state(-1, |state| {
        state.renderer.context_poll_fd(ctx_id).unwrap_or(-1)
    })
}

/// Wraps the caller's iovec array.
///
/// # Safety
/// `iov` must be valid for `count` entries whose memory stays mapped as long as the result lives.
unsafe fn guest_iovecs(iov: *const libc::iovec, count: usize) -> Option<GuestIovecs> {
    // SAFETY: forwarded contract.
    match unsafe { GuestIovecs::from_raw(iov, count) } {
        Ok(iovecs) => Some(iovecs),
        Err(error) => {
            tracing::warn!(%error, "rejected iovec array");
            None
        }
    }
}

/// # Safety
/// `args` must be valid for reads; `iov` NULL or valid for `num_iovs` entries describing guest
/// memory that stays mapped until the resource is detached or destroyed.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_create(
    args: *mut virgl_renderer_resource_create_args,
    iov: *mut libc::iovec,
    num_iovs: u32,
) -> c_int {
    if args.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: non-null and valid for reads by contract.
    let a = unsafe { *args };
    let backing = if iov.is_null() || num_iovs == 0 {
        None
    } else {
        // SAFETY: forwarded contract.
        match unsafe { guest_iovecs(iov, num_iovs as usize) } {
            Some(iovecs) => Some(Backing::Iovecs(iovecs)),
            None => return libc::EINVAL,
        }
    };
    with_state(libc::EINVAL, |state| {
        if a.handle == 0 {
            return libc::EINVAL;
        }
        if state.renderer.resources().get(a.handle).is_some() {
            // Upstream returns a negative errno for this one case.
            return -libc::EINVAL;
        }
        let create_args = ResourceCreateArgs {
            handle: a.handle,
            target: a.target,
            format: a.format,
            bind: a.bind,
            width: a.width,
            height: a.height,
            depth: a.depth,
            array_size: a.array_size,
            last_level: a.last_level,
            nr_samples: a.nr_samples,
            flags: a.flags,
        };
        if let Err(error) = state.renderer.create_resource(create_args) {
            tracing::warn!(res_id = a.handle, %error, "resource creation failed");
            return libc::EINVAL;
        }
        if let Some(backing) = backing {
            if let Err(error) = state
                .renderer
                .resources_mut()
                .attach_backing(a.handle, backing)
            {
                tracing::warn!(res_id = a.handle, %error, "attaching backing failed");
                state.renderer.unref_resource(a.handle);
                return libc::ENOMEM;
            }
        }
        0
    })
}

/// # Safety
/// `iov` must be valid for `num_iovs` entries describing guest memory that stays mapped until
/// the resource is detached or destroyed.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_attach_iov(
    res_handle: c_int,
    iov: *mut libc::iovec,
    num_iovs: c_int,
) -> c_int {
    if num_iovs < 0 {
        return libc::EINVAL;
    }
    // SAFETY: forwarded contract.
    let Some(iovecs) = (unsafe { guest_iovecs(iov, num_iovs as usize) }) else {
        return libc::EINVAL;
    };
    with_state(libc::EINVAL, |state| {
        match state
            .renderer
            .resources_mut()
            .attach_backing(res_handle as u32, Backing::Iovecs(iovecs))
        {
            Ok(()) => 0,
            Err(ResourceError::UnknownId(_)) => libc::EINVAL,
            Err(error) => {
                tracing::warn!(res_handle, %error, "attach_iov refused");
                libc::EINVAL
            }
        }
    })
}

/// # Safety
/// `iov` and `num_iovs` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_detach_iov(
    res_handle: c_int,
    iov: *mut *mut libc::iovec,
    num_iovs: *mut c_int,
) {
    with_state((), |state| {
        let res_id = res_handle as u32;
        if state.renderer.resources().get(res_id).is_none() {
            return;
        }
        // A known resource without guest iovecs answers NULL/0, as upstream does.
        let (raw, count) = match state.renderer.resources_mut().detach_backing(res_id) {
            Some(iovecs) => iovecs.raw_parts(),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: valid (or NULL) out pointers by contract; we hand back the caller's own array.
        unsafe {
            if !iov.is_null() {
                *iov = raw as *mut libc::iovec;
            }
            if !num_iovs.is_null() {
                *num_iovs = count as c_int;
            }
        }
    });
}

/// Shared body of the two transfer functions.
///
/// # Safety
/// `box_` must be NULL or valid for reads; `iov` NULL or valid for `iovec_cnt` entries of mapped
/// memory for the duration of the call.
#[allow(clippy::too_many_arguments)]
unsafe fn transfer_iov(
    handle: u32,
    ctx_id: u32,
    level: u32,
    stride: u32,
    layer_stride: u32,
    box_: *const virgl_box,
    offset: u64,
    iov: *const libc::iovec,
    iovec_cnt: usize,
    direction: TransferDirection,
) -> c_int {
    if box_.is_null() {
        return libc::EINVAL;
    }
    // SAFETY: non-null and readable by contract.
    let b = unsafe { *box_ };
    let mut explicit = if iov.is_null() || iovec_cnt == 0 {
        None
    } else {
        // SAFETY: forwarded contract (the memory is only used during this call).
        match unsafe { guest_iovecs(iov, iovec_cnt) } {
            Some(iovecs) => Some(iovecs),
            None => return libc::EINVAL,
        }
    };
    let request = TransferRequest {
        res_id: handle,
        level,
        x: b.x,
        y: b.y,
        z: b.z,
        width: b.w,
        height: b.h,
        depth: b.d,
        stride,
        layer_stride,
        offset,
    };
    with_state(libc::EINVAL, |state| {
        let memory = explicit.as_mut().map(|m| m as &mut dyn GuestMemory);
        match state.renderer.transfer(ctx_id, &request, direction, memory) {
            Ok(()) => 0,
            Err(error) => {
                tracing::warn!(handle, ctx_id, %error, ?direction, "transfer failed");
                error.errno()
            }
        }
    })
}

/// # Safety
/// `box_` must be valid for reads; `iov` NULL (use the attached backing) or valid for
/// `iovec_cnt` entries of mapped memory.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_transfer_read_iov(
    handle: u32,
    ctx_id: u32,
    level: u32,
    stride: u32,
    layer_stride: u32,
    box_: *mut virgl_box,
    offset: u64,
    iov: *mut libc::iovec,
    iovec_cnt: c_int,
) -> c_int {
    if iovec_cnt < 0 {
        return libc::EINVAL;
    }
    // SAFETY: forwarded contract.
    unsafe {
        transfer_iov(
            handle,
            ctx_id,
            level,
            stride,
            layer_stride,
            box_,
            offset,
            iov,
            iovec_cnt as usize,
            TransferDirection::FromHost,
        )
    }
}

/// # Safety
/// `box_` must be valid for reads; `iovec` NULL (use the attached backing) or valid for
/// `iovec_cnt` entries of mapped memory.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_transfer_write_iov(
    handle: u32,
    ctx_id: u32,
    level: c_int,
    stride: u32,
    layer_stride: u32,
    box_: *mut virgl_box,
    offset: u64,
    iovec: *mut libc::iovec,
    iovec_cnt: u32,
) -> c_int {
    if level < 0 {
        return libc::EINVAL;
    }
    // SAFETY: forwarded contract.
    unsafe {
        transfer_iov(
            handle,
            ctx_id,
            level as u32,
            stride,
            layer_stride,
            box_,
            offset,
            iovec,
            iovec_cnt as usize,
            TransferDirection::ToHost,
        )
    }
}

/// # Safety
/// `iov` must be valid for `num_iovs` entries of mapped memory for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_get_rect(
    resource_id: c_int,
    iov: *mut libc::iovec,
    num_iovs: u32,
    offset: u32,
    x: c_int,
    y: c_int,
    width: c_int,
    height: c_int,
) {
    if x < 0 || y < 0 || width <= 0 || height <= 0 {
        return;
    }
    // SAFETY: forwarded contract.
    let Some(mut memory) = (unsafe { guest_iovecs(iov, num_iovs as usize) }) else {
        return;
    };
    with_state((), |state| {
        let Some(info) = scanout_info(state, resource_id as u32) else {
            return;
        };
        // Rows in the destination are as wide as the resource (upstream's convention).
        let stride = info.stride;
        if let Err(error) = state.renderer.get_rect(
            resource_id as u32,
            (x as u32, y as u32, width as u32, height as u32),
            &mut memory,
            u64::from(offset),
            stride,
        ) {
            tracing::warn!(resource_id, %error, "get_rect failed");
        }
    });
}

/// # Safety
/// `args` must be valid for reads, and `args->iovecs` valid for `args->num_iovs` entries of
/// guest memory that stays mapped while the resource lives.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_create_blob(
    args: *const virgl_renderer_resource_create_blob_args,
) -> c_int {
    if args.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: non-null and readable by contract.
    let a = unsafe { *args };
    let Ok(blob_mem) = BlobMem::from_raw(a.blob_mem) else {
        return -libc::EINVAL;
    };
    if a.res_handle == 0 || a.size == 0 {
        return -libc::EINVAL;
    }
    let backing = match blob_mem {
        BlobMem::Guest | BlobMem::Host3dGuest => {
            // SAFETY: forwarded contract.
            let Some(iovecs) = (unsafe { guest_iovecs(a.iovecs, a.num_iovs as usize) }) else {
                return -libc::EINVAL;
            };
            if iovecs.len() < a.size {
                return -libc::EINVAL;
            }
            Some(Backing::Iovecs(iovecs))
        }
        BlobMem::Host3d | BlobMem::GuestVram => {
            if a.num_iovs != 0 {
                return -libc::EINVAL;
            }
            None
        }
    };
    let info = BlobInfo {
        blob_mem,
        blob_flags: BlobFlags::from_bits_truncate(a.blob_flags),
        blob_id: a.blob_id,
        size: a.size,
    };
    with_state(-libc::EINVAL, |state| {
        if state.renderer.resources().get(a.res_handle).is_some() {
            return -libc::EINVAL;
        }
        match state
            .renderer
            .create_blob(a.ctx_id, a.res_handle, info, backing)
        {
            Ok(()) => 0,
            Err(error) => {
                tracing::warn!(res_id = a.res_handle, %error, "blob creation failed");
                -error.errno()
            }
        }
    })
}

/// # Safety
/// `map` and `out_size` must be NULL or valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_map(
    res_handle: u32,
    map: *mut *mut c_void,
    out_size: *mut u64,
) -> c_int {
    with_state(-libc::EINVAL, |state| {
        let Some(resource) = state.renderer.resources_mut().get_mut(res_handle) else {
            return -libc::EINVAL;
        };
        match resource.map() {
            Ok(region) => {
                // SAFETY: valid (or NULL) out pointers by contract.
                unsafe {
                    if !map.is_null() {
                        *map = region.ptr as *mut c_void;
                    }
                    if !out_size.is_null() {
                        *out_size = region.len;
                    }
                }
                0
            }
            Err(error) => {
                tracing::warn!(res_handle, %error, "map refused");
                -libc::EINVAL
            }
        }
    })
}

#[no_mangle]
pub extern "C" fn virgl_renderer_resource_map_fixed(_res_handle: u32, _addr: *mut c_void) -> c_int {
    // QEMU falls back to virgl_renderer_resource_map on -EOPNOTSUPP.
    -libc::EOPNOTSUPP
}

#[no_mangle]
pub extern "C" fn virgl_renderer_resource_unmap(res_handle: u32) -> c_int {
    with_state(-libc::EINVAL, |state| {
        match state
            .renderer
            .resources_mut()
            .get_mut(res_handle)
            .map(|r| r.unmap())
        {
            Some(Ok(())) => 0,
            _ => -libc::EINVAL,
        }
    })
}

/// # Safety
/// `map_info` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_get_map_info(
    res_handle: u32,
    map_info: *mut u32,
) -> c_int {
    if map_info.is_null() {
        return -libc::EINVAL;
    }
    with_state(-libc::EINVAL, |state| {
        match state
            .renderer
            .resources()
            .get(res_handle)
            .map(|r| r.map_info())
        {
            Some(Ok(info)) => {
                // SAFETY: non-null and writable by contract.
                unsafe { *map_info = info };
                0
            }
            _ => -libc::EINVAL,
        }
    })
}

/// # Safety
/// `fd_type` and `fd` must be valid for writes.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_export_blob(
    res_id: u32,
    fd_type: *mut u32,
    fd: *mut c_int,
) -> c_int {
    if fd_type.is_null() || fd.is_null() {
        return -libc::EINVAL;
    }
    with_state(-libc::EINVAL, |state| {
        let Some(resource) = state.renderer.resources().get(res_id) else {
            return -libc::EINVAL;
        };
        match resource.export() {
            Ok((kind, owned)) => {
                let Some(abi_type) = kind.to_blob_fd_type() else {
                    return -libc::EINVAL;
                };
                // SAFETY: non-null and writable by contract; the caller owns the new fd.
                unsafe {
                    *fd_type = abi_type;
                    *fd = owned.into_raw_fd();
                }
                0
            }
            Err(error) => {
                tracing::warn!(res_id, %error, "export refused");
                -libc::EINVAL
            }
        }
    })
}

/// The fd moves to the library only on success: a duplicate of it is imported and, once the
/// resource exists, the caller's fd is closed. A refused import leaves the caller's fd open and
/// the caller's to close, as upstream's refusals (which all happen before it takes the fd) do.
///
/// # Safety
/// `args` must be valid for reads and `args->fd` an open fd the caller owns; on success the
/// library owns `args->fd`.
#[no_mangle]
pub unsafe extern "C" fn virgl_renderer_resource_import_blob(
    args: *const virgl_renderer_resource_import_blob_args,
) -> c_int {
    if args.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: non-null and readable by contract.
    let a = unsafe { *args };
    let (Ok(blob_mem), Ok(fd_type)) = (
        BlobMem::from_raw(a.blob_mem),
        FdType::from_blob_fd_type(a.fd_type),
    ) else {
        return -libc::EINVAL;
    };
    if a.res_handle == 0 || a.fd < 0 || a.size == 0 {
        return -libc::EINVAL;
    }
    with_state(-libc::EINVAL, |state| {
        if state.renderer.resources().get(a.res_handle).is_some() {
            return -libc::EINVAL;
        }
        // SAFETY: the caller's fd is open for the duration of this call by contract.
        let borrowed = unsafe { BorrowedFd::borrow_raw(a.fd) };
        let Ok(duplicate) = borrowed.try_clone_to_owned() else {
            return -libc::EINVAL;
        };
        match state
            .renderer
            .import_blob(a.res_handle, blob_mem, fd_type, duplicate, a.size)
        {
            Ok(()) => {
                // SAFETY: the caller handed `a.fd` over on success; we hold our duplicate.
                drop(unsafe { OwnedFd::from_raw_fd(a.fd) });
                0
            }
            Err(error) => {
                tracing::warn!(res_id = a.res_handle, %error, "import refused");
                -libc::EINVAL
            }
        }
    })
}

#[cfg(feature = "unstable-apis")]
mod unstable {
    //! The functions upstream declares under `VIRGL_RENDERER_UNSTABLE_APIS`.
    //!
    //! Fence export needs sync-file fds from the backend, which the GL backend has no way to make
    //! on this host; they fail with the error upstream uses when a fence cannot be exported.

    use std::ffi::{c_int, c_void};

    use super::{virgl_renderer_submit_cmd, with_state};

    #[no_mangle]
    pub extern "C" fn virgl_renderer_export_fence(_client_fence_id: u64, _fd: *mut c_int) -> c_int {
        -libc::EINVAL
    }

    #[no_mangle]
    pub extern "C" fn virgl_renderer_export_signalled_fence() -> c_int {
        -1
    }

    /// # Safety
    /// `buffer` must be valid for `ndw` dwords; `in_fence_ids` for `num_in_fences` entries.
    #[no_mangle]
    pub unsafe extern "C" fn virgl_renderer_submit_cmd2(
        buffer: *mut c_void,
        ctx_id: c_int,
        ndw: c_int,
        _in_fence_ids: *mut u64,
        num_in_fences: u32,
    ) -> c_int {
        if num_in_fences != 0 {
            // Waiting on other contexts' fences needs fence sharing, which no backend offers.
            return libc::EINVAL;
        }
        // SAFETY: forwarded contract.
        unsafe { virgl_renderer_submit_cmd(buffer, ctx_id, ndw) }
    }

    #[no_mangle]
    pub extern "C" fn virgl_renderer_attach_fence(_ctx_id: c_int, _fence_fd: c_int) -> c_int {
        libc::EINVAL
    }

    #[no_mangle]
    pub extern "C" fn virgl_renderer_get_fence_fd(_fence_id: u64) -> c_int {
        -1
    }

    #[no_mangle]
    pub extern "C" fn virgl_renderer_get_dev_fd(ctx_id: c_int) -> c_int {
        // Only DRM native contexts have a device fd.
        with_state(-1, |_state| {
            let _ = ctx_id;
            -1
        })
    }
}
