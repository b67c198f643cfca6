//! Host GL contexts: the [`GlContextProvider`] seam and our own EGL implementation of it.
//!
//! The renderer needs one GL context per guest context and sub-context, all sharing objects with
//! one renderer-wide context. Who creates them differs by embedder: vtest and Rust VMMs let us
//! open EGL ourselves ([`EglProvider`], surfaceless Mesa platform by default), while QEMU hands
//! in `create_gl_context` / `make_current` / `destroy_gl_context` callbacks (wired in
//! `virgl-capi` through the same trait).
//!
//! This is the only module of the crate with EGL FFI. It does not make GL calls itself; GL
//! function pointers are loaded once through [`GlContextProvider::get_proc_address`] into a
//! `glow::Context` by the backend.

use std::ffi::{c_void, CStr};
use std::ptr::NonNull;
use std::sync::OnceLock;

use khronos_egl as egl;

use crate::error::{VrendError, VrendResult};

/// `EGL_PLATFORM_SURFACELESS_MESA`.
const PLATFORM_SURFACELESS_MESA: egl::Enum = 0x31DD;

/// What the renderer asks of a new GL context (upstream `virgl_gl_ctx_param`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlContextParams {
    /// Share objects with the context current on this thread at the time of the call (the
    /// renderer makes its renderer-wide context current first). `false` for that root context.
    pub shared: bool,
    pub major: u32,
    pub minor: u32,
    /// Request a compatibility profile (desktop GL only).
    pub compat: bool,
}

/// An opaque GL context as the provider knows it (an `EGLContext`, or QEMU's
/// `virgl_renderer_gl_context`). Never null.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GlContextHandle(NonNull<c_void>);

impl GlContextHandle {
    /// Wraps a non-null raw context pointer; `None` for null (a failed creation).
    pub fn from_raw(ptr: *mut c_void) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    pub fn as_raw(self) -> *mut c_void {
        self.0.as_ptr()
    }
}

/// Creates, binds and destroys host GL contexts for the renderer.
///
/// Implemented by [`EglProvider`] and, in `virgl-capi`, by a wrapper around QEMU's callbacks.
pub trait GlContextProvider {
    /// Creates a context; see [`GlContextParams::shared`] for what it shares with.
    fn create_context(&self, params: &GlContextParams) -> VrendResult<GlContextHandle>;

    /// Makes `ctx` current on the calling thread; `None` releases the current context.
    fn make_current(&self, ctx: Option<GlContextHandle>) -> VrendResult<()>;

    /// Destroys a context created by this provider. It must not be current on another thread.
    fn destroy_context(&self, ctx: GlContextHandle);

    /// The address of a GL entry point (null if unknown).
    fn get_proc_address(&self, name: &CStr) -> *const c_void;

    /// Whether contexts are OpenGL ES rather than desktop GL.
    fn is_gles(&self) -> bool;
}

/// Which EGL platform the provider opens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum EglPlatform {
    /// `EGL_PLATFORM_SURFACELESS_MESA`: no window system, no device node.
    #[default]
    Surfaceless,
    /// GBM on a DRM render node (e.g. `/dev/dri/renderD128`). Not implemented yet.
    Gbm(std::path::PathBuf),
}

/// Options of [`EglProvider`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EglOptions {
    pub platform: EglPlatform,
    /// OpenGL ES 3.x contexts instead of desktop GL core.
    pub use_gles: bool,
}

/// The process-wide EGL library and display.
///
/// `eglInitialize` is reference-less and `eglTerminate` would pull the display from under every
/// other renderer in the process (tests run several in parallel threads), so the display is
/// initialised once and never terminated.
struct EglGlobal {
    instance: egl::DynamicInstance<egl::EGL1_5>,
    display: egl::Display,
    has_no_config: bool,
}

// SAFETY: EGL display handles and the loaded entry points may be used from any thread (EGL 1.5
// §3.1: all EGL calls are thread-safe); per-thread state (current context, bound API) lives in
// the EGL library, not in this struct.
unsafe impl Send for EglGlobal {}
// SAFETY: as above; the struct is never mutated after initialisation.
unsafe impl Sync for EglGlobal {}

static EGL_SURFACELESS: OnceLock<Result<EglGlobal, String>> = OnceLock::new();

fn egl_err(call: &'static str, error: egl::Error) -> VrendError {
    VrendError::Egl {
        call,
        error: error.to_string(),
    }
}

fn init_surfaceless() -> Result<EglGlobal, String> {
    // SAFETY: libEGL.so.1 is the system's EGL loader (glvnd or Mesa) and follows the EGL ABI
    // the bindings declare; khronos-egl opens it RTLD_NODELETE so the entry points stay valid.
    let instance = unsafe { egl::DynamicInstance::<egl::EGL1_5>::load_required() }
        .map_err(|e| format!("cannot load libEGL.so.1 with EGL 1.5 entry points: {e}"))?;
    let client_exts = instance
        .query_string(None, egl::EXTENSIONS)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !client_exts
        .split(' ')
        .any(|e| e == "EGL_MESA_platform_surfaceless")
    {
        return Err("EGL_MESA_platform_surfaceless is not offered by libEGL".into());
    }
    // SAFETY: the surfaceless platform takes EGL_DEFAULT_DISPLAY (null) as its native display
    // and an empty (ATTRIB_NONE-terminated) attribute list.
    let display = unsafe {
        instance.get_platform_display(
            PLATFORM_SURFACELESS_MESA,
            std::ptr::null_mut(),
            &[egl::ATTRIB_NONE],
        )
    }
    .map_err(|e| format!("eglGetPlatformDisplay(SURFACELESS_MESA): {e}"))?;
    instance
        .initialize(display)
        .map_err(|e| format!("eglInitialize: {e}"))?;
    let exts = instance
        .query_string(Some(display), egl::EXTENSIONS)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let has = |name: &str| exts.split(' ').any(|e| e == name);
    if !has("EGL_KHR_surfaceless_context") {
        return Err("EGL_KHR_surfaceless_context missing".into());
    }
    Ok(EglGlobal {
        instance,
        display,
        has_no_config: has("EGL_KHR_no_config_context"),
    })
}

/// Our own EGL: surfaceless Mesa display, no-config contexts, desktop GL core (or GLES 3.x).
pub struct EglProvider {
    global: &'static EglGlobal,
    use_gles: bool,
}

impl std::fmt::Debug for EglProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EglProvider")
            .field("use_gles", &self.use_gles)
            .finish_non_exhaustive()
    }
}

impl EglProvider {
    /// Opens (once per process) the EGL display of `options.platform`.
    pub fn new(options: &EglOptions) -> VrendResult<Self> {
        match &options.platform {
            EglPlatform::Surfaceless => {}
            EglPlatform::Gbm(path) => {
                return Err(VrendError::Unsupported(format!(
                    "EGL on GBM render node {} (only the surfaceless platform is implemented)",
                    path.display()
                )))
            }
        }
        let global = EGL_SURFACELESS
            .get_or_init(init_surfaceless)
            .as_ref()
            .map_err(|e| VrendError::EglUnavailable(e.clone()))?;
        Ok(Self {
            global,
            use_gles: options.use_gles,
        })
    }

    fn bind_api(&self) -> VrendResult<()> {
        let api = if self.use_gles {
            egl::OPENGL_ES_API
        } else {
            egl::OPENGL_API
        };
        self.global
            .instance
            .bind_api(api)
            .map_err(|e| egl_err("eglBindAPI", e))
    }

    fn config(&self) -> VrendResult<egl::Config> {
        if self.global.has_no_config {
            // SAFETY: EGL_NO_CONFIG_KHR is the null config, valid with EGL_KHR_no_config_context
            // (checked at initialisation).
            return Ok(unsafe { egl::Config::from_ptr(std::ptr::null_mut()) });
        }
        let renderable = if self.use_gles {
            egl::OPENGL_ES3_BIT
        } else {
            egl::OPENGL_BIT
        };
        let attribs = [egl::RENDERABLE_TYPE, renderable, egl::NONE];
        self.global
            .instance
            .choose_first_config(self.global.display, &attribs)
            .map_err(|e| egl_err("eglChooseConfig", e))?
            .ok_or_else(|| VrendError::EglUnavailable("no EGL config for the requested API".into()))
    }
}

impl GlContextProvider for EglProvider {
    fn create_context(&self, params: &GlContextParams) -> VrendResult<GlContextHandle> {
        self.bind_api()?;
        let config = self.config()?;
        let share = if params.shared {
            self.global.instance.get_current_context()
        } else {
            None
        };
        if params.shared && share.is_none() {
            return Err(VrendError::Provider(
                "shared context requested while no context is current".into(),
            ));
        }
        let major = i32::try_from(params.major)
            .map_err(|_| VrendError::Invalid("GL major version".into()))?;
        let minor = i32::try_from(params.minor)
            .map_err(|_| VrendError::Invalid("GL minor version".into()))?;
        let mut attribs = vec![
            egl::CONTEXT_MAJOR_VERSION,
            major,
            egl::CONTEXT_MINOR_VERSION,
            minor,
        ];
        if !self.use_gles && (params.major, params.minor) >= (3, 2) {
            attribs.push(egl::CONTEXT_OPENGL_PROFILE_MASK);
            attribs.push(if params.compat {
                egl::CONTEXT_OPENGL_COMPATIBILITY_PROFILE_BIT
            } else {
                egl::CONTEXT_OPENGL_CORE_PROFILE_BIT
            });
        }
        // Robust buffer access first: the guest's draws may index vertex, index or uniform
        // buffers out of bounds, and only a robust context makes GL keep such reads inside the
        // buffer (or return zeros) instead of reading host memory. Drivers without it get a
        // plain context.
        let mut robust = attribs.clone();
        robust.extend([
            egl::CONTEXT_OPENGL_ROBUST_ACCESS,
            egl::TRUE as egl::Int,
            egl::NONE,
        ]);
        attribs.push(egl::NONE);
        let instance = &self.global.instance;
        let ctx = match instance.create_context(self.global.display, config, share, &robust) {
            Ok(ctx) => ctx,
            Err(e) => {
                tracing::debug!("robust GL context refused ({e}); creating a plain one");
                instance
                    .create_context(self.global.display, config, share, &attribs)
                    .map_err(|e| egl_err("eglCreateContext", e))?
            }
        };
        GlContextHandle::from_raw(ctx.as_ptr())
            .ok_or_else(|| VrendError::Provider("eglCreateContext returned EGL_NO_CONTEXT".into()))
    }

    fn make_current(&self, ctx: Option<GlContextHandle>) -> VrendResult<()> {
        // SAFETY: every handle given to this provider came from `create_context` above and is
        // an EGLContext of our display that has not been destroyed (the renderer owns them).
        let ctx = ctx.map(|c| unsafe { egl::Context::from_ptr(c.as_raw()) });
        if ctx.is_some() {
            self.bind_api()?;
        }
        self.global
            .instance
            .make_current(self.global.display, None, None, ctx)
            .map_err(|e| egl_err("eglMakeCurrent", e))
    }

    fn destroy_context(&self, ctx: GlContextHandle) {
        // SAFETY: as in `make_current`, the handle is a live EGLContext of our display.
        let ctx = unsafe { egl::Context::from_ptr(ctx.as_raw()) };
        if self.global.instance.get_current_context() == Some(ctx) {
            let _ = self
                .global
                .instance
                .make_current(self.global.display, None, None, None);
        }
        if let Err(e) = self
            .global
            .instance
            .destroy_context(self.global.display, ctx)
        {
            tracing::warn!("eglDestroyContext failed: {e}");
        }
    }

    fn get_proc_address(&self, name: &CStr) -> *const c_void {
        let Ok(name) = name.to_str() else {
            return std::ptr::null();
        };
        self.global
            .instance
            .get_proc_address(name)
            .map_or(std::ptr::null(), |f| f as *const c_void)
    }

    fn is_gles(&self) -> bool {
        self.use_gles
    }
}

/// The GL versions tried, newest first, when creating the renderer's contexts.
pub(crate) const GL_VERSIONS: &[(u32, u32)] = &[
    (4, 6),
    (4, 5),
    (4, 4),
    (4, 3),
    (4, 2),
    (4, 1),
    (4, 0),
    (3, 3),
    (3, 2),
    (3, 1),
];
/// The GLES versions tried, newest first.
pub(crate) const GLES_VERSIONS: &[(u32, u32)] = &[(3, 2), (3, 1), (3, 0)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surfaceless_gl_and_gles_contexts() {
        for use_gles in [false, true] {
            let p = EglProvider::new(&EglOptions {
                use_gles,
                ..Default::default()
            })
            .unwrap();
            let versions = if use_gles { GLES_VERSIONS } else { GL_VERSIONS };
            let root = versions
                .iter()
                .find_map(|&(major, minor)| {
                    p.create_context(&GlContextParams {
                        shared: false,
                        major,
                        minor,
                        compat: false,
                    })
                    .ok()
                })
                .expect("some GL version");
            p.make_current(Some(root)).unwrap();
            assert!(!p.get_proc_address(c"glGetString").is_null());
            let child = p
                .create_context(&GlContextParams {
                    shared: true,
                    major: 3,
                    minor: 0,
                    compat: false,
                })
                .unwrap();
            p.make_current(Some(child)).unwrap();
            p.make_current(None).unwrap();
            p.destroy_context(child);
            p.destroy_context(root);
        }
    }

    #[test]
    fn gbm_is_an_explicit_error() {
        let err = EglProvider::new(&EglOptions {
            platform: EglPlatform::Gbm("/dev/dri/renderD128".into()),
            use_gles: false,
        })
        .unwrap_err();
        assert!(matches!(err, VrendError::Unsupported(_)));
    }

    #[test]
    fn shared_without_current_is_refused() {
        let p = EglProvider::new(&EglOptions::default()).unwrap();
        p.make_current(None).unwrap();
        let err = p.create_context(&GlContextParams {
            shared: true,
            major: 3,
            minor: 3,
            compat: false,
        });
        assert!(err.is_err());
    }
}
