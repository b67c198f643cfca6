//! Transfer engine throughput against a plain memcpy.
//!
//! Guest memory is given as 4 KiB iovecs, either in reverse page order (the worst case: a
//! fragmented guest backing, nothing to merge) or in order (runs the iovec layer merges). The
//! transfers are whole RGBA8 levels (TO_HOST gather, FROM_HOST scatter) of 8 MiB (1024x2048) and
//! 64 MiB (4096x4096), plus a sub-box whose rows are not contiguous. The baseline is a memcpy
//! of the same bytes between the same buffers (guest memory seen as one flat region; one memcpy
//! per row for the sub-box), so both sides see the same cache state. After the criterion runs the bench prints each ratio
//! (target: 90 %); rounds of all variants are interleaved and the best of each kept, so machine
//! noise hits them alike.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use virgl_resource::{
    BlockLayout, GuestIovecs, ImageGeometry, ResourceCreateArgs, TransferPlan, TransferRequest,
};

const PAGE: usize = 4096;

/// Guest memory: one allocation, its pages listed as separate iovecs.
struct Guest {
    /// Owns the allocation; accessed only through `base` and `iov` after construction.
    _memory: Vec<u8>,
    base: *mut u8,
    len: usize,
    _raw: Vec<libc::iovec>,
    iov: GuestIovecs,
}

impl Guest {
    fn new(len: usize, reverse: bool) -> Self {
        let mut memory: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let base = memory.as_mut_ptr();
        let mut pages: Vec<usize> = (0..len / PAGE).collect();
        if reverse {
            pages.reverse();
        }
        let raw: Vec<libc::iovec> = pages
            .iter()
            .map(|&p| libc::iovec {
                // `wrapping_add` needs no unsafe; every page offset is inside `memory`.
                iov_base: base.wrapping_add(p * PAGE).cast(),
                iov_len: PAGE,
            })
            .collect();
        // SAFETY: the iovecs point into `memory`, which `Guest` keeps alive for as long as `iov`
        // lives and only accesses through these same raw pointers.
        let iov = unsafe { GuestIovecs::from_raw(raw.as_ptr(), raw.len()) }.expect("iovecs");
        Self {
            _memory: memory,
            base,
            len,
            _raw: raw,
            iov,
        }
    }

    /// The baseline TO_HOST: the guest memory as if it were one flat region.
    fn memcpy_out(&self, dst: &mut [u8]) {
        assert!(dst.len() >= self.len);
        // SAFETY: `base..base+len` is the live allocation owned by `self`; `dst` is a distinct
        // buffer at least `len` long.
        unsafe { std::ptr::copy_nonoverlapping(self.base, dst.as_mut_ptr(), self.len) };
    }

    /// The baseline for a box with gaps between rows: one memcpy per row out of the flat
    /// region, rows `stride` apart from `offset`, packed into `dst`.
    fn memcpy_rows_out(&self, dst: &mut [u8], offset: usize, row: usize, stride: usize) {
        let rows = dst.len() / row;
        assert!(offset + (rows - 1) * stride + row <= self.len);
        for r in 0..rows {
            // SAFETY: the assert above keeps every source row inside the allocation owned by
            // `self`; `dst[r * row..][..row]` is inside `dst`, a distinct buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    self.base.add(offset + r * stride),
                    dst.as_mut_ptr().add(r * row),
                    row,
                )
            };
        }
    }

    /// The baseline FROM_HOST.
    fn memcpy_in(&mut self, src: &[u8]) {
        assert!(src.len() >= self.len);
        // SAFETY: as in `memcpy_out`, with `&mut self` excluding other access.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.base, self.len) };
    }
}

/// A whole-level transfer of a `width` x `height` RGBA8 2D texture, or a box `x..width-x`.
fn plan(width: u32, height: u32, x: u32) -> TransferPlan {
    let args = ResourceCreateArgs {
        handle: 1,
        target: 2,
        width,
        height,
        depth: 1,
        array_size: 1,
        ..Default::default()
    };
    let geom =
        ImageGeometry::new(&args, BlockLayout::uncompressed(4).expect("layout")).expect("geometry");
    let req = TransferRequest {
        res_id: 1,
        x,
        width: width - 2 * x,
        height,
        depth: 1,
        ..Default::default()
    };
    TransferPlan::new(&geom, &req).expect("plan")
}

fn bench(c: &mut Criterion) {
    let bytes = 1024 * 2048 * 4;
    let mut guest = Guest::new(bytes, true);
    let full = plan(1024, 2048, 0);
    let src = vec![1u8; bytes];
    let mut staging = vec![0u8; bytes];
    let layout = full.packed_layout();

    let mut group = c.benchmark_group("transfer_8MiB_reversed_4KiB_iovecs");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("memcpy_out", |b| {
        b.iter(|| guest.memcpy_out(black_box(&mut staging)))
    });
    group.bench_function("to_host", |b| {
        b.iter(|| {
            full.guest_to_host(&guest.iov, black_box(&mut staging), &layout)
                .unwrap()
        })
    });
    group.bench_function("memcpy_in", |b| b.iter(|| guest.memcpy_in(black_box(&src))));
    group.bench_function("from_host", |b| {
        b.iter(|| {
            full.host_to_guest(black_box(&src), &layout, &mut guest.iov)
                .unwrap()
        })
    });
    group.finish();
}

/// Time of one call of `f`, averaged over `iters` calls.
fn time(iters: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed() / iters
}

fn ratios(width: u32, height: u32, reverse: bool, rounds: u32, iters: u32) {
    let bytes = (width * height * 4) as usize;
    let mut guest = Guest::new(bytes, reverse);
    let full = plan(width, height, 0);
    let sub = plan(width, height, 16);
    let src = vec![1u8; bytes];
    let mut staging = vec![0u8; bytes];
    let layout = full.packed_layout();
    let sub_layout = sub.packed_layout();

    let gl = sub.guest_layout();
    let sub_bytes = (sub.row_bytes() * u64::from(sub.rows())) as usize;
    let (sub_off, sub_row, sub_stride) = (
        gl.offset as usize,
        sub.row_bytes() as usize,
        gl.stride as usize,
    );

    let mut best = [Duration::MAX; 6];
    for _ in 0..rounds {
        let times = [
            time(iters, || guest.memcpy_out(black_box(&mut staging))),
            time(iters, || {
                full.guest_to_host(&guest.iov, black_box(&mut staging), &layout)
                    .unwrap()
            }),
            time(iters, || guest.memcpy_in(black_box(&src))),
            time(iters, || {
                full.host_to_guest(black_box(&src), &layout, &mut guest.iov)
                    .unwrap()
            }),
            time(iters, || {
                sub.guest_to_host(&guest.iov, black_box(&mut staging), &sub_layout)
                    .unwrap()
            }),
            time(iters, || {
                let dst = black_box(&mut staging[..sub_bytes]);
                guest.memcpy_rows_out(dst, sub_off, sub_row, sub_stride)
            }),
        ];
        for (b, t) in best.iter_mut().zip(times) {
            *b = (*b).min(t);
        }
    }
    let [memcpy_out, to_host, memcpy_in, from_host, sub_to_host, sub_memcpy] = best;

    let gib = |bytes: f64, d: Duration| bytes / d.as_secs_f64() / (1u64 << 30) as f64;
    let order = if reverse {
        "reversed"
    } else {
        "in order (merged)"
    };
    println!(
        "{} MiB, {} x 4 KiB iovecs {order}:",
        bytes >> 20,
        bytes / PAGE
    );
    let report = |name: &str, moved: f64, d: Duration, base_bytes_per_s: f64| {
        let rate = moved / d.as_secs_f64();
        println!(
            "  {name:<28} {:>7.2} GiB/s  ratio to memcpy {:>5.1} %",
            gib(moved, d),
            100.0 * rate / base_bytes_per_s
        );
    };
    let out_rate = bytes as f64 / memcpy_out.as_secs_f64();
    let in_rate = bytes as f64 / memcpy_in.as_secs_f64();
    report(
        "memcpy out of guest memory",
        bytes as f64,
        memcpy_out,
        out_rate,
    );
    report("TO_HOST whole level", bytes as f64, to_host, out_rate);
    let rows_rate = sub_bytes as f64 / sub_memcpy.as_secs_f64();
    report(
        "memcpy per row (sub-box)",
        sub_bytes as f64,
        sub_memcpy,
        rows_rate,
    );
    report("TO_HOST sub-box", sub_bytes as f64, sub_to_host, rows_rate);
    report("memcpy into guest memory", bytes as f64, memcpy_in, in_rate);
    report("FROM_HOST whole level", bytes as f64, from_host, in_rate);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    println!("\ntransfer engine vs memcpy of the same bytes (best of interleaved rounds):");
    ratios(1024, 2048, true, 25, 10);
    ratios(1024, 2048, false, 25, 10);
    ratios(4096, 4096, true, 10, 3);
}
