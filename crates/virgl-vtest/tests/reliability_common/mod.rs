//! Shared parts of the `reliability_*` tests: the server binary on a private socket, a small
//! fd-aware vtest client, /proc readings of the server process, and the gl-scenes client.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use virgl_protocol::vtest::*;
use virgl_vtest::socket::{recv_with_fds, Received};

pub struct Server {
    pub child: Child,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

impl Server {
    pub fn start(name: &str, args: &[&str]) -> Server {
        Self::start_with_env(name, args, &[])
    }

    /// Starts a server with extra environment variables (quota settings, say).
    pub fn start_with_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = std::env::temp_dir().join(format!("virgl-rel-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let socket = dir.join("sock");
        let log = std::fs::File::create(Self::log_path(name)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_virgl-vtest"))
            .arg(format!("--socket-path={}", socket.display()))
            .args(args)
            .env("XDG_RUNTIME_DIR", &dir)
            // VIRGL_REL_RUST_LOG turns the server's logging up for a post-mortem.
            .env(
                "RUST_LOG",
                std::env::var("VIRGL_REL_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
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

    /// Where the server's log goes (kept after the test, for post-mortems).
    pub fn log_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("virgl-rel-{}-{name}.log", std::process::id()))
    }

    pub fn connect(&self) -> Client {
        Client::connect(&self.socket)
    }

    pub fn assert_running(&mut self) {
        assert!(self.child.try_wait().unwrap().is_none(), "server exited");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Open fds of the server process.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid())).map_or(0, |d| d.count())
    }

    /// Resident set of the server process in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Live child processes of the server (fork mode's per-client workers).
    pub fn children(&self) -> usize {
        let path = format!("/proc/{0}/task/{0}/children", self.pid());
        std::fs::read_to_string(path).map_or(0, |s| s.split_whitespace().count())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Client {
    pub stream: UnixStream,
    pub fds: VecDeque<OwnedFd>,
    pending: Vec<u8>,
}

impl Client {
    pub fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        // A server that stops reading must fail the test, not hang it in write().
        stream
            .set_write_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Client {
            stream,
            fds: VecDeque::new(),
            pending: Vec::new(),
        }
    }

    pub fn send(&mut self, req: &Request) {
        self.stream
            .write_all(&req.encode(PROTOCOL_VERSION))
            .unwrap();
    }

    /// Sends, answering whether the server still took the bytes.
    pub fn try_send_bytes(&mut self, bytes: &[u8]) -> bool {
        self.stream.write_all(bytes).is_ok()
    }

    /// Reads exactly `n` bytes, collecting fds; `None` if the server closed the connection.
    pub fn read_exact(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut buf = [0u8; 4096];
        while self.pending.len() < n {
            let mut fdset = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&self.stream),
                nix::poll::PollFlags::POLLIN,
            )];
            let ready =
                nix::poll::poll(&mut fdset, nix::poll::PollTimeout::from(30_000u16)).unwrap();
            assert!(ready > 0, "timed out waiting for the server");
            match recv_with_fds(&self.stream, &mut buf, &mut self.fds) {
                Ok(Received::Bytes(k)) => self.pending.extend_from_slice(&buf[..k]),
                Ok(Received::WouldBlock) => {}
                Ok(Received::Closed) => return None,
                Err(e) => {
                    eprintln!("receive from the server failed: {e}");
                    return None;
                }
            }
        }
        Some(self.pending.drain(..n).collect())
    }

    pub fn reply(&mut self, asked: VcmdId) -> Option<Reply> {
        let header = Header::from_bytes(&self.read_exact(HEADER_SIZE)?).unwrap();
        let payload = self.read_exact(Reply::payload_size(asked, header, 0))?;
        Some(Reply::decode(asked, header, &payload).unwrap())
    }

    /// Takes the fd that came with the one-byte message.
    pub fn fd(&mut self) -> OwnedFd {
        self.read_exact(1).expect("fd byte");
        self.fds.pop_front().expect("an fd with the byte")
    }

    /// Whether the server hung up on us (reads until EOF; nothing else may be pending).
    pub fn closed_by_server(&mut self) -> bool {
        self.read_exact(1).is_none()
    }

    /// CREATE_RENDERER, PING + dummy BUSY_WAIT, PROTOCOL_VERSION 4: what Mesa's clients do.
    pub fn handshake(&mut self, name: &str) {
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
        self.send(&Request::ProtocolVersion { version: 4 });
        assert_eq!(
            self.reply(VcmdId::ProtocolVersion),
            Some(Reply::ProtocolVersion { version: 4 })
        );
    }

    pub fn ping(&mut self) {
        self.send(&Request::PingProtocolVersion);
        assert_eq!(
            self.reply(VcmdId::PingProtocolVersion),
            Some(Reply::PingProtocolVersion)
        );
    }

    /// Waits until the server executed everything sent so far (the busy-wait reply).
    pub fn sync(&mut self, handle: u32) {
        self.send(&Request::ResourceBusyWait {
            handle,
            flags: BUSY_WAIT_FLAG_WAIT,
        });
        assert_eq!(
            self.reply(VcmdId::ResourceBusyWait),
            Some(Reply::BusyWait { busy: false })
        );
    }

    /// RESOURCE_CREATE2 of a 16x16 B8G8R8A8 texture with `shm_size` bytes of shm; returns the
    /// handle and the shm fd.
    pub fn create_texture(&mut self, shm_size: u32) -> (u32, OwnedFd) {
        let desc = ResourceDesc {
            handle: 0,
            target: 2,
            format: 1,
            bind: 8 | 2,
            width: 16,
            height: 16,
            depth: 1,
            array_size: 1,
            last_level: 0,
            nr_samples: 0,
        };
        self.send(&Request::ResourceCreate2(ResourceCreate2 {
            desc,
            data_size: shm_size,
        }));
        let res_id = match self.reply(VcmdId::ResourceCreate2) {
            Some(Reply::ResourceId { res_id, .. }) => res_id,
            other => panic!("{other:?}"),
        };
        (res_id, self.fd())
    }
}

/// A whole-texture TRANSFER_*2 of the 16x16 texture `handle`.
pub fn transfer16(handle: u32) -> Transfer2 {
    Transfer2 {
        handle,
        level: 0,
        region: TransferBox {
            x: 0,
            y: 0,
            z: 0,
            width: 16,
            height: 16,
            depth: 1,
        },
        data_size: 1024,
        offset: 0,
    }
}

/// `target/<profile>`: the test binary lives in its `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// The gl-scenes binary of this workspace, built with the same cargo and target directory when
/// `cargo test` did not already build it (it does with `--workspace`).
pub fn gl_scenes() -> PathBuf {
    let profile = profile_dir();
    let bin = profile.join("gl-scenes");
    if !bin.is_file() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .args(["build", "-p", "gl-scenes"])
            .env("CARGO_TARGET_DIR", profile.parent().unwrap())
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile.file_name().is_some_and(|n| n == "release") {
            build.arg("--release");
        }
        let status = build.status().expect("cargo build -p gl-scenes");
        assert!(status.success(), "building gl-scenes failed");
    }
    bin
}

/// Runs `gl-scenes --scene tiles` (directly, or through virpipe on `via`) and returns its
/// checksum line.
pub fn tiles_checksum(via: Option<&Server>, frames: u32) -> String {
    let mut cmd = Command::new("timeout");
    cmd.arg("120")
        .arg(gl_scenes())
        .args([
            "--scene", "tiles", "--width", "128", "--height", "128", "--frames",
        ])
        .arg(frames.to_string());
    if let Some(server) = via {
        cmd.env("GALLIUM_DRIVER", "virpipe")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("VTEST_SOCKET_NAME", &server.socket)
            .env("XDG_RUNTIME_DIR", &server.dir);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "gl-scenes failed ({}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if via.is_some() {
        assert!(
            stdout.contains("renderer: virgl"),
            "not through virgl:\n{stdout}"
        );
    }
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("checksum: "))
        .expect("a checksum line")
        .to_string()
}
