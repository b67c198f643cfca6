//! Command line of `virgl-vtest`, compatible with upstream's `virgl_test_server`.
//!
//! Long options only, with `--opt=value` or `--opt value`; the `VTEST_USE_*` environment
//! variables set the same switches as upstream reads them. `--client-fd N` is internal: the
//! listening server re-executes itself with it to serve one accepted client per process.

use std::os::fd::RawFd;
use std::path::PathBuf;

use virgl_capi::RendererFlags;
use virgl_protocol::vtest::DEFAULT_SOCKET_NAME;

use crate::{VtestError, VtestResult};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the server (or, with `client_fd`, one client's process).
    Serve(Options),
    /// Print usage and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
}

/// Server options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub socket_path: PathBuf,
    /// One process per client (default); `--no-fork` serves clients in this process.
    pub fork: bool,
    /// Keep accepting clients after the first one left (cleared by `--no-loop-or-fork`).
    pub keep_looping: bool,
    /// Serve several clients at once in one process (they must trust each other).
    pub multi_clients: bool,
    pub use_glx: bool,
    pub use_egl_surfaceless: bool,
    pub use_gles: bool,
    pub compat_profile: bool,
    pub no_virgl: bool,
    pub venus: bool,
    /// `--venus-in-process`: Venus contexts in this process, not in the render server.
    pub venus_in_process: bool,
    pub render_server: bool,
    pub rendernode: Option<String>,
    /// Internal: serve the already-accepted client on this fd, then exit.
    pub client_fd: Option<RawFd>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            socket_path: PathBuf::from(DEFAULT_SOCKET_NAME),
            fork: true,
            keep_looping: true,
            multi_clients: false,
            use_glx: false,
            use_egl_surfaceless: false,
            use_gles: false,
            compat_profile: false,
            no_virgl: false,
            venus: false,
            venus_in_process: false,
            render_server: false,
            rendernode: None,
            client_fd: None,
        }
    }
}

/// The usage text printed by `--help` and on errors.
pub const USAGE: &str = "\
Usage: virgl-vtest [OPTIONS]

Serves Mesa virgl (GALLIUM_DRIVER=virpipe) and venus (VN_DEBUG=vtest) clients over a unix socket.

Options:
  --socket-path PATH      listen on PATH (default /tmp/.virgl_test); also --socket-path=PATH
  --no-fork               serve clients in this process instead of one process per client
  --no-loop-or-fork       serve one client in this process, then exit
  --multi-clients         with --no-fork: serve several clients at once (they must trust each other)
  --use-egl-surfaceless   use a surfaceless EGL display
  --use-gles              use GLES instead of desktop GL on the host
  --use-glx               use GLX (not supported by virgl-rs: refused)
  --compat                request a compatibility-profile GL context
  --no-virgl              do not serve the virgl (GL) capsets
  --venus                 serve Venus (Vulkan) through the render server (virgl-render-server,
                          found as RENDER_SERVER_EXEC_PATH, next to this program, or in PATH)
  --venus-in-process      serve Venus in this process instead (no render server)
  --render-server         run Venus contexts in the render server (implied by --venus)
  --rendernode DEV        render node for video decode (also VTEST_RENDERNODE)
  --help                  print this text
  --version               print the version

Environment: VTEST_USE_GLX, VTEST_USE_EGL_SURFACELESS, VTEST_USE_GLES, VTEST_RENDERNODE,
VTEST_USE_COMPATIBILITY_PROFILE, RUST_LOG (log filter, e.g. RUST_LOG=virgl_vtest=debug).
";

impl Options {
    /// Upstream's defaults from the environment (`vtest_server_getenv`).
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            use_glx: env("VTEST_USE_GLX").is_some(),
            use_egl_surfaceless: env("VTEST_USE_EGL_SURFACELESS").is_some(),
            use_gles: env("VTEST_USE_GLES").is_some(),
            rendernode: env("VTEST_RENDERNODE"),
            compat_profile: env("VTEST_USE_COMPATIBILITY_PROFILE").is_some(),
            ..Self::default()
        }
    }

    /// The `virgl_renderer_init` flags for these options, as upstream computes them.
    pub fn renderer_flags(&self) -> VtestResult<RendererFlags> {
        let mut flags = if self.no_virgl {
            RendererFlags::NO_VIRGL
        } else {
            if self.use_glx {
                // Upstream would pick GLX; virgl-rs only has EGL, and pretending otherwise
                // would silently change what the user asked for.
                return Err(VtestError::Usage(
                    "--use-glx is not supported by virgl-rs".into(),
                ));
            }
            let mut f = RendererFlags::USE_EGL;
            if self.use_egl_surfaceless {
                f |= RendererFlags::USE_SURFACELESS;
            }
            if self.use_gles {
                f |= RendererFlags::USE_GLES;
            }
            if self.compat_profile {
                if self.use_gles {
                    return Err(VtestError::Usage(
                        "Compatibility profile is not available with GLES.".into(),
                    ));
                }
                f |= RendererFlags::COMPAT_PROFILE;
            }
            f
        };
        if self.venus_in_process {
            if self.venus || self.render_server {
                return Err(VtestError::Usage(
                    "--venus-in-process excludes --venus and --render-server".into(),
                ));
            }
            flags |= RendererFlags::VENUS;
        }
        if self.venus {
            flags |= RendererFlags::VENUS | RendererFlags::RENDER_SERVER;
        }
        if self.render_server {
            flags |= RendererFlags::RENDER_SERVER;
        }
        // The render node serves VA-API video decode (the GL backend is EGL surfaceless).
        if self.rendernode.is_some() && !self.no_virgl {
            flags |= RendererFlags::USE_VIDEO;
        }
        // vtest_init_renderer adds these for every client.
        Ok(flags | RendererFlags::THREAD_SYNC | RendererFlags::USE_EXTERNAL_BLOB)
    }

    /// The arguments a per-client child process gets: the same renderer options plus the fd.
    pub fn child_args(&self, client_fd: RawFd) -> Vec<String> {
        let mut args = vec![format!("--socket-path={}", self.socket_path.display())];
        for (on, name) in [
            (self.use_egl_surfaceless, "--use-egl-surfaceless"),
            (self.use_gles, "--use-gles"),
            (self.use_glx, "--use-glx"),
            (self.compat_profile, "--compat"),
            (self.no_virgl, "--no-virgl"),
            (self.venus, "--venus"),
            (self.venus_in_process, "--venus-in-process"),
            (self.render_server, "--render-server"),
        ] {
            if on {
                args.push(name.to_string());
            }
        }
        if let Some(node) = &self.rendernode {
            args.push(format!("--rendernode={node}"));
        }
        args.push(format!("--client-fd={client_fd}"));
        args
    }
}

/// Parses `args` (without the program name); `env` reads environment variables.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> VtestResult<Command> {
    let mut opts = Options::from_env(env);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> VtestResult<String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| VtestError::Usage(format!("{name} needs a value")))
        };
        let no_value = || -> VtestResult<()> {
            match inline {
                Some(_) => Err(VtestError::Usage(format!("{name} takes no value"))),
                None => Ok(()),
            }
        };
        match name.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--version" | "-V" => return Ok(Command::Version),
            "--socket-path" => opts.socket_path = PathBuf::from(value("--socket-path")?),
            "--rendernode" => opts.rendernode = Some(value("--rendernode")?),
            "--client-fd" => {
                let v = value("--client-fd")?;
                let fd = v
                    .parse::<RawFd>()
                    .ok()
                    .filter(|&fd| fd >= 0)
                    .ok_or_else(|| VtestError::Usage(format!("bad --client-fd {v}")))?;
                opts.client_fd = Some(fd);
            }
            "--no-fork" => {
                no_value()?;
                opts.fork = false;
            }
            "--no-loop-or-fork" => {
                no_value()?;
                opts.fork = false;
                opts.keep_looping = false;
            }
            switch => {
                let target = match switch {
                    "--multi-clients" => &mut opts.multi_clients,
                    "--use-glx" => &mut opts.use_glx,
                    "--use-egl-surfaceless" => &mut opts.use_egl_surfaceless,
                    "--use-gles" => &mut opts.use_gles,
                    "--compat" => &mut opts.compat_profile,
                    "--no-virgl" => &mut opts.no_virgl,
                    "--venus" => &mut opts.venus,
                    "--venus-in-process" => &mut opts.venus_in_process,
                    "--render-server" => &mut opts.render_server,
                    "--drm" => {
                        return Err(VtestError::Usage(
                            "--drm (native DRM contexts) is not supported by virgl-rs".into(),
                        ))
                    }
                    other if !other.starts_with('-') => {
                        return Err(VtestError::Usage(format!(
                            "replaying a recorded stream ({other}) is not supported by virgl-rs"
                        )))
                    }
                    other => return Err(VtestError::Usage(format!("unknown option {other}"))),
                };
                no_value()?;
                *target = true;
            }
        }
    }
    if opts.multi_clients && opts.fork {
        // Upstream accepts the combination but forks anyway; say what will happen instead.
        tracing::info!("--multi-clients has no effect without --no-fork");
    }
    // Validate the renderer flags now so that a bad combination fails at startup.
    opts.renderer_flags()?;
    Ok(Command::Serve(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> VtestResult<Command> {
        parse(args.iter().map(|s| s.to_string()), &|_| None)
    }

    fn serve(args: &[&str]) -> Options {
        match parse_args(args).unwrap() {
            Command::Serve(o) => o,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn socket_path_both_spellings() {
        assert_eq!(
            serve(&["--socket-path=/tmp/a"]).socket_path,
            PathBuf::from("/tmp/a")
        );
        assert_eq!(
            serve(&["--socket-path", "/tmp/b"]).socket_path,
            PathBuf::from("/tmp/b")
        );
        assert_eq!(serve(&[]).socket_path, PathBuf::from("/tmp/.virgl_test"));
        assert!(parse_args(&["--socket-path"]).is_err());
    }

    #[test]
    fn process_model_switches() {
        let o = serve(&[]);
        assert!(o.fork && o.keep_looping && !o.multi_clients);
        let o = serve(&["--no-fork", "--multi-clients"]);
        assert!(!o.fork && o.keep_looping && o.multi_clients);
        let o = serve(&["--no-loop-or-fork"]);
        assert!(!o.fork && !o.keep_looping);
        assert_eq!(serve(&["--client-fd=5"]).client_fd, Some(5));
        assert!(parse_args(&["--client-fd=-1"]).is_err());
    }

    #[test]
    fn renderer_flags_follow_upstream() {
        let f = serve(&["--use-egl-surfaceless", "--use-gles"])
            .renderer_flags()
            .unwrap();
        assert!(f.contains(
            RendererFlags::USE_EGL
                | RendererFlags::USE_SURFACELESS
                | RendererFlags::USE_GLES
                | RendererFlags::THREAD_SYNC
                | RendererFlags::USE_EXTERNAL_BLOB
        ));
        let f = serve(&["--no-virgl", "--venus"]).renderer_flags().unwrap();
        assert!(f.contains(
            RendererFlags::NO_VIRGL | RendererFlags::VENUS | RendererFlags::RENDER_SERVER
        ));
        assert!(!f.contains(RendererFlags::USE_EGL));
        let f = serve(&["--venus-in-process"]).renderer_flags().unwrap();
        assert!(f.contains(RendererFlags::VENUS) && !f.contains(RendererFlags::RENDER_SERVER));
        assert!(parse_args(&["--venus-in-process", "--venus"]).is_err());
        assert!(parse_args(&["--compat", "--use-gles"]).is_err());
        assert!(parse_args(&["--use-glx"]).is_err());
        assert!(parse_args(&["--drm"]).is_err());
        assert!(parse_args(&["--bogus"]).is_err());
        assert!(parse_args(&["--venus=1"]).is_err());
    }

    #[test]
    fn env_vars_as_upstream() {
        let env = |k: &str| match k {
            "VTEST_USE_GLES" => Some("1".to_string()),
            "VTEST_RENDERNODE" => Some("/dev/dri/renderD128".to_string()),
            _ => None,
        };
        let Command::Serve(o) = parse(Vec::new(), &env).unwrap() else {
            panic!()
        };
        assert!(o.use_gles);
        assert_eq!(o.rendernode.as_deref(), Some("/dev/dri/renderD128"));
    }

    #[test]
    fn help_version_and_child_args() {
        assert_eq!(parse_args(&["--help"]).unwrap(), Command::Help);
        assert_eq!(parse_args(&["--version"]).unwrap(), Command::Version);
        let o = serve(&[
            "--socket-path=/tmp/x",
            "--use-gles",
            "--venus-in-process",
            "--rendernode",
            "/dev/n",
        ]);
        let child = o.child_args(7);
        let Command::Serve(c) = parse(child, &|_| None).unwrap() else {
            panic!()
        };
        assert_eq!(
            c,
            Options {
                client_fd: Some(7),
                ..o
            }
        );
    }
}
