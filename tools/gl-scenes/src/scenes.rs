//! The scenes that draw: each exercises shaders (GLSL -> TGSI in the guest driver -> GLSL again
//! on the host), vertex buffers and a few pieces of state, with colours chosen to be exact in
//! RGBA8 so that rendering through virgl-rs can be compared bit for bit with direct rendering.

use glow::HasContext;

const VERTEX_SHADER: &str = r#"#version 330 core
layout(location = 0) in vec2 position;
layout(location = 1) in vec4 colour;
layout(location = 2) in vec2 offset;
uniform float depth;
out vec4 v_colour;
out vec2 v_uv;
void main() {
    v_colour = colour;
    v_uv = position * 0.5 + 0.5;
    gl_Position = vec4(position + offset, depth, 1.0);
}
"#;

const COLOUR_FRAGMENT: &str = r#"#version 330 core
in vec4 v_colour;
out vec4 frag;
void main() { frag = v_colour; }
"#;

const TEXTURE_FRAGMENT: &str = r#"#version 330 core
in vec2 v_uv;
uniform sampler2D tex;
out vec4 frag;
void main() { frag = texture(tex, v_uv); }
"#;

/// Compiles and links a program.
///
/// # Safety
/// A GL context must be current.
unsafe fn program(gl: &glow::Context, fragment: &str) -> Result<glow::Program, String> {
    // SAFETY: a context is current (caller's contract); every name is created here.
    unsafe {
        let program = gl.create_program()?;
        for (kind, source) in [
            (glow::VERTEX_SHADER, VERTEX_SHADER),
            (glow::FRAGMENT_SHADER, fragment),
        ] {
            let shader = gl.create_shader(kind)?;
            gl.shader_source(shader, source);
            gl.compile_shader(shader);
            if !gl.get_shader_compile_status(shader) {
                return Err(format!("shader: {}", gl.get_shader_info_log(shader)));
            }
            gl.attach_shader(program, shader);
            gl.delete_shader(shader);
        }
        gl.link_program(program);
        if !gl.get_program_link_status(program) {
            return Err(format!("link: {}", gl.get_program_info_log(program)));
        }
        Ok(program)
    }
}

/// One vertex: position, RGBA colour.
type Vertex = [f32; 6];

/// Uploads vertices (+ optional per-instance offsets) into a VAO.
///
/// # Safety
/// A GL context must be current.
unsafe fn vertex_array(
    gl: &glow::Context,
    vertices: &[Vertex],
    instance_offsets: &[[f32; 2]],
) -> Result<(glow::VertexArray, Vec<glow::Buffer>), String> {
    let bytes = |floats: &[f32]| {
        floats
            .iter()
            .flat_map(|f| f.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    // SAFETY: a context is current (caller's contract).
    unsafe {
        let vao = gl.create_vertex_array()?;
        gl.bind_vertex_array(Some(vao));
        let vbo = gl.create_buffer()?;
        gl.bind_buffer(glow::ARRAY_BUFFER, Some(vbo));
        let flat: Vec<f32> = vertices.iter().flatten().copied().collect();
        gl.buffer_data_u8_slice(glow::ARRAY_BUFFER, &bytes(&flat), glow::STATIC_DRAW);
        gl.enable_vertex_attrib_array(0);
        gl.vertex_attrib_pointer_f32(0, 2, glow::FLOAT, false, 24, 0);
        gl.enable_vertex_attrib_array(1);
        gl.vertex_attrib_pointer_f32(1, 4, glow::FLOAT, false, 24, 8);
        let mut buffers = vec![vbo];
        if instance_offsets.is_empty() {
            gl.vertex_attrib_2_f32(2, 0.0, 0.0);
        } else {
            let ibo = gl.create_buffer()?;
            gl.bind_buffer(glow::ARRAY_BUFFER, Some(ibo));
            let flat: Vec<f32> = instance_offsets.iter().flatten().copied().collect();
            gl.buffer_data_u8_slice(glow::ARRAY_BUFFER, &bytes(&flat), glow::STATIC_DRAW);
            gl.enable_vertex_attrib_array(2);
            gl.vertex_attrib_pointer_f32(2, 2, glow::FLOAT, false, 8, 0);
            gl.vertex_attrib_divisor(2, 1);
            buffers.push(ibo);
        }
        Ok((vao, buffers))
    }
}

fn quad(x0: f32, y0: f32, x1: f32, y1: f32, c: [f32; 4]) -> [Vertex; 6] {
    let v = |x: f32, y: f32| [x, y, c[0], c[1], c[2], c[3]];
    [
        v(x0, y0),
        v(x1, y0),
        v(x1, y1),
        v(x0, y0),
        v(x1, y1),
        v(x0, y1),
    ]
}

/// Renders `scene` into `target_fbo` (bound, cleared, viewport set).
///
/// - `triangle`: one triangle with a colour per vertex (flat-coloured corners would hide
///   interpolation errors, so colours are interpolated);
/// - `textured`: a 4x4 RGBA8 texture uploaded with glTexSubImage2D, NEAREST-sampled on a quad;
/// - `depth-blend`: a depth buffer, two overlapping quads at different depths with LESS, then a
///   half-transparent quad blended on top;
/// - `instanced`: four instances of a small quad placed by a per-instance attribute, drawn with
///   an index buffer.
///
/// # Safety
/// A GL context must be current.
pub unsafe fn render(
    gl: &glow::Context,
    scene: &str,
    target_fbo: glow::Framebuffer,
    width: i32,
    height: i32,
) -> Result<(), String> {
    // SAFETY: a context is current (caller's contract); objects are created and deleted here.
    unsafe {
        gl.bind_framebuffer(glow::FRAMEBUFFER, Some(target_fbo));
        let mut depth_rb = None;
        let mut texture = None;
        let fragment = if scene == "textured" {
            TEXTURE_FRAGMENT
        } else {
            COLOUR_FRAGMENT
        };
        let prog = program(gl, fragment)?;
        gl.use_program(Some(prog));
        let depth_loc = gl.get_uniform_location(prog, "depth");
        gl.uniform_1_f32(depth_loc.as_ref(), 0.0);
        let mut index_buffer = None;
        let (vao, buffers, draw): (_, _, Box<dyn Fn()>) = match scene {
            "triangle" => {
                let verts = [
                    [-0.8, -0.8, 1.0, 0.0, 0.0, 1.0],
                    [0.8, -0.8, 0.0, 1.0, 0.0, 1.0],
                    [0.0, 0.8, 0.0, 0.0, 1.0, 1.0],
                ];
                let (vao, bufs) = vertex_array(gl, &verts, &[])?;
                (
                    vao,
                    bufs,
                    Box::new(|| gl.draw_arrays(glow::TRIANGLES, 0, 3)),
                )
            }
            "textured" => {
                let tex = gl.create_texture()?;
                gl.active_texture(glow::TEXTURE0);
                gl.bind_texture(glow::TEXTURE_2D, Some(tex));
                gl.tex_storage_2d(glow::TEXTURE_2D, 1, glow::RGBA8, 4, 4);
                let texels: Vec<u8> = (0..16u8)
                    .flat_map(|i| [i * 16, 255 - i * 16, (i % 4) * 85, 255])
                    .collect();
                gl.tex_sub_image_2d(
                    glow::TEXTURE_2D,
                    0,
                    0,
                    0,
                    4,
                    4,
                    glow::RGBA,
                    glow::UNSIGNED_BYTE,
                    glow::PixelUnpackData::Slice(Some(&texels)),
                );
                gl.tex_parameter_i32(
                    glow::TEXTURE_2D,
                    glow::TEXTURE_MIN_FILTER,
                    glow::NEAREST as i32,
                );
                gl.tex_parameter_i32(
                    glow::TEXTURE_2D,
                    glow::TEXTURE_MAG_FILTER,
                    glow::NEAREST as i32,
                );
                let tex_loc = gl.get_uniform_location(prog, "tex");
                gl.uniform_1_i32(tex_loc.as_ref(), 0);
                texture = Some(tex);
                let verts = quad(-0.75, -0.75, 0.75, 0.75, [1.0; 4]);
                let (vao, bufs) = vertex_array(gl, &verts, &[])?;
                (
                    vao,
                    bufs,
                    Box::new(|| gl.draw_arrays(glow::TRIANGLES, 0, 6)),
                )
            }
            "depth-blend" => {
                let rb = gl.create_renderbuffer()?;
                gl.bind_renderbuffer(glow::RENDERBUFFER, Some(rb));
                gl.renderbuffer_storage(glow::RENDERBUFFER, glow::DEPTH_COMPONENT24, width, height);
                gl.framebuffer_renderbuffer(
                    glow::FRAMEBUFFER,
                    glow::DEPTH_ATTACHMENT,
                    glow::RENDERBUFFER,
                    Some(rb),
                );
                depth_rb = Some(rb);
                gl.clear_depth_f32(1.0);
                gl.clear(glow::DEPTH_BUFFER_BIT);
                gl.enable(glow::DEPTH_TEST);
                gl.depth_func(glow::LESS);
                let mut verts = Vec::new();
                verts.extend(quad(-0.8, -0.8, 0.3, 0.3, [1.0, 0.0, 0.0, 1.0]));
                verts.extend(quad(-0.3, -0.3, 0.8, 0.8, [0.0, 1.0, 0.0, 1.0]));
                verts.extend(quad(-0.5, -0.5, 0.5, 0.5, [1.0, 1.0, 1.0, 0.5]));
                let (vao, bufs) = vertex_array(gl, &verts, &[])?;
                let depth_loc2 = depth_loc;
                (
                    vao,
                    bufs,
                    Box::new(move || {
                        // Red in front of green where they overlap (smaller depth wins).
                        gl.uniform_1_f32(depth_loc2.as_ref(), -0.5);
                        gl.draw_arrays(glow::TRIANGLES, 0, 6);
                        gl.uniform_1_f32(depth_loc2.as_ref(), 0.25);
                        gl.draw_arrays(glow::TRIANGLES, 6, 6);
                        // White at 50 % blended over both, no depth test.
                        gl.disable(glow::DEPTH_TEST);
                        gl.enable(glow::BLEND);
                        gl.blend_func(glow::SRC_ALPHA, glow::ONE_MINUS_SRC_ALPHA);
                        gl.draw_arrays(glow::TRIANGLES, 12, 6);
                        gl.disable(glow::BLEND);
                    }),
                )
            }
            "instanced" => {
                let verts = [
                    [-0.2, -0.2, 1.0, 0.5, 0.0, 1.0],
                    [0.2, -0.2, 1.0, 0.5, 0.0, 1.0],
                    [0.2, 0.2, 0.0, 0.5, 1.0, 1.0],
                    [-0.2, 0.2, 0.0, 0.5, 1.0, 1.0],
                ];
                let offsets = [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]];
                let (vao, bufs) = vertex_array(gl, &verts, &offsets)?;
                let ebo = gl.create_buffer()?;
                gl.bind_buffer(glow::ELEMENT_ARRAY_BUFFER, Some(ebo));
                let indices: Vec<u8> = [0u16, 1, 2, 0, 2, 3]
                    .iter()
                    .flat_map(|i| i.to_le_bytes())
                    .collect();
                gl.buffer_data_u8_slice(glow::ELEMENT_ARRAY_BUFFER, &indices, glow::STATIC_DRAW);
                index_buffer = Some(ebo);
                (
                    vao,
                    bufs,
                    Box::new(|| {
                        gl.draw_elements_instanced(glow::TRIANGLES, 6, glow::UNSIGNED_SHORT, 0, 4)
                    }),
                )
            }
            other => return Err(format!("unknown scene {other}")),
        };
        draw();
        drop(draw);
        gl.disable(glow::DEPTH_TEST);
        gl.bind_vertex_array(None);
        gl.delete_vertex_array(vao);
        for buffer in buffers.into_iter().chain(index_buffer) {
            gl.delete_buffer(buffer);
        }
        if let Some(tex) = texture {
            gl.delete_texture(tex);
        }
        if let Some(rb) = depth_rb {
            gl.framebuffer_renderbuffer(
                glow::FRAMEBUFFER,
                glow::DEPTH_ATTACHMENT,
                glow::RENDERBUFFER,
                None,
            );
            gl.delete_renderbuffer(rb);
        }
        gl.use_program(None);
        gl.delete_program(prog);
        Ok(())
    }
}
