//! GLSL ES 3.20 that the translator emits for what desktop GLSL spells differently, compiled
//! on llvmpipe's GLES: image declarations (ES wants a format on every image and read-write
//! access only for r32 formats) and `gl_ViewportIndex` (GL_OES_viewport_array on ES).

use glow::HasContext;
use virgl_vrend::tgsi::{self, GlslShader, GlslTarget, ShaderKey};
use virgl_vrend::{EglOptions, EglProvider, GlContextParams, GlContextProvider};

fn es(text: &str) -> GlslShader {
    let p = tgsi::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    tgsi::translate(&p, &ShaderKey::default(), &GlslTarget::es(320))
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Compiles each shader on a GLES 3.2 context; panics with the log of the first failure.
fn compile_on_gles(shaders: &[GlslShader]) {
    let provider = EglProvider::new(&EglOptions {
        use_gles: true,
        ..Default::default()
    })
    .expect("EGL");
    let ctx = provider
        .create_context(&GlContextParams {
            shared: false,
            major: 3,
            minor: 2,
            compat: false,
        })
        .expect("GLES 3.2 context");
    provider.make_current(Some(ctx)).unwrap();
    // SAFETY: the context is current on this thread; the loader returns its entry points and
    // the calls below are plain GL calls on it.
    unsafe {
        let gl = glow::Context::from_loader_function_cstr(|n| provider.get_proc_address(n));
        for sh in shaders {
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
}

#[test]
fn images_get_es_formats_and_access() {
    let sh = es("COMP
PROPERTY CS_FIXED_BLOCK_WIDTH 1
PROPERTY CS_FIXED_BLOCK_HEIGHT 1
PROPERTY CS_FIXED_BLOCK_DEPTH 1
DCL SV[0], BLOCK_ID
DCL IMAGE[0], 2D, PIPE_FORMAT_NONE, WR
DCL IMAGE[1], 2D, PIPE_FORMAT_R8G8B8A8_UNORM, WR
DCL IMAGE[2], 2D, PIPE_FORMAT_R32_UINT, WR
DCL IMAGE[3], 2D, PIPE_FORMAT_R32G32B32A32_FLOAT
DCL TEMP[0]
IMM[0] FLT32 { 0.5000, 0.0000, 0.0000, 1.0000}
  0: LOAD TEMP[0], IMAGE[3], SV[0].xyyy, 2D, PIPE_FORMAT_R32G32B32A32_FLOAT
  1: STORE IMAGE[0], SV[0].xyyy, TEMP[0], 2D
  2: STORE IMAGE[1], SV[0].xyyy, IMM[0], 2D
  3: STORE IMAGE[2], SV[0].xyyy, SV[0].xxxx, 2D
  4: END
");
    let src = &sh.source;
    for want in [
        "rgba32f) uniform writeonly",
        "rgba8) uniform writeonly",
        "r32ui) uniform highp",
        "rgba32f) uniform readonly",
    ] {
        assert!(src.contains(want), "{want}\n{src}");
    }
    compile_on_gles(&[sh]);
}

#[test]
fn viewport_index_uses_oes_viewport_array() {
    let gs = es("GEOM
PROPERTY GS_INPUT_PRIMITIVE TRIANGLES
PROPERTY GS_OUTPUT_PRIMITIVE TRIANGLE_STRIP
PROPERTY GS_MAX_OUTPUT_VERTICES 3
PROPERTY GS_INVOCATIONS 1
DCL IN[][0], POSITION
DCL OUT[0], POSITION
DCL OUT[1], VIEWPORT_INDEX
IMM[0] INT32 {1, 0, 0, 0}
  0: MOV OUT[0], IN[0][0]
  1: MOV OUT[1].x, IMM[0].xxxx
  2: EMIT IMM[0].yyyy
  3: END
");
    assert!(gs.source.contains("GL_OES_viewport_array"), "{}", gs.source);
    let fs = es("FRAG
DCL IN[0], VIEWPORT_INDEX, CONSTANT
DCL OUT[0], COLOR
  0: I2F OUT[0], IN[0].xxxx
  1: END
");
    assert!(fs.source.contains("GL_OES_viewport_array"), "{}", fs.source);
    compile_on_gles(&[gs, fs]);
}

#[test]
fn clip_distances_use_the_es_extension_without_redeclaring() {
    let written = es("VERT
DCL IN[0]
DCL OUT[0], POSITION
DCL OUT[1], CLIPDIST[0]
  0: MOV OUT[0], IN[0]
  1: MOV OUT[1], IN[0]
  2: END
");
    let p = tgsi::parse(
        "VERT
DCL IN[0]
DCL OUT[0], POSITION
  0: MOV OUT[0], IN[0]
  1: END
",
    )
    .unwrap();
    let planes = tgsi::translate(
        &p,
        &ShaderKey {
            clip_plane_enable: 0b101,
            last_vertex_stage: Some(true),
            ..Default::default()
        },
        &GlslTarget::es(320),
    )
    .unwrap();
    let read = es("FRAG
DCL IN[0], CLIPDIST[0], PERSPECTIVE
DCL OUT[0], COLOR
  0: MOV OUT[0], IN[0]
  1: END
");
    for sh in [&written, &planes, &read] {
        assert!(
            sh.source.contains("GL_EXT_clip_cull_distance")
                && !sh.source.contains("float gl_ClipDistance"),
            "{}",
            sh.source
        );
    }
    compile_on_gles(&[written, planes, read]);
}
