//! The vtest socket is private: created owner-only (0600) whatever the umask, and the server
//! refuses to take over a path owned by another user (it could be someone's live socket or a
//! planted one), leaving that file alone.

mod reliability_common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};

use reliability_common::Server;

#[test]
fn socket_is_owner_only_even_with_umask_zero() {
    // SAFETY: umask only changes this process's file-creation mask; the server inherits it.
    let old = unsafe { libc::umask(0) };
    let server = Server::start("sock-umask", &[]);
    // SAFETY: as above, restoring the mask.
    unsafe { libc::umask(old) };
    let meta = std::fs::metadata(&server.socket).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    // SAFETY: geteuid has no preconditions.
    assert_eq!(meta.uid(), unsafe { libc::geteuid() });
}

#[test]
fn refuses_a_path_owned_by_another_user() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root to make a file owned by another user");
        return;
    }
    let dir = std::env::temp_dir().join(format!("virgl-rel-{}-foreign", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sock");
    // A stale socket left by another user (nobody, 65534).
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(listener);
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"))
        .arg(format!("--socket-path={}", path.display()))
        .env("XDG_RUNTIME_DIR", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the server took over a foreign socket path"
    );
    let meta = std::fs::symlink_metadata(&path).expect("the foreign file is left in place");
    assert_eq!(meta.uid(), 65534);
    std::fs::remove_dir_all(&dir).unwrap();
}
