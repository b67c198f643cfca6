//! Gives the C library the SONAME of upstream's, so that QEMU and other C users load ours when a
//! `libvirglrenderer.so.1` of ours comes first on the library path.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libvirglrenderer.so.1");
    println!("cargo:rerun-if-changed=build.rs");
}
