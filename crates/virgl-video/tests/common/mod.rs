//! Shared harness of the translation tests (`translate_*.rs`): the test plays the guest, so it
//! needs a surface map, one way to run a codec's description through [`translate`], the
//! "refused with a typed error" check, and a reproducible mutation loop. [`trace`] reads the
//! ffmpeg dumps the expected values come from. Each test crate uses only part of this.
#![allow(dead_code)]

pub mod trace;

use virgl_protocol::video::{
    Av1PictureDesc, H264PictureDesc, H265PictureDesc, MjpegPictureDesc, Mpeg12PictureDesc,
    PictureDesc, Vc1PictureDesc, Vp9PictureDesc,
};
use virgl_video::translate::{translate, VaBuffer};
use virgl_video::VideoError;

/// A decode description of one codec, as the tests handle it generically.
pub trait Desc: Clone {
    /// The codec name [`VideoError::InvalidPicture`] carries for it.
    const CODEC: &'static str;
    /// The union member this description is.
    fn picture(&self) -> PictureDesc;
    /// Its wire bytes (what the guest sends).
    fn raw(&self) -> Vec<u8>;
    /// Decodes wire bytes of the member's full size (never fails for that size).
    fn from_raw(raw: &[u8]) -> Self;
}

macro_rules! desc {
    ($($ty:ident => $variant:ident, $codec:literal;)*) => {$(
        impl Desc for $ty {
            const CODEC: &'static str = $codec;
            fn picture(&self) -> PictureDesc {
                PictureDesc::$variant(Box::new(self.clone()))
            }
            fn raw(&self) -> Vec<u8> {
                self.to_bytes()
            }
            fn from_raw(raw: &[u8]) -> Self {
                $ty::from_bytes(raw).expect("a description's own size decodes")
            }
        }
    )*};
}

desc! {
    H264PictureDesc => H264, "h264";
    H265PictureDesc => H265, "hevc";
    Mpeg12PictureDesc => Mpeg12, "mpeg12";
    MjpegPictureDesc => Mjpeg, "jpeg";
    Vc1PictureDesc => Vc1, "vc1";
    Vp9PictureDesc => Vp9, "vp9";
    Av1PictureDesc => Av1, "av1";
}

/// Reads a VA struct out of a translated buffer's bytes.
pub fn read_struct<T: Copy>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>(), "buffer size");
    // SAFETY: the length equals `size_of::<T>()`, `read_unaligned` needs no alignment, and `T`
    // is a libva-sys plain-C struct for which any bit pattern the translator wrote is valid.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) }
}

/// NAL units (without start code and trailing zero bytes) of an Annex-B stream (H.264, HEVC).
pub fn nal_units(data: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let mut e = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
            while e > s && data[e - 1] == 0 {
                e -= 1;
            }
            data[s..e].to_vec()
        })
        .collect()
}

/// An Annex-B stream of `nals`, each behind a `00 00 01` start code: what Mesa's VA frontend
/// hands the driver for H.264 and HEVC slices.
pub fn annex_b<T: AsRef<[u8]>>(nals: impl IntoIterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::new();
    for nal in nals {
        out.extend_from_slice(&[0, 0, 1]);
        out.extend_from_slice(nal.as_ref());
    }
    out
}

/// A surface map for tests: guest handle `h` is VA surface `h + 1000`; handles above 99 are
/// unknown.
pub struct Surfaces {
    pub target: u32,
    pub size: (u32, u32),
}

impl virgl_video::translate::SurfaceMap for Surfaces {
    fn surface(&self, guest_handle: u32) -> Option<u32> {
        (guest_handle < 100).then_some(guest_handle + 1000)
    }
    fn target(&self) -> Option<u32> {
        Some(self.target)
    }
    fn coded_size(&self) -> Option<(u32, u32)> {
        Some(self.size)
    }
}

impl Surfaces {
    /// Translates `d` with `bytes` as its one bitstream buffer.
    pub fn run<D: Desc>(&self, d: &D, bytes: &[u8]) -> Result<Vec<VaBuffer>, VideoError> {
        translate(&d.picture(), &[bytes], self)
    }

    /// Translates `d` and expects [`VideoError::InvalidPicture`] of its codec; returns the
    /// reason.
    pub fn refused<D: Desc>(&self, d: &D, bytes: &[u8]) -> String {
        match self.run(d, bytes) {
            Err(VideoError::InvalidPicture { codec, reason }) => {
                assert_eq!(codec, D::CODEC);
                reason
            }
            other => panic!("expected InvalidPicture, got {other:?}"),
        }
    }

    /// `rounds` times: bit flips and truncations of `bytes` ([`Rng::mutate`]) and, every other
    /// round on average, a random byte in `desc`'s wire bytes ([`Rng::poke`]). Every case must
    /// translate or be refused with a typed error; a panic or overflow fails the test.
    pub fn run_mutated<D: Desc>(&self, rng: &mut Rng, desc: &D, bytes: &[u8], rounds: usize) {
        for _ in 0..rounds {
            let mut b = bytes.to_vec();
            rng.mutate(&mut b);
            let mut d = desc.clone();
            if rng.below(2) == 0 {
                let mut raw = d.raw();
                rng.poke(&mut raw);
                d = D::from_raw(&raw);
            }
            let _ = self.run(&d, &b);
        }
    }
}

/// A small deterministic xorshift generator for mutation tests (no dependency, reproducible).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Flips 1-4 random bits of `bytes` and sometimes truncates it.
    pub fn mutate(&mut self, bytes: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        for _ in 0..1 + self.below(4) {
            let i = self.below(bytes.len());
            bytes[i] ^= 1 << self.below(8);
        }
        if self.below(8) == 0 {
            let keep = self.below(bytes.len());
            bytes.truncate(keep);
        }
    }

    /// Overwrites one random byte of `bytes` (a description's wire bytes) with a random or
    /// boundary value.
    pub fn poke(&mut self, bytes: &mut [u8]) {
        let i = self.below(bytes.len());
        bytes[i] = match self.below(4) {
            0 => 0,
            1 => 0xff,
            2 => 0x80,
            _ => self.next() as u8,
        };
    }
}
