//! Guest picture descriptions -> VA buffers.
//!
//! Each codec module turns one decoded [`virgl_protocol::video::PictureDesc`] member and the
//! bitstream buffers of a `DECODE_BITSTREAM` into the [`VaBuffer`]s to hand to
//! `vaCreateBuffer` + `vaRenderPicture`, in submission order. Guest handles of reference
//! pictures are resolved through a [`SurfaceMap`]; an unknown handle is an error, never a
//! silently invalid surface. Unlike upstream, slice parameters are filled completely (offsets,
//! sizes, per-slice fields) so drivers that need them (NVDEC-backed VA drivers) decode too.

use virgl_protocol::video::PictureDesc;

use crate::VideoError;

mod av1;
mod bits;
mod h264;
mod hevc;
mod jpeg;
mod mpeg12;
mod vc1;
mod vp9;

/// A VA surface id (`VASurfaceID`).
pub type SurfaceId = u32;

/// `VA_INVALID_SURFACE`.
pub const INVALID_SURFACE: SurfaceId = 0xffff_ffff;

/// Resolves the guest's video-buffer handles (as they appear in `ref[]` of a picture
/// description) to the VA surfaces backing them.
pub trait SurfaceMap {
    /// The VA surface of a guest handle, or `None` if the guest never created it.
    fn surface(&self, guest_handle: u32) -> Option<SurfaceId>;

    /// The VA surface this picture decodes into (the target of the codec's `BEGIN_FRAME`),
    /// for VA fields that name it (AV1 `current_frame`). `None` when the caller does not know
    /// it; translators then write `VA_INVALID_SURFACE` there.
    fn target(&self) -> Option<SurfaceId> {
        None
    }

    /// The codec's coded size in pixels (width, height) as `CREATE_VIDEO_CODEC` gave it.
    /// Picture descriptions of H.264 and MPEG-2 do not carry the picture size, yet their VA
    /// picture parameters need it; those translators refuse to run without it.
    fn coded_size(&self) -> Option<(u32, u32)> {
        None
    }
}

/// `VideoError::InvalidPicture` for `codec`.
pub(crate) fn invalid(codec: &'static str, reason: impl Into<String>) -> VideoError {
    VideoError::InvalidPicture {
        codec,
        reason: reason.into(),
    }
}

/// The coded size, or an error naming `codec` when the caller did not provide it.
pub(crate) fn coded_size(
    codec: &'static str,
    surfaces: &dyn SurfaceMap,
) -> Result<(u32, u32), VideoError> {
    surfaces.coded_size().ok_or_else(|| {
        invalid(
            codec,
            "the codec's coded size is unknown (SurfaceMap::coded_size)",
        )
    })
}

/// The guest's bitstream buffers of one `DECODE_BITSTREAM` as one byte string (Mesa's virgl
/// driver already concatenates a picture's buffers into one; a guest may still send several).
pub(crate) fn joined<'a>(bitstreams: &[&'a [u8]]) -> std::borrow::Cow<'a, [u8]> {
    match bitstreams {
        [one] => std::borrow::Cow::Borrowed(*one),
        many => std::borrow::Cow::Owned(many.concat()),
    }
}

/// [`joined`], refusing an empty bitstream and one too long for a VA buffer's `u32` size and
/// the `u32` offsets slice parameters carry.
pub(crate) fn joined_nonempty<'a>(
    codec: &'static str,
    bitstreams: &[&'a [u8]],
) -> Result<std::borrow::Cow<'a, [u8]>, VideoError> {
    let total: usize = bitstreams.iter().map(|b| b.len()).sum();
    if total == 0 {
        return Err(invalid(codec, "no bitstream data"));
    }
    if u32::try_from(total).is_err() {
        return Err(invalid(
            codec,
            format!("bitstream of {total} bytes does not fit a VA buffer"),
        ));
    }
    Ok(joined(bitstreams))
}

/// An all-zero value of a libva-sys struct, the starting point of every VA buffer we fill.
pub(crate) fn zeroed<T: Zeroable>() -> T {
    // SAFETY: `T: Zeroable` is only implemented below for libva-sys structs, which are plain C
    // data (integers, arrays, unions of integers); all-zero bytes are a valid value of each.
    unsafe { std::mem::zeroed() }
}

/// A libva-sys struct in zero-filled heap memory, to be filled field by field in place and
/// handed to [`VaBuffer::from_boxed`]. Field assignments never touch padding, so the padding
/// bytes stay the zeros the allocation wrote and the struct's bytes can be copied out soundly
/// (a struct built on the stack and moved may carry uninitialised padding).
pub(crate) fn zeroed_box<T: Zeroable>() -> Box<T> {
    // SAFETY: `new_zeroed` returns a zero-filled allocation sized and aligned for `T`, and
    // all-zero bytes are a valid `T` (`Zeroable`).
    unsafe { Box::<T>::new_zeroed().assume_init() }
}

/// libva-sys structs for which all-zero bytes are a valid value.
pub(crate) trait Zeroable: Copy {}

macro_rules! zeroable {
    ($($t:ty),* $(,)?) => { $(impl Zeroable for $t {})* };
}

zeroable!(
    libva_sys::va_display_drm::VAPictureParameterBufferH264,
    libva_sys::va_display_drm::VAIQMatrixBufferH264,
    libva_sys::va_display_drm::VASliceParameterBufferH264,
    libva_sys::va_display_drm::VAPictureParameterBufferHEVC,
    libva_sys::va_display_drm::VAIQMatrixBufferHEVC,
    libva_sys::va_display_drm::VASliceParameterBufferHEVC,
    libva_sys::va_display_drm::VAPictureParameterBufferMPEG2,
    libva_sys::va_display_drm::VAIQMatrixBufferMPEG2,
    libva_sys::va_display_drm::VASliceParameterBufferMPEG2,
    libva_sys::va_display_drm::VAPictureParameterBufferJPEGBaseline,
    libva_sys::va_display_drm::VAIQMatrixBufferJPEGBaseline,
    libva_sys::va_display_drm::VAHuffmanTableBufferJPEGBaseline,
    libva_sys::va_display_drm::VASliceParameterBufferJPEGBaseline,
    // Bitfield groups inside unions: filled as a value, then assigned to the union member
    // (assigning a union field is safe, borrowing one is not).
    libva_sys::va_display_drm::_VAPictureParameterBufferMPEG2__bindgen_ty_1__bindgen_ty_1,
    libva_sys::va_display_drm::_VAPictureParameterBufferH264__bindgen_ty_1__bindgen_ty_1,
    libva_sys::va_display_drm::_VAPictureParameterBufferH264__bindgen_ty_2__bindgen_ty_1,
    libva_sys::va_display_drm::_VAPictureParameterBufferHEVC__bindgen_ty_1__bindgen_ty_1,
    libva_sys::va_display_drm::_VAPictureParameterBufferHEVC__bindgen_ty_2__bindgen_ty_1,
    libva_sys::va_display_drm::_VASliceParameterBufferHEVC__bindgen_ty_1__bindgen_ty_1,
    libva_sys::va_display_drm::VAPictureParameterBufferVC1,
    libva_sys::va_display_drm::VASliceParameterBufferVC1,
    libva_sys::va_display_drm::VADecPictureParameterBufferVP9,
    libva_sys::va_display_drm::VASliceParameterBufferVP9,
    // Also holds one pointer (`anchor_frames_list`): all-zero is a null pointer, valid.
    libva_sys::va_display_drm::VADecPictureParameterBufferAV1,
    libva_sys::va_display_drm::VASliceParameterBufferAV1,
);

/// `VABufferType` values used by the decoders.
pub(crate) mod buffer_type {
    use libva_sys::va_display_drm as va;
    /// `VAPictureParameterBufferType`.
    pub const PICTURE_PARAMETER: u32 = va::VABufferType_VAPictureParameterBufferType;
    /// `VAIQMatrixBufferType`.
    pub const IQ_MATRIX: u32 = va::VABufferType_VAIQMatrixBufferType;
    /// `VASliceParameterBufferType`.
    pub const SLICE_PARAMETER: u32 = va::VABufferType_VASliceParameterBufferType;
    /// `VASliceDataBufferType`.
    pub const SLICE_DATA: u32 = va::VABufferType_VASliceDataBufferType;
    /// `VAHuffmanTableBufferType`.
    pub const HUFFMAN_TABLE: u32 = va::VABufferType_VAHuffmanTableBufferType;
}

/// Resolves one guest reference handle: 0 means "no picture" (Mesa's virgl driver writes 0
/// for a missing reference) and becomes `VA_INVALID_SURFACE`; any other handle must name a
/// video buffer the guest created.
pub(crate) fn resolve_ref(
    codec: &'static str,
    surfaces: &dyn SurfaceMap,
    guest_handle: u32,
) -> Result<SurfaceId, VideoError> {
    if guest_handle == 0 {
        return Ok(INVALID_SURFACE);
    }
    surfaces
        .surface(guest_handle)
        .ok_or_else(|| VideoError::InvalidPicture {
            codec,
            reason: format!("reference handle {guest_handle} names no video buffer"),
        })
}

/// One VA buffer to create: `vaCreateBuffer(ctx, kind, element_size, count, data)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaBuffer {
    /// The `VABufferType`.
    pub kind: u32,
    /// Size of one element (`sizeof` the VA struct, or 1 for slice data).
    pub element_size: usize,
    /// Number of elements.
    pub count: u32,
    /// `element_size * count` bytes: the VA struct(s) as the driver reads them.
    pub data: Vec<u8>,
}

impl VaBuffer {
    /// A buffer of `count` plain-old-data VA structs. Copying a struct's bytes reads its
    /// padding, which a value built on the stack may leave uninitialised: use this only for
    /// structs without implicit padding, and [`VaBuffer::from_boxed`] for the others.
    pub fn from_structs<T: Copy>(kind: u32, structs: &[T]) -> Self {
        let element_size = std::mem::size_of::<T>();
        let mut data = vec![0u8; std::mem::size_of_val(structs)];
        for (i, s) in structs.iter().enumerate() {
            // SAFETY: `T` is a `Copy` VA struct from libva-sys (plain C data, no pointers that
            // are dereferenced here); we copy its bytes into a buffer of exactly its size.
            let bytes =
                unsafe { std::slice::from_raw_parts((s as *const T).cast::<u8>(), element_size) };
            data[i * element_size..(i + 1) * element_size].copy_from_slice(bytes);
        }
        Self {
            kind,
            element_size,
            count: structs.len() as u32,
            data,
        }
    }

    /// A buffer of one VA struct built in place by [`zeroed_box`] (every byte, padding
    /// included, initialised).
    pub(crate) fn from_boxed<T: Zeroable>(kind: u32, value: Box<T>) -> Self {
        let size = std::mem::size_of::<T>();
        let ptr = Box::into_raw(value);
        // SAFETY: `ptr` comes from a `Box<T>` made by `zeroed_box`: `size` bytes, all
        // initialised (fields written in place, padding still the allocation's zeros). The
        // bytes are copied before the box is rebuilt and dropped.
        let data = unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), size) }.to_vec();
        // SAFETY: `ptr` was produced by `Box::into_raw` above and is not used afterwards.
        drop(unsafe { Box::from_raw(ptr) });
        Self {
            kind,
            element_size: size,
            count: 1,
            data,
        }
    }

    /// A slice-data buffer (element size 1).
    pub fn slice_data(kind: u32, bytes: &[u8]) -> Self {
        Self {
            kind,
            element_size: 1,
            count: bytes.len() as u32,
            data: bytes.to_vec(),
        }
    }
}

/// Translates one picture of any supported codec. `bitstreams` are the guest's buffers of this
/// `DECODE_BITSTREAM`, in order.
pub fn translate(
    desc: &virgl_protocol::video::PictureDesc,
    bitstreams: &[&[u8]],
    surfaces: &dyn SurfaceMap,
) -> Result<Vec<VaBuffer>, VideoError> {
    match desc {
        PictureDesc::H264(d) => h264::translate(d, bitstreams, surfaces),
        PictureDesc::H265(d) => hevc::translate(d, bitstreams, surfaces),
        PictureDesc::Mpeg12(d) => mpeg12::translate(d, bitstreams, surfaces),
        PictureDesc::Mjpeg(d) => jpeg::translate(d, bitstreams, surfaces),
        PictureDesc::Vc1(d) => vc1::translate(d, bitstreams, surfaces),
        PictureDesc::Vp9(d) => vp9::translate(d, bitstreams, surfaces),
        PictureDesc::Av1(d) => av1::translate(d, bitstreams, surfaces),
        // MPEG-4 part 2 has a description but no decode path (as upstream); encode is not
        // served by this backend.
        PictureDesc::Mpeg4(_) => Err(VideoError::Unsupported(
            "MPEG-4 part 2 decode (no VA decode path, as upstream)".into(),
        )),
        PictureDesc::H264Enc(_) | PictureDesc::H265Enc(_) => {
            Err(VideoError::Unsupported("video encode".into()))
        }
    }
}
