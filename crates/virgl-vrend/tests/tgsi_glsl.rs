//! Generated GLSL per opcode class and per key bit, checked as snippets and compiled on
//! llvmpipe (desktop GLSL 4.50, 3.30, 1.40 and GLSL ES 3.20).

use glow::HasContext;
use virgl_vrend::tgsi::ir::{Interpolation, Opcode, SemanticName};
use virgl_vrend::tgsi::{self, AlphaFunc, GlslShader, GlslTarget, ShaderKey};
use virgl_vrend::{EglOptions, EglProvider, GlContextParams, GlContextProvider, VrendError};

struct Gl {
    gl: glow::Context,
    _provider: EglProvider,
}

fn open_gl(gles: bool) -> Gl {
    let provider = EglProvider::new(&EglOptions {
        use_gles: gles,
        ..Default::default()
    })
    .expect("EGL");
    let (major, minor) = if gles { (3, 2) } else { (4, 5) };
    let ctx = provider
        .create_context(&GlContextParams {
            shared: false,
            major,
            minor,
            compat: false,
        })
        .expect("context");
    provider.make_current(Some(ctx)).unwrap();
    // SAFETY: the context is current on this thread; the loader returns its entry points.
    let gl = unsafe { glow::Context::from_loader_function_cstr(|n| provider.get_proc_address(n)) };
    Gl {
        gl,
        _provider: provider,
    }
}

fn compile(gl: &Gl, sh: &GlslShader) -> Result<(), String> {
    // SAFETY: plain GL calls on the current context.
    unsafe {
        let s = gl.gl.create_shader(tgsi::glsl::gl_shader_type(sh.stage))?;
        gl.gl.shader_source(s, &sh.source);
        gl.gl.compile_shader(s);
        let ok = gl.gl.get_shader_compile_status(s);
        let log = gl.gl.get_shader_info_log(s);
        gl.gl.delete_shader(s);
        if ok {
            Ok(())
        } else {
            Err(format!("{log}\n{}", sh.source))
        }
    }
}

fn glsl(text: &str, key: &ShaderKey) -> GlslShader {
    let p = tgsi::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    tgsi::translate(&p, key, &GlslTarget::desktop(450)).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn fs(body: &str) -> String {
    format!(
        "FRAG\nDCL IN[0], GENERIC[0], PERSPECTIVE\nDCL OUT[0], COLOR\nDCL CONST[0..3]\n\
         DCL SAMP[0]\nDCL SVIEW[0], 2D, FLOAT\nDCL TEMP[0..3]\nDCL ADDR[0]\n\
         IMM[0] FLT32 {{0x3f800000, 0x00000000, 0x3f000000, 0x40000000}}\n\
         IMM[1] UINT32 {{1, 2, 3, 4294967295}}\n{body}\n  99: END\n"
    )
}

/// Snippets expected in the body for an instruction, plus the shader compiles.
fn check(gl: &Gl, body: &str, expect: &[&str]) {
    let sh = glsl(&fs(body), &ShaderKey::default());
    for e in expect {
        assert!(
            sh.source.contains(e),
            "missing `{e}` for `{body}` in:\n{}",
            sh.source
        );
    }
    compile(gl, &sh).unwrap();
}

#[test]
fn arithmetic_and_bit_casts() {
    let gl = open_gl(false);
    check(
        &gl,
        "0: ADD TEMP[0], IN[0], CONST[1]",
        &["t0.xyzw = (vs_g0.xyzw + uintBitsToFloat(fs_const0[1].xyzw));"],
    );
    check(
        &gl,
        "0: MAD_SAT TEMP[1].xy, IN[0].yxxx, IMM[0].zzzz, -TEMP[0]",
        &["t1.xy = clamp((vs_g0.yx * vec2(0.5) + (-t0.xy)), 0.0, 1.0);"],
    );
    check(
        &gl,
        "0: DP3 TEMP[0].x, IN[0], |CONST[0]|",
        &["t0.x = dot(vs_g0.xyz, abs(uintBitsToFloat(fs_const0[0].xyz)));"],
    );
    check(
        &gl,
        "0: RSQ TEMP[0].xy, IN[0].wwww",
        &["t0.xy = vec2(inversesqrt(vs_g0.w));"],
    );
    check(&gl, "0: LRP TEMP[0], IN[0], CONST[0], CONST[1]", &["mix(uintBitsToFloat(fs_const0[1].xyzw), uintBitsToFloat(fs_const0[0].xyzw), vs_g0.xyzw)"]);
    check(
        &gl,
        "0: MOV TEMP[0], IMM[1]",
        &["t0.xyzw = uintBitsToFloat(uvec4(1u, 2u, 3u, 0xffffffffu));"],
    );
    check(
        &gl,
        "0: XPD TEMP[0].xyz, IN[0], CONST[0]",
        &["vec4(cross(vs_g0.xyz, uintBitsToFloat(fs_const0[0].xyz)), 1.0)).xyz"],
    );
    check(&gl, "0: LIT TEMP[0], IN[0]", &["pow(max("]);
    check(
        &gl,
        "0: EXP TEMP[0], IN[0].xxxx\n1: LOG TEMP[1], IN[0].yyyy",
        &["exp2(floor(", "log2(abs("],
    );
}

#[test]
fn integer_and_compare_ops() {
    let gl = open_gl(false);
    check(
        &gl,
        "0: UADD TEMP[0].x, TEMP[1].xxxx, IMM[1].xxxx",
        &["t0.x = uintBitsToFloat((floatBitsToUint(t1.x) + 1u));"],
    );
    check(
        &gl,
        "0: ISHR TEMP[0].xy, TEMP[1], IMM[1].xyyy",
        &["(floatBitsToInt(t1.xy) >> (ivec2(1, 2) & 31))"],
    );
    check(
        &gl,
        "0: FSLT TEMP[0].xy, IN[0], CONST[0]",
        &["(uvec2(lessThan(vs_g0.xy, uintBitsToFloat(fs_const0[0].xy))) * 0xffffffffu)"],
    );
    check(
        &gl,
        "0: SGE TEMP[0].x, IN[0].xxxx, IMM[0].xxxx",
        &["t0.x = float(vs_g0.x >= 1.0);"],
    );
    check(
        &gl,
        "0: UCMP TEMP[0].xy, TEMP[1], IN[0], CONST[0]",
        &["(floatBitsToUint(t1.x) != 0u ? floatBitsToUint(vs_g0.x)"],
    );
    check(
        &gl,
        "0: CMP TEMP[0], -IN[0], IMM[0].xxxx, IMM[0].yyyy",
        &["((-vs_g0.x) < 0.0 ? 1.0 : 0.0)"],
    );
    check(
        &gl,
        "0: I2F TEMP[0], TEMP[1]\n1: F2U TEMP[2], TEMP[0]\n2: INEG TEMP[3], TEMP[2]",
        &[
            "vec4(floatBitsToInt(t1.xyzw))",
            "uvec4(t0.xyzw)",
            "(-floatBitsToInt(t2.xyzw))",
        ],
    );
    check(
        &gl,
        "0: UBFE TEMP[0].x, TEMP[1], IMM[1].xxxx, IMM[1].yyyy\n1: UMSB TEMP[2].x, TEMP[1]",
        &[
            "bitfieldExtract(floatBitsToUint(t1.x), 1, 2)",
            "findMSB(floatBitsToUint(t1.x))",
        ],
    );
    check(
        &gl,
        "0: UMUL_HI TEMP[0].x, TEMP[1], TEMP[2]",
        &["umulExtended("],
    );
}

#[test]
fn flow_control_and_addressing() {
    let gl = open_gl(false);
    check(
        &gl,
        "0: UIF TEMP[0].xxxx :2\n1: BGNLOOP :3\n2: BRK\n3: ENDLOOP :1\n4: ELSE :5\n5: KILL_IF -IN[0]\n6: ENDIF",
        &["if (floatBitsToUint(t0.x) != 0u) {", "while (true) {", "break;", "} else {", "if (any(lessThan((-vs_g0.xyzw), vec4(0.0)))) discard;"],
    );
    check(
        &gl,
        "0: ARL ADDR[0].x, IN[0].xxxx\n1: MOV TEMP[0], CONST[ADDR[0].x+1]",
        &[
            "addr0.x = int(floor(vs_g0.x));",
            "fs_const0[clamp((addr0.x + 1), 0, 3)]",
        ],
    );
    check(
        &gl,
        "0: IF IN[0].xxxx :1\n1: KILL\n2: ENDIF",
        &["if (vs_g0.x != 0.0) {", "discard;"],
    );
    let arr = "FRAG\nDCL OUT[0], COLOR\nDCL TEMP[0..3], ARRAY(1), LOCAL\nDCL TEMP[4]\nDCL ADDR[0]\n\
               IMM[0] UINT32 {2, 0, 0, 0}\n 0: UARL ADDR[0].x, IMM[0].xxxx\n 1: MOV TEMP[ADDR[0].x](1), TEMP[4]\n\
               2: MOV OUT[0], TEMP[2]\n 3: END\n";
    let sh = glsl(arr, &ShaderKey::default());
    assert!(
        sh.source.contains("ta1[clamp(addr0.x + 0, 0, 3)]"),
        "{}",
        sh.source
    );
    assert!(
        sh.source.contains("outr[0].xyzw = ta1[2].xyzw;"),
        "{}",
        sh.source
    );
    compile(&gl, &sh).unwrap();
}

#[test]
fn texture_ops() {
    let gl = open_gl(false);
    check(
        &gl,
        "0: TEX TEMP[0], IN[0], SAMP[0], 2D",
        &["uniform sampler2D fs_samp0;", "texture(fs_samp0, vs_g0.xy)"],
    );
    check(
        &gl,
        "0: TXB TEMP[0], IN[0], SAMP[0], 2D",
        &["texture(fs_samp0, vs_g0.xy, vs_g0.w)"],
    );
    check(
        &gl,
        "0: TXL TEMP[0], IN[0], SAMP[0], 2D, IMM[1].xyz",
        &["textureLodOffset(fs_samp0, vs_g0.xy, vs_g0.w, ivec2(1, 2))"],
    );
    check(
        &gl,
        "0: TXP TEMP[0], IN[0], SAMP[0], 2D",
        &["textureProj(fs_samp0, vs_g0.xyzw)"],
    );
    check(
        &gl,
        "0: TXD TEMP[0], IN[0], CONST[0], CONST[1], SAMP[0], 2D",
        &["textureGrad(fs_samp0, vs_g0.xy, uintBitsToFloat(fs_const0[0].xy)"],
    );
    check(
        &gl,
        "0: TXF TEMP[0], TEMP[1], SAMP[0], 2D",
        &["texelFetch(fs_samp0, floatBitsToInt(t1.xy), floatBitsToInt(t1.w))"],
    );
    check(
        &gl,
        "0: TXQ TEMP[0], IMM[1].xxxx, SAMP[0], 2D",
        &["textureSize(fs_samp0, 1)", "textureQueryLevels(fs_samp0)"],
    );
    check(
        &gl,
        "0: TG4 TEMP[0], IN[0], IMM[1].xxxx, SAMP[0], 2D",
        &["textureGather(fs_samp0, vs_g0.xy, 1)"],
    );
    check(
        &gl,
        "0: LODQ TEMP[0], IN[0], SAMP[0], 2D",
        &["textureQueryLod(fs_samp0, vs_g0.xy)"],
    );
    let shadow = "FRAG\nDCL IN[0], GENERIC[0], PERSPECTIVE\nDCL OUT[0], COLOR\nDCL SAMP[0]\n\
                  DCL SVIEW[0], CUBE, FLOAT\nDCL SAMP[1]\nDCL SVIEW[1], 2D_ARRAY, UINT\n\
                  0: TEX OUT[0], IN[0], SAMP[0], SHADOWCUBE\n1: TEX OUT[0].x, IN[0], SAMP[1], 2D_ARRAY\n2: END\n";
    let sh = glsl(shadow, &ShaderKey::default());
    for e in [
        "samplerCubeShadow fs_samp0",
        "usampler2DArray fs_samp1",
        "vec4(texture(fs_samp0, vs_g0.xyzw))",
        "uintBitsToFloat((texture(fs_samp1, vs_g0.xyz)).x)",
    ] {
        assert!(sh.source.contains(e), "{e}:\n{}", sh.source);
    }
    assert_eq!(sh.interface.samplers.len(), 2);
    compile(&gl, &sh).unwrap();
}

#[test]
fn key_fixups() {
    let gl = open_gl(false);
    let text = fs("0: MOV OUT[0], IN[0]");
    let key = ShaderKey {
        cbuf_bgra_swizzle: 1,
        alpha_test: Some((AlphaFunc::Greater, 0.5)),
        flatshade: true,
        ..Default::default()
    };
    let sh = glsl(&text, &key);
    assert!(
        sh.source.contains("fsout_c0 = outr[0].bgra;"),
        "{}",
        sh.source
    );
    assert!(
        sh.source
            .contains("if (!(float(fsout_c0.a) > 0.5)) discard;"),
        "{}",
        sh.source
    );
    assert!(sh.interface.uses_discard);
    compile(&gl, &sh).unwrap();

    let col =
        "FRAG\nDCL IN[0], COLOR, COLOR\nDCL IN[1], GENERIC[3], PERSPECTIVE\nDCL OUT[0], COLOR\n\
               0: ADD OUT[0], IN[0], IN[1]\n1: END\n";
    let key = ShaderKey {
        flatshade: true,
        color_two_side: true,
        sprite_coord_enable: 1 << 3,
        ..Default::default()
    };
    let sh = glsl(col, &key);
    for e in [
        "flat in vec4 vs_c0;",
        "flat in vec4 vs_bc0;",
        "(gl_FrontFacing ? vs_c0 : vs_bc0)",
        "gl_PointCoord",
    ] {
        assert!(sh.source.contains(e), "{e}:\n{}", sh.source);
    }
    compile(&gl, &sh).unwrap();

    let vs = "VERT\nDCL IN[0]\nDCL OUT[0], POSITION\nDCL OUT[1], COLOR\n0: MOV OUT[0], IN[0]\n1: MOV OUT[1], IN[0]\n2: END\n";
    let key = ShaderKey {
        clip_plane_enable: 0b101,
        flip_y: true,
        flatshade: true,
        ..Default::default()
    };
    let sh = glsl(vs, &key);
    for e in [
        "uniform vec4 virgl_clip_plane[8];",
        "gl_ClipDistance[2] = dot(outr[0], virgl_clip_plane[2]);",
        "gl_ClipDistance[1] = 1.0;",
        "out float gl_ClipDistance[3];",
        "gl_Position.y = -gl_Position.y;",
        "flat out vec4 vs_c0;",
        "layout(location = 0) in vec4 attr0;",
    ] {
        assert!(sh.source.contains(e), "{e}:\n{}", sh.source);
    }
    assert_eq!(sh.interface.num_clip_distances, 3);
    assert_eq!(sh.interface.attributes, vec![(0, "attr0".to_string())]);
    compile(&gl, &sh).unwrap();

    let int_out = ShaderKey {
        cbuf_unsigned_int: 1,
        ..Default::default()
    };
    let sh = glsl(&fs("0: MOV OUT[0], IMM[1]"), &int_out);
    assert!(sh.source.contains("out uvec4 fsout_c0;"), "{}", sh.source);
    compile(&gl, &sh).unwrap();
}

#[test]
fn next_interp_makes_vs_outputs_match() {
    let vs = "VERT\nDCL IN[0]\nDCL OUT[0], POSITION\nDCL OUT[1], GENERIC[0]\n0: MOV OUT[0], IN[0]\n1: MOV OUT[1], IN[0]\n2: END\n";
    let fsp = tgsi::parse(
        "FRAG\nDCL IN[0], GENERIC[0], CONSTANT\nDCL OUT[0], COLOR\n0: MOV OUT[0], IN[0]\n1: END\n",
    )
    .unwrap();
    let fsh = tgsi::translate(&fsp, &ShaderKey::default(), &GlslTarget::desktop(330)).unwrap();
    let interp: Vec<_> = fsh
        .interface
        .inputs
        .iter()
        .map(|v| tgsi::VaryingInterp {
            semantic: v.semantic,
            interpolation: v.interpolation.unwrap_or(Interpolation::Perspective),
            location: v.location,
        })
        .collect();
    assert_eq!(interp[0].semantic.name, SemanticName::Generic);
    let key = ShaderKey {
        next_interp: interp,
        ..Default::default()
    };
    let vsh = tgsi::translate(&tgsi::parse(vs).unwrap(), &key, &GlslTarget::desktop(330)).unwrap();
    assert!(
        vsh.source.contains("flat out vec4 vs_g0;"),
        "{}",
        vsh.source
    );
    let gl = open_gl(false);
    compile(&gl, &vsh).unwrap();
    compile(&gl, &fsh).unwrap();
    // Linking is the real check in GLSL 3.30: interpolation must match.
    // SAFETY: plain GL calls on the current context.
    unsafe {
        let p = gl.gl.create_program().unwrap();
        for sh in [&vsh, &fsh] {
            let s = gl
                .gl
                .create_shader(tgsi::glsl::gl_shader_type(sh.stage))
                .unwrap();
            gl.gl.shader_source(s, &sh.source);
            gl.gl.compile_shader(s);
            gl.gl.attach_shader(p, s);
        }
        gl.gl.link_program(p);
        assert!(
            gl.gl.get_program_link_status(p),
            "{}",
            gl.gl.get_program_info_log(p)
        );
    }
}

#[test]
fn older_and_es_targets_compile() {
    let text = fs("0: TEX TEMP[0], IN[0], SAMP[0], 2D\n1: UADD TEMP[1], TEMP[0], IMM[1]\n2: MUL OUT[0], TEMP[1], CONST[2]");
    let p = tgsi::parse(&text).unwrap();
    let gl = open_gl(false);
    for v in [140, 150, 330, 400, 430] {
        let sh = tgsi::translate(&p, &ShaderKey::default(), &GlslTarget::desktop(v)).unwrap();
        assert!(sh.source.starts_with(&format!("#version {v}\n")));
        compile(&gl, &sh).unwrap_or_else(|e| panic!("GLSL {v}: {e}"));
    }
    drop(gl);
    let gles = open_gl(true);
    for v in [300, 310, 320] {
        let sh = tgsi::translate(&p, &ShaderKey::default(), &GlslTarget::es(v)).unwrap();
        assert!(sh.source.contains("precision highp float;"));
        compile(&gles, &sh).unwrap_or_else(|e| panic!("GLSL ES {v}: {e}"));
    }
    // Features beyond the target are refused explicitly, not emitted blindly.
    let gs = tgsi::parse("GEOM\nPROPERTY GS_INPUT_PRIMITIVE POINTS\nPROPERTY GS_OUTPUT_PRIMITIVE POINTS\nPROPERTY GS_MAX_OUTPUT_VERTICES 1\nDCL IN[][0], POSITION\nDCL OUT[0], POSITION\n0: MOV OUT[0], IN[0][0]\n1: MOV OUT[0], IMM[0]\n2: END\n").unwrap();
    assert!(
        matches!(
            tgsi::translate(&gs, &ShaderKey::default(), &GlslTarget::desktop(450)),
            Err(VrendError::Shader { line: 8, .. })
        ),
        "IMM[0] is not declared"
    );
    let gs = tgsi::parse("GEOM\nPROPERTY GS_INPUT_PRIMITIVE POINTS\nPROPERTY GS_OUTPUT_PRIMITIVE POINTS\nPROPERTY GS_MAX_OUTPUT_VERTICES 1\nDCL IN[][0], POSITION\nDCL OUT[0], POSITION\nIMM[0] UINT32 {0, 0, 0, 0}\n0: MOV OUT[0], IN[0][0]\n1: EMIT IMM[0].xxxx\n2: END\n").unwrap();
    assert!(matches!(
        tgsi::translate(&gs, &ShaderKey::default(), &GlslTarget::desktop(140)),
        Err(VrendError::Unsupported(_))
    ));
    let sh = tgsi::translate(&gs, &ShaderKey::default(), &GlslTarget::desktop(150)).unwrap();
    assert!(sh.source.contains("layout(points) in;") && sh.source.contains("EmitVertex();"));
    assert!(tgsi::translate(&gs, &ShaderKey::default(), &GlslTarget::desktop(999)).is_err());
}

#[test]
fn parse_errors_name_the_line() {
    let cases = [
        ("VERT\nDCL IN[0]\nFOO TEMP[0]\n", 3),
        ("FRAG\nDCL TEMP[0]\n0: MOV TEMP[0], TEMP[0].xy\n", 3),
        ("FRAG\n0: IF TEMP[0].xxxx\n", 2),
        ("FRAG\nDCL TEMP[0..99999]\n", 2),
        ("FRAG\nIMM[1] FLT32 {0, 0, 0, 0}\n", 2),
        ("FRAG\n0: BRK\n", 2),
        ("BOGUS\n", 1),
    ];
    for (text, line) in cases {
        match tgsi::parse(text) {
            Err(VrendError::Shader { line: l, .. }) => assert_eq!(l, line, "{text}"),
            other => panic!("{text}: {other:?}"),
        }
    }
    assert_eq!(Opcode::from_name("TXB2").map(|o| o.num_src()), Some(3));
}

/// Translates for desktop GLSL 4.50 with the extensions llvmpipe offers beyond it.
fn glsl_ext(text: &str, key: &ShaderKey) -> GlslShader {
    let p = tgsi::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut t = GlslTarget::desktop(450);
    t.extensions = [
        "GL_ARB_shader_atomic_counter_ops",
        "GL_ARB_shader_group_vote",
    ]
    .map(String::from)
    .to_vec();
    tgsi::translate(&p, key, &t).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn assert_has(sh: &GlslShader, snippets: &[&str]) {
    for e in snippets {
        assert!(sh.source.contains(e), "missing `{e}` in:\n{}", sh.source);
    }
}

// What Mesa sends for piglit's arb_compute_shader/shared-atomics and arb_shader_group_vote
// (counters at HWATOMIC[buffer][index], ATOMUADD by an immediate +1/-1 or by a register).
#[test]
fn atomic_counters_and_votes() {
    let gl = open_gl(false);
    let text = "COMP\nPROPERTY CS_FIXED_BLOCK_WIDTH 8\nPROPERTY CS_FIXED_BLOCK_HEIGHT 1\n\
                PROPERTY CS_FIXED_BLOCK_DEPTH 1\nDCL SV[0], BLOCK_ID\nDCL HWATOMIC[0][0]\n\
                DCL HWATOMIC[1][2..3]\nDCL TEMP[0..3]\nDCL ADDR[0]\n\
                IMM[0] UINT32 {0, 0, 0, 0}\nIMM[1] INT32 {1, -1, 5, 0}\n\
                0: USNE TEMP[0].x, SV[0].xxxx, IMM[0].xxxx\n\
                1: VOTE_ALL TEMP[1].x, TEMP[0].xxxx\n\
                2: UIF TEMP[1].xxxx :4\n\
                3:   ATOMUADD TEMP[2].x, HWATOMIC[0][0], IMM[0].xxxx, IMM[1].xxxx\n\
                4: ENDIF\n\
                5: ATOMUADD TEMP[2].y, HWATOMIC[1][3], IMM[0].xxxx, IMM[1].yyyy\n\
                6: ATOMUADD TEMP[2].z, HWATOMIC[1][2], IMM[0].xxxx, TEMP[0].xxxx\n\
                7: UARL ADDR[0].x, TEMP[0].xxxx\n\
                8: LOAD TEMP[3].x, HWATOMIC[1][ADDR[0].x+2], IMM[0].xxxx\n\
                9: VOTE_ANY TEMP[3].y, TEMP[0].xxxx\n\
                10: VOTE_EQ TEMP[3].z, TEMP[0].xxxx\n\
                11: END\n";
    let sh = glsl_ext(text, &ShaderKey::default());
    assert_has(
        &sh,
        &[
            "layout(binding = 0, offset = 0) uniform atomic_uint ac0_0[1];",
            "layout(binding = 1, offset = 8) uniform atomic_uint ac1_2[2];",
            "atomicCounterIncrement(ac0_0[0])",
            "(atomicCounterDecrement(ac1_2[1]) + 1u)",
            "atomicCounterAddARB(ac1_2[0], floatBitsToUint(t0.x))",
            "atomicCounter(ac1_2[clamp((addr0.x + 2) - 2, 0, 1)])",
            "allInvocationsARB(",
            "anyInvocationARB(",
            "allInvocationsEqualARB(",
        ],
    );
    assert_eq!(sh.interface.atomic_buffers, vec![0, 1]);
    compile(&gl, &sh).unwrap();
    // Without GL_ARB_shader_atomic_counter_ops only increment/decrement are possible.
    let p = tgsi::parse(text).unwrap();
    assert!(matches!(
        tgsi::translate(&p, &ShaderKey::default(), &GlslTarget::desktop(450)),
        Err(VrendError::Unsupported(_))
    ));
}

// piglit arb_arrays_of_arrays basic-imageStore-mixed-const-non-const-uniform-index and
// arb_shader_texture_lod glsl-fs-shadow2DGradARB-cumulative, as Mesa's virgl driver sends them.
#[test]
fn indirect_images_and_shadow_swizzle() {
    let gl = open_gl(false);
    let text = "FRAG\nDCL IN[0], POSITION, LINEAR\nDCL OUT[0], COLOR\n\
                DCL IMAGE[0], 2D, PIPE_FORMAT_NONE, WR\nDCL IMAGE[1], 2D, PIPE_FORMAT_NONE, WR\n\
                DCL IMAGE[2], 2D, PIPE_FORMAT_R32_UINT, WR\nDCL CONST[0..2]\nDCL TEMP[0..4]\n\
                DCL ADDR[0..2]\nIMM[0] UINT32 {2, 0, 1065353216, 0}\n\
                0: F2I TEMP[0].xy, IN[0].xyxx\n\
                1: UADD TEMP[3].x, IMM[0].xxxx, CONST[1].xxxx\n\
                2: UARL ADDR[2].x, TEMP[3].xxxx\n\
                3: STORE IMAGE[ADDR[2].x], TEMP[0], CONST[0], 2D\n\
                4: MOV OUT[0], IMM[0].yyyz\n\
                5: END\n";
    let sh = glsl(text, &ShaderKey::default());
    assert_has(
        &sh,
        &[
            "switch (addr2.x) {",
            "case 0: {",
            "imageStore(fs_img0, floatBitsToInt(t0.xy), uintBitsToFloat(fs_const0[0].xyzw));",
            "case 2: {",
            "imageStore(fs_img2, floatBitsToInt(t0.xy), fs_const0[0].xyzw);",
        ],
    );
    compile(&gl, &sh).unwrap();

    let text = "FRAG\nDCL IN[0].xy, GENERIC[0], PERSPECTIVE\nDCL OUT[0], COLOR\nDCL SAMP[0]\n\
                DCL SVIEW[0], SHADOW2D, FLOAT\nDCL TEMP[0..3]\n\
                0: DDX TEMP[0].xy, IN[0].xyyy\n\
                1: DDY TEMP[2].xy, IN[0].xyyy\n\
                2: MOV TEMP[3].xyz, IN[0].xyyx\n\
                3: TXD OUT[0], TEMP[3].xyzx, TEMP[0].xyxx, TEMP[2].xyxx, SAMP[0], SHADOW2D\n\
                4: END\n";
    let sh = glsl(text, &ShaderKey::default());
    assert_has(
        &sh,
        &[
            "uniform vec4 fs_shadmask0;",
            "uniform vec4 fs_shadadd0;",
            "(vec4(textureGrad(fs_samp0, t3.xyz, t0.xy, t2.xy)) * fs_shadmask0 + fs_shadadd0)",
        ],
    );
    assert_eq!(
        sh.interface.samplers[0].shadow_swizzle,
        Some(("fs_shadmask0".into(), "fs_shadadd0".into()))
    );
    compile(&gl, &sh).unwrap();
}

// piglit arb_tessellation_shader barrier-patch: invocations write their own PATCH output
// through an index, then read the others' after BARRIER. Patch outputs are shared, so they
// are written in place (no private shadow copy), and the indexed ones form one array that
// the TES declares the same way (`ShaderKey::prev_patch_array`).
#[test]
fn tcs_patch_outputs_are_shared() {
    let gl = open_gl(false);
    let tcs = "TESS_CTRL\nPROPERTY TCS_VERTICES_OUT 6\nDCL IN[][0], POSITION\n\
               DCL SV[0], INVOCATIONID\nDCL OUT[][0], POSITION\nDCL OUT[1], TESSOUTER\n\
               DCL OUT[2].xy, TESSINNER\nDCL OUT[3].xyz, PATCH\nDCL OUT[4].xyz, PATCH[1]\n\
               DCL TEMP[0..7]\nDCL ADDR[0..1]\nIMM[0] UINT32 {2, 0, 1065353216, 1}\n\
               0: UARL ADDR[1].x, SV[0].xxxx\n\
               1: MOV OUT[ADDR[1].x][0], IN[ADDR[1].x][0]\n\
               2: UARL ADDR[0].x, SV[0].xxxx\n\
               3: MOV OUT[ADDR[0].x+3].x, SV[0].xxxx\n\
               4: MOV OUT[3].yz, IMM[0].yyzy\n\
               5: BARRIER\n\
               6: MOV TEMP[5].xyz, OUT[ADDR[0].x+3].xyzx\n\
               7: MOV OUT[1], IMM[0].zzzy\n\
               8: MOV OUT[2].xy, TEMP[5].xyxx\n\
               9: END\n";
    let p = tgsi::parse(tcs).unwrap();
    assert_eq!(tgsi::glsl::tcs_patch_array(&p), Some(2));
    let sh = glsl(tcs, &ShaderKey::default());
    assert_has(
        &sh,
        &[
            "patch out vec4 tcs_pa[2];",
            "if (virgl_pi >= 0) tcs_pa[virgl_pi].x = intBitsToFloat(ivec4(gl_InvocationID).x);",
            "tcs_pa[0].yz = ",
            "barrier();",
            "virgl_tcs_out((addr0.x + 3), -1).xyz",
            "gl_TessLevelOuter[3] = ",
            "gl_TessLevelInner[1] = ",
        ],
    );
    // Nothing per patch is copied at the end by every invocation.
    let epilogue = &sh.source[sh.source.find("void virgl_store_outputs()").unwrap()..];
    let epilogue = &epilogue[..epilogue.find("}\n").unwrap()];
    assert!(
        !epilogue.contains("TessLevel") && !epilogue.contains("tcs_pa"),
        "{epilogue}"
    );
    compile(&gl, &sh).unwrap();

    let tes = "TESS_EVAL\nPROPERTY TES_PRIM_MODE 4\nDCL IN[][0], POSITION\nDCL IN[1], PATCH\n\
               DCL IN[2], PATCH[1]\nDCL SV[0], TESSCOORD\nDCL OUT[0], POSITION\n\
               DCL OUT[1], GENERIC[0]\nDCL TEMP[0]\n\
               0: MOV OUT[0], IN[0][0]\n1: ADD OUT[1], IN[1], IN[2]\n2: END\n";
    let key = ShaderKey {
        prev_patch_array: Some(2),
        ..Default::default()
    };
    let sh = glsl(tes, &key);
    assert_has(
        &sh,
        &[
            "patch in vec4 tcs_pa[2];",
            "(tcs_pa[0].xyzw + tcs_pa[1].xyzw)",
        ],
    );
    compile(&gl, &sh).unwrap();
    let sh = glsl(tes, &ShaderKey::default());
    assert_has(&sh, &["patch in vec4 tcs_p0;", "patch in vec4 tcs_p1;"]);
    compile(&gl, &sh).unwrap();
}

// piglit glsl-1.50 transform-feedback-builtins: captured outputs become `virgl_tf<i>`,
// linked with gl_NextBuffer / gl_SkipComponents markers for the buffer layout.
#[test]
fn stream_output_varyings_link() {
    use tgsi::{SoOutput, StreamOutputKey};
    let gl = open_gl(false);
    let vs = "VERT\nDCL IN[0]\nDCL OUT[0], POSITION\nDCL OUT[1], GENERIC[0]\n\
              0: MOV OUT[0], IN[0]\n1: MOV OUT[1], IN[0].yxwz\n2: END\n";
    let so = StreamOutputKey {
        outputs: vec![
            SoOutput {
                register: 1,
                start: 0,
                count: 2,
                buffer: 0,
                dst_offset: 0,
                stream: 0,
            },
            SoOutput {
                register: 0,
                start: 3,
                count: 1,
                buffer: 1,
                dst_offset: 1,
                stream: 0,
            },
        ],
        stride: [2, 3, 0, 0],
    };
    let key = ShaderKey {
        stream_output: Some(so),
        ..Default::default()
    };
    let sh = glsl(vs, &key);
    assert_has(
        &sh,
        &[
            "out vec2 virgl_tf0;",
            "out float virgl_tf1;",
            "virgl_tf0 = outr[1].xy;",
            "virgl_tf1 = outr[0].w;",
        ],
    );
    assert_eq!(
        sh.interface.so_varyings,
        [
            "virgl_tf0",
            "gl_NextBuffer",
            "gl_SkipComponents1",
            "virgl_tf1",
            "gl_SkipComponents1"
        ]
    );
    // SAFETY: plain GL calls on the current context.
    unsafe {
        let s = gl.gl.create_shader(glow::VERTEX_SHADER).unwrap();
        gl.gl.shader_source(s, &sh.source);
        gl.gl.compile_shader(s);
        assert!(
            gl.gl.get_shader_compile_status(s),
            "{}",
            gl.gl.get_shader_info_log(s)
        );
        let p = gl.gl.create_program().unwrap();
        gl.gl.attach_shader(p, s);
        let names: Vec<&str> = sh
            .interface
            .so_varyings
            .iter()
            .map(String::as_str)
            .collect();
        gl.gl
            .transform_feedback_varyings(p, &names, glow::INTERLEAVED_ATTRIBS);
        gl.gl.link_program(p);
        assert!(
            gl.gl.get_program_link_status(p),
            "{}",
            gl.gl.get_program_info_log(p)
        );
        gl.gl.delete_program(p);
        gl.gl.delete_shader(s);
    }
    // Without a key the same shader captures nothing.
    assert!(glsl(vs, &ShaderKey::default())
        .interface
        .so_varyings
        .is_empty());
}

// Forms from the piglit corpus (pig459 GS, pig93 TCS, pig30/pig471 FS): uniform block arrays
// and per-vertex input registers selected at run time, signed atomics on a uint buffer.
#[test]
fn run_time_indexed_blocks_inputs_and_signed_buffer_atomics() {
    let gl = open_gl(false);
    let gs = "GEOM\nPROPERTY GS_INPUT_PRIMITIVE TRIANGLES\nPROPERTY GS_OUTPUT_PRIMITIVE POINTS\n\
              PROPERTY GS_MAX_OUTPUT_VERTICES 3\nDCL IN[][0], POSITION\nDCL IN[][1], GENERIC[0]\n\
              DCL OUT[0], POSITION\nDCL CONST[1][0..1]\nDCL CONST[2][0]\nDCL TEMP[0..1]\n\
              DCL ADDR[0..1]\nIMM[0] UINT32 {0, 1, 0, 0}\n\
              0: UARL ADDR[1].x, IMM[0].yyyy\n\
              1: MOV TEMP[0], IN[ADDR[1].x][ADDR[0].x+1]\n\
              2: MOV TEMP[1].x, CONST[ADDR[1].x+1][1].xxxx\n\
              3: ADD OUT[0], TEMP[0], TEMP[1].xxxx\n\
              4: EMIT IMM[0].xxxx\n5: END\n";
    let sh = glsl(gs, &ShaderKey::default());
    assert_has(
        &sh,
        &[
            "gs_in_ind((addr0.x + 1), addr1.x)",
            "case 1: return vs_g0[v];",
            "case 0: return gl_in[v].gl_Position;",
            "gs_ubo_ind((addr1.x + 1), 1)",
            "case 1: return gs_ubo1_d[clamp(i, 0, 1)];",
            "case 2: return gs_ubo2_d[clamp(i, 0, 0)];",
        ],
    );
    compile(&gl, &sh).unwrap();

    let fs = "FRAG\nDCL OUT[0], COLOR\nDCL BUFFER[0]\nDCL TEMP[0..1]\n\
              IMM[0] UINT32 {0, 4, 4294967295, 0}\n\
              0: ATOMIMIN TEMP[0].x, BUFFER[0], IMM[0].xxxx, IMM[0].zzzz\n\
              1: ATOMIMAX TEMP[1].xy, BUFFER[0], IMM[0].yyyy, TEMP[0].xxxx\n\
              2: MOV OUT[0], TEMP[0]\n3: END\n";
    let sh = glsl(fs, &ShaderKey::default());
    assert_has(
        &sh,
        &[
            "virgl_at = atomicCompSwap(fs_ssbo0_d[(0u >> 2)], virgl_seen, uint(min(int(virgl_seen), -1)));",
            "uint(max(int(virgl_seen), floatBitsToInt(t0.x)))",
            "} while (virgl_at != virgl_seen);",
            "t1.xy = uintBitsToFloat(uvec2(virgl_at));",
        ],
    );
    compile(&gl, &sh).unwrap();
}

/// Compiles and links a program of generated shaders.
fn link(gl: &Gl, shaders: &[&GlslShader]) -> Result<(), String> {
    // SAFETY: plain GL calls on the current context.
    unsafe {
        let p = gl.gl.create_program()?;
        let mut objs = Vec::new();
        for sh in shaders {
            let s = gl.gl.create_shader(tgsi::glsl::gl_shader_type(sh.stage))?;
            gl.gl.shader_source(s, &sh.source);
            gl.gl.compile_shader(s);
            if !gl.gl.get_shader_compile_status(s) {
                return Err(format!("{}\n{}", gl.gl.get_shader_info_log(s), sh.source));
            }
            gl.gl.attach_shader(p, s);
            objs.push(s);
        }
        gl.gl.link_program(p);
        let ok = gl.gl.get_program_link_status(p);
        let log = gl.gl.get_program_info_log(p);
        for s in objs {
            gl.gl.delete_shader(s);
        }
        gl.gl.delete_program(p);
        if ok {
            Ok(())
        } else {
            Err(log)
        }
    }
}

// A geometry shader that writes only the front colour feeding a two-sided fragment shader,
// and a fragment shader reading a varying the producer never writes: the producer writes
// what is missing (BCOLOR from COLOR, others zero) so the program links.
#[test]
fn producers_write_the_varyings_their_consumer_lacks() {
    let gl = open_gl(false);
    let fs = "FRAG\nDCL IN[0], COLOR, COLOR\nDCL IN[1], GENERIC[3], PERSPECTIVE\n\
              DCL OUT[0], COLOR\n0: ADD OUT[0], IN[0], IN[1]\n1: END\n";
    let fs_key = ShaderKey {
        color_two_side: true,
        prev_stage: Some(tgsi::ir::Processor::Geometry),
        ..Default::default()
    };
    let fs_sh = glsl(fs, &fs_key);
    let gs = "GEOM\nPROPERTY GS_INPUT_PRIMITIVE POINTS\nPROPERTY GS_OUTPUT_PRIMITIVE POINTS\n\
              PROPERTY GS_MAX_OUTPUT_VERTICES 1\nDCL IN[][0], POSITION\nDCL OUT[0], POSITION\n\
              DCL OUT[1], COLOR\nIMM[0] UINT32 {0, 0, 0, 0}\n\
              0: MOV OUT[0], IN[0][0]\n1: MOV OUT[1], IN[0][0]\n2: EMIT IMM[0].xxxx\n3: END\n";
    let gs_key = ShaderKey {
        next_inputs: fs_sh.interface.inputs.iter().map(|v| v.semantic).collect(),
        ..Default::default()
    };
    let gs_sh = glsl(gs, &gs_key);
    assert_has(
        &gs_sh,
        &[
            "out vec4 gs_bc0;",
            "gs_bc0 = outr[1];",
            "gs_g3 = vec4(0.0);",
        ],
    );
    let vs = glsl(
        "VERT\nDCL IN[0]\nDCL OUT[0], POSITION\n0: MOV OUT[0], IN[0]\n1: END\n",
        &ShaderKey::default(),
    );
    link(&gl, &[&vs, &gs_sh, &fs_sh]).unwrap();
    // Without the list the program does not link (what the key fixes).
    let bare = glsl(gs, &ShaderKey::default());
    assert!(link(&gl, &[&vs, &bare, &fs_sh]).is_err());
}

// Gallium numbers TES spacings FRACTIONAL_ODD = 0, FRACTIONAL_EVEN = 1, EQUAL = 2 (piglit
// arb_shader_atomic_counters-semantics' TES subtest hit a vertex only equal spacing makes).
#[test]
fn tes_spacing_follows_gallium_numbering() {
    let gl = open_gl(false);
    for (v, want) in [
        (0, "fractional_odd_spacing"),
        (1, "fractional_even_spacing"),
        (2, "equal_spacing"),
    ] {
        let tes = format!(
            "TESS_EVAL\nPROPERTY TES_PRIM_MODE 4\nPROPERTY TES_SPACING {v}\n\
             PROPERTY TES_VERTEX_ORDER_CW 0\nPROPERTY TES_POINT_MODE 1\n\
             DCL IN[][0], POSITION\nDCL OUT[0], POSITION\n0: MOV OUT[0], IN[0][0]\n1: END\n"
        );
        let sh = glsl(&tes, &ShaderKey::default());
        assert_has(
            &sh,
            &[&format!("layout(triangles, {want}, ccw, point_mode) in;")],
        );
        compile(&gl, &sh).unwrap();
    }
}
