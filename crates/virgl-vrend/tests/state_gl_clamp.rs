//! GL_CLAMP emulation in generated shaders (`ShaderKey::gl_clamp`): the coordinates of samplers
//! whose state wraps with GL_CLAMP and linear filters are clamped to [0, 1] (the sampler then
//! wraps with CLAMP_TO_BORDER; rectangle textures clamp to [0, size]), projected lookups divide
//! first, and everything compiles on llvmpipe. The sampler side is unit-tested in `views.rs`; piglit's texwrap bordercolor tests
//! run the whole path (`cargo xtask conformance`).

use glow::HasContext;
use virgl_vrend::tgsi::{self, GlslShader, GlslTarget, ShaderKey};
use virgl_vrend::{EglOptions, EglProvider, GlContextParams, GlContextProvider};

fn compiles(sh: &GlslShader) {
    let provider = EglProvider::new(&EglOptions::default()).expect("EGL");
    let ctx = provider
        .create_context(&GlContextParams {
            shared: false,
            major: 4,
            minor: 5,
            compat: false,
        })
        .expect("context");
    provider.make_current(Some(ctx)).unwrap();
    // SAFETY: the context is current on this thread; the loader returns its entry points, and
    // the calls below are plain GL calls on it.
    unsafe {
        let gl = glow::Context::from_loader_function_cstr(|n| provider.get_proc_address(n));
        let s = gl
            .create_shader(tgsi::glsl::gl_shader_type(sh.stage))
            .unwrap();
        gl.shader_source(s, &sh.source);
        gl.compile_shader(s);
        assert!(
            gl.get_shader_compile_status(s),
            "{}\n{}",
            gl.get_shader_info_log(s),
            sh.source
        );
        gl.delete_shader(s);
    }
}

fn fs(target: &str, op: &str) -> String {
    format!(
        "FRAG\nDCL IN[0], GENERIC[0], PERSPECTIVE\nDCL OUT[0], COLOR\nDCL SAMP[0]\nDCL SAMP[1]\n\
         DCL SVIEW[0], {target}, FLOAT\nDCL SVIEW[1], {target}, FLOAT\nDCL TEMP[0]\n\
         0: {op} TEMP[0], IN[0], SAMP[1], {target}\n1: MOV OUT[0], TEMP[0]\n2: END\n"
    )
}

fn glsl(text: &str, gl_clamp: [u32; 3]) -> GlslShader {
    let p = tgsi::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let key = ShaderKey {
        gl_clamp,
        ..Default::default()
    };
    tgsi::translate(&p, &key, &GlslTarget::desktop(450)).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn clamped_coordinates_follow_the_key() {
    // Sampler 1 clamps s and t; sampler 0's bits must not affect it.
    let sh = glsl(&fs("2D", "TEX"), [0b10, 0b10, 0]);
    assert!(
        sh.source
            .contains("vec2(clamp((vs_g0.xy).x, 0.0, 1.0), clamp((vs_g0.xy).y, 0.0, 1.0))"),
        "{}",
        sh.source
    );
    compiles(&sh);
    // Only t of sampler 1.
    let sh = glsl(&fs("2D", "TEX"), [0b01, 0b10, 0]);
    assert!(sh
        .source
        .contains("vec2((vs_g0.xy).x, clamp((vs_g0.xy).y, 0.0, 1.0))"));
    // Nothing for another sampler.
    let sh = glsl(&fs("2D", "TEX"), [0b01, 0b01, 0b01]);
    assert!(!sh.source.contains("clamp("), "{}", sh.source);
}

#[test]
fn projected_lookups_divide_before_clamping() {
    let sh = glsl(&fs("2D", "TXP"), [0b10, 0b10, 0]);
    assert!(!sh.source.contains("textureProj"), "{}", sh.source);
    assert!(sh.source.contains("/ (vs_g0.xyzw).w)"), "{}", sh.source);
    assert!(sh.source.contains("clamp("), "{}", sh.source);
    compiles(&sh);
    let sh = glsl(&fs("1D", "TXP"), [0b10, 0, 0]);
    assert!(sh.source.contains("clamp("), "{}", sh.source);
    compiles(&sh);
}

#[test]
fn rectangle_textures_clamp_to_their_size() {
    let sh = glsl(&fs("RECT", "TEX"), [0b10, 0b10, 0]);
    assert!(
        sh.source
            .contains("clamp((vs_g0.xy).x, 0.0, float(textureSize(fs_samp1).x))"),
        "{}",
        sh.source
    );
    compiles(&sh);
    let sh = glsl(&fs("RECT", "TXP"), [0b10, 0, 0]);
    assert!(
        sh.source.contains("textureSize(fs_samp1).x"),
        "{}",
        sh.source
    );
    compiles(&sh);
}

#[test]
fn arrays_keep_their_layer_and_cubes_are_untouched() {
    // 2D array: s and t clamp, the layer (third lane) does not, even with r's bit set.
    let sh = glsl(&fs("2D_ARRAY", "TEX"), [0b10, 0b10, 0b10]);
    assert!(sh.source.contains("(vs_g0.xyz).z)"), "{}", sh.source);
    assert!(!sh.source.contains("clamp((vs_g0.xyz).z"), "{}", sh.source);
    compiles(&sh);
    let sh = glsl(&fs("CUBE", "TEX"), [0b10, 0b10, 0b10]);
    assert!(!sh.source.contains("clamp("), "{}", sh.source);
    let sh = glsl(&fs("3D", "TEX"), [0b10, 0b10, 0b10]);
    assert!(
        sh.source.contains("clamp((vs_g0.xyz).z, 0.0, 1.0)"),
        "{}",
        sh.source
    );
    compiles(&sh);
}
