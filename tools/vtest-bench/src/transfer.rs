//! Transfer bandwidth: TRANSFER_PUT2 / TRANSFER_GET2 between a resource's shm and the host
//! resource, for 2D RGBA8 textures and buffers of 4 KiB to 64 MiB, against a memcpy of the same
//! size in this process.
//!
//! Each figure repeats whole-resource transfers in batches of about 8 MiB, each batch closed by a
//! BUSY_WAIT round trip (so the server has really done the work), until a time budget is spent.
//! Before timing, one 64 KiB texture goes up and comes back to check the bytes survive.

use std::hint::black_box;
use std::time::{Duration, Instant};

use virgl_protocol::vtest::{Request, ResourceDesc, Transfer2, TransferBox};

use crate::client::{Client, Resource};
use crate::error::{BenchError, BenchResult};

const FORMAT_B8G8R8A8_UNORM: u32 = 1;
const FORMAT_R8_UNORM: u32 = 64;
const BIND_RENDER_TARGET: u32 = 1 << 1;
const BIND_SAMPLER_VIEW: u32 = 1 << 3;
const BIND_VERTEX_BUFFER: u32 = 1 << 4;
const TARGET_BUFFER: u32 = 0;
const TARGET_TEXTURE_2D: u32 = 2;

/// Byte sizes measured, and the square RGBA8 texture of each.
pub const SIZES: &[(u32, u32)] = &[
    (4 << 10, 32),
    (64 << 10, 128),
    (1 << 20, 512),
    (16 << 20, 2048),
    (64 << 20, 4096),
];

/// `4KiB`, `16MiB`...
pub fn size_label(bytes: u32) -> String {
    if bytes >= 1 << 20 {
        format!("{}MiB", bytes >> 20)
    } else {
        format!("{}KiB", bytes >> 10)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Texture,
    Buffer,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Texture => "texture",
            Kind::Buffer => "buffer",
        }
    }
}

fn desc(kind: Kind, bytes: u32, side: u32) -> ResourceDesc {
    let (target, format, bind, width, height) = match kind {
        Kind::Texture => (
            TARGET_TEXTURE_2D,
            FORMAT_B8G8R8A8_UNORM,
            BIND_SAMPLER_VIEW | BIND_RENDER_TARGET,
            side,
            side,
        ),
        Kind::Buffer => (TARGET_BUFFER, FORMAT_R8_UNORM, BIND_VERTEX_BUFFER, bytes, 1),
    };
    ResourceDesc {
        handle: 0,
        target,
        format,
        bind,
        width,
        height,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
    }
}

fn whole(res: &Resource, kind: Kind, bytes: u32, side: u32) -> Transfer2 {
    let (width, height) = match kind {
        Kind::Texture => (side, side),
        Kind::Buffer => (bytes, 1),
    };
    Transfer2 {
        handle: res.id,
        level: 0,
        region: TransferBox {
            x: 0,
            y: 0,
            z: 0,
            width,
            height,
            depth: 1,
        },
        data_size: bytes,
        offset: 0,
    }
}

/// Runs `op` `batch` times then `sync`, until `budget` has passed; bytes per second.
fn rate(
    bytes: u32,
    budget: Duration,
    mut batch_op: impl FnMut(usize) -> BenchResult<()>,
) -> BenchResult<f64> {
    let batch = ((8usize << 20) / bytes as usize).clamp(1, 2048);
    batch_op(1)?; // warm: first-touch of the host storage is not what we measure
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < budget || done == 0 {
        batch_op(batch)?;
        done += batch;
    }
    Ok(done as f64 * f64::from(bytes) / start.elapsed().as_secs_f64())
}

/// One measured figure: `transfer <kind> <size> <put|get>` or `memcpy <size>`, in MB/s.
pub struct Figure {
    pub key: String,
    pub mb_per_s: f64,
}

/// Measures every size and kind, plus the memcpy baseline.
pub fn run(client: &mut Client, budget: Duration, max_bytes: u32) -> BenchResult<Vec<Figure>> {
    check_round_trip(client)?;
    let mut out = Vec::new();
    for &(bytes, side) in SIZES.iter().filter(|(b, _)| *b <= max_bytes) {
        let label = size_label(bytes);
        let mut src = vec![0x5au8; bytes as usize];
        let mut dst = vec![0u8; bytes as usize];
        let memcpy = rate(bytes, budget, |n| {
            for i in 0..n {
                let len = src.len();
                src[i % len] = i as u8;
                dst.copy_from_slice(black_box(&src));
                black_box(&mut dst);
            }
            Ok(())
        })?;
        out.push(Figure {
            key: format!("memcpy {label}"),
            mb_per_s: memcpy / 1e6,
        });
        for kind in [Kind::Texture, Kind::Buffer] {
            let mut res = client.create_resource(desc(kind, bytes, side), bytes)?;
            if let Some(shm) = res.shm.as_mut() {
                shm.bytes_mut().fill(0xa5);
            }
            let t = whole(&res, kind, bytes, side);
            let id = res.id;
            for (dir, put) in [("put", true), ("get", false)] {
                let r = rate(bytes, budget, |n| {
                    let req = if put {
                        Request::TransferPut2(t)
                    } else {
                        Request::TransferGet2(t)
                    };
                    let one = req.encode(client.version);
                    let many = one.repeat(n);
                    client.send_bytes(&many)?;
                    client.sync(id)
                })?;
                out.push(Figure {
                    key: format!("transfer {} {label} {dir}", kind.name()),
                    mb_per_s: r / 1e6,
                });
            }
            client.send(&Request::ResourceUnref { handle: id })?;
            drop(res);
        }
    }
    Ok(out)
}

/// A 64 KiB texture goes up with a pattern and comes back: the bytes must be the same.
fn check_round_trip(client: &mut Client) -> BenchResult<()> {
    let (bytes, side) = (64 << 10, 128);
    let mut res = client.create_resource(desc(Kind::Texture, bytes, side), bytes)?;
    let t = whole(&res, Kind::Texture, bytes, side);
    let shm = res
        .shm
        .as_mut()
        .ok_or(BenchError::Mismatch("no shm".into()))?;
    let pattern: Vec<u8> = (0..bytes).map(|i| (i * 31 % 251) as u8).collect();
    shm.bytes_mut().copy_from_slice(&pattern);
    client.send(&Request::TransferPut2(t))?;
    client.sync(res.id)?;
    shm.bytes_mut().fill(0);
    client.send(&Request::TransferGet2(t))?;
    client.sync(res.id)?;
    if shm.bytes_mut() != pattern.as_slice() {
        let first = shm
            .bytes_mut()
            .iter()
            .zip(&pattern)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        return Err(BenchError::Mismatch(format!(
            "64 KiB texture differs after PUT2+GET2 from byte {first}"
        )));
    }
    client.send(&Request::ResourceUnref { handle: res.id })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_whole_rgba8_squares_with_labels() {
        for &(bytes, side) in SIZES {
            assert_eq!(side * side * 4, bytes);
        }
        assert_eq!(size_label(4 << 10), "4KiB");
        assert_eq!(size_label(64 << 20), "64MiB");
    }
}
