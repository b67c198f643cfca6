//! The GL side of cross-context imports: another context's memory (a Venus image exported from
//! `VkDeviceMemory`) shown by GL contexts (issue 9).
//!
//! A guest that wants GL to use such a blob attaches it to its GL context and types it with
//! `VIRGL_CCMD_PIPE_RESOURCE_SET_TYPE` (format, size, plane layout). [`set_type`] records that
//! [`ImageDesc`] on the resource and asks virgl-resource's wide lookup for a [`GlImport`]; the
//! first lookup runs [`GlImporter`], which imports an opaque fd through
//! `GL_EXT_memory_object_fd` (a dedicated memory object, a linear-tiled `glTexStorageMem2DEXT`
//! texture, one level) and a dma-buf through an `EGLImage` (`import_dmabuf.rs`: explicit
//! fourcc, pitch, offset and modifier), and the table caches the result per resource. The GL backend then gets a [`GlResource`] marked
//! `imported` over that texture, so transfers, blits, views, `resource_info` and `get_rect`
//! work on it like on any texture.
//!
//! Ownership: the [`GlImport`] in the table's import cache owns the texture and the memory
//! object or `EGLImage` under it.
//! When the source resource leaves the table the import is dropped; GL names cannot be deleted
//! from `Drop` (no context is guaranteed current, the table may sit on another thread), so they
//! go to a queue that the backend drains on its thread ([`ImportState::collect`]), which also
//! drops the [`GlResource`] that referred to them so that no stale name is ever used.
//!
//! BGRA: Venus window images are BGRA in memory while GL has no BGRA internal format; the
//! texture is created with the RGBA counterpart, transfers move the bytes as they are, and
//! sampler views swap red and blue (`views.rs`), as upstream does for `is_imported` resources.
//!
//! The embedder's scanout texture (`resource_info().tex_id`) of an imported BGRA resource is a
//! texture view with the same swizzle, so QEMU sampling it sees the right colours; `get_rect`
//! returns the memory's bytes. Colour blits between an imported BGRA resource and any other
//! (from or into it) go through the drawing blitter (`blitter.rs`), whose source view swaps red
//! and blue (`glBlitFramebuffer` ignores swizzles); between two imported BGRA resources the raw
//! copy is right and stays a framebuffer blit.
//!
//! Both import paths leave the texture holding the memory's bytes in the storage format's
//! channels (a BGRA dma-buf is imported as ABGR8888, not ARGB8888), so everything above treats
//! them alike. A dma-buf import's texture is not immutable, so its BGRA scanout texture is a
//! second, swizzled sibling of the same `EGLImage` rather than a texture view.
//!
//! Not done here: multi-planar images, row pitches `GL_EXT_memory_object_fd` cannot be told
//! (for opaque fds the GL driver chooses the linear layout, we only check the size fits;
//! dma-bufs carry their pitch), and the render server's
//! `GET_RESOURCE` (which would fill the resource's `image` before the lookup: the importer
//! already takes an [`ImageDesc`], whichever source it came from).

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ffi::c_void;
use std::num::NonZeroU32;
use std::os::fd::{IntoRawFd, RawFd};
use std::sync::{Arc, Mutex};

use glow::HasContext;
use virgl_protocol::command::PipeResourceSetType;
use virgl_resource::{
    ContextError, FdType, ImageDesc, ImportRequest, Importer, ResourceCreateArgs, ResourceTable,
};

use crate::backend::Shared;
use crate::formats::vf;
use crate::host::HostGl;
use crate::import_dmabuf::{DmabufFns, EglImageRef};
use crate::resource::{pipe_target, GlResource, Storage};

const GL_TEXTURE_TILING_EXT: u32 = 0x9580;
const GL_DEDICATED_MEMORY_OBJECT_EXT: u32 = 0x9581;
const GL_LINEAR_TILING_EXT: u32 = 0x9585;
const GL_HANDLE_TYPE_OPAQUE_FD_EXT: u32 = 0x9586;
const GL_TEXTURE_2D: u32 = 0x0DE1;
const GL_NO_ERROR: u32 = 0;

type CreateMemoryObjectsFn = unsafe extern "system" fn(i32, *mut u32);
type DeleteMemoryObjectsFn = unsafe extern "system" fn(i32, *const u32);
type MemoryObjectParameterivFn = unsafe extern "system" fn(u32, u32, *const i32);
type ImportMemoryFdFn = unsafe extern "system" fn(u32, u64, u32, i32);
type TexStorageMem2dFn = unsafe extern "system" fn(u32, i32, u32, i32, i32, u32, u64);
type GenTexturesFn = unsafe extern "system" fn(i32, *mut u32);
type DeleteTexturesFn = unsafe extern "system" fn(i32, *const u32);
type BindTextureFn = unsafe extern "system" fn(u32, u32);
type TexParameteriFn = unsafe extern "system" fn(u32, u32, i32);
type GetErrorFn = unsafe extern "system" fn() -> u32;

/// The entry points an import needs, loaded by hand: glow wraps neither the memory-object
/// extension nor anything usable away from the `glow::Context` (which the importer, owned by
/// the resource table, cannot hold). Plain function pointers, so the importer is `Send`.
#[derive(Clone, Copy)]
struct MemObjFns {
    /// GL_EXT_memory_object(_fd), for opaque fds; `None` where the host lacks it.
    memobj: Option<MemObjExt>,
    /// EGL dma-buf import, for dma-bufs; `None` where the host lacks it.
    dmabuf: Option<DmabufFns>,
    gen_textures: GenTexturesFn,
    delete_textures: DeleteTexturesFn,
    bind_texture: BindTextureFn,
    tex_parameteri: TexParameteriFn,
    get_error: GetErrorFn,
}

#[derive(Clone, Copy)]
struct MemObjExt {
    create_memory_objects: CreateMemoryObjectsFn,
    delete_memory_objects: DeleteMemoryObjectsFn,
    memory_object_parameteriv: MemoryObjectParameterivFn,
    import_memory_fd: ImportMemoryFdFn,
    tex_storage_mem_2d: TexStorageMem2dFn,
}

impl MemObjFns {
    /// Loads the entry points; `None` where the host can import neither opaque fds
    /// (GL_EXT_memory_object(_fd)) nor dma-bufs (EGL), or lacks a core entry point.
    fn load(host: &HostGl) -> Option<Self> {
        fn load<T: Copy>(host: &HostGl, name: &str) -> Option<T> {
            let ptr = host.proc_address(name);
            if ptr.is_null() {
                return None;
            }
            debug_assert_eq!(
                std::mem::size_of::<T>(),
                std::mem::size_of::<*const c_void>()
            );
            // SAFETY: every `T` used below is an `unsafe extern "system" fn` type (pointer
            // sized) whose signature matches the GL entry point `name` in the Khronos registry;
            // the provider returned a non-null address for it.
            Some(unsafe { std::mem::transmute_copy::<*const c_void, T>(&ptr) })
        }
        let memobj = if host.has_extension("GL_EXT_memory_object")
            && host.has_extension("GL_EXT_memory_object_fd")
        {
            (|| {
                Some(MemObjExt {
                    create_memory_objects: load(host, "glCreateMemoryObjectsEXT")?,
                    delete_memory_objects: load(host, "glDeleteMemoryObjectsEXT")?,
                    memory_object_parameteriv: load(host, "glMemoryObjectParameterivEXT")?,
                    import_memory_fd: load(host, "glImportMemoryFdEXT")?,
                    tex_storage_mem_2d: load(host, "glTexStorageMem2DEXT")?,
                })
            })()
        } else {
            None
        };
        let dmabuf = DmabufFns::load(host);
        if memobj.is_none() && dmabuf.is_none() {
            return None;
        }
        Some(Self {
            memobj,
            dmabuf,
            gen_textures: load(host, "glGenTextures")?,
            delete_textures: load(host, "glDeleteTextures")?,
            bind_texture: load(host, "glBindTexture")?,
            tex_parameteri: load(host, "glTexParameteri")?,
            get_error: load(host, "glGetError")?,
        })
    }

    /// Drains GL errors (current context), returning the first.
    fn take_error(&self) -> u32 {
        let mut first = GL_NO_ERROR;
        for _ in 0..16 {
            // SAFETY: glGetError on the current context, no preconditions.
            let e = unsafe { (self.get_error)() };
            if e == GL_NO_ERROR {
                break;
            }
            if first == GL_NO_ERROR {
                first = e;
            }
        }
        first
    }

    /// Deletes a texture, a memory object and an EGL image (current context of the share
    /// group; 0 = none).
    fn delete(&self, texture: u32, memobj: u32, egl_image: EglImageRef) {
        // SAFETY: the names were made by this importer and are referenced by nothing we still
        // use (their GlResource is gone or being dropped); deleting 0 is skipped.
        unsafe {
            if texture != 0 {
                (self.delete_textures)(1, &texture);
            }
            if let (true, Some(ext)) = (memobj != 0, self.memobj) {
                (ext.delete_memory_objects)(1, &memobj);
            }
        }
        if let (true, Some(dmabuf)) = (egl_image.0 != 0, self.dmabuf) {
            dmabuf.destroy_image(egl_image);
        }
    }
}

/// GL names of a dropped import, waiting for the backend's thread.
#[derive(Debug, Clone, Copy)]
struct Released {
    res_id: u32,
    texture: u32,
    memobj: u32,
    egl_image: EglImageRef,
}

type ReleaseQueue = Arc<Mutex<Vec<Released>>>;

/// Import bookkeeping the backend shares with its contexts.
#[derive(Default)]
pub(crate) struct ImportState {
    fns: OnceCell<Option<MemObjFns>>,
    released: ReleaseQueue,
    /// Scanout views of imported BGRA textures, by resource id: `(texture, view)`. The
    /// embedder samples `virgl_renderer_resource_get_info`'s texture with its own shaders, so
    /// the red/blue swap of sampler views must be in the texture it gets: a texture view with
    /// swizzled channels over the same memory.
    scanout_views: RefCell<HashMap<u32, (u32, glow::Texture)>>,
}

impl ImportState {
    fn fns(&self, host: &HostGl) -> Option<MemObjFns> {
        *self.fns.get_or_init(|| MemObjFns::load(host))
    }

    /// Whether dropped imports wait for [`Self::collect`].
    pub(crate) fn has_released(&self) -> bool {
        self.released.lock().is_ok_and(|queue| !queue.is_empty())
    }

    /// Deletes the GL names of imports dropped since the last call, and the [`GlResource`]s
    /// that pointed at them. Needs a current context of the share group.
    /// The texture the embedder should scan `res_id` out of: its swizzled view where it has
    /// one (imported BGRA), else `texture` itself.
    pub(crate) fn scanout_texture(&self, res_id: u32, texture: u32) -> u32 {
        match self.scanout_views.borrow().get(&res_id) {
            Some(&(tex, view)) if tex == texture => view.0.get(),
            _ => texture,
        }
    }

    /// Makes the red/blue-swapped view of an imported BGRA texture for scanout (current
    /// context). A dma-buf import's texture is not immutable (no texture views of it): its
    /// scanout texture is another sibling of the same `EGLImage`, swizzled. Without
    /// ARB_texture_view the embedder gets the texture itself (channels swapped); that is logged.
    fn add_scanout_view(
        &self,
        host: &HostGl,
        res_id: u32,
        texture: NonZeroU32,
        internal: u32,
        egl_image: Option<(DmabufFns, EglImageRef)>,
    ) {
        /// Where the scanout texture's storage comes from.
        enum Source {
            Sibling(DmabufFns, EglImageRef),
            View(unsafe extern "system" fn(u32, u32, u32, u32, u32, u32, u32, u32)),
        }
        let source = match (egl_image, host.extra.texture_view) {
            (Some((dmabuf, image)), _) => Source::Sibling(dmabuf, image),
            (None, Some(make_view)) => Source::View(make_view),
            (None, None) => {
                tracing::warn!(
                    res_id,
                    "no texture views: imported BGRA scans out with R/B swapped"
                );
                return;
            }
        };
        let gl = &host.gl;
        host.take_error();
        // SAFETY: current context of the share group; the view is made of the imported
        // texture's single level and layer with its own internal format (always compatible),
        // or is another sibling of the import's live EGL image, and is bound only while its
        // storage and swizzle are set.
        let view = unsafe {
            let Ok(view) = gl.create_texture() else {
                return;
            };
            match source {
                Source::Sibling(dmabuf, image) => {
                    gl.bind_texture(GL_TEXTURE_2D, Some(view));
                    dmabuf.target_texture(image);
                }
                Source::View(make_view) => {
                    make_view(
                        view.0.get(),
                        GL_TEXTURE_2D,
                        texture.get(),
                        internal,
                        0,
                        1,
                        0,
                        1,
                    );
                    gl.bind_texture(GL_TEXTURE_2D, Some(view));
                }
            }
            gl.tex_parameter_i32(GL_TEXTURE_2D, glow::TEXTURE_SWIZZLE_R, glow::BLUE as i32);
            gl.tex_parameter_i32(GL_TEXTURE_2D, glow::TEXTURE_SWIZZLE_B, glow::RED as i32);
            gl.bind_texture(GL_TEXTURE_2D, None);
            view
        };
        if let Err(e) = host.check("scanout view of an imported texture") {
            tracing::warn!(res_id, %e, "imported BGRA scans out with R/B swapped");
            // SAFETY: made above, referenced nowhere.
            unsafe { gl.delete_texture(view) };
            return;
        }
        if let Some((_, old)) = self
            .scanout_views
            .borrow_mut()
            .insert(res_id, (texture.get(), view))
        {
            // SAFETY: a view of an earlier import of this id, no longer handed out.
            unsafe { gl.delete_texture(old) };
        }
    }

    pub(crate) fn collect(&self, host: &HostGl, resources: &mut HashMap<u32, GlResource>) {
        let released = match self.released.lock() {
            Ok(mut queue) if !queue.is_empty() => std::mem::take(&mut *queue),
            _ => return,
        };
        let Some(fns) = self.fns(host) else { return };
        for r in released {
            let stale = resources.get(&r.res_id).is_some_and(|res| {
                res.imported && res.texture_name().map(NonZeroU32::get) == Some(r.texture)
            });
            if stale {
                resources.remove(&r.res_id);
            }
            let mut views = self.scanout_views.borrow_mut();
            if views
                .get(&r.res_id)
                .is_some_and(|&(tex, _)| tex == r.texture)
            {
                if let Some((_, view)) = views.remove(&r.res_id) {
                    // SAFETY: the view was made by `add_scanout_view` on this share group and
                    // is referenced by nothing else (only handed out by name for sampling).
                    unsafe { host.gl.delete_texture(view) };
                }
            }
            fns.delete(r.texture, r.memobj, r.egl_image);
        }
    }
}

/// A GL texture over imported memory, as the resource table caches it (see the module docs
/// for who owns what).
#[derive(Debug)]
pub struct GlImport {
    res_id: u32,
    texture: NonZeroU32,
    memobj: u32,
    /// The EGL image of a dma-buf import (0 for memory objects), alive as long as the texture.
    egl_image: EglImageRef,
    /// The image as imported: width, height, format (the guest's `enum virgl_formats`).
    pub desc: ImageDesc,
    released: ReleaseQueue,
}

impl Drop for GlImport {
    fn drop(&mut self) {
        let released = Released {
            res_id: self.res_id,
            texture: self.texture.get(),
            memobj: self.memobj,
            egl_image: self.egl_image,
        };
        // A poisoned queue only means another thread panicked mid-push; the names still go.
        match self.released.lock() {
            Ok(mut queue) => queue.push(released),
            Err(poisoned) => poisoned.into_inner().push(released),
        }
    }
}

/// Imports fd memory as a GL texture; registered in the resource table for [`GlImport`].
struct GlImporter {
    fns: MemObjFns,
    /// Internal format of every virgl format an import may use (the host's format table is
    /// not `Send`; this snapshot is).
    internal: HashMap<u32, u32>,
    released: ReleaseQueue,
}

/// The RGBA format whose texture stores a BGRA image's bytes unchanged.
fn storage_format(format: u32) -> u32 {
    match format {
        vf::B8G8R8A8_UNORM => vf::R8G8B8A8_UNORM,
        vf::B8G8R8X8_UNORM => vf::R8G8B8X8_UNORM,
        vf::B8G8R8A8_SRGB => vf::R8G8B8A8_SRGB,
        vf::B8G8R8X8_SRGB => vf::R8G8B8X8_SRGB,
        other => other,
    }
}

/// The format views of an imported BGRA image sample it as: the linear RGBA counterpart, so
/// that the bytes come out raw (upstream sets GL_SKIP_DECODE_EXT for the same effect).
pub(crate) fn sampled_format(format: u32) -> u32 {
    match format {
        vf::B8G8R8A8_UNORM | vf::B8G8R8A8_SRGB => vf::R8G8B8A8_UNORM,
        vf::B8G8R8X8_UNORM | vf::B8G8R8X8_SRGB => vf::R8G8B8X8_UNORM,
        other => other,
    }
}

/// Whether `format` is one of the 8-bit BGRA formats imported images swap red and blue for.
pub(crate) fn is_bgra(format: u32) -> bool {
    storage_format(format) != format
}

impl Importer for GlImporter {
    type Storage = GlImport;

    fn import(&mut self, request: &ImportRequest<'_>) -> Result<GlImport, String> {
        let desc = request
            .image
            .ok_or_else(|| "no image description for the memory".to_string())?;
        let internal = *self
            .internal
            .get(&storage_format(desc.format))
            .ok_or_else(|| format!("format {} cannot be imported", desc.format))?;
        match request.fd_type {
            // lavapipe's opaque fds are memfds, which Venus hands over as shm so the guest can
            // map them; the GL driver checks what it is given and fails the import otherwise.
            FdType::Opaque | FdType::Shm => {}
            FdType::Dmabuf => return self.import_dmabuf(request, desc),
            other => {
                return Err(format!(
                    "{other:?} memory cannot be imported into GL (opaque fds go through \
                     GL_EXT_memory_object_fd, dma-bufs through EGL)"
                ))
            }
        }
        let f = &self.fns;
        let Some(ext) = f.memobj else {
            return Err(format!(
                "{:?} memory needs GL_EXT_memory_object_fd, which the host lacks",
                request.fd_type
            ));
        };
        let bytes = virgl_protocol::VirglFormat::from_raw(desc.format)
            .filter(|f| !f.is_compressed() && !f.is_yuv())
            .map(|f| u64::from(f.block_bytes()))
            .ok_or_else(|| format!("format {} cannot be imported", desc.format))?;
        let needed = u64::from(desc.width)
            .checked_mul(u64::from(desc.height))
            .and_then(|px| px.checked_mul(bytes))
            .and_then(|b| b.checked_add(u64::from(desc.offset)));
        if needed.is_none_or(|n| n > request.size) {
            return Err(format!(
                "{}x{} image at offset {} does not fit {} bytes of memory",
                desc.width, desc.height, desc.offset, request.size
            ));
        }
        let width = i32::try_from(desc.width).map_err(|_| "width too large".to_string())?;
        let height = i32::try_from(desc.height).map_err(|_| "height too large".to_string())?;
        let fd: RawFd = request
            .fd
            .try_clone_to_owned()
            .map_err(|e| format!("dup of the memory fd: {e}"))?
            .into_raw_fd();
        f.take_error();
        let mut memobj = 0u32;
        // SAFETY: a context of the backend's share group is current (the caller's); `memobj`
        // is a valid out pointer for one name.
        unsafe {
            (ext.create_memory_objects)(1, &mut memobj);
            let dedicated = 1i32;
            (ext.memory_object_parameteriv)(memobj, GL_DEDICATED_MEMORY_OBJECT_EXT, &dedicated);
        }
        // Errors are checked before and after the import separately: GL owns the fd once
        // glImportMemoryFdEXT succeeds, so an error from an earlier call must not make us
        // close an fd GL has taken.
        let refused = |f: &MemObjFns, fd: RawFd, memobj: u32, what: &str| {
            // SAFETY: `fd` is our own dup and GL has not taken it (no successful import).
            unsafe { libc::close(fd) };
            f.delete(0, memobj, EglImageRef(0));
            Err(format!("{what} refused the memory object"))
        };
        if memobj == 0 || f.take_error() != GL_NO_ERROR {
            return refused(
                f,
                fd,
                memobj,
                "glCreateMemoryObjectsEXT/glMemoryObjectParameterivEXT",
            );
        }
        // SAFETY: as above; `memobj` is a valid memory object and `fd` our dup.
        unsafe { (ext.import_memory_fd)(memobj, request.size, GL_HANDLE_TYPE_OPAQUE_FD_EXT, fd) };
        if f.take_error() != GL_NO_ERROR {
            // A failed import leaves the fd with us (the extension takes it only on success).
            return refused(f, fd, memobj, "glImportMemoryFdEXT");
        }
        let mut texture = 0u32;
        // SAFETY: as above; the texture is bound to TEXTURE_2D only while its storage is made
        // and unbound again; sizes were checked to fit i32 and the memory.
        let error = unsafe {
            (f.gen_textures)(1, &mut texture);
            (f.bind_texture)(GL_TEXTURE_2D, texture);
            (f.tex_parameteri)(
                GL_TEXTURE_2D,
                GL_TEXTURE_TILING_EXT,
                GL_LINEAR_TILING_EXT as i32,
            );
            (ext.tex_storage_mem_2d)(
                GL_TEXTURE_2D,
                1,
                internal,
                width,
                height,
                memobj,
                u64::from(desc.offset),
            );
            (f.bind_texture)(GL_TEXTURE_2D, 0);
            f.take_error()
        };
        let Some(texture) = NonZeroU32::new(texture).filter(|_| error == GL_NO_ERROR) else {
            f.delete(texture, memobj, EglImageRef(0));
            return Err(format!(
                "glTexStorageMem2DEXT of {}x{} format {} failed (GL error {error:#x})",
                desc.width, desc.height, desc.format
            ));
        };
        tracing::debug!(
            res_id = request.res_id,
            texture = texture.get(),
            memobj,
            ?desc,
            "imported memory as a GL texture"
        );
        Ok(GlImport {
            res_id: request.res_id,
            texture,
            memobj,
            egl_image: EglImageRef(0),
            desc,
            released: self.released.clone(),
        })
    }
}

impl GlImporter {
    /// A dma-buf through an `EGLImage` (see `import_dmabuf.rs`): the texture is its sibling,
    /// holding the memory's bytes in the storage format's channels, as the memory-object path.
    fn import_dmabuf(
        &mut self,
        request: &ImportRequest<'_>,
        desc: ImageDesc,
    ) -> Result<GlImport, String> {
        let f = &self.fns;
        let Some(dmabuf) = f.dmabuf else {
            return Err("dma-buf memory needs EGL_EXT_image_dma_buf_import and \
                        GL_OES_EGL_image, which the host lacks"
                .to_string());
        };
        let image = dmabuf.create_image(request, &desc, storage_format(desc.format))?;
        f.take_error();
        let mut texture = 0u32;
        // SAFETY: a context of the backend's share group is current (the caller's); the new
        // texture is bound to TEXTURE_2D only while it becomes the image's sibling; the image
        // was just made.
        let error = unsafe {
            (f.gen_textures)(1, &mut texture);
            (f.bind_texture)(GL_TEXTURE_2D, texture);
            dmabuf.target_texture(image);
            (f.bind_texture)(GL_TEXTURE_2D, 0);
            f.take_error()
        };
        let Some(texture) = NonZeroU32::new(texture).filter(|_| error == GL_NO_ERROR) else {
            f.delete(texture, 0, image);
            return Err(format!(
                "glEGLImageTargetTexture2DOES of a {}x{} format {} dma-buf failed \
                 (GL error {error:#x})",
                desc.width, desc.height, desc.format
            ));
        };
        tracing::debug!(
            res_id = request.res_id,
            texture = texture.get(),
            ?desc,
            "imported a dma-buf as a GL texture through EGL"
        );
        Ok(GlImport {
            res_id: request.res_id,
            texture,
            memobj: 0,
            egl_image: image,
            desc,
            released: self.released.clone(),
        })
    }
}

fn invalid(msg: impl Into<String>) -> ContextError {
    ContextError::InvalidCommand(msg.into())
}

/// `VIRGL_CCMD_PIPE_RESOURCE_SET_TYPE`: types an attached resource that has no GL storage yet by
/// importing its memory as the image the guest describes (see the module docs). `table` is the
/// renderer's resource table (`None` when the embedder runs the context without one: an
/// explicit error).
pub(crate) fn set_type(
    shared: &Shared,
    ctx_id: u32,
    attached: &HashSet<u32>,
    st: &PipeResourceSetType<'_>,
    table: Option<&mut ResourceTable>,
) -> Result<(), ContextError> {
    let res_id = st.handle;
    if !attached.contains(&res_id) {
        return Err(invalid(format!(
            "PIPE_RESOURCE_SET_TYPE of resource {res_id}, not attached to this context"
        )));
    }
    let planes: Vec<_> = st.planes.iter().collect();
    let [plane] = planes[..] else {
        return Err(ContextError::Unsupported(
            "PIPE_RESOURCE_SET_TYPE with several planes (multi-planar imports)",
        ));
    };
    let table = table.ok_or(ContextError::Unsupported(
        "PIPE_RESOURCE_SET_TYPE without the renderer's resource table",
    ))?;
    let desc = ImageDesc {
        width: st.width,
        height: st.height,
        format: st.format,
        stride: plane.stride,
        offset: plane.offset,
        modifier: st.modifier,
    };
    import_image(shared, table, ctx_id, res_id, desc, st.bind)
}

/// Gives `res_id` GL storage over its external memory holding the image `desc` (from the
/// guest's PIPE_RESOURCE_SET_TYPE, or from whoever created the memory: a render server's
/// GET_RESOURCE). A resource that already has GL storage is left as it is, as upstream does.
/// Needs a current context of the backend's share group.
pub(crate) fn import_image(
    shared: &Shared,
    table: &mut ResourceTable,
    ctx_id: u32,
    res_id: u32,
    desc: ImageDesc,
    bind: u32,
) -> Result<(), ContextError> {
    let host = &shared.host;
    shared
        .imports
        .collect(host, &mut shared.resources.borrow_mut());
    if shared.resources.borrow().contains_key(&res_id) {
        return Ok(());
    }
    let max = host.limits.max_texture_2d_size;
    if desc.width == 0 || desc.height == 0 || desc.width > max || desc.height > max {
        return Err(invalid(format!(
            "imported image size {}x{}",
            desc.width, desc.height
        )));
    }
    let storage_hf = *host
        .formats
        .get(storage_format(desc.format))
        .filter(|hf| !hf.entry.layout().compressed)
        .ok_or_else(|| invalid(format!("imported image format {}", desc.format)))?;
    let fns = shared.imports.fns(host).ok_or(ContextError::Unsupported(
        "importing memory into GL (the host lacks GL_EXT_memory_object_fd and EGL dma-buf import)",
    ))?;
    let resource = table.require_mut(res_id)?;
    let described_here = resource.image.is_none();
    match resource.image {
        // What the memory's creator said (a render server's GET_RESOURCE) wins over the guest;
        // a guest describing another size is refused rather than reading beyond the image.
        Some(known) if (known.width, known.height) != (desc.width, desc.height) => {
            return Err(invalid(format!(
                "image described as {}x{}, the memory holds {}x{}",
                desc.width, desc.height, known.width, known.height
            )));
        }
        Some(_) => {}
        None => resource.image = Some(desc),
    }
    if !table.has_import::<GlImport>(res_id) {
        // The table belongs to the embedder; registering at the point of use means every
        // embedder (the C API, vtest, tests) imports without a set-up step of its own.
        let mut internal = HashMap::new();
        for format in 0..vf::MAX {
            if let Some(hf) = host.formats.get(format) {
                internal.insert(format, hf.entry.internal);
            }
        }
        table.register_importer(GlImporter {
            fns,
            internal,
            released: shared.imports.released.clone(),
        });
    }
    let wide = match table.lookup_wide::<GlImport>(ctx_id, res_id) {
        Ok(wide) => wide,
        Err(e) => {
            // A description that could not be imported is not kept: a corrected one may follow.
            if described_here {
                if let Some(resource) = table.get_mut(res_id) {
                    resource.image = None;
                }
            }
            return Err(e.into());
        }
    };
    let import = wide.storage;
    if (import.desc.width, import.desc.height) != (desc.width, desc.height)
        || storage_format(import.desc.format) != storage_format(desc.format)
    {
        return Err(invalid(format!(
            "image {}x{} format {} of memory imported as {}x{} format {}",
            desc.width,
            desc.height,
            desc.format,
            import.desc.width,
            import.desc.height,
            import.desc.format
        )));
    }
    let res = GlResource {
        args: ResourceCreateArgs {
            handle: res_id,
            target: pipe_target::TEXTURE_2D,
            format: desc.format,
            bind,
            width: desc.width,
            height: desc.height,
            depth: 1,
            array_size: 1,
            last_level: 0,
            nr_samples: 0,
            flags: 0,
        },
        storage: Storage::Texture {
            tex: glow::NativeTexture(import.texture),
            target: GL_TEXTURE_2D,
        },
        // The bytes sit in the texture as they are in memory: transfers use the RGBA layout.
        format: Some(storage_hf),
        imported: true,
    };
    shared.resources.borrow_mut().insert(res_id, res);
    if is_bgra(desc.format) {
        let egl_image = fns
            .dmabuf
            .filter(|_| import.egl_image.0 != 0)
            .map(|dmabuf| (dmabuf, import.egl_image));
        shared.imports.add_scanout_view(
            host,
            res_id,
            import.texture,
            storage_hf.entry.internal,
            egl_image,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bgra_formats_are_stored_as_their_rgba_counterparts() {
        assert_eq!(storage_format(vf::B8G8R8A8_UNORM), vf::R8G8B8A8_UNORM);
        assert_eq!(storage_format(vf::B8G8R8X8_SRGB), vf::R8G8B8X8_SRGB);
        assert_eq!(storage_format(vf::R8G8B8A8_UNORM), vf::R8G8B8A8_UNORM);
        assert!(is_bgra(vf::B8G8R8A8_UNORM));
        assert!(!is_bgra(vf::R8G8B8A8_UNORM));
    }
}
