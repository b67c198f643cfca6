//! Shader objects and linked GL programs.
//!
//! A shader object keeps the guest's TGSI parsed once ([`crate::tgsi::parse`]) and compiles
//! GLSL variants lazily, one per [`ShaderKey`] the draw state asks for. Programs are linked per
//! combination of stage variants and cached per sub-context; linking follows the translator's
//! binding contract (`crate::tgsi::glsl`): attribute and fragment output locations are bound
//! by name, sampler uniforms get consecutive texture units across stages, constant-buffer
//! uniform blocks get consecutive binding points, and constant buffer 0 is a `uvec4` uniform
//! array uploaded raw.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use glow::HasContext;
use virgl_protocol::command::StreamOutputInfo;
use virgl_protocol::pipe::ShaderType;

use crate::error::{VrendError, VrendResult};
use crate::host::HostGl;
use crate::tgsi::glsl::gl_shader_type;
use crate::tgsi::{self, GlslTarget, ShaderInterface, ShaderKey};

/// Compiled variants kept per shader before the oldest is dropped (bounds memory when a guest
/// cycles through many states).
const MAX_VARIANTS: usize = 32;
/// Linked programs kept per sub-context.
const MAX_PROGRAMS: usize = 1024;

/// One compiled GLSL variant of a shader.
#[derive(Debug)]
pub struct Variant {
    pub key: ShaderKey,
    pub shader: glow::Shader,
    pub iface: Rc<ShaderInterface>,
    /// Unique per sub-context (program cache key).
    pub id: u64,
}

/// A `VIRGL_OBJECT_SHADER`.
#[derive(Debug)]
pub struct ShaderObj {
    pub stage: ShaderType,
    pub tgsi: tgsi::Program,
    /// Compute shaders: bytes of shared memory the create command asked for.
    pub req_local_mem: u32,
    /// Stream-output (transform feedback) layout from the create command.
    pub so: Option<tgsi::StreamOutputKey>,
    variants: RefCell<Vec<Variant>>,
}

/// The processor a pipe shader type declares in TGSI.
pub fn processor(stage: ShaderType) -> tgsi::ir::Processor {
    use tgsi::ir::Processor as P;
    match stage {
        ShaderType::Vertex => P::Vertex,
        ShaderType::Fragment => P::Fragment,
        ShaderType::Geometry => P::Geometry,
        ShaderType::TessCtrl => P::TessCtrl,
        ShaderType::TessEval => P::TessEval,
        ShaderType::Compute => P::Compute,
    }
}

impl ShaderObj {
    /// Parses the text of a complete shader; the header must match the create command's stage.
    /// Stream-output info is kept for the variants drawn while targets are bound.
    pub fn new(
        stage: ShaderType,
        text: &[u8],
        so: Option<&StreamOutputInfo>,
        req_local_mem: u32,
    ) -> VrendResult<Self> {
        let so = so.filter(|so| !so.outputs.is_empty()).map(|so| {
            let mut stride = [0u32; 4];
            for (d, s) in stride.iter_mut().zip(so.stride.iter()) {
                *d = *s;
            }
            tgsi::StreamOutputKey {
                outputs: so
                    .outputs
                    .iter()
                    .map(|o| tgsi::SoOutput {
                        register: u32::from(o.register_index),
                        start: o.start_component,
                        count: o.num_components,
                        buffer: o.output_buffer,
                        dst_offset: o.dst_offset,
                        stream: o.stream,
                    })
                    .collect(),
                stride,
            }
        });
        if stage == ShaderType::Compute && so.is_some() {
            return Err(VrendError::Invalid(
                "stream output on a compute shader".into(),
            ));
        }
        let text = std::str::from_utf8(text)
            .map_err(|_| VrendError::Invalid("shader text is not UTF-8".into()))?;
        tracing::trace!(?stage, "TGSI:\n{text}");
        let tgsi = tgsi::parse(text)?;
        if tgsi.processor != processor(stage) {
            return Err(VrendError::Invalid(format!(
                "{stage:?} shader object holds a {:?} program",
                tgsi.processor
            )));
        }
        Ok(Self {
            stage,
            tgsi,
            req_local_mem,
            so,
            variants: RefCell::new(Vec::new()),
        })
    }

    /// The variant for `key`, compiling it on first use. Returns its id and interface.
    pub fn variant(
        &self,
        host: &HostGl,
        target: &GlslTarget,
        key: &ShaderKey,
        next_id: &Cell<u64>,
        dropped: &mut Vec<u64>,
    ) -> VrendResult<(u64, Rc<ShaderInterface>)> {
        if let Some(v) = self.variants.borrow().iter().find(|v| &v.key == key) {
            return Ok((v.id, v.iface.clone()));
        }
        let glsl = tgsi::translate(&self.tgsi, key, target)?;
        tracing::trace!(stage = ?self.stage, ?key, "generated GLSL:\n{}", glsl.source);
        let shader = compile(host, gl_shader_type(glsl.stage), &glsl.source)?;
        let id = next_id.get() + 1;
        next_id.set(id);
        let iface = Rc::new(glsl.interface);
        let mut variants = self.variants.borrow_mut();
        if variants.len() >= MAX_VARIANTS {
            let old = variants.remove(0);
            // SAFETY: the shader belongs to this object; programs that used it were linked
            // already and keep working (GL only detaches, it does not unlink).
            unsafe { host.gl.delete_shader(old.shader) };
            dropped.push(old.id);
        }
        variants.push(Variant {
            key: key.clone(),
            shader,
            iface: iface.clone(),
            id,
        });
        Ok((id, iface))
    }

    /// The GL shader of a variant id.
    fn gl_shader(&self, id: u64) -> Option<glow::Shader> {
        self.variants
            .borrow()
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.shader)
    }

    /// Deletes every variant's GL shader; returns their ids (programs using them must go).
    pub fn release(&self, gl: &glow::Context) -> Vec<u64> {
        let mut variants = self.variants.borrow_mut();
        variants
            .drain(..)
            .map(|v| {
                // SAFETY: the shader belongs to this object and is deleted once.
                unsafe { gl.delete_shader(v.shader) };
                v.id
            })
            .collect()
    }
}

fn compile(host: &HostGl, ty: u32, source: &str) -> VrendResult<glow::Shader> {
    let gl = &host.gl;
    // SAFETY: current context; a new shader object compiled from a Rust string.
    unsafe {
        let shader = gl.create_shader(ty).map_err(VrendError::HostGlMissing)?;
        gl.shader_source(shader, source);
        gl.compile_shader(shader);
        if !gl.get_shader_compile_status(shader) {
            let log = gl.get_shader_info_log(shader);
            gl.delete_shader(shader);
            tracing::warn!("generated GLSL failed to compile:\n{log}\n{source}");
            return Err(VrendError::Shader {
                line: 0,
                message: format!("host GLSL compile failed: {}", log.trim()),
            });
        }
        Ok(shader)
    }
}

/// Where one stage's resources are bound in a linked program.
#[derive(Debug, Default)]
pub struct StageBindings {
    pub stage: Option<ShaderType>,
    /// Constant buffer 0 uniform and its length in vec4s.
    pub const0: Option<(glow::UniformLocation, u32)>,
    /// `(sampler index, texture unit)`.
    pub samplers: Vec<(u32, u32)>,
    /// Shadow samplers: `(sampler index, mask uniform, add uniform)` that apply the view's
    /// swizzle to the comparison result.
    pub shadow_swizzles: Vec<(u32, glow::UniformLocation, glow::UniformLocation)>,
    /// `(constant buffer index, uniform block binding point, declared vec4s)`.
    pub ubos: Vec<(u32, u32, u32)>,
    pub clip_planes: Option<glow::UniformLocation>,
    /// `virgl_fb_height` (GLES upper-left `gl_FragCoord` emulation).
    pub fb_height: Option<glow::UniformLocation>,
    /// Shader storage buffer bindings (`layout(binding = n)` = TGSI index).
    pub storage: Vec<u32>,
    /// Image units (`layout(binding = n)` = TGSI index).
    pub images: Vec<u32>,
    /// Atomic counter buffer bindings (`HWATOMIC[n]`, binding n).
    pub atomics: Vec<u32>,
    /// Constant generation last uploaded (avoids re-uploading unchanged constants).
    pub uploaded: Cell<u64>,
}

/// A linked program of one combination of variants.
#[derive(Debug)]
pub struct LinkedProgram {
    pub program: glow::Program,
    /// The program captures transform feedback varyings.
    pub has_so: bool,
    pub stages: Vec<StageBindings>,
    variant_ids: Vec<u64>,
}

/// Linked programs of a sub-context, keyed by their variant ids in stage order.
#[derive(Debug, Default)]
pub struct ProgramCache {
    programs: HashMap<Vec<u64>, LinkedProgram>,
    pub next_variant_id: Cell<u64>,
    /// The host's GLSL dialect, computed on first use (it sorts the extension list).
    target: std::cell::OnceCell<GlslTarget>,
}

impl ProgramCache {
    /// The GLSL dialect shaders are translated to.
    pub fn target(&self, host: &HostGl) -> &GlslTarget {
        self.target.get_or_init(|| glsl_target(host))
    }

    /// The program linking `shaders` (variant id + object per present stage, in pipeline
    /// order), linking it on first use.
    pub fn get_or_link(
        &mut self,
        host: &HostGl,
        shaders: &[(u64, &ShaderObj, Rc<ShaderInterface>)],
    ) -> VrendResult<&LinkedProgram> {
        let ids: Vec<u64> = shaders.iter().map(|s| s.0).collect();
        if !self.programs.contains_key(&ids) {
            if self.programs.len() >= MAX_PROGRAMS {
                self.clear(&host.gl);
            }
            let linked = link(host, shaders)?;
            self.programs.insert(ids.clone(), linked);
        }
        self.programs
            .get(&ids)
            .ok_or_else(|| VrendError::Invalid("program cache lost an entry".into()))
    }

    /// Deletes the programs using any of `variant_ids`.
    pub fn forget(&mut self, gl: &glow::Context, variant_ids: &[u64]) {
        if variant_ids.is_empty() {
            return;
        }
        self.programs.retain(|_, p| {
            let keep = !p.variant_ids.iter().any(|id| variant_ids.contains(id));
            if !keep {
                // SAFETY: the program belongs to this cache and is deleted once.
                unsafe { gl.delete_program(p.program) };
            }
            keep
        });
    }

    pub fn clear(&mut self, gl: &glow::Context) {
        for (_, p) in self.programs.drain() {
            // SAFETY: as in `forget`.
            unsafe { gl.delete_program(p.program) };
        }
    }
}

fn link(
    host: &HostGl,
    shaders: &[(u64, &ShaderObj, Rc<ShaderInterface>)],
) -> VrendResult<LinkedProgram> {
    let gl = &host.gl;
    // SAFETY: current context; shaders are live variants of live objects; uniform locations
    // and block indices are queried from the linked program and set while it is bound.
    unsafe {
        let program = gl.create_program().map_err(VrendError::HostGlMissing)?;
        for (id, obj, iface) in shaders {
            let shader = obj
                .gl_shader(*id)
                .ok_or_else(|| VrendError::Invalid("shader variant vanished".into()))?;
            gl.attach_shader(program, shader);
            for (index, name) in &iface.attributes {
                gl.bind_attrib_location(program, *index, name);
            }
            if !host.is_gles() {
                for (index, name) in &iface.frag_outputs {
                    gl.bind_frag_data_location(program, *index, name);
                }
            }
        }
        let so: Vec<&str> = shaders
            .iter()
            .rev()
            .map(|s| &s.2.so_varyings)
            .find(|v| !v.is_empty())
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        if !so.is_empty() {
            gl.transform_feedback_varyings(program, &so, glow::INTERLEAVED_ATTRIBS);
        }
        gl.link_program(program);
        for (id, obj, _) in shaders {
            if let Some(shader) = obj.gl_shader(*id) {
                gl.detach_shader(program, shader);
            }
        }
        if !gl.get_program_link_status(program) {
            let log = gl.get_program_info_log(program);
            gl.delete_program(program);
            return Err(VrendError::Shader {
                line: 0,
                message: format!("host GLSL link failed: {}", log.trim()),
            });
        }
        gl.use_program(Some(program));
        let mut unit = 0u32;
        let mut binding = 0u32;
        let mut stages = Vec::new();
        for (_, obj, iface) in shaders {
            let mut b = StageBindings {
                stage: Some(obj.stage),
                ..Default::default()
            };
            if let Some((name, len)) = &iface.const0 {
                b.const0 = gl.get_uniform_location(program, name).map(|l| (l, *len));
            }
            for s in &iface.samplers {
                if let Some(loc) = gl.get_uniform_location(program, &s.name) {
                    gl.uniform_1_i32(Some(&loc), unit as i32);
                    b.samplers.push((s.index, unit));
                    unit += 1;
                }
                if let Some((m, a)) = &s.shadow_swizzle {
                    if let (Some(m), Some(a)) = (
                        gl.get_uniform_location(program, m),
                        gl.get_uniform_location(program, a),
                    ) {
                        b.shadow_swizzles.push((s.index, m, a));
                    }
                }
            }
            for u in &iface.uniform_blocks {
                if let Some(index) = gl.get_uniform_block_index(program, &u.name) {
                    gl.uniform_block_binding(program, index, binding);
                    b.ubos.push((u.buffer_index, binding, u.vec4s));
                    binding += 1;
                }
            }
            b.storage = iface.storage.iter().map(|x| x.index).collect();
            b.images = iface.images.iter().map(|x| x.index).collect();
            b.atomics = iface.atomic_buffers.clone();
            if let Some(name) = &iface.clip_plane_uniform {
                b.clip_planes = gl.get_uniform_location(program, name);
            }
            if let Some(name) = &iface.fb_height_uniform {
                b.fb_height = gl.get_uniform_location(program, name);
            }
            stages.push(b);
        }
        if let Err(e) = host.check("program link") {
            gl.delete_program(program);
            return Err(e);
        }
        Ok(LinkedProgram {
            program,
            has_so: !so.is_empty(),
            stages,
            variant_ids: shaders.iter().map(|s| s.0).collect(),
        })
    }
}

/// The GLSL dialect for the host context.
pub fn glsl_target(host: &HostGl) -> GlslTarget {
    let mut t = if host.is_gles() {
        GlslTarget::es(host.gles_ver.clamp(30, 32) * 10)
    } else {
        let v = match host.gl_ver {
            0..=31 => 140,
            32 => 150,
            v => (v.min(46)) * 10,
        };
        GlslTarget::desktop(v)
    };
    t.extensions = host.extension_list();
    t
}
