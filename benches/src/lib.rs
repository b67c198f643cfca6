//! Criterion benchmarks of virgl-rs live under `benches/benches/`.
