//! The driver's state: configs, surfaces, contexts, buffers, images, and the call log.
//!
//! Pure Rust, no FFI: `lib.rs` translates the vtable calls into these methods.

use std::collections::HashMap;
use std::io::Write as _;

use crate::expect::pattern_byte;
use crate::ffi::*;

/// VA profiles reported by default: every decode profile virgl serves.
pub const DEFAULT_PROFILES: &[VAProfile] = &[0, 1, 6, 7, 8, 9, 10, 12, 13, 17, 18, 19, 21, 32, 33];

/// One VA surface: `fourcc` planes stored linearly in `data`.
pub struct Surface {
    pub width: u32,
    pub height: u32,
    pub fourcc: u32,
    pub layout: Layout,
    pub data: Vec<u8>,
}

/// Plane layout of a surface or image.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layout {
    pub planes: u32,
    pub pitches: [u32; 3],
    pub offsets: [u32; 3],
    /// Rows per plane.
    pub rows: [u32; 3],
    pub size: u32,
    pub bits_per_pixel: u32,
}

/// Linear layout of `fourcc` at `width`x`height`; `None` for formats this driver lacks.
pub fn layout(fourcc: u32, width: u32, height: u32) -> Option<Layout> {
    let w = width.checked_add(1)? & !1;
    let h = height.checked_add(1)? & !1;
    let (pitches, rows, bpp): (&[u32], &[u32], u32) = match &fourcc.to_le_bytes() {
        b"NV12" => (&[w, w], &[h, h / 2], 12),
        b"P010" | b"P016" => (&[w * 2, w * 2], &[h, h / 2], 24),
        b"I420" | b"IYUV" | b"YV12" => (&[w, w / 2, w / 2], &[h, h / 2, h / 2], 12),
        b"YUY2" | b"UYVY" => (&[w * 2], &[h], 16),
        b"RGBA" | b"RGBX" | b"BGRA" | b"BGRX" => (&[w * 4], &[h], 32),
        _ => return None,
    };
    let mut l = Layout {
        planes: pitches.len() as u32,
        bits_per_pixel: bpp,
        ..Default::default()
    };
    let mut offset = 0u32;
    for (i, (&p, &r)) in pitches.iter().zip(rows).enumerate() {
        l.pitches[i] = p;
        l.rows[i] = r;
        l.offsets[i] = offset;
        offset = offset.checked_add(p.checked_mul(r)?)?;
    }
    l.size = offset;
    Some(l)
}

/// The surface fourcc a render-target format gets.
pub fn fourcc_for_rt_format(rt_format: u32) -> Option<u32> {
    let f = |s: &[u8; 4]| u32::from_le_bytes(*s);
    Some(match rt_format {
        0x1 => f(b"NV12"),
        0x100 => f(b"P010"),
        0x1000 => f(b"P016"),
        0x2 => f(b"YUY2"),
        0x2_0000 => f(b"BGRA"),
        _ => return None,
    })
}

pub struct Config {
    pub profile: VAProfile,
    pub entrypoint: VAEntrypoint,
    pub rt_format: u32,
}

pub struct Context {
    /// Target of the picture being decoded and the running hash of its slice data.
    pub picture: Option<(u32, u32)>,
}

pub struct Buffer {
    pub kind: i32,
    pub data: Vec<u8>,
}

pub struct Image {
    pub image: VAImage,
}

/// The whole driver.
pub struct Driver {
    pub profiles: Vec<VAProfile>,
    pub max_width: u32,
    pub max_height: u32,
    log_path: Option<String>,
    next_id: u32,
    pub configs: HashMap<u32, Config>,
    pub surfaces: HashMap<u32, Surface>,
    pub contexts: HashMap<u32, Context>,
    pub buffers: HashMap<u32, Buffer>,
    pub images: HashMap<u32, Image>,
}

/// Image formats the driver can read back (`vaQueryImageFormats`).
pub const IMAGE_FORMATS: [&[u8; 4]; 6] = [b"NV12", b"P010", b"P016", b"YUY2", b"BGRA", b"RGBA"];

impl Driver {
    /// Configuration from the environment (see the crate docs).
    pub fn from_env() -> Self {
        let profiles = std::env::var("VIRGL_TEST_VA_PROFILES")
            .ok()
            .map(|s| s.split(',').filter_map(|p| p.trim().parse().ok()).collect())
            .unwrap_or_else(|| DEFAULT_PROFILES.to_vec());
        let (max_width, max_height) = std::env::var("VIRGL_TEST_VA_MAX_SIZE")
            .ok()
            .and_then(|s| {
                let (w, h) = s.split_once('x')?;
                Some((w.parse().ok()?, h.parse().ok()?))
            })
            .unwrap_or((4096, 4096));
        Self {
            profiles,
            max_width,
            max_height,
            log_path: std::env::var("VIRGL_TEST_VA_LOG").ok(),
            next_id: 1,
            configs: HashMap::new(),
            surfaces: HashMap::new(),
            contexts: HashMap::new(),
            buffers: HashMap::new(),
            images: HashMap::new(),
        }
    }

    pub fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Appends one line to the call log (if `VIRGL_TEST_VA_LOG` is set).
    pub fn log(&self, line: &str) {
        if let Some(path) = &self.log_path {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{line}");
            }
        }
    }

    pub fn supports(&self, profile: VAProfile) -> bool {
        self.profiles.contains(&profile)
    }

    /// The RT formats a profile decodes to.
    pub fn rt_formats(profile: VAProfile) -> u32 {
        match profile {
            // HEVC Main10, VP9 profile 2: 10-bit.
            18 | 21 => 0x100,
            // AV1 profile 0 decodes 8- and 10-bit streams.
            32 => 0x1 | 0x100,
            // JPEG: 4:2:0 plus 4:2:2 and RGB output.
            12 => 0x1 | 0x2 | 0x2_0000,
            _ => 0x1,
        }
    }

    /// Fills surface `id` with the pattern of `seed`.
    pub fn fill(&mut self, id: u32, seed: u32) -> bool {
        let Some(s) = self.surfaces.get_mut(&id) else {
            return false;
        };
        let l = s.layout;
        for p in 0..l.planes as usize {
            for y in 0..l.rows[p] {
                let row = (l.offsets[p] + y * l.pitches[p]) as usize;
                for x in 0..l.pitches[p] {
                    s.data[row + x as usize] = pattern_byte(seed, p as u32, x, y);
                }
            }
        }
        true
    }
}

/// A fourcc as text.
pub fn fourcc_str(fourcc: u32) -> String {
    fourcc
        .to_le_bytes()
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect;

    #[test]
    fn nv12_layout() {
        let l = layout(u32::from_le_bytes(*b"NV12"), 15, 9).unwrap();
        assert_eq!(l.planes, 2);
        assert_eq!(l.pitches[..2], [16, 16]);
        assert_eq!(l.rows[..2], [10, 5]);
        assert_eq!(l.offsets[1], 160);
        assert_eq!(l.size, 240);
    }

    #[test]
    fn fnv_known_value() {
        // FNV-1a("a") = 0xe40c292c.
        assert_eq!(expect::fnv1a(expect::FNV_BASIS, b"a"), 0xe40c_292c);
    }

    #[test]
    fn log_lines_read_back() {
        let log = format!(
            "Init x\nCreateBuffer context=1 type=5 size=1 num=3 id=9 data={}\n\
             CreateBuffer context=1 type=0 size=2 num=1 id=10 data=0a0b\n",
            expect::hex(&[0, 0xff, 0x10])
        );
        let bufs = expect::logged_buffers(&log);
        assert_eq!(bufs.len(), 2);
        assert_eq!(bufs[0].data, [0, 0xff, 0x10]);
        assert_eq!((bufs[1].kind, bufs[1].size, bufs[1].num), (0, 2, 1));
        assert_eq!(
            expect::slice_data_seed(&log),
            expect::fnv1a(expect::FNV_BASIS, &[0, 0xff, 0x10])
        );
    }
}
