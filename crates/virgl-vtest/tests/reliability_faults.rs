//! Faults: clients that vanish or misbehave in the middle of an operation get a clean end of
//! their own session, and the server keeps serving everyone else. Covered: a disconnect in the
//! middle of an inline TRANSFER_PUT payload and right after a TRANSFER_PUT2 from shm, a client
//! that tries to shrink the shm the server has mapped (the memfd is sealed against it, so the
//! server can never take SIGBUS), a blob the client unmaps, closes and unrefs while it is in
//! use, a hang-up in the middle of a large inline TRANSFER_GET reply, and a client that asks for
//! one and does not read it (the server queues it for that client and serves the others; the
//! client gets it all later). Checked in fork mode and with one shared renderer
//! (`--multi-clients`).
//!
//! Elsewhere: a render-server worker killed mid-submit (virgl-capi `proxy_faults`), a mapped
//! HOST3D blob whose memory, device, context and worker go away (virgl-capi `faults_blob`).

mod reliability_common;

use std::io::Write;
use std::os::fd::AsRawFd;

use reliability_common::{transfer16, Client, Server};
use virgl_protocol::vtest::*;

/// A 512x512 B8G8R8A8 texture and an inline TRANSFER_GET of all of it (1 MiB of reply).
fn big_get(c: &mut Client) {
    c.send(&Request::ResourceCreate2(ResourceCreate2 {
        desc: ResourceDesc {
            handle: 0,
            target: 2,
            format: 1,
            bind: 2 | 8,
            width: 512,
            height: 512,
            depth: 1,
            array_size: 1,
            last_level: 0,
            nr_samples: 0,
        },
        data_size: 0,
    }));
    let res = match c.reply(VcmdId::ResourceCreate2) {
        Some(Reply::ResourceId { res_id, .. }) => res_id,
        other => panic!("{other:?}"),
    };
    c.send(&Request::TransferGet(Transfer {
        handle: res,
        level: 0,
        stride: 2048,
        layer_stride: 0,
        region: TransferBox {
            x: 0,
            y: 0,
            z: 0,
            width: 512,
            height: 512,
            depth: 1,
        },
        data_size: 1 << 20,
    }));
}

fn faults(name: &str, args: &[&str]) {
    let mut server = Server::start(name, args);
    let mut good = server.connect();
    good.handshake("good");
    let (good_res, _good_shm) = good.create_texture(1024);

    // 1. Disconnect in the middle of an inline TRANSFER_PUT's payload.
    {
        let mut c = server.connect();
        c.handshake("inline-quitter");
        let (res, _shm) = c.create_texture(1024);
        let put = Request::TransferPut(TransferPut {
            transfer: Transfer {
                handle: res,
                level: 0,
                stride: 64,
                layer_stride: 0,
                region: TransferBox {
                    x: 0,
                    y: 0,
                    z: 0,
                    width: 16,
                    height: 16,
                    depth: 1,
                },
                data_size: 1024,
            },
            data: vec![0x5a; 1024],
        })
        .encode(PROTOCOL_VERSION);
        assert!(c.try_send_bytes(&put[..put.len() / 2]));
    }
    good.sync(good_res);

    // 2. Hang up right after a shm transfer, with the shm fd closed on our side too.
    {
        let mut c = server.connect();
        c.handshake("shm-quitter");
        let (res, shm) = c.create_texture(1024);
        c.send(&Request::TransferPut2(transfer16(res)));
        c.send(&Request::TransferGet2(transfer16(res)));
        drop(shm);
    }
    good.sync(good_res);

    // 3. Shrinking the shm under the server is refused by the memfd's seals.
    {
        let mut c = server.connect();
        c.handshake("shrinker");
        let (res, shm) = c.create_texture(1024);
        // SAFETY: ftruncate on an fd we own.
        let rc = unsafe { libc::ftruncate(shm.as_raw_fd(), 0) };
        assert_eq!(rc, -1, "the client could shrink the shm the server maps");
        // Whatever happened, the transfer is served (or refused) without a crash.
        c.send(&Request::TransferGet2(transfer16(res)));
        c.sync(res);
    }
    good.sync(good_res);

    // 4. A mappable guest blob: the client maps it, writes, unmaps, closes and unrefs it while
    //    a transfer on it may still be in flight.
    {
        let mut c = server.connect();
        c.handshake("blob");
        c.send(&Request::ResourceCreateBlob(ResourceCreateBlob {
            blob_type: BLOB_TYPE_GUEST,
            flags: BLOB_FLAG_MAPPABLE,
            size: 4096,
            blob_id: 0,
        }));
        let res = match c.reply(VcmdId::ResourceCreateBlob) {
            Some(Reply::ResourceId { res_id, .. }) => res_id,
            other => panic!("{other:?}"),
        };
        let fd = c.fd();
        // SAFETY: a fresh shared mapping of the blob's 4096 bytes, unmapped below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        // SAFETY: the mapping is 4096 bytes long and writable.
        unsafe { std::ptr::write_bytes(ptr.cast::<u8>(), 0xa5, 4096) };
        // SAFETY: unmapping exactly what was mapped.
        assert_eq!(unsafe { libc::munmap(ptr, 4096) }, 0);
        drop(fd);
        c.send(&Request::ResourceUnref { handle: res });
        c.ping();
        let mut again = server.connect();
        again.handshake("after-blob");
        again.ping();
    }

    // 6. Hang up in the middle of a 1 MiB inline TRANSFER_GET reply the socket could not take
    //    at once: the client reads a little of it and goes.
    {
        let mut c = server.connect();
        c.handshake("get-quitter");
        big_get(&mut c);
        assert!(c.read_exact(4096).is_some(), "the reply started");
    }
    good.sync(good_res);

    // 7. Ask for 1 MiB and never read it: the reply waits for this client alone; the others
    //    are served meanwhile (with one shared renderer too).
    let mut stalled = server.connect();
    stalled.handshake("never-reads");
    big_get(&mut stalled);
    stalled.send(&Request::PingProtocolVersion);
    let start = std::time::Instant::now();
    for _ in 0..10 {
        good.sync(good_res);
        good.ping();
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "a client that does not read its replies held the others up for {:?}",
        start.elapsed()
    );
    // It still gets everything, in order, once it reads.
    assert_eq!(stalled.read_exact(1 << 20).map(|d| d.len()), Some(1 << 20));
    assert_eq!(
        stalled.reply(VcmdId::PingProtocolVersion),
        Some(Reply::PingProtocolVersion)
    );

    // 5. Garbage after a valid prefix of a SUBMIT_CMD that was never finished.
    {
        let mut c = server.connect();
        c.handshake("half-submit");
        let mut bytes = Header::new(VcmdId::SubmitCmd, 1000).to_bytes().to_vec();
        bytes.extend_from_slice(&[0u8; 100]);
        assert!(c.try_send_bytes(&bytes));
        let _ = c.stream.flush();
    }

    good.sync(good_res);
    good.ping();
    server.assert_running();
}

#[test]
fn faults_fork_mode() {
    faults("faults-fork", &[]);
}

#[test]
fn faults_multi_clients() {
    faults("faults-multi", &["--no-fork", "--multi-clients"]);
}
