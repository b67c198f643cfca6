//! The one safe layer over `libva-sys`: a VA display on a DRM fd and the objects decode uses
//! (configs, contexts, surfaces, buffers, images, surface export).
//!
//! Every VA object holds an `Rc` of its display, so the display is terminated (and the DRM fd
//! closed) only after the last object is destroyed. Calls check their arguments before reaching
//! libva and turn every non-success status into [`VideoError::Va`]. Any vendor string is
//! accepted (upstream refuses drivers that are not Mesa's).
//!
//! Not here: what to decode (that is [`crate::translate`] and the session).

use std::ffi::CStr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_uint, c_void};
use std::rc::Rc;

use libva_sys::va_display as sys;

use crate::translate::{SurfaceId, VaBuffer};
use crate::VideoError;

/// `VAProfile` number.
pub type Profile = i32;
/// `VAEntrypoint` number.
pub type Entrypoint = u32;

/// `VAEntrypointVLD`: decode from a bitstream.
pub const ENTRYPOINT_VLD: Entrypoint = sys::VAEntrypoint_VAEntrypointVLD;

/// Most surfaces, buffers and attributes one call takes (bounds the vectors we allocate for
/// driver answers; drivers report far fewer).
const MAX_LIST: usize = 4096;

fn check(call: &'static str, status: sys::VAStatus) -> Result<(), VideoError> {
    if status == sys::VA_STATUS_SUCCESS as sys::VAStatus {
        return Ok(());
    }
    // SAFETY: vaErrorStr returns a static NUL-terminated string for any status.
    let text = unsafe { sys::vaErrorStr(status) };
    let message = if text.is_null() {
        String::new()
    } else {
        // SAFETY: non-null static C string from libva.
        unsafe { CStr::from_ptr(text) }
            .to_string_lossy()
            .into_owned()
    };
    Err(VideoError::Va {
        call,
        status,
        message,
    })
}

struct DisplayInner {
    dpy: sys::VADisplay,
    /// The DRM fd libva uses; closed after vaTerminate.
    _fd: OwnedFd,
}

impl Drop for DisplayInner {
    fn drop(&mut self) {
        // SAFETY: `dpy` was initialised by vaInitialize and every object holding this display
        // has been dropped (they hold an Rc to us).
        unsafe { sys::vaTerminate(self.dpy) };
    }
}

/// A VA display on a DRM render node.
#[derive(Clone)]
pub struct Display {
    inner: Rc<DisplayInner>,
    vendor: String,
    version: (i32, i32),
}

impl std::fmt::Debug for Display {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Display")
            .field("vendor", &self.vendor)
            .field("version", &self.version)
            .finish()
    }
}

impl Display {
    /// `vaGetDisplayDRM` + `vaInitialize` on `fd` (which the display keeps).
    pub fn open(fd: OwnedFd) -> Result<Self, VideoError> {
        // SAFETY: any fd value is accepted; libva only fstat()s and stores it. `fd` outlives the
        // display (moved into DisplayInner, dropped after vaTerminate).
        let dpy = unsafe { libva_sys::va_display_drm::vaGetDisplayDRM(fd.as_raw_fd()) };
        if dpy.is_null() {
            return Err(VideoError::NoDisplay(
                "vaGetDisplayDRM refused the fd (not a DRM render node?)".into(),
            ));
        }
        let (mut major, mut minor) = (0, 0);
        // SAFETY: `dpy` is a display from vaGetDisplayDRM; the out pointers are valid.
        let status = unsafe { sys::vaInitialize(dpy, &mut major, &mut minor) };
        if let Err(e) = check("vaInitialize", status) {
            // SAFETY: a display whose initialisation failed is still released by vaTerminate.
            unsafe { sys::vaTerminate(dpy) };
            return Err(e);
        }
        let inner = Rc::new(DisplayInner { dpy, _fd: fd });
        // SAFETY: initialised display; the string lives as long as the display.
        let vendor = unsafe { sys::vaQueryVendorString(dpy) };
        let vendor = if vendor.is_null() {
            String::new()
        } else {
            // SAFETY: non-null C string owned by the driver context.
            unsafe { CStr::from_ptr(vendor) }
                .to_string_lossy()
                .into_owned()
        };
        tracing::info!(%vendor, major, minor, "VA display initialised");
        Ok(Self {
            inner,
            vendor,
            version: (major, minor),
        })
    }

    /// Opens `path` (a render node such as `/dev/dri/renderD128`) and initialises on it.
    pub fn open_path(path: &std::path::Path) -> Result<Self, VideoError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| VideoError::NoDisplay(format!("{}: {e}", path.display())))?;
        Self::open(OwnedFd::from(file))
    }

    /// Wraps a raw fd the embedder handed over (`get_drm_fd`); the display owns it afterwards.
    ///
    /// # Safety
    /// `fd` must be an open fd that nobody else closes.
    pub unsafe fn open_raw_fd(fd: c_int) -> Result<Self, VideoError> {
        if fd < 0 {
            return Err(VideoError::NoDisplay(format!("invalid DRM fd {fd}")));
        }
        // SAFETY: per the caller's contract the fd is open and ours.
        Self::open(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The driver's vendor string.
    pub fn vendor(&self) -> &str {
        &self.vendor
    }

    /// The VA-API version libva reports.
    pub fn version(&self) -> (i32, i32) {
        self.version
    }

    fn dpy(&self) -> sys::VADisplay {
        self.inner.dpy
    }

    /// `vaQueryConfigProfiles`.
    pub fn profiles(&self) -> Result<Vec<Profile>, VideoError> {
        // SAFETY: initialised display.
        let max = unsafe { sys::vaMaxNumProfiles(self.dpy()) }.clamp(0, MAX_LIST as c_int);
        let mut list = vec![0 as sys::VAProfile; max as usize];
        let mut n: c_int = 0;
        // SAFETY: `list` has vaMaxNumProfiles entries, as libva requires.
        check("vaQueryConfigProfiles", unsafe {
            sys::vaQueryConfigProfiles(self.dpy(), list.as_mut_ptr(), &mut n)
        })?;
        list.truncate(n.clamp(0, max) as usize);
        Ok(list)
    }

    /// `vaQueryConfigEntrypoints` of one profile.
    pub fn entrypoints(&self, profile: Profile) -> Result<Vec<Entrypoint>, VideoError> {
        // SAFETY: initialised display.
        let max = unsafe { sys::vaMaxNumEntrypoints(self.dpy()) }.clamp(0, MAX_LIST as c_int);
        let mut list = vec![0 as sys::VAEntrypoint; max as usize];
        let mut n: c_int = 0;
        // SAFETY: `list` has vaMaxNumEntrypoints entries.
        check("vaQueryConfigEntrypoints", unsafe {
            sys::vaQueryConfigEntrypoints(self.dpy(), profile, list.as_mut_ptr(), &mut n)
        })?;
        list.truncate(n.clamp(0, max) as usize);
        Ok(list)
    }

    /// `vaGetConfigAttributes`: the value of each attribute type in `types`
    /// (`VA_ATTRIB_NOT_SUPPORTED` where the driver has none).
    pub fn config_attributes(
        &self,
        profile: Profile,
        entrypoint: Entrypoint,
        types: &[u32],
    ) -> Result<Vec<u32>, VideoError> {
        let mut attribs: Vec<sys::VAConfigAttrib> = types
            .iter()
            .map(|&t| sys::VAConfigAttrib { type_: t, value: 0 })
            .collect();
        // SAFETY: `attribs` holds `len` initialised entries the driver fills in place.
        check("vaGetConfigAttributes", unsafe {
            sys::vaGetConfigAttributes(
                self.dpy(),
                profile,
                entrypoint,
                attribs.as_mut_ptr(),
                attribs.len() as c_int,
            )
        })?;
        Ok(attribs.iter().map(|a| a.value).collect())
    }

    /// `vaCreateConfig` with an RT format attribute.
    pub fn create_config(
        &self,
        profile: Profile,
        entrypoint: Entrypoint,
        rt_format: u32,
    ) -> Result<Config, VideoError> {
        let mut attrib = sys::VAConfigAttrib {
            type_: sys::VAConfigAttribType_VAConfigAttribRTFormat,
            value: rt_format,
        };
        let mut id: sys::VAConfigID = 0;
        // SAFETY: one valid attribute, valid out pointer.
        check("vaCreateConfig", unsafe {
            sys::vaCreateConfig(self.dpy(), profile, entrypoint, &mut attrib, 1, &mut id)
        })?;
        Ok(Config {
            display: self.clone(),
            id,
        })
    }

    /// `vaCreateSurfaces`: one surface of `rt_format` (no attributes, so every libva since 1.0
    /// routes it to the driver's basic entry).
    pub fn create_surface(
        &self,
        rt_format: u32,
        width: u32,
        height: u32,
    ) -> Result<Surface, VideoError> {
        if width == 0 || height == 0 || width > 16384 || height > 16384 {
            return Err(VideoError::InvalidCommand(format!(
                "surface size {width}x{height}"
            )));
        }
        let mut id: sys::VASurfaceID = 0;
        // SAFETY: one out id, no attribute list.
        check("vaCreateSurfaces", unsafe {
            sys::vaCreateSurfaces(
                self.dpy(),
                rt_format as c_uint,
                width,
                height,
                &mut id,
                1,
                std::ptr::null_mut(),
                0,
            )
        })?;
        Ok(Surface {
            display: self.clone(),
            id,
            width,
            height,
        })
    }
}

/// A `VAConfigID`.
pub struct Config {
    display: Display,
    id: sys::VAConfigID,
}

impl Config {
    /// `vaCreateContext` for pictures of `width`x`height` (progressive) without pre-bound
    /// render targets (virgl creates surfaces after codecs).
    pub fn create_context(&self, width: u32, height: u32) -> Result<VaContext, VideoError> {
        let (Ok(w), Ok(h)) = (c_int::try_from(width), c_int::try_from(height)) else {
            return Err(VideoError::InvalidCommand(format!(
                "codec size {width}x{height}"
            )));
        };
        let mut id: sys::VAContextID = 0;
        // SAFETY: valid config; no render-target list (null, 0) is allowed by VA.
        check("vaCreateContext", unsafe {
            sys::vaCreateContext(
                self.display.dpy(),
                self.id,
                w,
                h,
                sys::VA_PROGRESSIVE as c_int,
                std::ptr::null_mut(),
                0,
                &mut id,
            )
        })?;
        Ok(VaContext {
            display: self.display.clone(),
            id,
        })
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: a config we created on a live display.
        unsafe { sys::vaDestroyConfig(self.display.dpy(), self.id) };
    }
}

/// A `VAContextID`: decodes pictures.
pub struct VaContext {
    display: Display,
    id: sys::VAContextID,
}

impl VaContext {
    /// `vaBeginPicture` into `target`.
    pub fn begin_picture(&self, target: &Surface) -> Result<(), VideoError> {
        // SAFETY: live context and surface of the same display.
        check("vaBeginPicture", unsafe {
            sys::vaBeginPicture(self.display.dpy(), self.id, target.id)
        })
    }

    /// `vaCreateBuffer` for each of `buffers`, one `vaRenderPicture` over all of them, then
    /// `vaDestroyBuffer` (drivers consume the data during RenderPicture).
    pub fn render(&self, buffers: &[VaBuffer]) -> Result<(), VideoError> {
        let mut ids = Vec::with_capacity(buffers.len());
        let result = (|| {
            for b in buffers {
                let expected = b.element_size.checked_mul(b.count as usize);
                if expected != Some(b.data.len()) || b.element_size == 0 {
                    return Err(VideoError::InvalidCommand(format!(
                        "VA buffer of type {}: {} bytes for {} x {}",
                        b.kind,
                        b.data.len(),
                        b.count,
                        b.element_size
                    )));
                }
                let size = c_uint::try_from(b.element_size)
                    .map_err(|_| VideoError::InvalidCommand("VA buffer element size".into()))?;
                let mut id: sys::VABufferID = 0;
                // SAFETY: `data` holds exactly size * count bytes (checked above); libva copies
                // them before returning.
                check("vaCreateBuffer", unsafe {
                    sys::vaCreateBuffer(
                        self.display.dpy(),
                        self.id,
                        b.kind,
                        size,
                        b.count,
                        b.data.as_ptr().cast_mut().cast::<c_void>(),
                        &mut id,
                    )
                })?;
                ids.push(id);
            }
            if ids.is_empty() {
                return Ok(());
            }
            // SAFETY: `ids` are live buffers of this context.
            check("vaRenderPicture", unsafe {
                sys::vaRenderPicture(
                    self.display.dpy(),
                    self.id,
                    ids.as_mut_ptr(),
                    ids.len() as c_int,
                )
            })
        })();
        for id in ids {
            // SAFETY: a buffer created above.
            unsafe { sys::vaDestroyBuffer(self.display.dpy(), id) };
        }
        result
    }

    /// `vaEndPicture`.
    pub fn end_picture(&self) -> Result<(), VideoError> {
        // SAFETY: live context.
        check("vaEndPicture", unsafe {
            sys::vaEndPicture(self.display.dpy(), self.id)
        })
    }
}

impl Drop for VaContext {
    fn drop(&mut self) {
        // SAFETY: a context we created on a live display.
        unsafe { sys::vaDestroyContext(self.display.dpy(), self.id) };
    }
}

/// A `VASurfaceID`.
pub struct Surface {
    display: Display,
    id: sys::VASurfaceID,
    width: u32,
    height: u32,
}

impl std::fmt::Debug for Surface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Surface({} {}x{})", self.id, self.width, self.height)
    }
}

/// One plane of a read-back image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plane {
    /// Byte offset of the plane in [`Image::data`].
    pub offset: usize,
    /// Bytes per row.
    pub pitch: usize,
}

/// A surface's pixels copied out (`vaDeriveImage` or `vaGetImage`).
#[derive(Clone, Debug)]
pub struct Image {
    /// VA fourcc of the data.
    pub fourcc: u32,
    pub width: u32,
    pub height: u32,
    pub planes: Vec<Plane>,
    pub data: Vec<u8>,
}

/// One dma-buf of an exported surface.
#[derive(Debug)]
pub struct ExportedObject {
    pub fd: OwnedFd,
    pub size: u32,
    pub modifier: u64,
}

/// One layer (plane) of an exported surface.
#[derive(Clone, Copy, Debug)]
pub struct ExportedLayer {
    pub drm_format: u32,
    pub object_index: u32,
    pub offset: u32,
    pub pitch: u32,
}

/// A surface exported as dma-bufs (`VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2`, separate layers).
#[derive(Debug)]
pub struct ExportedSurface {
    pub fourcc: u32,
    pub width: u32,
    pub height: u32,
    pub objects: Vec<ExportedObject>,
    pub layers: Vec<ExportedLayer>,
}

/// `VADRMPRIMESurfaceDescriptor` (`va/va_drmcommon.h`), which libva-sys 0.1 does not bind.
#[repr(C)]
#[derive(Default)]
struct PrimeDescriptor {
    fourcc: u32,
    width: u32,
    height: u32,
    num_objects: u32,
    objects: [PrimeObject; 4],
    num_layers: u32,
    layers: [PrimeLayer; 4],
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct PrimeObject {
    fd: c_int,
    size: u32,
    drm_format_modifier: u64,
}

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct PrimeLayer {
    drm_format: u32,
    num_planes: u32,
    object_index: [u32; 4],
    offset: [u32; 4],
    pitch: [u32; 4],
}

const VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2: u32 = 0x4000_0000;

impl Surface {
    /// The VA id (what reference lists carry).
    pub fn id(&self) -> SurfaceId {
        self.id
    }

    pub fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// `vaSyncSurface`.
    pub fn sync(&self) -> Result<(), VideoError> {
        // SAFETY: live surface.
        check("vaSyncSurface", unsafe {
            sys::vaSyncSurface(self.display.dpy(), self.id)
        })
    }

    /// `vaExportSurfaceHandle` as DRM PRIME 2, read-only, one layer per plane.
    pub fn export(&self) -> Result<ExportedSurface, VideoError> {
        let mut desc = PrimeDescriptor::default();
        // SAFETY: `desc` is a VADRMPRIMESurfaceDescriptor-shaped out struct.
        check("vaExportSurfaceHandle", unsafe {
            sys::vaExportSurfaceHandle(
                self.display.dpy(),
                self.id,
                VA_SURFACE_ATTRIB_MEM_TYPE_DRM_PRIME_2,
                sys::VA_EXPORT_SURFACE_READ_ONLY | sys::VA_EXPORT_SURFACE_SEPARATE_LAYERS,
                (&mut desc as *mut PrimeDescriptor).cast::<c_void>(),
            )
        })?;
        let objects: Vec<ExportedObject> = desc
            .objects
            .iter()
            .take(desc.num_objects.min(4) as usize)
            .filter(|o| o.fd >= 0)
            .map(|o| ExportedObject {
                // SAFETY: the driver hands us ownership of each exported fd.
                fd: unsafe { OwnedFd::from_raw_fd(o.fd) },
                size: o.size,
                modifier: o.drm_format_modifier,
            })
            .collect();
        let layers = desc
            .layers
            .iter()
            .take(desc.num_layers.min(4) as usize)
            .map(|l| ExportedLayer {
                drm_format: l.drm_format,
                object_index: l.object_index[0],
                offset: l.offset[0],
                pitch: l.pitch[0],
            })
            .collect();
        Ok(ExportedSurface {
            fourcc: desc.fourcc,
            width: desc.width,
            height: desc.height,
            objects,
            layers,
        })
    }

    /// Copies the surface's pixels out in `fourcc`: `vaDeriveImage` when the driver's own
    /// layout is that fourcc, else `vaCreateImage(fourcc)` + `vaGetImage`; then `vaMapBuffer`.
    pub fn read(&self, fourcc: u32) -> Result<Image, VideoError> {
        let dpy = self.display.dpy();
        // SAFETY: an all-zero VAImage is a valid out value.
        let mut image: sys::VAImage = unsafe { std::mem::zeroed() };
        // SAFETY: live surface, valid out pointer.
        let derived = check("vaDeriveImage", unsafe {
            sys::vaDeriveImage(dpy, self.id, &mut image)
        });
        match derived {
            Ok(()) if image.format.fourcc == fourcc => {}
            other => {
                if other.is_ok() {
                    // Derived in another layout: drop it and ask for a converted copy.
                    // SAFETY: the image derived above.
                    unsafe { sys::vaDestroyImage(dpy, image.image_id) };
                }
                image = self.get_image(fourcc)?;
            }
        }
        let result = self.copy_image(&image);
        // SAFETY: the image derived or created above.
        unsafe { sys::vaDestroyImage(dpy, image.image_id) };
        result
    }

    /// `vaCreateImage(fourcc)` + `vaGetImage` of the whole surface.
    fn get_image(&self, fourcc: u32) -> Result<sys::VAImage, VideoError> {
        let dpy = self.display.dpy();
        // SAFETY: an all-zero VAImage is a valid out value.
        let mut image: sys::VAImage = unsafe { std::mem::zeroed() };
        // SAFETY: an all-zero VAImageFormat is valid; we set the fourcc.
        let mut format: sys::VAImageFormat = unsafe { std::mem::zeroed() };
        format.fourcc = fourcc;
        // SAFETY: valid format and out pointer; sizes were bounded at surface creation.
        check("vaCreateImage", unsafe {
            sys::vaCreateImage(
                dpy,
                &mut format,
                self.width as c_int,
                self.height as c_int,
                &mut image,
            )
        })?;
        // SAFETY: live surface and the image just created, whole surface.
        let got = check("vaGetImage", unsafe {
            sys::vaGetImage(dpy, self.id, 0, 0, self.width, self.height, image.image_id)
        });
        if let Err(e) = got {
            // SAFETY: the image created above.
            unsafe { sys::vaDestroyImage(dpy, image.image_id) };
            return Err(e);
        }
        Ok(image)
    }

    fn copy_image(&self, image: &sys::VAImage) -> Result<Image, VideoError> {
        let dpy = self.display.dpy();
        let mut ptr: *mut c_void = std::ptr::null_mut();
        // SAFETY: the image's buffer, valid out pointer.
        check("vaMapBuffer", unsafe {
            sys::vaMapBuffer(dpy, image.buf, &mut ptr)
        })?;
        let size = image.data_size as usize;
        let data = if ptr.is_null() {
            None
        } else {
            // SAFETY: a mapped image buffer holds `data_size` bytes until vaUnmapBuffer.
            Some(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), size) }.to_vec())
        };
        // SAFETY: mapped above.
        unsafe { sys::vaUnmapBuffer(dpy, image.buf) };
        let data = data.ok_or_else(|| VideoError::Va {
            call: "vaMapBuffer",
            status: 0,
            message: "null mapping".into(),
        })?;
        let planes = (0..image.num_planes.min(3) as usize)
            .map(|i| Plane {
                offset: image.offsets[i] as usize,
                pitch: image.pitches[i] as usize,
            })
            .collect();
        Ok(Image {
            fourcc: image.format.fourcc,
            width: u32::from(image.width),
            height: u32::from(image.height),
            planes,
            data,
        })
    }
}

impl Drop for Surface {
    fn drop(&mut self) {
        // SAFETY: a surface we created on a live display.
        unsafe { sys::vaDestroySurfaces(self.display.dpy(), &mut self.id, 1) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prime_descriptor_layout_matches_va_drmcommon() {
        // Values printed by gcc (x86_64) for VADRMPRIMESurfaceDescriptor.
        assert_eq!(std::mem::size_of::<PrimeObject>(), 16);
        assert_eq!(std::mem::size_of::<PrimeLayer>(), 56);
        assert_eq!(std::mem::offset_of!(PrimeDescriptor, num_layers), 80);
        assert_eq!(std::mem::offset_of!(PrimeDescriptor, layers), 84);
        assert_eq!(std::mem::size_of::<PrimeDescriptor>(), 312);
    }
}
