//! The `virgl-vtest` binary on a temporary socket, driven by a small vtest client built on
//! `virgl_protocol::vtest`: the Mesa handshake, per-client isolation in every process model, and
//! (when the renderer has a GL backend) resources and transfers through shared memory.
//!
//! None of this needs a GPU; the GL parts use whatever EGL the host has (llvmpipe in CI) and are
//! reported as skipped when the renderer serves no VIRGL2 capset.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use virgl_protocol::vtest::*;
use virgl_vtest::socket::{recv_with_fds, Received};

struct Server {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Server {
    fn start(name: &str, args: &[&str]) -> Server {
        let dir =
            std::env::temp_dir().join(format!("virgl-vtest-it-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("sock");
        let child = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"))
            .arg(format!("--socket-path={}", socket.display()))
            .args(args)
            .env("RUST_LOG", "virgl_vtest=debug")
            .env("XDG_RUNTIME_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "server did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server { child, dir, socket }
    }

    fn connect(&self) -> Client {
        Client::connect(&self.socket)
    }

    fn assert_running(&mut self) {
        assert!(self.child.try_wait().unwrap().is_none(), "server exited");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Client {
    stream: UnixStream,
    fds: VecDeque<OwnedFd>,
    pending: Vec<u8>,
}

impl Client {
    fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Client {
            stream,
            fds: VecDeque::new(),
            pending: Vec::new(),
        }
    }

    fn send(&mut self, req: &Request) {
        self.stream
            .write_all(&req.encode(PROTOCOL_VERSION))
            .unwrap();
    }

    /// Reads exactly `n` bytes, collecting fds; `None` if the server closed the connection.
    fn read_exact(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut buf = [0u8; 4096];
        while self.pending.len() < n {
            self.stream.set_nonblocking(false).unwrap();
            // Block until something arrives, then drain with the fd-aware receive.
            let mut fdset = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&self.stream),
                nix::poll::PollFlags::POLLIN,
            )];
            let ready =
                nix::poll::poll(&mut fdset, nix::poll::PollTimeout::from(20_000u16)).unwrap();
            assert!(ready > 0, "timed out waiting for the server");
            match recv_with_fds(&self.stream, &mut buf, &mut self.fds).unwrap() {
                Received::Bytes(k) => self.pending.extend_from_slice(&buf[..k]),
                Received::WouldBlock => {}
                Received::Closed => return None,
            }
        }
        Some(self.pending.drain(..n).collect())
    }

    fn reply(&mut self, asked: VcmdId) -> Option<Reply> {
        let header = Header::from_bytes(&self.read_exact(HEADER_SIZE)?).unwrap();
        let payload = self.read_exact(Reply::payload_size(asked, header, 0))?;
        Some(Reply::decode(asked, header, &payload).unwrap())
    }

    /// Takes the fd that came with the one-byte message (the byte is already consumed).
    fn fd(&mut self) -> OwnedFd {
        self.read_exact(1).expect("fd byte");
        self.fds.pop_front().expect("an fd with the byte")
    }

    fn closed_by_server(&mut self) -> bool {
        self.read_exact(1).is_none()
    }

    /// CREATE_RENDERER, PING + dummy BUSY_WAIT, PROTOCOL_VERSION: what Mesa's clients do.
    fn handshake(&mut self, name: &str, version: u32) -> u32 {
        self.send(&Request::CreateRenderer(CreateRenderer::new(name)));
        self.send(&Request::PingProtocolVersion);
        self.send(&Request::ResourceBusyWait {
            handle: 0,
            flags: 0,
        });
        assert_eq!(
            self.reply(VcmdId::PingProtocolVersion),
            Some(Reply::PingProtocolVersion)
        );
        assert_eq!(
            self.reply(VcmdId::ResourceBusyWait),
            Some(Reply::BusyWait { busy: false })
        );
        self.send(&Request::ProtocolVersion { version });
        match self.reply(VcmdId::ProtocolVersion) {
            Some(Reply::ProtocolVersion { version }) => version,
            other => panic!("{other:?}"),
        }
    }

    fn ping(&mut self) {
        self.send(&Request::PingProtocolVersion);
        assert_eq!(
            self.reply(VcmdId::PingProtocolVersion),
            Some(Reply::PingProtocolVersion)
        );
    }

    /// GET_CAPS2 + GET_CAPS back to back as Mesa sends them; `None` when the server has no GL.
    fn caps(&mut self) -> Option<Vec<u8>> {
        self.send(&Request::GetCaps2);
        self.send(&Request::GetCaps);
        let caps2 = match self.reply(VcmdId::GetCaps2)? {
            Reply::Caps { capset: 2, caps } => caps,
            other => panic!("{other:?}"),
        };
        match self.reply(VcmdId::GetCaps)? {
            Reply::Caps { capset: 1, caps } => assert_eq!(caps.len(), 308),
            other => panic!("{other:?}"),
        }
        Some(caps2)
    }
}

#[test]
fn handshake_params_and_capsets() {
    for args in [
        &[][..],
        &["--no-fork"][..],
        &["--no-fork", "--multi-clients"][..],
    ] {
        let mut server = Server::start(&format!("hs{}", args.len()), args);
        let mode = std::fs::metadata(&server.socket)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        let mut c = server.connect();
        assert_eq!(c.handshake("handshake", 4), 4);
        c.send(&Request::GetParam {
            param: PARAM_MAX_TIMELINE_COUNT,
        });
        assert_eq!(
            c.reply(VcmdId::GetParam),
            Some(Reply::GetParam {
                valid: true,
                value: 64
            })
        );
        c.send(&Request::GetParam {
            param: PARAM_HAS_TIMELINE_SYNCOBJ,
        });
        assert_eq!(
            c.reply(VcmdId::GetParam),
            Some(Reply::GetParam {
                valid: false,
                value: 0
            })
        );
        c.send(&Request::GetCapset { id: 77, version: 0 });
        assert_eq!(
            c.reply(VcmdId::GetCapset),
            Some(Reply::GetCapset { caps: None })
        );
        c.ping();
        server.assert_running();
    }
}

#[test]
fn protocol_version_negotiation() {
    let server = Server::start("version", &["--no-fork"]);
    let mut c = server.connect();
    // Deprecated version 1 falls back to 0; higher versions are capped at 4.
    assert_eq!(c.handshake("v1", 1), 0);
    drop(c);
    let mut c = server.connect();
    assert_eq!(c.handshake("v9", 9), 4);
    drop(c);
    // Multi-client servers need protocol 3 (server-chosen resource ids).
    let server = Server::start("version-multi", &["--no-fork", "--multi-clients"]);
    let mut c = server.connect();
    c.send(&Request::CreateRenderer(CreateRenderer::new("old")));
    c.send(&Request::ProtocolVersion { version: 2 });
    assert!(c.closed_by_server());
}

#[test]
fn first_command_must_be_create_renderer() {
    let server = Server::start("first", &[]);
    let mut c = server.connect();
    c.send(&Request::PingProtocolVersion);
    assert!(c.closed_by_server());
}

#[test]
fn bad_clients_lose_only_their_own_session() {
    for args in [&[][..], &["--no-fork", "--multi-clients"][..]] {
        let mut server = Server::start(&format!("isolation{}", args.len()), args);
        let mut good = server.connect();
        assert_eq!(good.handshake("good", 4), 4);

        // Garbage: an unknown command id.
        let mut garbage = server.connect();
        garbage.send(&Request::CreateRenderer(CreateRenderer::new("garbage")));
        garbage
            .stream
            .write_all(&[0xde, 0xad, 0xbe, 0xef, 0x55, 0x55, 0x55, 0x55])
            .unwrap();
        assert!(garbage.closed_by_server());

        // An absurd length: refused from the header, nothing allocated.
        let mut huge = server.connect();
        huge.send(&Request::CreateRenderer(CreateRenderer::new("huge")));
        huge.stream
            .write_all(&Header::new(VcmdId::SubmitCmd, u32::MAX).to_bytes())
            .unwrap();
        assert!(huge.closed_by_server());

        // Random bytes as the very first request.
        let mut random = server.connect();
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let _ = random.stream.write_all(&noise);
        assert!(random.closed_by_server());

        // Disconnect in the middle of a command.
        let mut quitter = server.connect();
        quitter.send(&Request::CreateRenderer(CreateRenderer::new("quitter")));
        let bytes = Request::SyncWait(SyncWait {
            flags: 0,
            timeout_ms: 5,
            points: vec![],
        })
        .encode(PROTOCOL_VERSION);
        quitter
            .stream
            .write_all(&Header::new(VcmdId::SubmitCmd, 100).to_bytes())
            .unwrap();
        quitter.stream.write_all(&bytes[..5]).unwrap();
        drop(quitter);

        good.ping();
        let mut later = server.connect();
        assert_eq!(later.handshake("later", 3), 3);
        later.ping();
        good.ping();
        server.assert_running();
    }
}

#[test]
fn drm_sync_commands_are_refused_like_upstream_without_drm() {
    let server = Server::start("drm", &["--no-fork"]);
    let mut c = server.connect();
    c.handshake("drm", 4);
    c.send(&Request::DrmSyncCreate { flags: 0 });
    assert!(c.closed_by_server());
}

#[test]
fn no_loop_or_fork_serves_one_client() {
    let mut server = Server::start("oneshot", &["--no-loop-or-fork"]);
    let mut c = server.connect();
    c.handshake("only", 4);
    drop(c);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "server kept running after its one client"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn cli_help_version_and_errors() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_virgl-vtest"))
            .args(args)
            .output()
            .unwrap()
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--socket-path"));
    assert!(run(&["--version"]).status.success());
    assert!(!run(&["--frobnicate"]).status.success());
    assert!(!run(&["--drm"]).status.success());
}

#[test]
fn refuses_a_path_with_a_live_server() {
    let server = Server::start("live", &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"))
        .arg(format!("--socket-path={}", server.socket.display()))
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Resources through shared memory, as Mesa's virgl driver uses them at protocol 3+.
#[test]
fn gl_resources_and_shm_transfers() {
    let server = Server::start("gl", &["--use-egl-surfaceless"]);
    let mut c = server.connect();
    assert_eq!(c.handshake("gl", 4), 4);
    let Some(caps) = c.caps() else {
        eprintln!("skipped: the renderer serves no VIRGL2 capset (no GL backend)");
        return;
    };
    assert!(caps.len() >= 308);
    // A 16x16 B8G8R8A8 2D texture (PIPE_TEXTURE_2D = 2, VIRGL_FORMAT_B8G8R8A8_UNORM = 1),
    // bound as a sampler view (8), with 1 KiB of shm.
    let desc = ResourceDesc {
        handle: 0,
        target: 2,
        format: 1,
        bind: 8,
        width: 16,
        height: 16,
        depth: 1,
        array_size: 1,
        last_level: 0,
        nr_samples: 0,
    };
    c.send(&Request::ResourceCreate2(ResourceCreate2 {
        desc,
        data_size: 1024,
    }));
    let res_id = match c.reply(VcmdId::ResourceCreate2) {
        Some(Reply::ResourceId { res_id, .. }) => res_id,
        other => panic!("{other:?}"),
    };
    let shm = c.fd();
    let mut file = std::fs::File::from(shm);
    let pixels: Vec<u8> = (0..1024u32).map(|i| (i * 7) as u8).collect();
    std::io::Write::write_all(&mut file, &pixels).unwrap();
    let region = TransferBox {
        x: 0,
        y: 0,
        z: 0,
        width: 16,
        height: 16,
        depth: 1,
    };
    let t = Transfer2 {
        handle: res_id,
        level: 0,
        region,
        data_size: 1024,
        offset: 0,
    };
    c.send(&Request::TransferPut2(t));
    // The busy-wait reply orders us after the upload; then clear the shm, read back, compare.
    c.send(&Request::ResourceBusyWait {
        handle: res_id,
        flags: BUSY_WAIT_FLAG_WAIT,
    });
    assert_eq!(
        c.reply(VcmdId::ResourceBusyWait),
        Some(Reply::BusyWait { busy: false })
    );
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
    std::io::Write::write_all(&mut file, &[0u8; 1024]).unwrap();
    c.send(&Request::TransferGet2(t));
    c.send(&Request::ResourceBusyWait {
        handle: res_id,
        flags: BUSY_WAIT_FLAG_WAIT,
    });
    assert_eq!(
        c.reply(VcmdId::ResourceBusyWait),
        Some(Reply::BusyWait { busy: false })
    );
    let mut back = vec![0u8; 1024];
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
    file.read_exact(&mut back).unwrap();
    assert_eq!(back, pixels);
    c.send(&Request::ResourceUnref { handle: res_id });
    c.ping();
}

/// A real Mesa client: `wflinfo` through virpipe against our server.
#[test]
fn mesa_wflinfo_through_virpipe() {
    if Command::new("wflinfo").arg("--help").output().is_err() {
        eprintln!("skipped: wflinfo (waffle-utils) is not installed");
        return;
    }
    let server = Server::start("wflinfo", &["--use-egl-surfaceless"]);
    {
        let mut probe = server.connect();
        probe.handshake("probe", 4);
        if probe.caps().is_none() {
            eprintln!("skipped: the renderer serves no VIRGL2 capset (no GL backend)");
            return;
        }
    }
    let out = Command::new("timeout")
        .args(["60", "wflinfo", "-p", "surfaceless_egl", "-a", "gl"])
        .env("GALLIUM_DRIVER", "virpipe")
        .env("LIBGL_ALWAYS_SOFTWARE", "1")
        .env("VTEST_SOCKET_NAME", &server.socket)
        .env("XDG_RUNTIME_DIR", &server.dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "wflinfo failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("virgl"), "renderer is not virgl:\n{stdout}");
}
