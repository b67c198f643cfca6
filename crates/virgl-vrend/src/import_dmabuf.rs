//! dma-buf memory as GL textures through EGL (`EGL_EXT_image_dma_buf_import`, with
//! `_modifiers` where the display has it, and `GL_OES_EGL_image`): the path for Venus memory
//! exported as `FdType::Dmabuf`, which `GL_EXT_memory_object_fd` cannot take (and which is
//! what real GPU hosts hand out for guest dma-bufs).
//!
//! The EGL display is the current one (`eglGetCurrentDisplay`): imports run with a context of
//! the backend's share group current, so this is our own surfaceless display when the backend
//! made its contexts, and the embedder's display when it provides them (QEMU). The image is
//! made without a context (`EGL_NO_CONTEXT`, as the extension requires) and kept alive with
//! the texture; both are destroyed together on the GL thread (`import.rs`).
//!
//! Channel order: the texture must hold the memory's bytes as the `GL_EXT_memory_object_fd`
//! path does (an RGBA texture over BGRA bytes, red and blue swapped by sampler views), so that
//! transfers, `get_rect`, blits and views treat both kinds of import alike. The fourcc is
//! therefore that of the *storage* format: a B8G8R8A8 image is imported as ABGR8888 (byte 0 in
//! the red channel), not ARGB8888. Only single-plane formats with a DRM fourcc are taken;
//! others are refused explicitly.
//!
//! Not done here: multi-planar (YUV) images, and modifiers other than LINEAR on displays
//! without `EGL_EXT_image_dma_buf_import_modifiers` (refused).

use std::ffi::c_void;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;

use khronos_egl as egl;
use virgl_resource::{ImageDesc, ImportRequest};

use crate::formats::vf;
use crate::host::HostGl;

const EGL_LINUX_DMA_BUF_EXT: egl::Enum = 0x3270;
const EGL_LINUX_DRM_FOURCC_EXT: usize = 0x3271;
const EGL_DMA_BUF_PLANE0_FD_EXT: usize = 0x3272;
const EGL_DMA_BUF_PLANE0_OFFSET_EXT: usize = 0x3273;
const EGL_DMA_BUF_PLANE0_PITCH_EXT: usize = 0x3274;
const EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT: usize = 0x3443;
const EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT: usize = 0x3444;
const GL_TEXTURE_2D: u32 = 0x0DE1;

/// `DRM_FORMAT_MOD_LINEAR` and `DRM_FORMAT_MOD_INVALID` (no explicit modifier).
const MOD_LINEAR: u64 = 0;
const MOD_INVALID: u64 = 0x00ff_ffff_ffff_ffff;

const fn fourcc(code: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*code)
}

/// The DRM fourcc whose memory layout is the virgl format `format`, for the single-plane
/// formats a window image may have; `None` for the rest.
pub(crate) fn drm_fourcc(format: u32) -> Option<u32> {
    Some(match format {
        vf::B8G8R8A8_UNORM | vf::B8G8R8A8_SRGB => fourcc(b"AR24"),
        vf::B8G8R8X8_UNORM | vf::B8G8R8X8_SRGB => fourcc(b"XR24"),
        vf::R8G8B8A8_UNORM | vf::R8G8B8A8_SRGB => fourcc(b"AB24"),
        vf::R8G8B8X8_UNORM | vf::R8G8B8X8_SRGB => fourcc(b"XB24"),
        vf::B5G6R5_UNORM => fourcc(b"RG16"),
        vf::R10G10B10A2_UNORM => fourcc(b"AB30"),
        vf::B10G10R10A2_UNORM => fourcc(b"AR30"),
        _ => return None,
    })
}

/// Bytes per texel of the formats [`drm_fourcc`] knows.
fn texel_bytes(format: u32) -> u64 {
    if format == vf::B5G6R5_UNORM {
        2
    } else {
        4
    }
}

type ImageTargetTexture2dFn = unsafe extern "system" fn(u32, *const c_void);

/// The process's libEGL, loaded once (as `egl.rs` does for its own display; never unloaded).
fn egl_instance() -> Option<&'static egl::DynamicInstance<egl::EGL1_5>> {
    static EGL: OnceLock<Option<egl::DynamicInstance<egl::EGL1_5>>> = OnceLock::new();
    EGL.get_or_init(|| {
        // SAFETY: libEGL.so.1 is the system's EGL loader and follows the EGL ABI the bindings
        // declare; khronos-egl keeps it loaded.
        match unsafe { egl::DynamicInstance::<egl::EGL1_5>::load_required() } {
            Ok(instance) => Some(instance),
            Err(e) => {
                tracing::debug!("no EGL 1.5 for dma-buf imports: {e}");
                None
            }
        }
    })
    .as_ref()
}

/// What a dma-buf import needs: EGL with dma-buf import on the current display and
/// `glEGLImageTargetTexture2DOES`. Plain pointers, so the importer stays `Send`.
#[derive(Clone, Copy)]
pub(crate) struct DmabufFns {
    image_target_texture_2d: ImageTargetTexture2dFn,
    /// `EGLDisplay` the images are made on (the display current when the backend loaded us).
    display: usize,
    modifiers: bool,
}

// `DmabufFns` is `Copy` over a function pointer and a display handle: both are thread-free
// values (EGL calls are thread-safe, EGL 1.5 §3.1).

/// An `EGLImage` made by [`DmabufFns::import`], by address (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EglImageRef(pub(crate) usize);

impl DmabufFns {
    /// `None` when the current display or the GL context lacks what a dma-buf import needs.
    pub(crate) fn load(host: &HostGl) -> Option<Self> {
        if !host.has_extension("GL_OES_EGL_image") {
            return None;
        }
        let instance = egl_instance()?;
        let display = instance.get_current_display()?;
        let exts = instance
            .query_string(Some(display), egl::EXTENSIONS)
            .map(|s| s.to_string_lossy().into_owned())
            .ok()?;
        let has = |name: &str| exts.split(' ').any(|e| e == name);
        if !has("EGL_EXT_image_dma_buf_import") {
            return None;
        }
        let ptr = host.proc_address("glEGLImageTargetTexture2DOES");
        if ptr.is_null() {
            return None;
        }
        // SAFETY: a non-null address of glEGLImageTargetTexture2DOES, whose Khronos signature
        // is `void (GLenum target, GLeglImageOES image)`, pointer sized.
        let image_target_texture_2d =
            unsafe { std::mem::transmute_copy::<*const c_void, ImageTargetTexture2dFn>(&ptr) };
        Some(Self {
            image_target_texture_2d,
            display: display.as_ptr() as usize,
            modifiers: has("EGL_EXT_image_dma_buf_import_modifiers"),
        })
    }

    fn display(&self) -> egl::Display {
        // SAFETY: the address of the display current when `load` ran, which EGL keeps
        // (displays are never freed while the process runs; ours is never terminated).
        unsafe { egl::Display::from_ptr(self.display as *mut c_void) }
    }

    /// Makes the `EGLImage` of the dma-buf in `request` holding `desc`, as the fourcc of the
    /// storage format `storage` (see the module docs).
    pub(crate) fn create_image(
        &self,
        request: &ImportRequest<'_>,
        desc: &ImageDesc,
        storage: u32,
    ) -> Result<EglImageRef, String> {
        let instance = egl_instance().ok_or("EGL is gone")?;
        let code = drm_fourcc(storage).ok_or_else(|| {
            format!(
                "format {} has no DRM fourcc: it cannot be imported from a dma-buf",
                desc.format
            )
        })?;
        let bpp = texel_bytes(storage);
        let row = u64::from(desc.width) * bpp;
        let pitch = u64::from(desc.stride);
        if pitch < row {
            return Err(format!(
                "row pitch {pitch} of a {}x{} dma-buf image is below {row} bytes",
                desc.width, desc.height
            ));
        }
        let needed = pitch
            .checked_mul(u64::from(desc.height).saturating_sub(1))
            .and_then(|b| b.checked_add(row))
            .and_then(|b| b.checked_add(u64::from(desc.offset)));
        if needed.is_none_or(|n| n > request.size) {
            return Err(format!(
                "{}x{} image (pitch {pitch}, offset {}) does not fit {} bytes of memory",
                desc.width, desc.height, desc.offset, request.size
            ));
        }
        let mut attribs: Vec<usize> = vec![
            egl::WIDTH as usize,
            desc.width as usize,
            egl::HEIGHT as usize,
            desc.height as usize,
            EGL_LINUX_DRM_FOURCC_EXT,
            code as usize,
            EGL_DMA_BUF_PLANE0_FD_EXT,
            request.fd.as_raw_fd() as usize,
            EGL_DMA_BUF_PLANE0_OFFSET_EXT,
            desc.offset as usize,
            EGL_DMA_BUF_PLANE0_PITCH_EXT,
            desc.stride as usize,
        ];
        match (desc.modifier, self.modifiers) {
            (MOD_INVALID, _) => {}
            (modifier, true) => attribs.extend([
                EGL_DMA_BUF_PLANE0_MODIFIER_LO_EXT,
                (modifier & 0xffff_ffff) as usize,
                EGL_DMA_BUF_PLANE0_MODIFIER_HI_EXT,
                (modifier >> 32) as usize,
            ]),
            // Without the modifiers extension the layout is implied: linear is the best the
            // display can be told.
            (MOD_LINEAR, false) => {}
            (modifier, false) => {
                return Err(format!(
                    "modifier {modifier:#x} needs EGL_EXT_image_dma_buf_import_modifiers"
                ))
            }
        }
        attribs.push(egl::ATTRIB_NONE);
        // SAFETY: EGL_NO_CONTEXT and a null client buffer are what EGL_LINUX_DMA_BUF_EXT
        // requires; the fd stays ours (EGL does not take it) and is open for the call.
        let image = unsafe {
            instance.create_image(
                self.display(),
                egl::Context::from_ptr(egl::NO_CONTEXT),
                EGL_LINUX_DMA_BUF_EXT,
                egl::ClientBuffer::from_ptr(std::ptr::null_mut()),
                &attribs,
            )
        }
        .map_err(|e| {
            format!(
                "eglCreateImage(EGL_LINUX_DMA_BUF_EXT) of {}x{} fourcc {:?} pitch {pitch} \
                 modifier {:#x}: {e}",
                desc.width,
                desc.height,
                String::from_utf8_lossy(&code.to_le_bytes()),
                desc.modifier
            )
        })?;
        Ok(EglImageRef(image.as_ptr() as usize))
    }

    /// Makes the texture bound to `GL_TEXTURE_2D` a sibling of `image` (current context).
    ///
    /// # Safety
    /// A context of the share group is current, a texture is bound to `GL_TEXTURE_2D`, and
    /// `image` came from [`Self::create_image`] and has not been destroyed.
    pub(crate) unsafe fn target_texture(&self, image: EglImageRef) {
        // SAFETY: per the caller's contract.
        unsafe { (self.image_target_texture_2d)(GL_TEXTURE_2D, image.0 as *const c_void) };
    }

    /// Destroys an image (its textures keep their storage until deleted).
    pub(crate) fn destroy_image(&self, image: EglImageRef) {
        let Some(instance) = egl_instance() else {
            return;
        };
        if image.0 == 0 {
            return;
        }
        // SAFETY: an image made by `create_image` on this display, destroyed once (the
        // import that owned it is gone).
        let image = unsafe { egl::Image::from_ptr(image.0 as *mut c_void) };
        if let Err(e) = instance.destroy_image(self.display(), image) {
            tracing::warn!("eglDestroyImage: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourccs_of_window_formats() {
        // The codes of drm_fourcc.h, spelled as their characters.
        assert_eq!(drm_fourcc(vf::B8G8R8A8_UNORM), Some(0x3432_5241));
        assert_eq!(drm_fourcc(vf::R8G8B8A8_UNORM), Some(0x3432_4241));
        assert_eq!(drm_fourcc(vf::B8G8R8X8_UNORM), Some(0x3432_5258));
        assert_eq!(drm_fourcc(vf::B5G6R5_UNORM), Some(0x3631_4752));
        assert_eq!(drm_fourcc(vf::R10G10B10A2_UNORM), Some(0x3033_4241));
        assert_eq!(drm_fourcc(vf::B10G10R10A2_UNORM), Some(0x3033_5241));
        assert_eq!(drm_fourcc(vf::R32G32B32A32_FLOAT), None);
    }
}
