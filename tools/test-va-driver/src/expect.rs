//! What a decode through this driver leaves behind, in one place for the driver and for the
//! tests that check it (they include this file with `#[path]`, so it depends on nothing else
//! in the crate): the surface pattern, the FNV-1a seed it is derived from, and the call log's
//! `CreateBuffer` lines (written with [`hex`], read back with [`logged_buffers`]).
// The log readers serve the including tests (the driver only writes the log); their unit tests
// are in driver.rs so that they run once, not in every including test binary.
#![allow(dead_code)]

use std::fmt::Write as _;

/// FNV-1a offset basis: the seed of a picture that received no slice data.
pub const FNV_BASIS: u32 = 0x811c_9dc5;

/// `VASliceDataBufferType`: the buffers whose bytes make the seed.
pub const SLICE_DATA_BUFFER_TYPE: u32 = 5;

/// FNV-1a (32-bit) of `bytes`, continuing from `hash`.
pub fn fnv1a(mut hash: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// The byte a decoded surface holds at byte column `x`, row `y` of plane `plane`, for the
/// FNV-1a `seed` of the picture's slice data (documented in the crate docs).
pub fn pattern_byte(seed: u32, plane: u32, x: u32, y: u32) -> u8 {
    let folded = seed ^ (seed >> 8) ^ (seed >> 16) ^ (seed >> 24);
    (folded as u8)
        .wrapping_add((plane as u8).wrapping_mul(61))
        .wrapping_add((x as u8).wrapping_mul(7))
        .wrapping_add((y as u8).wrapping_mul(13))
}

/// Lowercase hex of `bytes` (how the log holds buffer contents).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The calls `log` records, in order (each line starts with the name of its VA call).
pub fn call_names(log: &str) -> Vec<&str> {
    log.lines().filter_map(|l| l.split(' ').next()).collect()
}

/// One `CreateBuffer` line of the call log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedBuffer {
    /// `VABufferType`.
    pub kind: u32,
    /// Element size in bytes.
    pub size: usize,
    /// Number of elements.
    pub num: u32,
    /// The buffer's bytes.
    pub data: Vec<u8>,
}

/// Every buffer the driver logged in `log`, in order. Panics on a malformed line (the log is
/// this driver's own output).
pub fn logged_buffers(log: &str) -> Vec<LoggedBuffer> {
    log.lines()
        .filter(|l| l.starts_with("CreateBuffer "))
        .map(|l| {
            let field = |k: &str| {
                l.split(' ')
                    .find_map(|f| f.strip_prefix(k))
                    .unwrap_or_else(|| panic!("no {k} in {l}"))
            };
            let data = field("data=");
            LoggedBuffer {
                kind: field("type=").parse().expect("type"),
                size: field("size=").parse().expect("size"),
                num: field("num=").parse().expect("num"),
                data: (0..data.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&data[i..i + 2], 16).expect("hex"))
                    .collect(),
            }
        })
        .collect()
}

/// The seed the driver fills surfaces with when `log` holds one picture: FNV-1a of every
/// slice-data buffer's bytes, in order.
pub fn slice_data_seed(log: &str) -> u32 {
    logged_buffers(log)
        .iter()
        .filter(|b| b.kind == SLICE_DATA_BUFFER_TYPE)
        .fold(FNV_BASIS, |h, b| fnv1a(h, &b.data))
}
