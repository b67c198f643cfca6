//! Isolation: a hostile vtest client streams mutated command buffers (from the SUBMIT_CMDs
//! recorded from real Mesa sessions in `fuzz/seeds/command_stream`) and plain garbage while a
//! real Mesa client (`gl-scenes --scene tiles` through virpipe) renders; the well-behaved
//! client's pixels must be exactly those of a direct run on the host driver, and the server must
//! keep serving. Checked in the default fork-per-client mode and with `--multi-clients` (one
//! shared renderer, one context per client: the case where a hostile context could disturb
//! another's GL state).

mod reliability_common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use reliability_common::{tiles_checksum, Server};
use virgl_protocol::vtest::{Header, Request, VcmdId, PROTOCOL_VERSION};

fn seeds() -> Vec<Vec<u32>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/command_stream");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        out.push(
            data.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        );
    }
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// Hostile traffic until `stop`; returns how many buffers and garbage blobs it sent.
fn hostile(server_socket: PathBuf, stop: Arc<AtomicBool>, sent: Arc<AtomicUsize>) {
    let seeds = seeds();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    while !stop.load(Ordering::Relaxed) {
        let mut c = reliability_common::Client::connect(&server_socket);
        c.handshake("hostile");
        // A resource of its own, so mutated streams can hit a real one.
        let (_res, _shm) = c.create_texture(1024);
        for _ in 0..64 {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let mut words = seeds[(next() as usize) % seeds.len()].clone();
            for _ in 0..1 + next() % 8 {
                let i = (next() as usize) % words.len().max(1);
                if let Some(w) = words.get_mut(i) {
                    *w = match next() % 4 {
                        0 => *w ^ (1 << (next() % 32)),
                        1 => next() as u32,
                        2 => u32::MAX,
                        _ => (next() % 16) as u32,
                    };
                }
            }
            let bytes = Request::SubmitCmd { cmds: words }.encode(PROTOCOL_VERSION);
            if !c.try_send_bytes(&bytes) {
                break; // the server dropped this client; connect again
            }
            sent.fetch_add(1, Ordering::Relaxed);
        }
        // Garbage on a fresh connection: a header claiming 4 GiB, then noise.
        let mut g = reliability_common::Client::connect(&server_socket);
        let mut junk = Header::new(VcmdId::SubmitCmd, u32::MAX).to_bytes().to_vec();
        junk.extend((0..512).map(|_| next() as u8));
        let _ = g.try_send_bytes(&junk);
        sent.fetch_add(1, Ordering::Relaxed);
    }
}

fn isolation(name: &str, args: &[&str]) {
    eprintln!("{name}: starting");
    let direct = tiles_checksum(None, 1);
    let mut server = Server::start(name, args);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let attacker = {
        let (socket, stop, sent) = (server.socket.clone(), stop.clone(), sent.clone());
        std::thread::spawn(move || hostile(socket, stop, sent))
    };
    // Let the attacker get going, then render while it keeps at it.
    while sent.load(Ordering::Relaxed) < 20 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let ours = tiles_checksum(Some(&server), 10);
    let ours_again = tiles_checksum(Some(&server), 1);
    stop.store(true, Ordering::Relaxed);
    attacker
        .join()
        .expect("the hostile client itself did not fail");
    eprintln!(
        "{name}: hostile sent {} buffers/garbage blobs; checksums direct {direct}, via virgl {ours}, {ours_again}",
        sent.load(Ordering::Relaxed)
    );
    assert_eq!(
        ours, direct,
        "pixels differ while a hostile client was active"
    );
    assert_eq!(ours_again, direct);
    server.assert_running();
    let mut probe = server.connect();
    probe.handshake("probe");
    probe.ping();
}

#[test]
fn hostile_client_cannot_disturb_a_rendering_client_fork_mode() {
    isolation("iso-fork", &[]);
}

#[test]
fn hostile_client_cannot_disturb_a_rendering_client_multi_clients() {
    isolation("iso-multi", &["--no-fork", "--multi-clients"]);
}
