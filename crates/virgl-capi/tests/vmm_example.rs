//! Runs `examples/vmm.rs` (the Rust VMM embedding example) as a test, so that CI keeps it
//! working: the example's `run` is the whole flow, `main` only prints.

#[path = "../examples/vmm.rs"]
#[allow(dead_code)] // the example's `main` is not called here
mod vmm;

#[test]
fn vmm_example_renders_and_signals() {
    let summary = vmm::run().unwrap_or_else(|e| panic!("vmm example failed: {e}"));
    assert_eq!(summary.capset_virgl2, (2, 1408));
    assert!(!summary.renderer_name.is_empty());
    assert_eq!(summary.pixels_checked, 64 * 32);
    assert_eq!(summary.fences, vec![(1, 0, 100)]);
}
