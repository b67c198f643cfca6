//! `virgl-vtest`: the vtest server binary.

fn main() {
    eprintln!("virgl-vtest: the server is not implemented yet");
    std::process::exit(1);
}
