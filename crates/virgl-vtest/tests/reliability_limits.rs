//! Limits: a guest that asks for too much gets an error (here: its vtest session is dropped),
//! never an out-of-memory host, and every other client carries on. Covered: the command buffer
//! size (vtest frame cap, 256 MiB), sub-contexts per context (64), objects per sub-context
//! (2^20), and textures beyond the host's limits (GL's max size, a 2 TiB array).
//!
//! Per-context quotas (virgl-capi's limits: resources and host bytes, charged before the GL
//! backend allocates): a client over its quota is refused, its neighbours are not, and what it
//! held is refunded when it goes.
//!
//! Per-context byte budget (virgl-vrend's budget: decoded objects of all sub-contexts, parsed
//! shaders and split shader text still being assembled): a client that piles up objects across
//! sub-contexts, complete shaders, or the chunks of an unfinished shader is refused once it
//! passes the budget, one that creates and destroys as much (objects, sub-contexts) is not, a
//! shader text above 16 MiB is refused outright, and a real Mesa client on the same server
//! still renders exactly what it renders directly.

mod reliability_common;

use reliability_common::{tiles_checksum, Client, Server};
use virgl_protocol::vtest::*;

const CREATE_OBJECT: u32 = 1;
const DESTROY_OBJECT: u32 = 3;
const SET_SUB_CTX: u32 = 28;
const CREATE_SUB_CTX: u32 = 29;
const DESTROY_SUB_CTX: u32 = 30;
const OBJ_DSA: u32 = 3;
const OBJ_SHADER: u32 = 4;

fn submit(c: &mut Client, cmds: Vec<u32>) -> bool {
    c.try_send_bytes(&Request::SubmitCmd { cmds }.encode(PROTOCOL_VERSION))
}

fn sub_contexts(n: u32) -> Vec<u32> {
    (1..=n)
        .flat_map(|id| [CREATE_SUB_CTX | (1 << 16), id])
        .collect()
}

fn dsa_objects(n: u32) -> Vec<u32> {
    (1..=n)
        .flat_map(|h| [CREATE_OBJECT | (OBJ_DSA << 8) | (5 << 16), h, 0, 0, 0, 0])
        .collect()
}

/// RESOURCE_CREATE2 of a texture; `None` when the server refused it (dropping the session).
fn texture(c: &mut Client, w: u32, h: u32, array_size: u32) -> Option<u32> {
    c.send(&Request::ResourceCreate2(ResourceCreate2 {
        desc: ResourceDesc {
            handle: 0,
            target: if array_size > 1 { 7 } else { 2 },
            format: 1,
            bind: 2 | 8,
            width: w,
            height: h,
            depth: 1,
            array_size,
            last_level: 0,
            nr_samples: 0,
        },
        data_size: 0,
    }));
    match c.reply(VcmdId::ResourceCreate2)? {
        Reply::ResourceId { res_id, .. } => Some(res_id),
        other => panic!("{other:?}"),
    }
}

fn limits(name: &str, args: &[&str]) {
    let mut server = Server::start(name, args);
    let mut good = server.connect();
    good.handshake("good");

    // Within the limits: 63 sub-contexts and 1,000 objects are fine.
    let mut c = server.connect();
    c.handshake("within");
    assert!(submit(&mut c, sub_contexts(63)));
    assert!(submit(&mut c, dsa_objects(1000)));
    c.ping();

    // Sub-context 65 (0 is implicit): refused.
    let mut c = server.connect();
    c.handshake("subs");
    submit(&mut c, sub_contexts(64));
    assert!(c.closed_by_server(), "64 extra sub-contexts accepted");
    good.ping();

    // Object 2^20 + 1 in one sub-context: refused.
    let mut c = server.connect();
    c.handshake("objects");
    submit(&mut c, dsa_objects((1 << 20) + 1));
    assert!(c.closed_by_server(), "more than 2^20 objects accepted");
    good.ping();

    // A command buffer above the frame cap is refused from its header.
    let mut c = server.connect();
    c.handshake("huge-submit");
    c.try_send_bytes(&Header::new(VcmdId::SubmitCmd, (256 << 20) / 4 + 1).to_bytes());
    assert!(
        c.closed_by_server(),
        "a 256 MiB + 4 command buffer was accepted"
    );
    good.ping();

    // Textures beyond what the host can hold: an error, not an OOM.
    for (w, h, layers) in [
        (1 << 16, 1 << 16, 1),
        (16384, 16384, 2048),
        (u32::MAX, 1, 1),
    ] {
        let mut c = server.connect();
        c.handshake("huge-texture");
        assert_eq!(
            texture(&mut c, w, h, layers),
            None,
            "a {w}x{h}x{layers} texture was created"
        );
        good.ping();
    }

    server.assert_running();
    good.ping();
}

#[test]
fn limits_fork_mode() {
    limits("limits-fork", &[]);
}

#[test]
fn limits_multi_clients() {
    limits("limits-multi", &["--no-fork", "--multi-clients"]);
}

/// 64 MiB of resource storage and 100 resources per context.
const QUOTA_ENV: &[(&str, &str)] = &[
    ("VIRGL_RS_MAX_HOST_BYTES", "67108864"),
    ("VIRGL_RS_MAX_RESOURCES", "100"),
];

fn quotas(name: &str, args: &[&str]) {
    let mut server = Server::start_with_env(name, args, QUOTA_ENV);
    let mut good = server.connect();
    good.handshake("good");
    for round in 0..2 {
        // Host bytes: four 16 MiB textures fill the quota, the fifth is refused.
        let mut hog = server.connect();
        hog.handshake("bytes-hog");
        for i in 0..4 {
            assert!(
                texture(&mut hog, 2048, 2048, 1).is_some(),
                "round {round}: texture {i} within the quota refused"
            );
        }
        assert_eq!(
            texture(&mut hog, 2048, 2048, 1),
            None,
            "round {round}: over the byte quota"
        );
        // Its neighbour still gets its own full quota.
        assert!(texture(&mut good, 2048, 2048, 1).is_some());
        good.ping();
        drop(hog);

        // Resource count: 100 small textures, then a refusal.
        let mut many = server.connect();
        many.handshake("count-hog");
        for i in 0..100 {
            assert!(
                texture(&mut many, 1, 1, 1).is_some(),
                "round {round}: texture {i} refused"
            );
        }
        assert_eq!(
            texture(&mut many, 1, 1, 1),
            None,
            "round {round}: over the count quota"
        );
        good.ping();
    }
    // The good client holds 2 x 16 MiB; two more fit, a fifth would not.
    assert!(texture(&mut good, 2048, 2048, 1).is_some());
    assert!(texture(&mut good, 2048, 2048, 1).is_some());
    assert_eq!(texture(&mut good, 2048, 2048, 1), None);
    server.assert_running();
}

#[test]
fn quotas_fork_mode() {
    quotas("quotas-fork", &[]);
}

#[test]
fn quotas_multi_clients() {
    quotas("quotas-multi", &["--no-fork", "--multi-clients"]);
}

/// 16 MiB of objects and shader text per context.
const BUDGET_ENV: &[(&str, &str)] = &[("VIRGL_RS_MAX_OBJECT_BYTES", "16777216")];

/// DSA objects `first..first + n` in the current sub-context.
fn dsa_range(first: u32, n: u32) -> Vec<u32> {
    (first..first + n)
        .flat_map(|h| [CREATE_OBJECT | (OBJ_DSA << 8) | (5 << 16), h, 0, 0, 0, 0])
        .collect()
}

fn destroy_range(first: u32, n: u32) -> Vec<u32> {
    (first..first + n)
        .flat_map(|h| [DESTROY_OBJECT | (OBJ_DSA << 8) | (1 << 16), h])
        .collect()
}

const VERTEX: u32 = 0;
const FRAGMENT: u32 = 1;

/// One CREATE_OBJECT(SHADER) command: `offlen` is the total length on the first chunk,
/// `offset | 1 << 31` on a continuation.
fn shader_chunk(handle: u32, stage: u32, offlen: u32, text: &[u32]) -> Vec<u32> {
    let len = 5 + text.len() as u32;
    assert!(len < 1 << 16);
    let mut v = vec![
        CREATE_OBJECT | (OBJ_SHADER << 8) | (len << 16),
        handle,
        stage,
        offlen,
        1000, // token count hint
        0,    // no stream output
    ];
    v.extend_from_slice(text);
    v
}

/// A vertex shader of `moves` instructions as NUL-terminated, padded dwords, and its length.
fn big_vertex_shader(moves: u32) -> (Vec<u32>, u32) {
    let mut text = String::from("VERT\nDCL IN[0]\nDCL OUT[0], POSITION\nDCL TEMP[0]\n");
    for i in 0..moves {
        text.push_str(&format!("{i:5}: MOV TEMP[0], IN[0]\n"));
    }
    text.push_str(&format!(
        "{moves:5}: MOV OUT[0], TEMP[0]\n{:5}: END\n",
        moves + 1
    ));
    let mut bytes = text.into_bytes();
    bytes.push(0);
    let len = bytes.len() as u32;
    bytes.resize(bytes.len().div_ceil(4) * 4, 0);
    let words = bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    (words, len)
}

fn budget(name: &str, args: &[&str]) {
    let direct = tiles_checksum(None, 1);
    let mut server = Server::start_with_env(name, args, BUDGET_ENV);
    let mut good = server.connect();
    good.handshake("good");
    for round in 0..2 {
        // Objects spread over sub-contexts (each far below the 2^20 per-sub-context cap): 16 x
        // 12,000 DSA states pass 16 MiB, counted once for the whole context.
        let mut c = server.connect();
        c.handshake("object-hog");
        for sub in 1..=16 {
            let mut cmds = vec![
                CREATE_SUB_CTX | (1 << 16),
                sub,
                SET_SUB_CTX | (1 << 16),
                sub,
            ];
            cmds.extend(dsa_range(1, 12_000));
            if !submit(&mut c, cmds) {
                break;
            }
        }
        assert!(
            c.closed_by_server(),
            "round {round}: object budget not enforced"
        );
        good.ping();

        // As many objects created and destroyed again, and whole sub-contexts filled and
        // destroyed: refunded, so never over the budget.
        let mut c = server.connect();
        c.handshake("object-churn");
        for _ in 0..16 {
            let mut cmds = dsa_range(1, 12_000);
            cmds.extend(destroy_range(1, 12_000));
            assert!(submit(&mut c, cmds));
        }
        for sub in 1..=16 {
            let mut cmds = vec![
                CREATE_SUB_CTX | (1 << 16),
                sub,
                SET_SUB_CTX | (1 << 16),
                sub,
            ];
            cmds.extend(dsa_range(1, 12_000));
            cmds.extend([SET_SUB_CTX | (1 << 16), 0, DESTROY_SUB_CTX | (1 << 16), sub]);
            assert!(submit(&mut c, cmds));
        }
        c.ping();

        // Complete shaders: ~60 KiB of text each, kept parsed; a few hundred pass the budget.
        let (text, len) = big_vertex_shader(2_000);
        let mut c = server.connect();
        c.handshake("shader-hog");
        let mut refused = false;
        for handle in 1..=1_000 {
            if !submit(&mut c, shader_chunk(handle, VERTEX, len, &text)) {
                refused = true;
                break;
            }
            if handle % 50 == 0 {
                c.send(&Request::PingProtocolVersion);
                if c.reply(VcmdId::PingProtocolVersion).is_none() {
                    refused = true;
                    break;
                }
            }
        }
        assert!(
            refused || c.closed_by_server(),
            "round {round}: shader budget not enforced"
        );
        good.ping();

        // The chunks of two shaders that never complete (vertex and fragment, 12 MiB declared
        // each, 8.4 MB sent each in 240 KB pieces): refused once together they pass the budget.
        let mut c = server.connect();
        c.handshake("split-hog");
        let piece = vec![0x2020_2020u32; 60_000];
        let mut cmds = Vec::new();
        for (handle, stage) in [(1, VERTEX), (2, FRAGMENT)] {
            cmds.extend(shader_chunk(handle, stage, 12 << 20, &piece));
            for i in 1..35u32 {
                cmds.extend(shader_chunk(
                    handle,
                    stage,
                    (i * 240_000) | (1 << 31),
                    &piece,
                ));
            }
        }
        submit(&mut c, cmds);
        assert!(
            c.closed_by_server(),
            "round {round}: split text budget not enforced"
        );
        good.ping();

        // One byte over the per-shader cap is refused on its first chunk.
        let mut c = server.connect();
        c.handshake("cap");
        assert!(submit(
            &mut c,
            shader_chunk(1, VERTEX, (16 << 20) + 1, &piece[..16])
        ));
        assert!(
            c.closed_by_server(),
            "round {round}: shader text cap not enforced"
        );
        good.ping();
    }
    // A real client on the same server, under the same budget, renders exactly as directly.
    let ours = tiles_checksum(Some(&server), 2);
    assert_eq!(ours, direct, "pixels differ under the object budget");
    good.ping();
    server.assert_running();
}

#[test]
fn budget_fork_mode() {
    budget("budget-fork", &[]);
}

#[test]
fn budget_multi_clients() {
    budget("budget-multi", &["--no-fork", "--multi-clients"]);
}

/// fds: more clients connect than the server has fds for (its RLIMIT_NOFILE lowered while it
/// runs). Accepting fails with EMFILE for the ones over the limit: they wait in the backlog
/// and are served once others leave; the server neither exits nor stops serving the clients
/// it has.
#[test]
fn fd_exhaustion_multi_clients() {
    let mut server = Server::start("fds-multi", &["--no-fork", "--multi-clients"]);
    let mut good = server.connect();
    good.handshake("good");
    good.ping();
    let limit = libc::rlimit {
        rlim_cur: server.fds() as u64 + 16,
        rlim_max: 4096,
    };
    // SAFETY: prlimit on our own child with a valid rlimit; the old value is not asked for.
    let rc = unsafe {
        libc::prlimit(
            server.pid() as libc::pid_t,
            libc::RLIMIT_NOFILE,
            &limit,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0, "prlimit: {}", std::io::Error::last_os_error());
    // About 16 fit; 40 connect, and the server takes them until it runs out of fds.
    let mut clients: Vec<Client> = (0..40).map(|_| server.connect()).collect();
    let ran_out = || {
        std::fs::read_to_string(Server::log_path("fds-multi"))
            .unwrap_or_default()
            .contains("cannot accept a client now")
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !ran_out() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never ran out of fds; the test proves nothing"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Some of them are served while the others cannot be accepted yet.
    for c in &mut clients[..8] {
        c.handshake("early");
    }
    good.ping();
    server.assert_running();
    // Most leave; everyone still waiting is accepted and served.
    clients.drain(..30);
    for c in &mut clients {
        c.handshake("late");
        c.ping();
    }
    good.ping();
    server.assert_running();
}
