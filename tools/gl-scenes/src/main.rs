//! `gl-scenes`: small offscreen OpenGL programs for the demo and the differential scene tests.
//!
//! Each scene renders into an FBO on an EGL surfaceless context, reads the pixels back and
//! writes a PNG. Run it directly and it renders on the host driver (llvmpipe); run it with
//! `GALLIUM_DRIVER=virpipe LIBGL_ALWAYS_SOFTWARE=1 VTEST_SOCKET_NAME=...` and Mesa's virgl driver
//! sends the same work through a vtest server (ours), so comparing the two PNGs tests the server.
//!
//! Output (stdout, one `key: value` per line): renderer, version, scene, size, frames, fps,
//! checksum (FNV-1a of the RGBA8 pixels), png.

use std::ffi::c_void;
use std::time::Instant;

use glow::HasContext;
use khronos_egl as egl;

mod scenes;

const PLATFORM_SURFACELESS_MESA: egl::Enum = 0x31DD;

struct Options {
    scene: String,
    width: i32,
    height: i32,
    frames: u32,
    out: Option<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        scene: "tiles".into(),
        width: 256,
        height: 256,
        frames: 1,
        out: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{key} needs a value"))
        };
        match key.as_str() {
            "--scene" => options.scene = value()?,
            "--width" => options.width = value()?.parse().map_err(|e| format!("--width: {e}"))?,
            "--height" => {
                options.height = value()?.parse().map_err(|e| format!("--height: {e}"))?
            }
            "--frames" => {
                options.frames = value()?.parse().map_err(|e| format!("--frames: {e}"))?
            }
            "--out" => options.out = Some(value()?),
            "--help" | "-h" => {
                println!(
                    "usage: gl-scenes [--scene clear|tiles|triangle|textured|depth-blend|instanced] \
                     [--width N] [--height N] [--frames N] [--out FILE.png]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if !(1..=4096).contains(&options.width) || !(1..=4096).contains(&options.height) {
        return Err("width and height must be within 1..=4096".into());
    }
    Ok(options)
}

/// An EGL surfaceless display with a current desktop GL 3.3 core context.
struct GlSetup {
    _egl: egl::DynamicInstance<egl::EGL1_5>,
    gl: glow::Context,
}

fn create_gl() -> Result<GlSetup, String> {
    // SAFETY: loads libEGL.so.1; its initialisers have no preconditions.
    let egl = unsafe { egl::DynamicInstance::<egl::EGL1_5>::load_required() }
        .map_err(|e| format!("loading libEGL: {e}"))?;
    // SAFETY: EGL_DEFAULT_DISPLAY (null) is the native display the surfaceless platform takes.
    let display = unsafe {
        egl.get_platform_display(
            PLATFORM_SURFACELESS_MESA,
            egl::DEFAULT_DISPLAY,
            &[egl::ATTRIB_NONE],
        )
    }
    .map_err(|e| format!("eglGetPlatformDisplay(surfaceless): {e}"))?;
    egl.initialize(display)
        .map_err(|e| format!("eglInitialize: {e}"))?;
    egl.bind_api(egl::OPENGL_API)
        .map_err(|e| format!("eglBindAPI: {e}"))?;
    // SAFETY: EGL_NO_CONFIG_KHR (null) is valid with EGL_KHR_no_config_context, which Mesa has.
    let no_config = unsafe { egl::Config::from_ptr(std::ptr::null_mut()) };
    let attribs = [
        egl::CONTEXT_MAJOR_VERSION,
        3,
        egl::CONTEXT_MINOR_VERSION,
        3,
        egl::CONTEXT_OPENGL_PROFILE_MASK,
        egl::CONTEXT_OPENGL_CORE_PROFILE_BIT,
        egl::NONE,
    ];
    let context = egl
        .create_context(display, no_config, None, &attribs)
        .map_err(|e| format!("eglCreateContext(GL 3.3 core): {e}"))?;
    egl.make_current(display, None, None, Some(context))
        .map_err(|e| format!("eglMakeCurrent: {e}"))?;
    // SAFETY: a context is current; eglGetProcAddress returns entry points valid for it.
    let gl = unsafe {
        glow::Context::from_loader_function(|name| {
            egl.get_proc_address(name)
                .map_or(std::ptr::null(), |f| f as *const c_void)
        })
    };
    Ok(GlSetup { _egl: egl, gl })
}

/// Colours of the tile scene, chosen to be exact in 8-bit unorm.
const TILE_COLOURS: [[f32; 4]; 6] = [
    [1.0, 0.0, 0.0, 1.0],
    [0.0, 1.0, 0.0, 1.0],
    [0.0, 0.0, 1.0, 1.0],
    [1.0, 1.0, 0.0, 1.0],
    [0.0, 1.0, 1.0, 1.0],
    [1.0, 0.0, 1.0, 1.0],
];

/// Creates an RGBA8 texture with an FBO around it.
///
/// # Safety
/// A GL context must be current.
unsafe fn texture_fbo(
    gl: &glow::Context,
    width: i32,
    height: i32,
) -> Result<(glow::Texture, glow::Framebuffer), String> {
    // SAFETY: a context is current (caller's contract); all names are created here.
    unsafe {
        let texture = gl.create_texture()?;
        gl.bind_texture(glow::TEXTURE_2D, Some(texture));
        gl.tex_storage_2d(glow::TEXTURE_2D, 1, glow::RGBA8, width, height);
        let fbo = gl.create_framebuffer()?;
        gl.bind_framebuffer(glow::FRAMEBUFFER, Some(fbo));
        gl.framebuffer_texture_2d(
            glow::FRAMEBUFFER,
            glow::COLOR_ATTACHMENT0,
            glow::TEXTURE_2D,
            Some(texture),
            0,
        );
        let status = gl.check_framebuffer_status(glow::FRAMEBUFFER);
        if status != glow::FRAMEBUFFER_COMPLETE {
            return Err(format!("framebuffer incomplete: {status:#x}"));
        }
        Ok((texture, fbo))
    }
}

/// `clear`: one full clear. `tiles`: a background clear, then small textures cleared to six
/// colours and blitted (some scaled) into a grid — CLEAR, BLIT and the read-back transfer.
/// The scenes that draw (shaders, buffers, textures, state) live in [`scenes`].
///
/// # Safety
/// A GL context must be current.
unsafe fn render(
    gl: &glow::Context,
    scene: &str,
    width: i32,
    height: i32,
) -> Result<(glow::Texture, glow::Framebuffer), String> {
    // SAFETY: a context is current (caller's contract).
    unsafe {
        let (target, target_fbo) = texture_fbo(gl, width, height)?;
        gl.viewport(0, 0, width, height);
        gl.disable(glow::SCISSOR_TEST);
        gl.clear_color(0.125, 0.25, 0.5, 1.0);
        gl.clear(glow::COLOR_BUFFER_BIT);
        match scene {
            "clear" => {}
            "tiles" => {
                let tile = 16;
                let mut sources = Vec::new();
                for colour in TILE_COLOURS {
                    let (texture, fbo) = texture_fbo(gl, tile, tile)?;
                    gl.clear_color(colour[0], colour[1], colour[2], colour[3]);
                    gl.clear(glow::COLOR_BUFFER_BIT);
                    sources.push((texture, fbo));
                }
                let cell_w = width / 4;
                let cell_h = height / 4;
                gl.bind_framebuffer(glow::DRAW_FRAMEBUFFER, Some(target_fbo));
                for row in 0..4 {
                    for col in 0..4 {
                        if (row + col) % 2 == 1 {
                            continue;
                        }
                        let (_, fbo) = sources[((row * 4 + col) / 2) as usize % sources.len()];
                        gl.bind_framebuffer(glow::READ_FRAMEBUFFER, Some(fbo));
                        let (x, y) = (col * cell_w, row * cell_h);
                        // Upscaled blit into a cell with a 2-pixel border.
                        gl.blit_framebuffer(
                            0,
                            0,
                            tile,
                            tile,
                            x + 2,
                            y + 2,
                            x + cell_w - 2,
                            y + cell_h - 2,
                            glow::COLOR_BUFFER_BIT,
                            glow::NEAREST,
                        );
                    }
                }
                gl.bind_framebuffer(glow::FRAMEBUFFER, Some(target_fbo));
                for (texture, fbo) in sources {
                    gl.delete_framebuffer(fbo);
                    gl.delete_texture(texture);
                }
            }
            other => scenes::render(gl, other, target_fbo, width, height)?,
        }
        let error = gl.get_error();
        if error != glow::NO_ERROR {
            return Err(format!("GL error {error:#x} while rendering"));
        }
        Ok((target, target_fbo))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn write_png(path: &str, width: u32, height: u32, rgba_bottom_up: &[u8]) -> Result<(), String> {
    let row = width as usize * 4;
    // GL rows go bottom-up; PNG rows top-down.
    let top_down: Vec<u8> = rgba_bottom_up
        .chunks_exact(row)
        .rev()
        .flatten()
        .copied()
        .collect();
    let file = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| format!("{path}: {e}"))?;
    writer
        .write_image_data(&top_down)
        .map_err(|e| format!("{path}: {e}"))
}

fn run() -> Result<(), String> {
    let options = parse_options()?;
    let setup = create_gl()?;
    let gl = &setup.gl;
    // SAFETY: the context created by `create_gl` is current on this thread.
    let (renderer, version) = unsafe {
        (
            gl.get_parameter_string(glow::RENDERER),
            gl.get_parameter_string(glow::VERSION),
        )
    };
    let start = Instant::now();
    let mut pixels = vec![0u8; options.width as usize * options.height as usize * 4];
    for _ in 0..options.frames.max(1) {
        // SAFETY: as above; `pixels` holds width*height RGBA8 pixels.
        unsafe {
            let (target, target_fbo) = render(gl, &options.scene, options.width, options.height)?;
            gl.read_pixels(
                0,
                0,
                options.width,
                options.height,
                glow::RGBA,
                glow::UNSIGNED_BYTE,
                glow::PixelPackData::Slice(Some(&mut pixels)),
            );
            gl.delete_framebuffer(target_fbo);
            gl.delete_texture(target);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!("renderer: {renderer}");
    println!("version: {version}");
    println!("scene: {}", options.scene);
    println!("size: {}x{}", options.width, options.height);
    println!("frames: {}", options.frames.max(1));
    println!(
        "fps: {:.1}",
        f64::from(options.frames.max(1)) / elapsed.max(1e-9)
    );
    println!("checksum: {:016x}", fnv1a(&pixels));
    if let Some(path) = &options.out {
        write_png(path, options.width as u32, options.height as u32, &pixels)?;
        println!("png: {path}");
    }
    Ok(())
}

fn main() {
    if let Err(message) = run() {
        eprintln!("gl-scenes: {message}");
        std::process::exit(1);
    }
}
