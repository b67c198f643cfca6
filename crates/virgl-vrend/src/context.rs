//! [`VrendContext`]: one guest GL context — its sub-contexts, object tables and the commands
//! that do not need shader translation.
//!
//! Every command is checked (sizes, handles, types, resource ids, boxes) before any GL call.
//! The first failing command marks the context broken: the rest of that buffer and every later
//! submit are refused with the logged reason, while other contexts keep working. Draws go
//! through [`crate::draw`]; what is not implemented (compute, shader images/buffers, stream
//! output, video without a video backend) fails explicitly with [`ContextError::Unsupported`]
//! — never a silent success. Video commands go to `crate::video` (failures there are logged
//! and dropped, as upstream does, so a bad picture does not kill the GL context).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use glow::HasContext;
use virgl_protocol::command::{
    Blit, Box3, ClearSurface, ClearTexture, Command, CommandIter, CopyTransfer3d, CreateObject,
    CreateShader, GetQueryResultQbo, ResourceCopyRegion, ResourceInlineWrite, Scissor,
    SetRenderCondition, Transfer3d, TransferRegion,
};
use virgl_protocol::pipe::ShaderType;
use virgl_resource::{
    Context, ContextError, FenceSignal, ResourceTable, TransferDirection, TransferRequest,
};

use crate::backend::{transfer, Shared};
use crate::budget::{Budget, ShaderText};
use crate::draw::{self, DrawCtx, DrawState};
use crate::egl::GlContextHandle;
use crate::error::{VrendError, VrendResult};
use crate::objects::{Object, ObjectTable, ObjectType, Surface};
use crate::ops;
use crate::program::{ProgramCache, ShaderObj};
use crate::query::{self, QueryObj};
use crate::resource::{GuestMemory, TexBox};
use crate::state::GlShadow;
use crate::vertex::VertexElementsObj;
use crate::views::{SamplerCache, SamplerViewObj};

/// Most sub-contexts one context may create (each is a host GL context).
const MAX_SUB_CONTEXTS: usize = 64;
const MAX_FRAMEBUFFER_CBUFS: usize = 8;
const MAX_VIEWPORTS: usize = 16;

/// Framebuffer state of a sub-context (surface handles, resolved at use).
#[derive(Debug, Clone, Default)]
pub(crate) struct FramebufferState {
    pub cbufs: Vec<Option<Surface>>,
    pub zsurf: Option<Surface>,
    /// `(width, height, layers, samples)` of SET_FRAMEBUFFER_STATE_NO_ATTACH.
    pub no_attach: Option<(u32, u32, u32, u32)>,
}

/// Fixed-function state values set by commands (applied at draw time).
#[derive(Debug, Clone, Default)]
pub(crate) struct PipeState {
    pub viewports: Vec<[f32; 6]>,
    pub scissors: Vec<Scissor>,
    pub stencil_ref: [u8; 2],
    pub blend_color: [f32; 4],
    pub sample_mask: u32,
    pub min_samples: u32,
    pub clip_planes: [[f32; 4]; 8],
    pub polygon_stipple: [u32; 32],
    pub tweaks: HashMap<u32, u32>,
}

pub(crate) struct SubContext {
    pub gl_ctx: GlContextHandle,
    /// The sub-context's draw framebuffer (FBOs are not shared between GL contexts).
    pub fbo: Option<glow::Framebuffer>,
    pub objects: ObjectTable,
    pub fb: FramebufferState,
    pub state: PipeState,
    /// Bindings used by draws.
    pub draw: DrawState,
    /// What this sub-context's GL context was last given.
    pub shadow: GlShadow,
    pub programs: ProgramCache,
    /// The vertex array of draws (VAOs are per GL context).
    pub vao: Option<glow::VertexArray>,
    /// Shader texts split over several CREATE_OBJECT commands.
    pub assembler: ShaderText,
    /// GL sampler objects shared by identical sampler states.
    pub samplers: SamplerCache,
}

/// One guest GL context.
pub struct VrendContext {
    shared: Rc<Shared>,
    ctx_id: u32,
    capset_id: u32,
    name: String,
    subs: HashMap<u32, SubContext>,
    current: u32,
    attached: HashSet<u32>,
    broken: Option<String>,
    retired: Vec<FenceSignal>,
    /// Codecs and video buffers, when the renderer has a video backend.
    video: Option<virgl_video::VideoContext>,
    /// Bytes of objects and shader text all sub-contexts may keep (`crate::budget`).
    budget: Rc<Budget>,
}

impl std::fmt::Debug for VrendContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VrendContext")
            .field("ctx_id", &self.ctx_id)
            .field("name", &self.name)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// GL barrier bits of `PIPE_BARRIER_*` flags.
fn gl_barrier_bits(flags: u32) -> u32 {
    use virgl_protocol::pipe::barrier as b;
    let map = [
        (b::MAPPED_BUFFER, glow::CLIENT_MAPPED_BUFFER_BARRIER_BIT),
        (b::SHADER_BUFFER, glow::SHADER_STORAGE_BARRIER_BIT),
        (b::QUERY_BUFFER, glow::QUERY_BUFFER_BARRIER_BIT),
        (b::VERTEX_BUFFER, glow::VERTEX_ATTRIB_ARRAY_BARRIER_BIT),
        (b::INDEX_BUFFER, glow::ELEMENT_ARRAY_BARRIER_BIT),
        (b::CONSTANT_BUFFER, glow::UNIFORM_BARRIER_BIT),
        (b::INDIRECT_BUFFER, glow::COMMAND_BARRIER_BIT),
        (b::TEXTURE, glow::TEXTURE_FETCH_BARRIER_BIT),
        (b::IMAGE, glow::SHADER_IMAGE_ACCESS_BARRIER_BIT),
        (b::FRAMEBUFFER, glow::FRAMEBUFFER_BARRIER_BIT),
        (b::STREAMOUT_BUFFER, glow::TRANSFORM_FEEDBACK_BARRIER_BIT),
        (b::GLOBAL_BUFFER, glow::SHADER_STORAGE_BARRIER_BIT),
        (b::UPDATE_BUFFER, glow::BUFFER_UPDATE_BARRIER_BIT),
        (b::UPDATE_TEXTURE, glow::TEXTURE_UPDATE_BARRIER_BIT),
    ];
    map.iter()
        .filter(|(p, _)| flags & p != 0)
        .fold(0, |acc, (_, g)| acc | g)
}

/// Converts a wire box to the backend's.
fn tex_box(b: &Box3) -> TexBox {
    TexBox {
        x: b.x,
        y: b.y,
        z: b.z,
        width: b.width,
        height: b.height,
        depth: b.depth,
    }
}

/// Resolves guest memory for resources' backings during a submit.
///
/// The GL backend owns no guest memory; the embedder (through virgl-resource) does.
pub trait BackingLookup {
    /// The guest backing of `res_id`, if it has one.
    fn backing(&mut self, res_id: u32) -> Option<&mut dyn GuestMemory>;

    /// The renderer's resource table, where there is one (PIPE_RESOURCE_SET_TYPE imports
    /// other contexts' memory through it).
    fn table(&mut self) -> Option<&mut ResourceTable> {
        None
    }
}

/// Backings of virgl-resource's table (made CPU-accessible on demand).
impl BackingLookup for ResourceTable {
    fn backing(&mut self, res_id: u32) -> Option<&mut dyn GuestMemory> {
        let backing = self.get_mut(res_id)?.backing_for_cpu().ok()?;
        Some(backing)
    }

    fn table(&mut self) -> Option<&mut ResourceTable> {
        Some(self)
    }
}

impl VrendContext {
    pub(crate) fn new(
        shared: Rc<Shared>,
        ctx_id: u32,
        capset_id: u32,
        name: &str,
    ) -> Result<Self, ContextError> {
        let video = shared.video.as_ref().map(|v| v.new_context());
        let mut ctx = Self {
            shared,
            ctx_id,
            capset_id,
            name: name.chars().take(64).collect(),
            subs: HashMap::new(),
            current: 0,
            attached: HashSet::new(),
            broken: None,
            retired: Vec::new(),
            video,
            budget: Budget::for_context(),
        };
        ctx.create_sub_ctx(0)?;
        Ok(ctx)
    }

    /// Why the context refuses work, if it is broken.
    pub fn broken_reason(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    fn sub(&self) -> VrendResult<&SubContext> {
        self.subs
            .get(&self.current)
            .ok_or_else(|| invalid("no current sub-context"))
    }

    fn sub_mut(&mut self) -> VrendResult<&mut SubContext> {
        self.subs
            .get_mut(&self.current)
            .ok_or_else(|| invalid("no current sub-context"))
    }

    /// Makes the current sub-context's GL context current.
    fn make_current(&self) -> VrendResult<()> {
        self.shared.host.make_current(self.sub()?.gl_ctx)
    }

    fn create_sub_ctx(&mut self, id: u32) -> VrendResult<()> {
        if self.subs.contains_key(&id) {
            // Upstream treats re-creation of an existing sub-context as a no-op.
            return Ok(());
        }
        if self.subs.len() >= MAX_SUB_CONTEXTS {
            return Err(invalid("too many sub-contexts"));
        }
        let host = &self.shared.host;
        let gl_ctx = host.create_shared_context()?;
        if let Err(e) = host.make_current(gl_ctx) {
            host.destroy_context(gl_ctx);
            return Err(e);
        }
        // SAFETY: the new context is current; the FBO belongs to it.
        let fbo = unsafe { host.gl.create_framebuffer() }.ok();
        self.subs.insert(
            id,
            SubContext {
                gl_ctx,
                fbo,
                objects: ObjectTable::with_budget(self.budget.clone()),
                fb: FramebufferState::default(),
                state: PipeState {
                    sample_mask: !0,
                    ..Default::default()
                },
                draw: DrawState::default(),
                shadow: GlShadow::default(),
                programs: ProgramCache::default(),
                vao: None,
                assembler: ShaderText::new(self.budget.clone()),
                samplers: SamplerCache::default(),
            },
        );
        Ok(())
    }

    fn destroy_sub_ctx(&mut self, id: u32) -> VrendResult<()> {
        if id == 0 {
            return Err(invalid("sub-context 0 cannot be destroyed"));
        }
        let sub = self
            .subs
            .remove(&id)
            .ok_or_else(|| invalid(format!("unknown sub-ctx {id}")))?;
        self.drop_sub(sub);
        if self.current == id {
            self.current = 0;
        }
        Ok(())
    }

    fn drop_sub(&self, mut sub: SubContext) {
        let host = &self.shared.host;
        if host.make_current(sub.gl_ctx).is_ok() {
            if sub.draw.render_condition {
                if let Some(end) = host.extra.end_conditional_render {
                    // SAFETY: a conditional render is active on this (current) context.
                    unsafe { end() };
                }
            }
            for object in sub.objects.drain() {
                if let Object::Shader(s) = &object {
                    s.release(&host.gl);
                }
                object.release(&host.gl);
            }
            sub.programs.clear(&host.gl);
            sub.samplers.clear(&host.gl);
            sub.draw.release(&host.gl);
            // SAFETY: the FBO and VAO belong to this (current) context.
            unsafe {
                if let Some(fbo) = sub.fbo {
                    host.gl.delete_framebuffer(fbo);
                }
                if let Some(vao) = sub.vao {
                    host.gl.delete_vertex_array(vao);
                }
            }
        }
        host.destroy_context(sub.gl_ctx);
    }

    fn check_resource(&self, res_id: u32) -> VrendResult<()> {
        if !self.attached.contains(&res_id) {
            return Err(invalid(format!(
                "resource {res_id} is not attached to this context"
            )));
        }
        if !self.shared.resources.borrow().contains_key(&res_id) {
            return Err(invalid(format!("resource {res_id} has no GL storage")));
        }
        Ok(())
    }

    /// Runs a command buffer with `backings` resolving guest memory for transfers.
    pub fn submit_with(
        &mut self,
        cmd: &[u32],
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        if let Some(reason) = &self.broken {
            return Err(ContextError::Broken(reason.clone()));
        }
        let result = self
            .make_current()
            .map_err(ContextError::from)
            .and_then(|()| {
                for item in CommandIter::new(cmd) {
                    let (offset, command) =
                        item.map_err(|e| ContextError::InvalidCommand(e.to_string()))?;
                    tracing::trace!(ctx_id = self.ctx_id, offset, ?command, "command");
                    self.dispatch(command, backings)?;
                }
                Ok(())
            });
        // Leave no GL error behind for the next command buffer (or context).
        self.shared.host.take_error();
        if let Err(e) = &result {
            let reason = e.to_string();
            tracing::warn!(ctx_id = self.ctx_id, name = %self.name, "context broken: {reason}");
            self.broken = Some(reason);
        }
        result
    }

    fn dispatch(
        &mut self,
        command: Command<'_>,
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        match command {
            Command::Nop(_) | Command::EndTransfers(_) => Ok(()),
            Command::CreateObject(create) => Ok(self.create_object(&create)?),
            Command::BindObject {
                object_type,
                handle,
            } => {
                let ty = ObjectType::from_raw(u32::from(object_type.raw()))?;
                Ok(self.sub_mut()?.objects.bind(ty, handle)?)
            }
            Command::DestroyObject {
                object_type,
                handle,
            } => {
                let ty = ObjectType::from_raw(u32::from(object_type.raw()))?;
                Ok(self.destroy_object(ty, handle)?)
            }
            Command::SetViewportState(v) => {
                let start = v.start_slot as usize;
                let end = start
                    .checked_add(v.viewports.len())
                    .filter(|&e| e <= MAX_VIEWPORTS)
                    .ok_or_else(|| invalid("viewport slots beyond 16"))?;
                let st = &mut self.sub_mut()?.state;
                if st.viewports.len() < end {
                    st.viewports.resize(end, [0.0; 6]);
                }
                for (slot, vp) in st.viewports[start..end].iter_mut().zip(v.viewports.iter()) {
                    *slot = [
                        vp.scale[0],
                        vp.scale[1],
                        vp.scale[2],
                        vp.translate[0],
                        vp.translate[1],
                        vp.translate[2],
                    ];
                }
                Ok(())
            }
            Command::SetScissorState(sc) => {
                let start = sc.start_slot as usize;
                let end = start
                    .checked_add(sc.scissors.len())
                    .filter(|&e| e <= MAX_VIEWPORTS)
                    .ok_or_else(|| invalid("scissor slots beyond 16"))?;
                let st = &mut self.sub_mut()?.state;
                if st.scissors.len() < end {
                    st.scissors.resize(end, Default::default());
                }
                for (slot, r) in st.scissors[start..end].iter_mut().zip(sc.scissors.iter()) {
                    *slot = r;
                }
                Ok(())
            }
            Command::SetStencilRef(r) => {
                self.sub_mut()?.state.stencil_ref = [r.front, r.back];
                Ok(())
            }
            Command::SetBlendColor(c) => {
                self.sub_mut()?.state.blend_color = c;
                Ok(())
            }
            Command::SetSampleMask(m) => {
                self.sub_mut()?.state.sample_mask = m;
                Ok(())
            }
            Command::SetMinSamples(m) => {
                self.sub_mut()?.state.min_samples = m;
                Ok(())
            }
            Command::SetClipState(planes) => {
                self.sub_mut()?.state.clip_planes = planes;
                Ok(())
            }
            Command::SetPolygonStipple(stipple) => {
                self.sub_mut()?.state.polygon_stipple = stipple;
                Ok(())
            }
            Command::SetTweaks { id, value } => {
                self.sub_mut()?.state.tweaks.insert(id, value);
                Ok(())
            }
            Command::SetFramebufferState(fb) => {
                Ok(self.set_framebuffer_state(fb.zsurf_handle, fb.cbufs)?)
            }
            Command::SetFramebufferStateNoAttach(na) => {
                // Mesa sends this right after every SET_FRAMEBUFFER_STATE (when the host has
                // VIRGL_CAP_FB_NO_ATTACH): it sets the framebuffer's default size for rendering
                // without attachments and keeps the attachments, as upstream does.
                let sub = self.sub_mut()?;
                sub.fb.no_attach = Some((
                    u32::from(na.width),
                    u32::from(na.height),
                    u32::from(na.layers),
                    u32::from(na.samples),
                ));
                Ok(ops::bind_framebuffer(
                    &self.shared.host,
                    self.sub()?,
                    &self.shared.resources.borrow(),
                )?)
            }
            Command::Clear(c) => {
                self.sub_mut()?.shadow.invalidate();
                let value = ops::ClearValue {
                    color: c.color,
                    depth: c.depth,
                    stencil: c.stencil,
                };
                Ok(ops::clear(
                    &self.shared.host,
                    self.sub()?,
                    &self.shared.resources.borrow(),
                    c.buffers,
                    &value,
                )?)
            }
            Command::ClearSurface(c) => {
                self.sub_mut()?.shadow.invalidate();
                Ok(self.clear_surface(&c)?)
            }
            Command::ClearTexture(c) => {
                self.sub_mut()?.shadow.invalidate();
                Ok(self.clear_texture(&c)?)
            }
            Command::Blit(b) => {
                self.sub_mut()?.shadow.invalidate();
                Ok(self.blit(&b)?)
            }
            Command::ResourceCopyRegion(c) => {
                self.sub_mut()?.shadow.invalidate();
                Ok(self.copy_region(&c)?)
            }
            Command::ResourceInlineWrite(w) => {
                self.sub_mut()?.shadow.invalidate();
                self.inline_write(&w)
            }
            Command::Transfer3d(t) => {
                self.sub_mut()?.shadow.invalidate();
                self.transfer3d(&t, backings)
            }
            Command::CopyTransfer3d(t) => {
                self.sub_mut()?.shadow.invalidate();
                self.copy_transfer3d(&t, backings)
            }
            Command::SetSubCtx { sub_ctx_id } => {
                if !self.subs.contains_key(&sub_ctx_id) {
                    return Err(invalid(format!(
                        "SET_SUB_CTX to unknown sub-context {sub_ctx_id}"
                    ))
                    .into());
                }
                self.current = sub_ctx_id;
                Ok(self.make_current()?)
            }
            Command::CreateSubCtx { sub_ctx_id } => {
                self.create_sub_ctx(sub_ctx_id)?;
                Ok(self.make_current()?)
            }
            Command::DestroySubCtx { sub_ctx_id } => {
                self.destroy_sub_ctx(sub_ctx_id)?;
                Ok(self.make_current()?)
            }
            Command::SendStringMarker(m) => {
                let bytes: Vec<u8> = m.data.iter().flat_map(|d| d.to_le_bytes()).collect();
                let len = (m.len as usize).min(bytes.len());
                tracing::debug!(
                    ctx_id = self.ctx_id,
                    "marker: {}",
                    String::from_utf8_lossy(&bytes[..len])
                );
                Ok(())
            }
            Command::SetDebugFlags(_) => {
                tracing::debug!(ctx_id = self.ctx_id, "guest debug flags ignored");
                Ok(())
            }
            Command::TextureBarrier(_) => {
                let host = &self.shared.host;
                match host.extra.texture_barrier {
                    // SAFETY: a current context; glTextureBarrier has no preconditions.
                    Some(barrier) => unsafe { barrier() },
                    // SAFETY: as above; without the barrier, a finish orders the accesses.
                    None => unsafe { host.gl.finish() },
                }
                Ok(())
            }
            Command::MemoryBarrier(flags) => {
                let host = &self.shared.host;
                if host.features.has(crate::features::Feature::Barrier) {
                    // SAFETY: a current context; the PIPE_BARRIER_* bits are mapped to GL's.
                    unsafe { host.gl.memory_barrier(gl_barrier_bits(flags)) };
                } else {
                    // SAFETY: as above.
                    unsafe { host.gl.finish() };
                }
                Ok(())
            }
            Command::GetMemoryInfo { .. } => Err(ContextError::Unsupported(
                "GET_MEMORY_INFO (no ATI_meminfo/NVX_gpu_memory_info; VIRGL_CAP_V2_MEMINFO is \
                 not advertised)",
            )),
            Command::DrawVbo(info) => {
                let sub = self
                    .subs
                    .get_mut(&self.current)
                    .ok_or_else(|| invalid("no sub"))?;
                let dc = DrawCtx {
                    shared: &self.shared,
                    attached: &self.attached,
                };
                Ok(draw::draw_vbo(&dc, sub, &info)?)
            }
            Command::LaunchGrid(grid) => {
                let sub = self
                    .subs
                    .get_mut(&self.current)
                    .ok_or_else(|| invalid("no sub"))?;
                let dc = DrawCtx {
                    shared: &self.shared,
                    attached: &self.attached,
                };
                Ok(draw::launch_grid(&dc, sub, &grid)?)
            }
            Command::LinkShader(l) => {
                // Upstream links eagerly; binding the stages is enough here, the program is
                // linked (and cached) by the first draw that uses it.
                for (i, &handle) in l.handles.iter().enumerate() {
                    let stage = ShaderType::from_raw(i as u32)
                        .ok_or_else(|| invalid("shader stage index"))?;
                    self.bind_shader(stage, handle)?;
                }
                Ok(())
            }
            Command::BindShader(b) => Ok(self.bind_shader(b.shader_type, b.handle)?),
            Command::SetVertexBuffers(vbs) => {
                self.sub_mut()?.draw.set_vertex_buffers(vbs.iter());
                Ok(())
            }
            Command::SetIndexBuffer(ib) => Ok(self.sub_mut()?.draw.set_index_buffer(&ib)?),
            Command::SetSamplerViews(v) => {
                let sub = self.sub_mut()?;
                for &h in v.handles.iter().filter(|&&h| h != 0) {
                    sub.objects.get(ObjectType::SamplerView, h)?;
                }
                Ok(sub.draw.set_views(v.shader_type, v.start_slot, v.handles)?)
            }
            Command::BindSamplerStates(b) => {
                let sub = self.sub_mut()?;
                for &h in b.handles.iter().filter(|&&h| h != 0) {
                    sub.objects.get(ObjectType::SamplerState, h)?;
                }
                Ok(sub
                    .draw
                    .set_samplers(b.shader_type, b.start_slot, b.handles)?)
            }
            Command::SetConstantBuffer(c) => {
                Ok(self
                    .sub_mut()?
                    .draw
                    .set_constants(c.shader_type, c.index, c.data)?)
            }
            Command::SetUniformBuffer(u) => {
                if u.handle != 0 {
                    self.check_resource(u.handle)?;
                }
                self.sub_mut()?.draw.set_ubo(&u);
                Ok(())
            }
            Command::SetTessState(t) => {
                self.sub_mut()?.draw.tess_levels = (t.outer, t.inner);
                Ok(())
            }
            Command::SetShaderBuffers(b) => {
                for x in b.buffers.iter().filter(|x| x.handle != 0) {
                    self.check_resource(x.handle)?;
                }
                Ok(self.sub_mut()?.draw.set_ssbos(&b)?)
            }
            Command::SetShaderImages(i) => {
                for x in i.images.iter().filter(|x| x.handle != 0) {
                    self.check_resource(x.handle)?;
                }
                Ok(self.sub_mut()?.draw.set_images(&i)?)
            }
            Command::SetAtomicBuffers(a) => {
                for x in a.buffers.iter().filter(|x| x.handle != 0) {
                    self.check_resource(x.handle)?;
                }
                Ok(self.sub_mut()?.draw.set_atomic_buffers(&a)?)
            }
            Command::SetStreamoutTargets(t) => {
                let targets = crate::streamout::resolve_targets(&self.sub()?.objects, t.handles)?;
                for x in targets.iter().filter(|x| x.handle != 0) {
                    self.check_resource(x.res_id)?;
                }
                let sub = self
                    .subs
                    .get_mut(&self.current)
                    .ok_or_else(|| invalid("no sub"))?;
                sub.draw
                    .so
                    .set_targets(&self.shared.host.gl, targets, t.append_bitmask);
                Ok(())
            }
            Command::SetRenderCondition(rc) => Ok(self.set_render_condition(&rc)?),
            Command::BeginQuery { handle } => Ok(self.with_query(handle, |host, q| q.begin(host))?),
            Command::EndQuery { handle } => Ok(self.with_query(handle, |host, q| q.end(host))?),
            Command::GetQueryResult { handle, .. } => self.get_query_result(handle, backings),
            Command::GetQueryResultQbo(q) => Ok(self.get_query_result_qbo(&q)?),
            Command::PipeResourceSetType(st) => crate::import::set_type(
                &self.shared,
                self.ctx_id,
                &self.attached,
                &st,
                backings.table(),
            ),
            Command::PipeResourceCreate(_) | Command::GetPipeResourceLayout(_) => {
                Err(ContextError::Unsupported(
                    "PIPE_RESOURCE_CREATE/GET_LAYOUT (blob resources, not implemented)",
                ))
            }
            video @ (Command::CreateVideoCodec(_)
            | Command::DestroyVideoCodec { .. }
            | Command::CreateVideoBuffer(_)
            | Command::DestroyVideoBuffer { .. }
            | Command::BeginFrame(_)
            | Command::DecodeMacroblock(_)
            | Command::DecodeBitstream(_)
            | Command::EncodeBitstream(_)
            | Command::EndFrame(_)) => {
                // Plane uploads rebind textures and unpack state behind the shadow's back.
                self.sub_mut()?.shadow.invalidate();
                crate::video::execute(
                    &self.shared,
                    self.ctx_id,
                    &self.attached,
                    &mut self.video,
                    video,
                    backings,
                )
            }
        }
    }

    fn create_object(&mut self, create: &CreateObject<'_>) -> VrendResult<()> {
        let handle = create.handle();
        let host = &self.shared.host;
        let object = match create {
            CreateObject::Surface(s) => Object::Surface(self.surface(s, 0)?),
            CreateObject::MsaaSurface(m) => {
                Object::Surface(self.surface(&m.surface, m.sample_count.max(1))?)
            }
            CreateObject::Blend(b) => Object::Blend(*b),
            CreateObject::Rasterizer(r) => Object::Rasterizer(*r),
            CreateObject::Dsa(d) => Object::Dsa(*d),
            CreateObject::VertexElements(v) => Object::VertexElements(VertexElementsObj::new(
                v.iter().collect(),
                host.limits.max_vertex_attribs,
            )?),
            CreateObject::SamplerView(v) => {
                self.check_resource(v.res_handle)?;
                let resources = self.shared.resources.borrow();
                let res = resources
                    .get(&v.res_handle)
                    .ok_or_else(|| invalid("resource vanished"))?;
                Object::SamplerView(SamplerViewObj::create(host, res, v)?)
            }
            CreateObject::SamplerState(s) => {
                let sub = self
                    .subs
                    .get_mut(&self.current)
                    .ok_or_else(|| invalid("no current sub-context"))?;
                Object::SamplerState(sub.samplers.get(host, s)?)
            }
            CreateObject::Query(q) => {
                self.check_resource(q.res_handle)?;
                let resources = self.shared.resources.borrow();
                let res = resources
                    .get(&q.res_handle)
                    .ok_or_else(|| invalid("resource vanished"))?;
                Object::Query(QueryObj::create(host, res, q)?)
            }
            CreateObject::StreamoutTarget(t) => {
                self.check_resource(t.res_handle)?;
                Object::StreamoutTarget(*t)
            }
            CreateObject::Shader(cs) => match self.create_shader(cs)? {
                Some(obj) => obj,
                // Waiting for continuation chunks.
                None => return Ok(()),
            },
        };
        // A refused object's GL objects are deleted here (the shared handle outlives `host`).
        let shared = Rc::clone(&self.shared);
        let gl = &shared.host.gl;
        let sub = self.sub_mut()?;
        sub.objects.insert(handle, object).map_err(|refused| {
            let (e, refused) = *refused;
            match refused {
                Object::SamplerState(smp) => sub.samplers.release(gl, smp),
                other => other.release(gl),
            }
            e
        })
    }

    fn create_shader(&mut self, cs: &CreateShader<'_>) -> VrendResult<Option<Object>> {
        let sub = self.sub_mut()?;
        let Some(done) = sub.assembler.push(cs)? else {
            return Ok(None);
        };
        let text = done.text_until_nul().to_vec();
        let obj = ShaderObj::new(
            done.shader_type,
            &text,
            done.stream_output.as_ref(),
            done.req_local_mem,
        )?;
        Ok(Some(Object::Shader(Rc::new(obj))))
    }

    fn destroy_object(&mut self, ty: ObjectType, handle: u32) -> VrendResult<()> {
        let host = &self.shared.host;
        let sub = self
            .subs
            .get_mut(&self.current)
            .ok_or_else(|| invalid("no current sub-context"))?;
        let object = sub.objects.remove(ty, handle)?;
        if let Object::Shader(s) = &object {
            for bound in sub.draw.shaders.iter_mut() {
                if *bound == handle {
                    *bound = 0;
                }
            }
            let ids = s.release(&host.gl);
            sub.programs.forget(&host.gl, &ids);
            sub.shadow.program = None;
        }
        match object {
            Object::SamplerState(smp) => sub.samplers.release(&host.gl, smp),
            other => other.release(&host.gl),
        }
        Ok(())
    }

    fn bind_shader(&mut self, stage: ShaderType, handle: u32) -> VrendResult<()> {
        let sub = self.sub_mut()?;
        if handle != 0 {
            match sub.objects.get(ObjectType::Shader, handle)? {
                Object::Shader(s) if s.stage == stage => {}
                _ => {
                    return Err(invalid(format!(
                        "shader {handle} bound as a {stage:?} shader is not one"
                    )))
                }
            }
        }
        sub.draw.shaders[stage.index()] = handle;
        Ok(())
    }

    /// Runs `f` on query `handle` of the current sub-context.
    fn with_query(
        &mut self,
        handle: u32,
        f: impl FnOnce(&crate::host::HostGl, &mut QueryObj) -> VrendResult<()>,
    ) -> VrendResult<()> {
        let host = &self.shared.host;
        let sub = self
            .subs
            .get_mut(&self.current)
            .ok_or_else(|| invalid("no current sub-context"))?;
        match sub.objects.get_mut(ObjectType::Query, handle)? {
            Object::Query(q) => f(host, q),
            _ => Err(invalid("query handle of another type")),
        }
    }

    fn get_query_result(
        &mut self,
        handle: u32,
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        let host = &self.shared.host;
        let (res_id, bytes) = match self.sub()?.objects.get(ObjectType::Query, handle)? {
            Object::Query(q) => (q.res_id, q.host_state(q.result(host))),
            _ => return Err(invalid("query handle of another type").into()),
        };
        self.check_resource(res_id)?;
        let mem = backings
            .backing(res_id)
            .ok_or_else(|| invalid(format!("query resource {res_id} has no guest backing")))?;
        if mem.size() < bytes.len() as u64 {
            return Err(invalid("query resource smaller than the query state").into());
        }
        mem.write_at(0, &bytes).map_err(VrendError::from)?;
        Ok(())
    }

    fn get_query_result_qbo(&mut self, q: &GetQueryResultQbo) -> VrendResult<()> {
        self.check_resource(q.qbo_handle)?;
        let host = &self.shared.host;
        let resources = self.shared.resources.borrow();
        let qbo = resources
            .get(&q.qbo_handle)
            .ok_or_else(|| invalid("resource vanished"))?;
        match self.sub()?.objects.get(ObjectType::Query, q.handle)? {
            Object::Query(query) => query.write_to_qbo(host, qbo, q),
            _ => Err(invalid("query handle of another type")),
        }
    }

    fn set_render_condition(&mut self, rc: &SetRenderCondition) -> VrendResult<()> {
        let host = &self.shared.host;
        let (begin, end) = match (
            host.extra.begin_conditional_render,
            host.extra.end_conditional_render,
        ) {
            (Some(b), Some(e)) => (b, e),
            _ => return Err(VrendError::Unsupported("conditional rendering".into())),
        };
        let sub = self
            .subs
            .get_mut(&self.current)
            .ok_or_else(|| invalid("no current sub-context"))?;
        if sub.draw.render_condition {
            // SAFETY: a conditional render is active on the current context.
            unsafe { end() };
            sub.draw.render_condition = false;
        }
        if rc.handle == 0 {
            return Ok(());
        }
        let inverted = rc.condition;
        if inverted
            && !host
                .features
                .has(crate::features::Feature::ConditionalRenderInverted)
        {
            return Err(VrendError::Unsupported(
                "inverted conditional rendering".into(),
            ));
        }
        let mode = query::render_condition_mode(rc.mode, inverted)
            .ok_or_else(|| invalid(format!("render condition mode {}", rc.mode)))?;
        let query = match sub.objects.get(ObjectType::Query, rc.handle)? {
            Object::Query(q) => q.query,
            _ => return Err(invalid("query handle of another type")),
        };
        // SAFETY: current context; a query name of this context and a valid mode.
        unsafe { begin(query.0.get(), mode) };
        sub.draw.render_condition = true;
        host.check("conditional render")
    }

    fn surface(&self, s: &virgl_protocol::command::Surface, samples: u32) -> VrendResult<Surface> {
        self.check_resource(s.res_handle)?;
        let resources = self.shared.resources.borrow();
        let res = resources
            .get(&s.res_handle)
            .ok_or_else(|| invalid("resource vanished"))?;
        let (first, last, level) = if res.format.is_none() {
            // Buffer surface: first/last element.
            (s.val0, s.val1, 0)
        } else {
            (s.val1 & 0xffff, s.val1 >> 16, s.val0)
        };
        if res.format.is_some() {
            if level > res.args.last_level {
                return Err(invalid(format!(
                    "surface level {level} beyond the resource"
                )));
            }
            let (_, _, layers) = res.level_size(level);
            if first > last || last >= layers {
                return Err(invalid(format!(
                    "surface layers {first}..={last} of {layers}"
                )));
            }
            if self.shared.host.formats.get(s.format).is_none() {
                return Err(invalid(format!("surface format {} unsupported", s.format)));
            }
        }
        // A view when the surface renders "as" another format, or covers a partial layer
        // range (a layered attachment of the whole texture would also touch other layers).
        let other_format = |rf: &crate::formats::HostFormat| {
            self.shared.host.formats.get(s.format).is_some_and(|f| {
                f.entry.internal != rf.entry.internal && !f.entry.is_depth_stencil()
            })
        };
        let (_, _, layers) = res.level_size(level);
        let partial_layers = first != last && (first != 0 || last + 1 != layers);
        let view = match res.format {
            Some(rf) if other_format(&rf) || partial_layers => {
                ops::format_view(&self.shared.host, res, s.format, level, first, last)?
            }
            _ => None,
        };
        Ok(Surface {
            res_id: s.res_handle,
            format: s.format,
            level,
            first_layer: first,
            last_layer: last,
            samples,
            view,
        })
    }

    fn set_framebuffer_state(&mut self, zsurf: u32, cbufs: &[u32]) -> VrendResult<()> {
        if cbufs.len() > MAX_FRAMEBUFFER_CBUFS
            || cbufs.len() > self.shared.host.limits.max_draw_buffers as usize
        {
            return Err(invalid(format!("{} colour buffers", cbufs.len())));
        }
        let sub = self.sub()?;
        let lookup = |h: u32| -> VrendResult<Option<Surface>> {
            if h == 0 {
                Ok(None)
            } else {
                sub.objects.surface(h).map(Some)
            }
        };
        let zsurf = lookup(zsurf)?;
        let cbufs = cbufs
            .iter()
            .map(|&h| lookup(h))
            .collect::<VrendResult<Vec<_>>>()?;
        for s in cbufs.iter().chain(std::iter::once(&zsurf)).flatten() {
            self.check_resource(s.res_id)?;
        }
        let sub = self.sub_mut()?;
        sub.fb = FramebufferState {
            cbufs,
            zsurf,
            no_attach: None,
        };
        ops::bind_framebuffer(
            &self.shared.host,
            self.sub()?,
            &self.shared.resources.borrow(),
        )
    }

    fn clear_surface(&mut self, c: &ClearSurface) -> VrendResult<()> {
        let surface = self.sub()?.objects.surface(c.surface_handle)?;
        self.check_resource(surface.res_id)?;
        let depth = f64::from_bits(u64::from(c.color[0]) | (u64::from(c.color[1]) << 32));
        let value = ops::ClearValue {
            color: c.color,
            depth,
            stencil: c.color[2],
        };
        let rect = (c.dst_x, c.dst_y, c.width, c.height);
        ops::clear_surface(
            &self.shared.host,
            &self.shared.resources.borrow(),
            &surface,
            u32::from(c.buffers),
            &value,
            rect,
        )
    }

    fn clear_texture(&mut self, c: &ClearTexture) -> VrendResult<()> {
        self.check_resource(c.handle)?;
        let resources = self.shared.resources.borrow();
        let res = resources
            .get(&c.handle)
            .ok_or_else(|| invalid("resource vanished"))?;
        ops::clear_texture(&self.shared.host, res, c.level, &tex_box(&c.bx), &c.data)
    }

    fn blit(&mut self, b: &Blit) -> VrendResult<()> {
        // pipe_box fields are signed: negative sizes mirror.
        let side = |s: &virgl_protocol::command::BlitSurface| ops::BlitSide {
            res_id: s.handle,
            level: s.level,
            format: s.format,
            x: s.bx.x as i32,
            y: s.bx.y as i32,
            z: s.bx.z as i32,
            w: s.bx.width as i32,
            h: s.bx.height as i32,
            d: s.bx.depth as i32,
        };
        let sc = b.scissor;
        let info = ops::BlitInfo {
            mask: u32::from(b.mask),
            filter: u32::from(b.filter),
            scissor: b.scissor_enable.then_some((
                u32::from(sc.minx),
                u32::from(sc.miny),
                u32::from(sc.maxx),
                u32::from(sc.maxy),
            )),
            dst: side(&b.dst),
            src: side(&b.src),
        };
        self.check_resource(info.dst.res_id)?;
        self.check_resource(info.src.res_id)?;
        ops::blit(&self.shared.host, &self.shared.resources.borrow(), &info)
    }

    fn copy_region(&mut self, c: &ResourceCopyRegion) -> VrendResult<()> {
        self.check_resource(c.dst_handle)?;
        self.check_resource(c.src_handle)?;
        ops::copy_region(
            &self.shared.host,
            &self.shared.resources.borrow(),
            (c.dst_handle, c.dst_level, c.dst_x, c.dst_y, c.dst_z),
            (c.src_handle, c.src_level),
            &tex_box(&c.src_box),
        )
    }

    fn transfer_request(r: &TransferRegion, offset: u32) -> TransferRequest {
        TransferRequest {
            res_id: r.handle,
            level: r.level,
            stride: r.stride,
            layer_stride: r.layer_stride,
            x: r.bx.x,
            y: r.bx.y,
            z: r.bx.z,
            width: r.bx.width,
            height: r.bx.height,
            depth: r.bx.depth,
            offset: u64::from(offset),
        }
    }

    fn inline_write(&mut self, w: &ResourceInlineWrite<'_>) -> Result<(), ContextError> {
        let req = Self::transfer_request(&w.region, 0);
        self.check_resource(req.res_id)?;
        let mut data: Vec<u8> = w.data_bytes().collect();
        transfer(
            &self.shared.host,
            &self.shared.resources.borrow(),
            &req,
            TransferDirection::ToHost,
            &mut data,
        )
    }

    fn transfer3d(
        &mut self,
        t: &Transfer3d,
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        let req = Self::transfer_request(&t.region, t.offset);
        let direction = match t.direction {
            virgl_protocol::pipe::TransferDirection::ToHost => TransferDirection::ToHost,
            virgl_protocol::pipe::TransferDirection::FromHost => TransferDirection::FromHost,
        };
        self.check_resource(req.res_id)?;
        let mem = backings
            .backing(req.res_id)
            .ok_or_else(|| invalid(format!("resource {} has no guest backing", req.res_id)))?;
        transfer(
            &self.shared.host,
            &self.shared.resources.borrow(),
            &req,
            direction,
            mem,
        )
    }

    fn copy_transfer3d(
        &mut self,
        t: &CopyTransfer3d,
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        let req = Self::transfer_request(&t.region, t.staging_offset);
        self.check_resource(req.res_id)?;
        self.check_resource(t.staging_handle)?;
        let direction = if t.read_from_host() {
            TransferDirection::FromHost
        } else {
            TransferDirection::ToHost
        };
        let mem = backings.backing(t.staging_handle).ok_or_else(|| {
            invalid(format!(
                "staging resource {} has no guest backing",
                t.staging_handle
            ))
        })?;
        transfer(
            &self.shared.host,
            &self.shared.resources.borrow(),
            &req,
            direction,
            mem,
        )
    }

    /// A transfer on behalf of this context with caller-provided guest memory.
    pub fn transfer_with(
        &mut self,
        request: &TransferRequest,
        direction: TransferDirection,
        mem: &mut dyn GuestMemory,
    ) -> Result<(), ContextError> {
        if let Some(reason) = &self.broken {
            return Err(ContextError::Broken(reason.clone()));
        }
        self.check_resource(request.res_id)?;
        self.make_current()?;
        transfer(
            &self.shared.host,
            &self.shared.resources.borrow(),
            request,
            direction,
            mem,
        )
    }
}

impl Context for VrendContext {
    fn ctx_id(&self) -> u32 {
        self.ctx_id
    }

    fn capset_id(&self) -> u32 {
        self.capset_id
    }

    fn submit_cmd(&mut self, table: &mut ResourceTable, cmd: &[u32]) -> Result<(), ContextError> {
        self.submit_with(cmd, table)
    }

    fn attach_resource(&mut self, _table: &mut ResourceTable, res_id: u32) {
        self.attached.insert(res_id);
    }

    fn detach_resource(&mut self, _table: &mut ResourceTable, res_id: u32) {
        self.attached.remove(&res_id);
    }

    fn transfer(
        &mut self,
        table: &mut ResourceTable,
        request: &TransferRequest,
        direction: TransferDirection,
    ) -> Result<(), ContextError> {
        let backing = table.require_mut(request.res_id)?.backing_for_cpu()?;
        self.transfer_with(request, direction, backing)
    }

    fn submit_fence(
        &mut self,
        _flags: u32,
        ring_idx: u32,
        fence_id: u64,
    ) -> Result<(), ContextError> {
        if ring_idx != 0 {
            return Err(invalid(format!("GL contexts have one ring, not {ring_idx}")).into());
        }
        // Everything submitted so far has been issued to GL on this thread; glFinish makes it
        // complete, so the fence is signalled right away.
        self.make_current()?;
        // SAFETY: a current context; glFinish has no preconditions.
        unsafe { self.shared.host.gl.finish() };
        self.retired.push(FenceSignal { ring_idx, fence_id });
        Ok(())
    }

    fn retire_fences(&mut self) -> Vec<FenceSignal> {
        std::mem::take(&mut self.retired)
    }
}

impl Drop for VrendContext {
    fn drop(&mut self) {
        for (_, sub) in std::mem::take(&mut self.subs) {
            self.drop_sub(sub);
        }
        let _ = self.shared.host.make_root_current();
    }
}
