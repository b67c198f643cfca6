//! The Venus wire format (VK_EXT_command_serialization, wire format 1): a bounds-checked
//! [`Reader`] over guest bytes, a [`Writer`] for replies, the per-command [`Arena`] decoded
//! structures live in, and the [`Wire`] trait the generated code implements for every type.
//!
//! Rules (see `shared/reference/venus.md` §1): every item takes a multiple of 4 bytes, little
//! endian; 8/16-bit scalars take 4 bytes; `size_t` is a u64; arrays and pointers carry a u64
//! marker (element count, or 0/1 presence); fixed arrays carry their exact length.
//!
//! Decoding never trusts a count: an array may only be as long as the bytes left can hold, and
//! all decoded memory comes from an [`Arena`] with a byte budget, so a hostile stream cannot
//! make us allocate more than the budget or read past its end.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use crate::VenusError;

/// Result of decoding.
pub type WireResult<T> = Result<T, VenusError>;

/// A cursor over a guest command stream.
#[derive(Debug, Clone)]
pub struct Reader<'d> {
    data: &'d [u8],
    pos: usize,
}

impl<'d> Reader<'d> {
    pub fn new(data: &'d [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn take(&mut self, n: usize) -> WireResult<&'d [u8]> {
        if n > self.remaining() {
            return Err(VenusError::Truncated {
                needed: n,
                left: self.remaining(),
            });
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn u32(&mut self) -> WireResult<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i32(&mut self) -> WireResult<i32> {
        Ok(self.u32()? as i32)
    }

    pub fn u64(&mut self) -> WireResult<u64> {
        let lo = u64::from(self.u32()?);
        let hi = u64::from(self.u32()?);
        Ok(lo | (hi << 32))
    }

    /// The next u64 without consuming it (0 when fewer than 8 bytes are left, which makes the
    /// following real read fail).
    pub fn peek_u64(&self) -> u64 {
        let mut copy = self.clone();
        copy.u64().unwrap_or(0)
    }

    /// An array size marker that must equal `expected`.
    pub fn array_size(&mut self, expected: u64) -> WireResult<usize> {
        let got = self.u64()?;
        if got != expected {
            return Err(VenusError::ArraySize { expected, got });
        }
        usize::try_from(got).map_err(|_| VenusError::TooLarge("array size"))
    }

    /// `n` bytes of blob data followed by padding to 4 bytes.
    pub fn blob(&mut self, n: usize) -> WireResult<&'d [u8]> {
        let padded = n.checked_add(3).ok_or(VenusError::TooLarge("blob"))? & !3;
        let b = self.take(padded)?;
        Ok(&b[..n])
    }

    /// Checks that `count` elements of at least `min_wire` bytes each can still be on the wire.
    pub fn check_count(&self, count: u64, min_wire: usize) -> WireResult<usize> {
        let n = usize::try_from(count).map_err(|_| VenusError::TooLarge("element count"))?;
        if n.saturating_mul(min_wire.max(1)) > self.remaining() {
            return Err(VenusError::Truncated {
                needed: n.saturating_mul(min_wire.max(1)),
                left: self.remaining(),
            });
        }
        Ok(n)
    }

    /// Skips `n` bytes (a command we consume without decoding).
    pub fn skip(&mut self, n: usize) -> WireResult<()> {
        self.take(n).map(drop)
    }
}

/// A reply being built.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.u32(v as u32);
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// Blob bytes padded with zeros to 4.
    pub fn blob(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
        let pad = (4 - b.len() % 4) % 4;
        self.buf.extend_from_slice(&[0; 3][..pad]);
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Types whose all-zero bit pattern is a valid value.
///
/// # Safety
/// Implementors must be plain data: integers, floats, raw pointers, and arrays, structs and
/// unions of those, with alignment at most 8.
pub unsafe trait Zeroed: Copy + 'static {}

macro_rules! zeroed_scalars {
    ($($t:ty),*) => {$(
        // SAFETY: a primitive number; zero is a valid value.
        unsafe impl Zeroed for $t {}
    )*};
}
zeroed_scalars!(u8, i8, u16, i16, u32, i32, u64, i64, usize, f32, f64);
// SAFETY: a null pointer is a valid raw pointer value.
unsafe impl Zeroed for *const c_void {}
// SAFETY: as above.
unsafe impl Zeroed for *mut c_void {}
// SAFETY: as above.
unsafe impl Zeroed for *const std::ffi::c_char {}
// SAFETY: an array of zeroable values is zeroable.
unsafe impl<T: Zeroed, const N: usize> Zeroed for [T; N] {}

/// Memory for one command's decoded arguments; everything is freed when it drops.
///
/// Chunks are boxed slices of u64 (8-byte aligned, zeroed) that never move once allocated, so
/// references handed out stay valid for the arena's lifetime. `budget` caps the total bytes.
pub struct Arena {
    chunks: RefCell<Vec<Box<[u64]>>>,
    used: Cell<usize>,
    budget: usize,
}

impl std::fmt::Debug for Arena {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arena")
            .field("used", &self.used.get())
            .field("budget", &self.budget)
            .finish()
    }
}

/// Default arena budget: more than any legitimate command needs (the largest are property
/// queries with a few hundred KiB of output), small enough that a hostile count cannot hurt.
pub const DEFAULT_ARENA_BUDGET: usize = 64 << 20;

impl Arena {
    pub fn new(budget: usize) -> Self {
        Self {
            chunks: RefCell::new(Vec::new()),
            used: Cell::new(0),
            budget,
        }
    }

    /// Bytes handed out so far.
    pub fn used(&self) -> usize {
        self.used.get()
    }

    /// `n` zeroed values of `T`.
    #[allow(clippy::mut_from_ref)] // each call returns a fresh, disjoint allocation
    pub fn alloc_slice<T: Zeroed>(&self, n: usize) -> WireResult<&mut [T]> {
        const { assert!(std::mem::align_of::<T>() <= 8) };
        let bytes = n
            .checked_mul(std::mem::size_of::<T>())
            .ok_or(VenusError::TooLarge("allocation"))?;
        let total = self.used.get().saturating_add(bytes);
        if total > self.budget {
            return Err(VenusError::TooLarge("decode arena budget"));
        }
        self.used.set(total);
        if n == 0 || bytes == 0 {
            return Ok(&mut []);
        }
        let words = bytes.div_ceil(8);
        let mut chunk = vec![0u64; words].into_boxed_slice();
        let ptr = chunk.as_mut_ptr().cast::<T>();
        self.chunks.borrow_mut().push(chunk);
        // SAFETY: `ptr` points to `words * 8 >= n * size_of::<T>()` zeroed bytes, aligned to 8
        // (>= align_of::<T>(), checked above); all-zero is a valid `T` (`Zeroed`). The chunk is
        // owned by `self.chunks`, never moved (boxed) or freed before `self` drops, and this is
        // the only reference to it, so the slice may live as long as `&self`.
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr, n) })
    }

    /// One zeroed `T`.
    #[allow(clippy::mut_from_ref)] // fresh allocation, see alloc_slice
    pub fn alloc<T: Zeroed>(&self) -> WireResult<&mut T> {
        Ok(&mut self.alloc_slice::<T>(1)?[0])
    }

    /// A NUL-terminated copy of `bytes` (the last byte is forced to NUL, as upstream does).
    pub fn c_string(&self, bytes: &[u8]) -> WireResult<*const std::ffi::c_char> {
        let s = self.alloc_slice::<u8>(bytes.len().max(1))?;
        s[..bytes.len()].copy_from_slice(bytes);
        let last = s.len() - 1;
        s[last] = 0;
        Ok(s.as_ptr().cast())
    }
}

/// A decoded command, as the generic dispatcher sees it (implemented by the generated code
/// for every generated command).
pub trait Command {
    /// The command type (`VkCommandTypeEXT`).
    fn ty(&self) -> u32;
    /// The Vulkan entry point name.
    fn name(&self) -> &'static std::ffi::CStr;
    /// Other names of the entry point (extension names of a promoted command), for drivers
    /// or API versions that only know those.
    fn aliases(&self) -> &'static [&'static std::ffi::CStr];
    /// The first parameter when it is a handle: `(VkObjectType, guest id)`; `(0, 0)` otherwise.
    fn dispatcher(&self) -> (i32, u64);
    /// The handles the command creates: object type and the out slots, which hold the guest's
    /// new ids before [`Command::invoke`] and the host's handles after it.
    fn created(&mut self) -> Option<(i32, &mut [u64])>;
    /// For `vkDestroy*` / `vkFree*`: the object type and guest ids of the objects it ends.
    fn destroyed(&self) -> Option<(i32, Vec<u64>)>;
    /// The host's return value (VkResult and the like), `None` for void commands.
    fn result(&self) -> Option<i64>;
    /// Calls the host entry point with the decoded arguments; top-level handles are translated
    /// through `h` (an unknown id fails before the call).
    ///
    /// # Safety
    /// `pfn` must be the host driver's entry point for exactly this command, and the handles
    /// inside decoded structures must name live host objects (the decoder translated them).
    unsafe fn invoke(
        &mut self,
        pfn: unsafe extern "system" fn(),
        h: &dyn Handles,
    ) -> WireResult<()>;
    /// Encodes the reply.
    ///
    /// # Safety
    /// See [`Wire::encode`]: output structures are what the decoder built and the host filled.
    unsafe fn reply(&self, w: &mut Writer, h: &dyn Handles);
}

/// Translation between guest object ids and host handles, by `VkObjectType` value.
pub trait Handles {
    /// Host handle of guest object `id` of type `object_type`; 0 maps to 0 (VK_NULL_HANDLE).
    fn to_host(&self, object_type: i32, id: u64) -> WireResult<u64>;
    /// Guest id of a host handle (for handles the host writes into replies); 0 if unknown.
    fn to_guest(&self, object_type: i32, host: u64) -> u64;
}

/// The identity mapping (tests, and streams without objects).
#[derive(Debug, Default, Clone, Copy)]
pub struct IdentityHandles;

impl Handles for IdentityHandles {
    fn to_host(&self, _object_type: i32, id: u64) -> WireResult<u64> {
        Ok(id)
    }
    fn to_guest(&self, _object_type: i32, host: u64) -> u64 {
        host
    }
}

/// What decoding needs: where to allocate (`'a`, what decoded values borrow) and how to
/// translate handles (`'h`, borrowed only while decoding).
#[derive(Clone, Copy)]
pub struct Cx<'a, 'h> {
    pub arena: &'a Arena,
    pub handles: &'h dyn Handles,
}

/// A type with a wire encoding. Implemented for scalars here and for every struct and union by
/// the generated code.
pub trait Wire: Zeroed {
    /// Bytes the smallest encoding takes (for bounding counts).
    const MIN_WIRE: usize;
    /// Decodes a full value (an input from the guest).
    fn decode(r: &mut Reader<'_>, cx: &Cx<'_, '_>, out: &mut Self) -> WireResult<()>;
    /// Decodes what the guest sends for an output value: only `sType`, the `pNext` chain and
    /// the capacities of output arrays.
    fn decode_partial(r: &mut Reader<'_>, cx: &Cx<'_, '_>, out: &mut Self) -> WireResult<()>;
    /// Encodes a full value (a reply).
    ///
    /// # Safety
    /// Every pointer in `self` must be null or valid for the count next to it, and `pNext`
    /// chains must consist of structures this crate allocated (known `sType`s).
    unsafe fn encode(&self, w: &mut Writer, handles: &dyn Handles);
}

macro_rules! wire_u32 {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const MIN_WIRE: usize = 4;
            fn decode(r: &mut Reader<'_>, _: &Cx<'_, '_>, out: &mut Self) -> WireResult<()> {
                *out = r.u32()? as $t;
                Ok(())
            }
            fn decode_partial(_: &mut Reader<'_>, _: &Cx<'_, '_>, _: &mut Self) -> WireResult<()> {
                Ok(())
            }
            unsafe fn encode(&self, w: &mut Writer, _: &dyn Handles) {
                w.u32(*self as u32);
            }
        }
    )*};
}
wire_u32!(u8, i8, u16, i16, u32, i32);

macro_rules! wire_u64 {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const MIN_WIRE: usize = 8;
            fn decode(r: &mut Reader<'_>, _: &Cx<'_, '_>, out: &mut Self) -> WireResult<()> {
                *out = r.u64()? as $t;
                Ok(())
            }
            fn decode_partial(_: &mut Reader<'_>, _: &Cx<'_, '_>, _: &mut Self) -> WireResult<()> {
                Ok(())
            }
            unsafe fn encode(&self, w: &mut Writer, _: &dyn Handles) {
                w.u64(*self as u64);
            }
        }
    )*};
}
wire_u64!(u64, i64, usize);

impl Wire for f32 {
    const MIN_WIRE: usize = 4;
    fn decode(r: &mut Reader<'_>, _: &Cx<'_, '_>, out: &mut Self) -> WireResult<()> {
        *out = f32::from_bits(r.u32()?);
        Ok(())
    }
    fn decode_partial(_: &mut Reader<'_>, _: &Cx<'_, '_>, _: &mut Self) -> WireResult<()> {
        Ok(())
    }
    unsafe fn encode(&self, w: &mut Writer, _: &dyn Handles) {
        w.u32(self.to_bits());
    }
}

impl Wire for f64 {
    const MIN_WIRE: usize = 8;
    fn decode(r: &mut Reader<'_>, _: &Cx<'_, '_>, out: &mut Self) -> WireResult<()> {
        *out = f64::from_bits(r.u64()?);
        Ok(())
    }
    fn decode_partial(_: &mut Reader<'_>, _: &Cx<'_, '_>, _: &mut Self) -> WireResult<()> {
        Ok(())
    }
    unsafe fn encode(&self, w: &mut Writer, _: &dyn Handles) {
        w.u64(self.to_bits());
    }
}

/// Decodes `n` elements in place.
pub fn decode_each<T: Wire>(r: &mut Reader<'_>, cx: &Cx<'_, '_>, out: &mut [T]) -> WireResult<()> {
    out.iter_mut().try_for_each(|v| T::decode(r, cx, v))
}

/// Decodes an array after its marker: `n` elements into a fresh arena slice, `n` bounded by the
/// bytes left.
pub fn decode_new_array<'a, T: Wire>(
    r: &mut Reader<'_>,
    cx: &Cx<'a, '_>,
    n: usize,
) -> WireResult<&'a mut [T]> {
    let n = r.check_count(n as u64, T::MIN_WIRE)?;
    let out = cx.arena.alloc_slice::<T>(n)?;
    decode_each(r, cx, out)?;
    Ok(out)
}

/// Decodes a partial (output) array after its marker: capacity only, elements partial.
pub fn decode_new_array_partial<'a, T: Wire>(
    r: &mut Reader<'_>,
    cx: &Cx<'a, '_>,
    n: usize,
) -> WireResult<&'a mut [T]> {
    let out = cx.arena.alloc_slice::<T>(n)?;
    out.iter_mut()
        .try_for_each(|v| T::decode_partial(r, cx, v))?;
    Ok(out)
}

/// Decodes a string (u64 size including NUL, padded bytes); `None` for size 0.
pub fn decode_string<'a>(
    r: &mut Reader<'_>,
    cx: &Cx<'a, '_>,
) -> WireResult<Option<*const std::ffi::c_char>> {
    let size = r.u64()?;
    if size == 0 {
        return Ok(None);
    }
    let n = r.check_count(size, 1)?;
    let bytes = r.blob(n)?;
    cx.arena.c_string(bytes).map(Some)
}

/// Decodes a blob of exactly `n` bytes (after its marker) into the arena.
pub fn decode_blob<'a>(r: &mut Reader<'_>, cx: &Cx<'a, '_>, n: usize) -> WireResult<&'a mut [u8]> {
    let n = r.check_count(n as u64, 1)?;
    let bytes = r.blob(n)?;
    let out = cx.arena.alloc_slice::<u8>(n)?;
    out.copy_from_slice(bytes);
    Ok(out)
}

/// Encodes a NUL-terminated string (or 0 for null).
///
/// # Safety
/// `s` must be null or point to a NUL-terminated string.
pub unsafe fn encode_string(w: &mut Writer, s: *const std::ffi::c_char) {
    if s.is_null() {
        w.u64(0);
        return;
    }
    // SAFETY: non-null and NUL-terminated per this function's contract.
    let bytes = unsafe { std::ffi::CStr::from_ptr(s) }.to_bytes_with_nul();
    w.u64(bytes.len() as u64);
    w.blob(bytes);
}

/// A slice view of a raw (pointer, count) pair; empty for null.
///
/// # Safety
/// `p` must be null or valid for `n` reads of `T`.
pub unsafe fn raw_slice<'s, T>(p: *const T, n: usize) -> &'s [T] {
    if p.is_null() || n == 0 {
        &[]
    } else {
        // SAFETY: per this function's contract.
        unsafe { std::slice::from_raw_parts(p, n) }
    }
}

/// The longest `pNext` chain we accept (Mesa's longest, the feature query, has ~150 links).
pub const MAX_CHAIN: usize = 512;

/// A zeroed value of a plain-data type.
pub fn zeroed<T: Zeroed>() -> T {
    // SAFETY: `Zeroed` guarantees that all-zero bytes are a valid `T`.
    unsafe { std::mem::zeroed() }
}

/// Reads a structure's `sType` and checks it.
pub fn expect_stype(r: &mut Reader<'_>, expected: i32) -> WireResult<()> {
    let got = r.i32()?;
    if got != expected {
        return Err(VenusError::BadStype { expected, got });
    }
    Ok(())
}

/// Decodes a `pNext` chain whose links must be in `allowed`.
///
/// Wire order: `1, sType` for every link, then `0`, then the links' own members from the last
/// link to the first. Decoded iteratively (no recursion a hostile chain could exhaust).
pub fn decode_chain(
    r: &mut Reader<'_>,
    cx: &Cx<'_, '_>,
    allowed: &[i32],
    partial: bool,
) -> WireResult<*mut c_void> {
    let mut stypes = Vec::new();
    while r.u64()? != 0 {
        if stypes.len() >= MAX_CHAIN {
            return Err(VenusError::TooLarge("pNext chain"));
        }
        let stype = r.i32()?;
        if !allowed.contains(&stype) {
            return Err(VenusError::UnknownStype(stype));
        }
        stypes.push(stype);
    }
    let mut next = std::ptr::null_mut();
    for &stype in stypes.iter().rev() {
        next = crate::generated::types::decode_link(stype, next, r, cx, partial)?;
    }
    Ok(next)
}

/// The common head of every Vulkan structure with `sType`.
#[repr(C)]
struct BaseHeader {
    s_type: i32,
    p_next: *const c_void,
}

/// Encodes a `pNext` chain (links whose sType is not in `allowed` are left out).
///
/// # Safety
/// Every link must be a live structure this crate allocated with a generated type.
pub unsafe fn encode_chain(w: &mut Writer, mut p: *const c_void, allowed: &[i32], h: &dyn Handles) {
    let mut links = Vec::new();
    while !p.is_null() && links.len() < MAX_CHAIN {
        // SAFETY: every link starts with sType/pNext (contract).
        let head = unsafe { &*p.cast::<BaseHeader>() };
        if allowed.contains(&head.s_type) {
            links.push((head.s_type, p));
        }
        p = head.p_next;
    }
    for (stype, _) in &links {
        w.u64(1);
        w.i32(*stype);
    }
    w.u64(0);
    for (stype, link) in links.iter().rev() {
        // SAFETY: `link` is a structure of type `stype` (contract).
        unsafe { crate::generated::types::encode_link(*stype, *link, w, h) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_bounds() {
        let mut r = Reader::new(&[1, 0, 0, 0, 2, 0]);
        assert_eq!(r.u32().unwrap(), 1);
        assert!(r.u32().is_err());
        assert!(r.check_count(u64::MAX, 4).is_err());
    }

    #[test]
    fn arena_budget() {
        let a = Arena::new(64);
        assert!(a.alloc_slice::<u64>(8).is_ok());
        assert!(a.alloc_slice::<u8>(1).is_err());
        let b = Arena::new(1 << 20);
        assert!(b.alloc_slice::<u64>(usize::MAX / 4).is_err());
    }

    #[test]
    fn strings_round_trip() {
        let mut w = Writer::new();
        let s = c"hello";
        // SAFETY: a valid C string literal.
        unsafe { encode_string(&mut w, s.as_ptr()) };
        assert_eq!(w.len(), 8 + 8);
        let arena = Arena::new(1024);
        let cx = Cx {
            arena: &arena,
            handles: &IdentityHandles,
        };
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes);
        let p = decode_string(&mut r, &cx).unwrap().unwrap();
        // SAFETY: decode_string returns a NUL-terminated arena string.
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(p) }, s);
        assert_eq!(r.remaining(), 0);
    }
}
