//! TGSI → GLSL throughput over the captured corpus (`crates/virgl-vrend/tests/tgsi_corpus`):
//! parsing alone, and parsing plus translation for desktop GLSL 4.50. Throughput is reported
//! in shaders per second (criterion "elements").
//!
//! `cargo bench -p benches --bench tgsi -- --quick`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use virgl_vrend::tgsi::{self, GlslTarget, ShaderKey};

fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/virgl-vrend/tests/tgsi_corpus");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("tgsi corpus")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    v.sort();
    v
}

fn bench(c: &mut Criterion) {
    let shaders = corpus();
    let target = GlslTarget::desktop(450);
    let key = ShaderKey {
        nr_cbufs: 1,
        shared_mem_bytes: 16384,
        ..Default::default()
    };
    let mut g = c.benchmark_group("tgsi");
    g.throughput(Throughput::Elements(shaders.len() as u64));
    g.bench_function("parse_corpus", |b| {
        b.iter(|| {
            for s in &shaders {
                let _ = black_box(tgsi::parse(black_box(s)));
            }
        })
    });
    g.bench_function("parse_and_translate_corpus", |b| {
        b.iter(|| {
            for s in &shaders {
                if let Ok(p) = tgsi::parse(black_box(s)) {
                    let _ = black_box(tgsi::translate(&p, &key, &target));
                }
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
