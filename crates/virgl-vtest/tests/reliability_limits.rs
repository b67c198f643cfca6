//! Limits: a guest that asks for too much gets an error (here: its vtest session is dropped),
//! never an out-of-memory host, and every other client carries on. Covered: the command buffer
//! size (vtest frame cap, 256 MiB), sub-contexts per context (64), objects per sub-context
//! (2^20), and textures beyond the host's limits (GL's max size, a 2 TiB array).
//!
//! Per-context quotas (virgl-capi's limits: resources and host bytes, charged before the GL
//! backend allocates): a client over its quota is refused, its neighbours are not, and what it
//! held is refunded when it goes.
//!
//! Known gaps (reported, not tested as passing): objects keep their create payload, and the
//! 2^20 cap is per sub-context, so the host memory one context can pin is bounded only by
//! 64 x 2^20 x payload size; shader text has no size limit below the frame cap.

mod reliability_common;

use reliability_common::{Client, Server};
use virgl_protocol::vtest::*;

const CREATE_OBJECT: u32 = 1;
const CREATE_SUB_CTX: u32 = 29;
const OBJ_DSA: u32 = 3;

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
