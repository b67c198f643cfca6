//! GL contexts from the embedder: QEMU's `create_gl_context` / `make_current` /
//! `destroy_gl_context` callbacks behind the GL backend's [`GlContextProvider`] seam.
//!
//! QEMU hands us contexts but no `getProcAddress`: GL entry points are looked up through
//! `eglGetProcAddress` of the process's libEGL (GLVND dispatches to whichever context is current,
//! EGL- or GLX-made), falling back to the symbols libGL exports.

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

use virgl_vrend::{GlContextHandle, GlContextParams, GlContextProvider, VrendError, VrendResult};

use super::types::{virgl_renderer_callbacks, virgl_renderer_gl_ctx_param};

/// The embedder's callbacks, checked to be present at construction.
pub(super) struct CallbackGlProvider {
    cookie: *mut c_void,
    callbacks: *const virgl_renderer_callbacks,
    gles: bool,
}

impl CallbackGlProvider {
    /// # Safety
    /// `callbacks` must point at a callbacks struct that stays valid and unchanged until the
    /// renderer is cleaned up (the C API requires this of `virgl_renderer_init`), and `cookie`
    /// must be what those callbacks expect.
    pub(super) unsafe fn new(
        cookie: *mut c_void,
        callbacks: *const virgl_renderer_callbacks,
        gles: bool,
    ) -> Option<Self> {
        // SAFETY: guaranteed valid by the caller.
        let cbs = unsafe { &*callbacks };
        if cbs.create_gl_context.is_none()
            || cbs.destroy_gl_context.is_none()
            || cbs.make_current.is_none()
        {
            return None;
        }
        Some(Self {
            cookie,
            callbacks,
            gles,
        })
    }

    fn callbacks(&self) -> &virgl_renderer_callbacks {
        // SAFETY: valid for the renderer's lifetime by the contract of `new`.
        unsafe { &*self.callbacks }
    }
}

type GetProcAddress = unsafe extern "C" fn(name: *const std::ffi::c_char) -> *const c_void;

/// `eglGetProcAddress` of the process's libEGL, if there is one.
fn egl_get_proc_address() -> Option<GetProcAddress> {
    static LOOKUP: OnceLock<Option<(libloading::Library, GetProcAddress)>> = OnceLock::new();
    LOOKUP
        .get_or_init(|| {
            // SAFETY: loading libEGL runs its initialisers, which have no preconditions; the
            // library stays loaded for the process's lifetime (kept in the static).
            let library = unsafe { libloading::Library::new("libEGL.so.1") }.ok()?;
            // SAFETY: `eglGetProcAddress` has exactly this signature in every EGL 1.x.
            let symbol = unsafe { library.get::<GetProcAddress>(b"eglGetProcAddress\0") }.ok()?;
            let function = *symbol;
            Some((library, function))
        })
        .as_ref()
        .map(|(_, function)| *function)
}

impl GlContextProvider for CallbackGlProvider {
    fn create_context(&self, params: &GlContextParams) -> VrendResult<GlContextHandle> {
        let create = self.callbacks().create_gl_context.expect("checked in new");
        let mut param = virgl_renderer_gl_ctx_param {
            version: 1,
            shared: params.shared,
            major_ver: params.major as i32,
            minor_ver: params.minor as i32,
            compat_ctx: params.compat as i32,
        };
        // SAFETY: the embedder's callback, called with its cookie and a valid param struct that
        // outlives the call; scanout 0 as upstream passes.
        let raw = unsafe { create(self.cookie, 0, &mut param) };
        GlContextHandle::from_raw(raw).ok_or_else(|| {
            VrendError::Provider(format!(
                "create_gl_context({}.{}) returned NULL",
                params.major, params.minor
            ))
        })
    }

    fn make_current(&self, ctx: Option<GlContextHandle>) -> VrendResult<()> {
        let make_current = self.callbacks().make_current.expect("checked in new");
        let raw = ctx.map_or(std::ptr::null_mut(), GlContextHandle::as_raw);
        // SAFETY: the embedder's callback with its cookie and a context it created (or NULL to
        // release, which QEMU's implementations accept).
        let ret = unsafe { make_current(self.cookie, 0, raw) };
        if ret == 0 {
            Ok(())
        } else {
            Err(VrendError::Provider(format!("make_current failed: {ret}")))
        }
    }

    fn destroy_context(&self, ctx: GlContextHandle) {
        let destroy = self.callbacks().destroy_gl_context.expect("checked in new");
        // SAFETY: the embedder's callback with a context it created and we no longer use.
        unsafe { destroy(self.cookie, ctx.as_raw()) };
    }

    fn get_proc_address(&self, name: &CStr) -> *const c_void {
        if let Some(lookup) = egl_get_proc_address() {
            // SAFETY: `name` is NUL-terminated; eglGetProcAddress only reads it.
            let address = unsafe { lookup(name.as_ptr()) };
            if !address.is_null() {
                return address;
            }
        }
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name has no other precondition.
        unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) as *const c_void }
    }

    fn is_gles(&self) -> bool {
        self.gles
    }
}
