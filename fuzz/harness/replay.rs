//! Corpus replay for the stable smoke tests (`tests/smoke_*.rs` in each crate): every checked-in
//! seed of a target, then whatever a long `cargo xtask fuzz` run left in `fuzz/corpus/<target>`
//! (bounded), then deterministic mutations of the seeds, all through the target's harness.
//! Deterministic (fixed xorshift seed), so a failure reproduces; the input that failed is
//! printed as hex and can be written to a file and fed to `cargo +nightly fuzz run`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What one replay covered.
#[derive(Debug, Default)]
pub struct Replayed {
    pub seeds: usize,
    pub corpus: usize,
    pub mutations: usize,
}

fn fuzz_dir() -> PathBuf {
    // Every crate sits two levels below the workspace root, next to fuzz/.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(dir: &Path, max: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths.truncate(max);
    paths
        .into_iter()
        .filter_map(|p| std::fs::read(&p).ok().map(|d| (p, d)))
        .collect()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// libFuzzer-like mutations, dword-aware since most of our formats are dword streams.
fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                out[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                out[i] = rng.next() as u8;
            }
            2 if len >= 4 => {
                // An interesting dword: 0, -1, a huge length, a small count, a nearby id.
                let i = rng.below(len / 4) * 4;
                let v: u32 = match rng.below(6) {
                    0 => 0,
                    1 => u32::MAX,
                    2 => 0x7fff_ffff,
                    3 => 0xffff << 16,
                    4 => rng.below(16) as u32,
                    _ => rng.next() as u32,
                };
                out[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(64));
                out.drain(at..at + n);
            }
            4 if len > 0 => {
                // Duplicate a chunk (repeats commands).
                let at = rng.below(len);
                let n = 1 + rng.below((len - at).min(256));
                let chunk = out[at..at + n].to_vec();
                let to = rng.below(len);
                out.splice(to..to, chunk);
            }
            5 => out.truncate(rng.below(len + 1)),
            _ => {
                let at = rng.below(len + 1);
                let n = rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.splice(at..at, bytes);
            }
        }
    }
    out
}

fn run_one(run: &mut dyn FnMut(&[u8]), what: &str, data: &[u8]) {
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(data)));
    if let Err(e) = caught {
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        eprintln!("failing input ({what}, {} bytes): {hex}", data.len());
        std::panic::resume_unwind(e);
    }
}

/// Replays `target`'s seeds, up to `max_corpus` corpus files, then mutations of the seeds
/// until `mutations` are done or `budget` is spent.
pub fn replay(
    target: &str,
    mut run: impl FnMut(&[u8]),
    max_corpus: usize,
    mutations: usize,
    budget: Duration,
) -> Replayed {
    let dir = fuzz_dir();
    let seeds = inputs(&dir.join("seeds").join(target), usize::MAX);
    assert!(
        !seeds.is_empty(),
        "no seeds for {target} in {}",
        dir.display()
    );
    let corpus = inputs(&dir.join("corpus").join(target), max_corpus);
    let mut done = Replayed::default();
    for (path, data) in &seeds {
        run_one(&mut run, &path.display().to_string(), data);
        done.seeds += 1;
    }
    let start = Instant::now();
    for (path, data) in &corpus {
        if start.elapsed() > budget / 2 {
            break;
        }
        run_one(&mut run, &path.display().to_string(), data);
        done.corpus += 1;
    }
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    while done.mutations < mutations && start.elapsed() < budget {
        let (path, seed) = &seeds[rng.below(seeds.len())];
        let data = mutate(&mut rng, seed);
        run_one(&mut run, &format!("mutation of {}", path.display()), &data);
        done.mutations += 1;
    }
    eprintln!("{target}: {done:?} in {:?}", start.elapsed());
    done
}
