//! Leaks through vtest: 2,000 (or `VIRGL_LEAK_SESSIONS`) client sessions against one
//! `--multi-clients` server (one shared renderer: whatever a session leaks stays in the
//! server), each creating a context, a texture with shm, uploading into it, reading it back and
//! dropping it. The server's open fds and RSS must return to their baseline, and no session may
//! fail: a failed one (say, a handshake the server dropped) is counted and the test fails with
//! the list, instead of stopping at the first. The same sessions also run from 4 clients at once
//! (half as many in all), where contexts come and go while others are mid-transfer. In the
//! default fork mode the parent must not accumulate fds or unreaped children across sessions.
//!
//! Figures (2-core machine shared with builds, 2026-11-25): 2 x 10,000 sequential sessions
//! (one run with the server at RUST_LOG=debug) and 4 x 10,000 parallel ones, 0 failed, server
//! fds back to 7, RSS within 0.5 MiB. Two handshake drops reported from earlier 10,000-session
//! runs did not reproduce; see the server module docs for the two failure modes fixed since
//! that end a session silently or end the server (POLLNVAL ignored, accept errors fatal).

mod reliability_common;

use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use reliability_common::{transfer16, Client, Server};
use virgl_protocol::vtest::Request;

/// Sessions in the measured loop. 2,000 keep `cargo test` near 40 s on a loaded 2-core machine;
/// set `VIRGL_LEAK_SESSIONS=10000` for the full run (212 s there).
fn sessions() -> u32 {
    std::env::var("VIRGL_LEAK_SESSIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000)
}
const RSS_TOLERANCE_KIB: u64 = 8 * 1024;

fn session(server: &Server, i: u32) {
    let mut c: Client = server.connect();
    c.handshake("leak");
    let (res, shm) = c.create_texture(1024);
    let mut file = std::fs::File::from(shm);
    let pixels = [i as u8; 1024];
    file.write_all(&pixels).unwrap();
    c.send(&Request::TransferPut2(transfer16(res)));
    c.sync(res);
    file.seek(SeekFrom::Start(0)).unwrap();
    file.write_all(&[0u8; 1024]).unwrap();
    c.send(&Request::TransferGet2(transfer16(res)));
    c.sync(res);
    let mut back = [0u8; 1024];
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_exact(&mut back).unwrap();
    assert_eq!(back, pixels, "session {i}");
    c.send(&Request::ResourceUnref { handle: res });
    c.ping();
}

/// Waits (briefly) for the server to finish tearing down sessions that just hung up.
fn settle(server: &Server, want_fds: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let fds = server.fds();
        if fds <= want_fds || Instant::now() > deadline {
            return fds;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ten_thousand_sessions_multi_clients_leak_nothing() {
    let mut server = Server::start("leaks-multi", &["--no-fork", "--multi-clients"]);
    for i in 0..200 {
        session(&server, i);
    }
    let fds = settle(&server, 0);
    let rss = server.rss_kib();
    let start = Instant::now();
    let sessions = sessions();
    // A failed session is counted, not fatal at once, so a run reports how many dropped.
    let mut drops: Vec<(u32, String)> = Vec::new();
    for i in 0..sessions {
        if let Err(panic) = std::panic::catch_unwind(|| session(&server, i)) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let status = server.child.try_wait();
            drops.push((i, why));
            if !matches!(status, Ok(None)) || drops.len() > 10 {
                let log =
                    std::fs::read_to_string(Server::log_path("leaks-multi")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                panic!("sessions failed: {drops:#?}; server exit status: {status:?}; log tail: {tail:#?}");
            }
        }
    }
    let fds_after = settle(&server, fds);
    let rss_after = server.rss_kib();
    eprintln!(
        "{sessions} sessions in {:?}: {} dropped, server fds {fds} -> {fds_after}, RSS {rss} -> {rss_after} KiB",
        start.elapsed(),
        drops.len()
    );
    assert!(
        drops.is_empty(),
        "{} of {sessions} sessions dropped: {drops:#?}",
        drops.len()
    );
    assert_eq!(fds_after, fds, "server leaked fds");
    assert!(
        rss_after <= rss + RSS_TOLERANCE_KIB,
        "server RSS grew by {} KiB",
        rss_after.saturating_sub(rss)
    );
}

/// Clients at once in the parallel variant.
const PARALLEL_CLIENTS: u32 = 4;

/// The same sessions from several clients at once against one `--multi-clients` server:
/// contexts come and go while others are mid-transfer, and the renderer is released and
/// re-created whenever all happen to be gone. No session may fail (a handshake or a transfer
/// the server dropped), and the server's fds return to their baseline.
#[test]
fn parallel_sessions_multi_clients_drop_nothing() {
    let server = Server::start("leaks-parallel", &["--no-fork", "--multi-clients"]);
    session(&server, 0);
    let fds = settle(&server, 0);
    let per_client = (sessions() / 2 / PARALLEL_CLIENTS).max(1);
    let start = Instant::now();
    let drops: Vec<(u32, u32, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL_CLIENTS)
            .map(|t| {
                let server = &server;
                scope.spawn(move || {
                    let mut drops = Vec::new();
                    for i in 0..per_client {
                        if let Err(panic) = std::panic::catch_unwind(|| session(server, i)) {
                            let why = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            drops.push((t, i, why));
                            if drops.len() > 10 {
                                break;
                            }
                        }
                    }
                    drops
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("client thread"))
            .collect()
    });
    let fds_after = settle(&server, fds);
    eprintln!(
        "{PARALLEL_CLIENTS} x {per_client} parallel sessions in {:?}: {} dropped, server fds {fds} -> {fds_after}",
        start.elapsed(),
        drops.len()
    );
    if !drops.is_empty() {
        let log = std::fs::read_to_string(Server::log_path("leaks-parallel")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        panic!("sessions dropped (client, session, why): {drops:#?}; log tail: {tail:#?}");
    }
    assert_eq!(fds_after, fds, "server leaked fds");
}

#[test]
fn fork_mode_parent_keeps_no_fds_or_zombies() {
    let server = Server::start("leaks-fork", &[]);
    for i in 0..5 {
        session(&server, i);
    }
    let fds = settle(&server, 0);
    for i in 0..100 {
        session(&server, i);
    }
    let fds_after = settle(&server, fds);
    // Children exit when their client hangs up; the parent reaps them.
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.children() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let zombies = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...
            let after = stat.rsplit_once(") ").map_or("", |(_, r)| r);
            let mut f = after.split_whitespace();
            let state = f.next();
            let ppid = f.next().and_then(|p| p.parse::<u32>().ok());
            state == Some("Z") && ppid == Some(server.pid())
        })
        .count();
    eprintln!(
        "fork mode: parent fds {fds} -> {fds_after}, children {}, zombies {zombies}",
        server.children()
    );
    assert_eq!(fds_after, fds, "fork-mode parent leaked fds");
    assert_eq!(zombies, 0, "unreaped children");
}
