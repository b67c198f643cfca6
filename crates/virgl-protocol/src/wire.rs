//! Little-endian reading and writing of C structs laid out by the x86_64 System V rules.
//!
//! [`wire_struct!`] declares a Rust struct whose fields are read and written in declaration
//! order, each at its natural alignment relative to the start of the struct, with the total size
//! rounded up to the largest member alignment: exactly what gcc does for a plain C struct on
//! x86_64 (and on aarch64, which shares these rules for the types used here). Bitfields are
//! modelled as their storage integer with accessor methods next to the struct.
//!
//! Reading never panics: every read is bounds-checked and yields [`ProtocolError::Truncated`].

use crate::ProtocolError;

/// Round `off` up to a multiple of `align` (a power of two).
pub(crate) const fn align_up(off: usize, align: usize) -> usize {
    (off + align - 1) & !(align - 1)
}

/// A bounds-checked little-endian cursor over a byte slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(ProtocolError::Truncated {
                offset: self.pos,
                needed: n.saturating_sub(self.buf.len().saturating_sub(self.pos)),
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Skip padding so that the position is `align`-aligned relative to `base`.
    pub(crate) fn align(&mut self, base: usize, align: usize) -> Result<(), ProtocolError> {
        let rel = self.pos - base;
        let pad = align_up(rel, align) - rel;
        self.take(pad).map(|_| ())
    }
}

/// A growable little-endian output buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Write zero padding so that the length is `align`-aligned relative to `base`.
    pub(crate) fn align(&mut self, base: usize, align: usize) {
        let rel = self.buf.len() - base;
        let pad = align_up(rel, align) - rel;
        self.buf.resize(self.buf.len() + pad, 0);
    }
}

/// A value with a fixed C layout.
pub(crate) trait Wire: Sized {
    /// `sizeof` in C.
    const SIZE: usize;
    /// `_Alignof` in C.
    const ALIGN: usize;
    /// Read one value at the reader's position (already aligned by the caller).
    fn read_from(r: &mut Reader<'_>) -> Result<Self, ProtocolError>;
    /// Append one value (the caller has aligned the writer).
    fn write_to(&self, w: &mut Writer);
    /// The all-zero value.
    fn zeroed() -> Self;

    /// Decode from the start of `bytes`; trailing bytes are ignored.
    fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Self::read_from(&mut Reader::new(bytes))
    }

    /// Encode to exactly [`Wire::SIZE`] bytes.
    fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(Self::SIZE);
        self.write_to(&mut w);
        w.buf
    }
}

macro_rules! wire_prim {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            const ALIGN: usize = core::mem::size_of::<$t>();
            fn read_from(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
            fn write_to(&self, w: &mut Writer) {
                w.put(&self.to_le_bytes());
            }
            fn zeroed() -> Self {
                0 as $t
            }
        }
    )*};
}
wire_prim!(u8, i8, u16, i16, u32, i32, u64, i64, f32, f64);

/// C `bool`: one byte; any non-zero byte reads as `true` (as gcc code would treat it).
impl Wire for bool {
    const SIZE: usize = 1;
    const ALIGN: usize = 1;
    fn read_from(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        Ok(r.array::<1>()?[0] != 0)
    }
    fn write_to(&self, w: &mut Writer) {
        w.put(&[u8::from(*self)]);
    }
    fn zeroed() -> Self {
        false
    }
}

impl<T: Wire, const N: usize> Wire for [T; N] {
    const SIZE: usize = T::SIZE * N;
    const ALIGN: usize = T::ALIGN;
    fn read_from(r: &mut Reader<'_>) -> Result<Self, ProtocolError> {
        // Check the whole array up front so a hostile length fails before any element work.
        if r.buf.len().saturating_sub(r.pos) < Self::SIZE {
            return Err(ProtocolError::Truncated {
                offset: r.pos,
                needed: Self::SIZE - r.buf.len().saturating_sub(r.pos),
            });
        }
        let mut err = None;
        let out = core::array::from_fn(|_| match T::read_from(r) {
            Ok(v) => v,
            Err(e) => {
                err.get_or_insert(e);
                T::zeroed()
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }
    fn write_to(&self, w: &mut Writer) {
        for v in self {
            v.write_to(w);
        }
    }
    fn zeroed() -> Self {
        core::array::from_fn(|_| T::zeroed())
    }
}

/// Declare a struct with a C layout; see the module docs.
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::wire::Wire for $name {
            const SIZE: usize = {
                let mut off = 0usize;
                let mut al = 1usize;
                $(
                    off = $crate::wire::align_up(off, <$ty as $crate::wire::Wire>::ALIGN)
                        + <$ty as $crate::wire::Wire>::SIZE;
                    if <$ty as $crate::wire::Wire>::ALIGN > al {
                        al = <$ty as $crate::wire::Wire>::ALIGN;
                    }
                )*
                $crate::wire::align_up(off, al)
            };
            const ALIGN: usize = {
                let mut al = 1usize;
                $(
                    if <$ty as $crate::wire::Wire>::ALIGN > al {
                        al = <$ty as $crate::wire::Wire>::ALIGN;
                    }
                )*
                al
            };
            fn read_from(
                r: &mut $crate::wire::Reader<'_>,
            ) -> Result<Self, $crate::ProtocolError> {
                let base = r.pos();
                $(
                    r.align(base, <$ty as $crate::wire::Wire>::ALIGN)?;
                    let $field = <$ty as $crate::wire::Wire>::read_from(r)?;
                )*
                r.align(base, <Self as $crate::wire::Wire>::ALIGN)?;
                Ok(Self { $($field,)* })
            }
            fn write_to(&self, w: &mut $crate::wire::Writer) {
                let base = w.buf.len();
                $(
                    w.align(base, <$ty as $crate::wire::Wire>::ALIGN);
                    $crate::wire::Wire::write_to(&self.$field, w);
                )*
                w.align(base, <Self as $crate::wire::Wire>::ALIGN);
            }
            fn zeroed() -> Self {
                Self { $($field: <$ty as $crate::wire::Wire>::zeroed(),)* }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                <Self as $crate::wire::Wire>::zeroed()
            }
        }

        #[allow(dead_code)]
        impl $name {
            /// `sizeof` of the C struct on x86_64.
            pub const SIZE: usize = <Self as $crate::wire::Wire>::SIZE;

            /// Decode from the first [`Self::SIZE`] bytes of `bytes` (little-endian, C layout);
            /// trailing bytes are ignored.
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, $crate::ProtocolError> {
                <Self as $crate::wire::Wire>::decode(bytes)
            }

            /// Encode to exactly [`Self::SIZE`] bytes, padding zeroed.
            pub fn to_bytes(&self) -> Vec<u8> {
                <Self as $crate::wire::Wire>::encode(self)
            }
        }
    };
}
pub(crate) use wire_struct;

/// Getter/setter pairs for C bitfields stored in an integer field (gcc on x86_64 allocates
/// bitfields from the least significant bit of their storage unit).
macro_rules! bitfields {
    ($ty:ty {
        $( $(#[$m:meta])* $field:ident . $get:ident / $set:ident : $shift:literal, $width:literal; )*
    }) => {
        #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
        impl $ty {
            $(
                $(#[$m])*
                pub fn $get(&self) -> u32 {
                    ((self.$field as u32) >> $shift) & (((1u64 << $width) - 1) as u32)
                }
                #[doc = concat!("Set the `", stringify!($get), "` bitfield (extra high bits are dropped).")]
                pub fn $set(&mut self, v: u32) {
                    let mask = (((1u64 << $width) - 1) as u32) << $shift;
                    self.$field = (((self.$field as u32) & !mask) | ((v << $shift) & mask)) as _;
                }
            )*
        }
    };
}
pub(crate) use bitfields;

/// Implement [`Wire`] for a `bitflags` type over `u32`, keeping unknown bits.
macro_rules! wire_bitflags {
    ($($ty:ty),*) => {$(
        impl $crate::wire::Wire for $ty {
            const SIZE: usize = 4;
            const ALIGN: usize = 4;
            fn read_from(r: &mut $crate::wire::Reader<'_>) -> Result<Self, $crate::ProtocolError> {
                Ok(<$ty>::from_bits_retain(<u32 as $crate::wire::Wire>::read_from(r)?))
            }
            fn write_to(&self, w: &mut $crate::wire::Writer) {
                $crate::wire::Wire::write_to(&self.bits(), w)
            }
            fn zeroed() -> Self {
                <$ty>::empty()
            }
        }
    )*};
}
pub(crate) use wire_bitflags;

#[cfg(test)]
mod tests {
    use super::*;

    wire_struct! {
        /// `struct { u8 a; u32 b; u16 c; }` is 12 bytes with b at 4 and c at 8.
        pub struct Padded {
            pub a: u8,
            pub b: u32,
            pub c: u16,
        }
    }

    #[test]
    fn padding_follows_c_rules() {
        assert_eq!(Padded::SIZE, 12);
        assert_eq!(Padded::ALIGN, 4);
        let p = Padded {
            a: 1,
            b: 0x0403_0201,
            c: 0x0605,
        };
        let bytes = p.encode();
        assert_eq!(bytes, [1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0]);
        assert_eq!(Padded::decode(&bytes), Ok(p));
        assert!(matches!(
            Padded::decode(&bytes[..11]),
            Err(ProtocolError::Truncated { .. })
        ));
        assert_eq!(<[Padded; 3]>::SIZE, 36);
    }
}
