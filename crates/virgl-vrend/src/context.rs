//! [`VrendContext`]: one guest GL context — its sub-contexts, object tables and the commands
//! that do not need shader translation.
//!
//! Every command is checked (sizes, handles, types, resource ids, boxes) before any GL call.
//! The first failing command marks the context broken: the rest of that buffer and every later
//! submit are refused with the logged reason, while other contexts keep working. Commands that
//! need the TGSI→GLSL translator (draws, compute, shader linking) fail explicitly with
//! [`ContextError::Unsupported`] naming issue 6 — never a silent success.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use glow::HasContext;
use virgl_resource::{
    Context, ContextError, FenceSignal, ResourceTable, TransferDirection, TransferRequest,
};

use crate::backend::{transfer, Shared};
use crate::egl::GlContextHandle;
use crate::error::{VrendError, VrendResult};
use crate::objects::{Object, ObjectTable, ObjectType, Surface};
use crate::ops;
use crate::resource::{GuestMemory, TexBox};

/// `VIRGL_CCMD_*` numbers this module dispatches on.
pub(crate) mod ccmd {
    pub const NOP: u32 = 0;
    pub const CREATE_OBJECT: u32 = 1;
    pub const BIND_OBJECT: u32 = 2;
    pub const DESTROY_OBJECT: u32 = 3;
    pub const SET_VIEWPORT_STATE: u32 = 4;
    pub const SET_FRAMEBUFFER_STATE: u32 = 5;
    pub const SET_VERTEX_BUFFERS: u32 = 6;
    pub const CLEAR: u32 = 7;
    pub const DRAW_VBO: u32 = 8;
    pub const RESOURCE_INLINE_WRITE: u32 = 9;
    pub const SET_SAMPLER_VIEWS: u32 = 10;
    pub const SET_INDEX_BUFFER: u32 = 11;
    pub const SET_CONSTANT_BUFFER: u32 = 12;
    pub const SET_STENCIL_REF: u32 = 13;
    pub const SET_BLEND_COLOR: u32 = 14;
    pub const SET_SCISSOR_STATE: u32 = 15;
    pub const BLIT: u32 = 16;
    pub const RESOURCE_COPY_REGION: u32 = 17;
    pub const BIND_SAMPLER_STATES: u32 = 18;
    pub const SET_POLYGON_STIPPLE: u32 = 22;
    pub const SET_CLIP_STATE: u32 = 23;
    pub const SET_SAMPLE_MASK: u32 = 24;
    pub const SET_SUB_CTX: u32 = 28;
    pub const CREATE_SUB_CTX: u32 = 29;
    pub const DESTROY_SUB_CTX: u32 = 30;
    pub const SET_MIN_SAMPLES: u32 = 33;
    pub const LAUNCH_GRID: u32 = 37;
    pub const SET_FRAMEBUFFER_STATE_NO_ATTACH: u32 = 38;
    pub const TEXTURE_BARRIER: u32 = 39;
    pub const SET_DEBUG_FLAGS: u32 = 41;
    pub const TRANSFER3D: u32 = 43;
    pub const END_TRANSFERS: u32 = 44;
    pub const COPY_TRANSFER3D: u32 = 45;
    pub const SET_TWEAKS: u32 = 46;
    pub const CLEAR_TEXTURE: u32 = 47;
    pub const GET_MEMORY_INFO: u32 = 50;
    pub const SEND_STRING_MARKER: u32 = 51;
    pub const LINK_SHADER: u32 = 52;
    pub const CLEAR_SURFACE: u32 = 62;
}

/// Most sub-contexts one context may create (each is a host GL context).
const MAX_SUB_CONTEXTS: usize = 64;
const MAX_FRAMEBUFFER_CBUFS: usize = 8;

/// Framebuffer state of a sub-context (surface handles, resolved at use).
#[derive(Debug, Clone, Default)]
pub(crate) struct FramebufferState {
    pub cbufs: Vec<Option<Surface>>,
    pub zsurf: Option<Surface>,
    /// `(width, height, layers, samples)` of SET_FRAMEBUFFER_STATE_NO_ATTACH.
    pub no_attach: Option<(u32, u32, u32, u32)>,
}

/// Fixed-function state kept for the draw path (issue 6).
#[derive(Debug, Clone, Default)]
pub(crate) struct PipeState {
    pub viewports: Vec<[f32; 6]>,
    pub scissors: Vec<(u32, u32)>,
    pub stencil_ref: u32,
    pub blend_color: [u32; 4],
    pub sample_mask: u32,
    pub min_samples: u32,
    pub clip_planes: Vec<u32>,
    pub polygon_stipple: Vec<u32>,
    pub tweaks: HashMap<u32, u32>,
}

pub(crate) struct SubContext {
    pub gl_ctx: GlContextHandle,
    /// The sub-context's draw framebuffer (FBOs are not shared between GL contexts).
    pub fbo: Option<glow::Framebuffer>,
    pub objects: ObjectTable,
    pub fb: FramebufferState,
    pub state: PipeState,
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

fn issue6(what: &'static str) -> ContextError {
    ContextError::Unsupported(what)
}

/// Reads dword `i` of a payload whose length the caller checked.
fn dw(p: &[u32], i: usize) -> VrendResult<u32> {
    p.get(i)
        .copied()
        .ok_or_else(|| invalid(format!("payload too short for dword {i}")))
}

fn expect_len(p: &[u32], len: usize, what: &str) -> VrendResult<()> {
    if p.len() != len {
        return Err(invalid(format!(
            "{what}: {} dwords, expected {len}",
            p.len()
        )));
    }
    Ok(())
}

/// Resolves guest memory for resources' backings during a submit.
///
/// The GL backend owns no guest memory; the embedder (through virgl-resource) does.
pub trait BackingLookup {
    /// The guest backing of `res_id`, if it has one.
    fn backing(&mut self, res_id: u32) -> Option<&mut dyn GuestMemory>;
}

/// Backings of virgl-resource's table (made CPU-accessible on demand).
impl BackingLookup for ResourceTable {
    fn backing(&mut self, res_id: u32) -> Option<&mut dyn GuestMemory> {
        let backing = self.get_mut(res_id)?.backing_for_cpu().ok()?;
        Some(backing)
    }
}

impl VrendContext {
    pub(crate) fn new(
        shared: Rc<Shared>,
        ctx_id: u32,
        capset_id: u32,
        name: &str,
    ) -> Result<Self, ContextError> {
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
                objects: ObjectTable::default(),
                fb: FramebufferState::default(),
                state: PipeState {
                    sample_mask: !0,
                    ..Default::default()
                },
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

    fn drop_sub(&self, sub: SubContext) {
        let host = &self.shared.host;
        if host.make_current(sub.gl_ctx).is_ok() {
            if let Some(fbo) = sub.fbo {
                // SAFETY: the FBO belongs to this (current) context.
                unsafe { host.gl.delete_framebuffer(fbo) };
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
                let mut off = 0usize;
                while off < cmd.len() {
                    let header = cmd[off];
                    let len = (header >> 16) as usize;
                    let payload = cmd
                        .get(off + 1..off + 1 + len)
                        .ok_or_else(|| {
                            invalid(format!("command at dword {off} overruns the buffer"))
                        })
                        .map_err(ContextError::from)?;
                    self.dispatch(header & 0xff, (header >> 8) & 0xff, payload, backings)?;
                    off += 1 + len;
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
        cmd: u32,
        obj: u32,
        p: &[u32],
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        use ccmd::*;
        match cmd {
            NOP => Ok(()),
            CREATE_OBJECT => Ok(self.create_object(obj, p)?),
            BIND_OBJECT => {
                expect_len(p, 1, "BIND_OBJECT")?;
                let ty = ObjectType::from_raw(obj)?;
                Ok(self.sub_mut()?.objects.bind(ty, p[0])?)
            }
            DESTROY_OBJECT => {
                expect_len(p, 1, "DESTROY_OBJECT")?;
                let ty = ObjectType::from_raw(obj)?;
                let sub = self.sub_mut()?;
                sub.objects.remove(ty, p[0])?;
                Ok(())
            }
            SET_VIEWPORT_STATE => {
                if p.is_empty() || !(p.len() - 1).is_multiple_of(6) || (p.len() - 1) / 6 > 16 {
                    return Err(invalid("SET_VIEWPORT_STATE size").into());
                }
                let start = dw(p, 0)? as usize;
                let n = (p.len() - 1) / 6;
                if start + n > 16 {
                    return Err(invalid("viewport slots beyond 16").into());
                }
                let st = &mut self.sub_mut()?.state;
                if st.viewports.len() < start + n {
                    st.viewports.resize(start + n, [0.0; 6]);
                }
                for i in 0..n {
                    for j in 0..6 {
                        st.viewports[start + i][j] = f32::from_bits(p[1 + i * 6 + j]);
                    }
                }
                Ok(())
            }
            SET_SCISSOR_STATE => {
                if p.is_empty() || !(p.len() - 1).is_multiple_of(2) || (p.len() - 1) / 2 > 16 {
                    return Err(invalid("SET_SCISSOR_STATE size").into());
                }
                let start = dw(p, 0)? as usize;
                let n = (p.len() - 1) / 2;
                if start + n > 16 {
                    return Err(invalid("scissor slots beyond 16").into());
                }
                let st = &mut self.sub_mut()?.state;
                if st.scissors.len() < start + n {
                    st.scissors.resize(start + n, (0, 0));
                }
                for i in 0..n {
                    st.scissors[start + i] = (p[1 + 2 * i], p[2 + 2 * i]);
                }
                Ok(())
            }
            SET_STENCIL_REF => {
                expect_len(p, 1, "SET_STENCIL_REF")?;
                self.sub_mut()?.state.stencil_ref = p[0];
                Ok(())
            }
            SET_BLEND_COLOR => {
                expect_len(p, 4, "SET_BLEND_COLOR")?;
                self.sub_mut()?.state.blend_color.copy_from_slice(p);
                Ok(())
            }
            SET_SAMPLE_MASK => {
                expect_len(p, 1, "SET_SAMPLE_MASK")?;
                self.sub_mut()?.state.sample_mask = p[0];
                Ok(())
            }
            SET_MIN_SAMPLES => {
                expect_len(p, 1, "SET_MIN_SAMPLES")?;
                self.sub_mut()?.state.min_samples = p[0];
                Ok(())
            }
            SET_CLIP_STATE => {
                expect_len(p, 32, "SET_CLIP_STATE")?;
                self.sub_mut()?.state.clip_planes = p.to_vec();
                Ok(())
            }
            SET_POLYGON_STIPPLE => {
                expect_len(p, 32, "SET_POLYGON_STIPPLE")?;
                self.sub_mut()?.state.polygon_stipple = p.to_vec();
                Ok(())
            }
            SET_TWEAKS => {
                expect_len(p, 2, "SET_TWEAKS")?;
                self.sub_mut()?.state.tweaks.insert(p[0], p[1]);
                Ok(())
            }
            SET_FRAMEBUFFER_STATE => Ok(self.set_framebuffer_state(p)?),
            SET_FRAMEBUFFER_STATE_NO_ATTACH => {
                expect_len(p, 2, "SET_FRAMEBUFFER_STATE_NO_ATTACH")?;
                let (w, h) = (p[0] & 0xffff, p[0] >> 16);
                let (layers, samples) = (p[1] & 0xffff, (p[1] >> 16) & 0xff);
                let sub = self.sub_mut()?;
                sub.fb = FramebufferState { no_attach: Some((w, h, layers, samples)), ..Default::default() };
                Ok(ops::bind_framebuffer(&self.shared.host, self.sub()?, &self.shared.resources.borrow())?)
            }
            CLEAR => Ok(self.clear(p)?),
            CLEAR_TEXTURE => Ok(self.clear_texture(p)?),
            CLEAR_SURFACE => Ok(self.clear_surface(p)?),
            BLIT => Ok(self.blit(p)?),
            RESOURCE_COPY_REGION => Ok(self.copy_region(p)?),
            RESOURCE_INLINE_WRITE => self.inline_write(p),
            TRANSFER3D => self.transfer3d(p, backings),
            COPY_TRANSFER3D => self.copy_transfer3d(p, backings),
            END_TRANSFERS => Ok(()),
            SET_SUB_CTX => {
                expect_len(p, 1, "SET_SUB_CTX")?;
                if !self.subs.contains_key(&p[0]) {
                    return Err(invalid(format!("SET_SUB_CTX to unknown sub-context {}", p[0])).into());
                }
                self.current = p[0];
                Ok(self.make_current()?)
            }
            CREATE_SUB_CTX => {
                expect_len(p, 1, "CREATE_SUB_CTX")?;
                self.create_sub_ctx(p[0])?;
                Ok(self.make_current()?)
            }
            DESTROY_SUB_CTX => {
                expect_len(p, 1, "DESTROY_SUB_CTX")?;
                self.destroy_sub_ctx(p[0])?;
                Ok(self.make_current()?)
            }
            SEND_STRING_MARKER => {
                let len = dw(p, 0)? as usize;
                let bytes: Vec<u8> = p[1..].iter().flat_map(|d| d.to_le_bytes()).collect();
                if len > bytes.len() {
                    return Err(invalid("string marker longer than its payload").into());
                }
                tracing::debug!(ctx_id = self.ctx_id, "marker: {}", String::from_utf8_lossy(&bytes[..len]));
                Ok(())
            }
            SET_DEBUG_FLAGS => {
                tracing::debug!(ctx_id = self.ctx_id, "guest debug flags ignored");
                Ok(())
            }
            TEXTURE_BARRIER => {
                // SAFETY: a current context; glFlush has no preconditions.
                unsafe { self.shared.host.gl.flush() };
                Ok(())
            }
            GET_MEMORY_INFO => Err(ContextError::Unsupported(
                "GET_MEMORY_INFO (no ATI_meminfo/NVX_gpu_memory_info; VIRGL_CAP_V2_MEMINFO is not advertised)",
            )),
            DRAW_VBO => Err(issue6("DRAW_VBO (needs the TGSI translator, issue 6)")),
            LAUNCH_GRID => Err(issue6("LAUNCH_GRID (needs the TGSI translator, issue 6)")),
            LINK_SHADER => Err(issue6("LINK_SHADER (needs the TGSI translator, issue 6)")),
            SET_VERTEX_BUFFERS | SET_SAMPLER_VIEWS | SET_INDEX_BUFFER | SET_CONSTANT_BUFFER
            | BIND_SAMPLER_STATES => Err(issue6(
                "vertex/sampler/constant/index bindings (draw state, issue 6)",
            )),
            other => Err(ContextError::Unsupported(match other {
                19..=21 | 42 => "queries (issue 6)",
                25..=27 | 31..=32 | 34..=36 | 40 => "draw/compute state (issue 6)",
                48 | 49 | 63 => "pipe resource create/set-type/layout commands",
                53..=61 => "video commands (virgl-video)",
                _ => "unknown command",
            })),
        }
    }

    fn create_object(&mut self, obj: u32, p: &[u32]) -> VrendResult<()> {
        let ty = ObjectType::from_raw(obj)?;
        let handle = ObjectTable::check_create(ty, p)?;
        let object = match ty {
            ObjectType::Surface | ObjectType::MsaaSurface => {
                let res_id = p[1];
                self.check_resource(res_id)?;
                let format = p[2];
                let resources = self.shared.resources.borrow();
                let res = resources
                    .get(&res_id)
                    .ok_or_else(|| invalid("resource vanished"))?;
                let (first, last, level) = if res.format.is_none() {
                    // Buffer surface: first/last element.
                    (p[3], p[4], 0)
                } else {
                    (p[4] & 0xffff, p[4] >> 16, p[3])
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
                    if self.shared.host.formats.get(format).is_none() {
                        return Err(invalid(format!("surface format {format} unsupported")));
                    }
                }
                let samples = if ty == ObjectType::MsaaSurface {
                    p[5].max(1)
                } else {
                    0
                };
                Object::Surface(Surface {
                    res_id,
                    format,
                    level,
                    first_layer: first,
                    last_layer: last,
                    samples,
                })
            }
            _ => Object::State {
                ty,
                dwords: p[1..].to_vec(),
            },
        };
        self.sub_mut()?.objects.insert(handle, object)
    }

    fn set_framebuffer_state(&mut self, p: &[u32]) -> VrendResult<()> {
        let nr_cbufs = dw(p, 0)? as usize;
        if nr_cbufs > MAX_FRAMEBUFFER_CBUFS
            || nr_cbufs > self.shared.host.limits.max_draw_buffers as usize
        {
            return Err(invalid(format!("{nr_cbufs} colour buffers")));
        }
        expect_len(p, nr_cbufs + 2, "SET_FRAMEBUFFER_STATE")?;
        let sub = self.sub()?;
        let lookup = |h: u32| -> VrendResult<Option<Surface>> {
            if h == 0 {
                Ok(None)
            } else {
                sub.objects.surface(h).map(Some)
            }
        };
        let zsurf = lookup(p[1])?;
        let cbufs = p[2..]
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

    fn clear(&mut self, p: &[u32]) -> VrendResult<()> {
        expect_len(p, 8, "CLEAR")?;
        let depth = f64::from_bits(u64::from(p[5]) | (u64::from(p[6]) << 32));
        let clear = ops::ClearValue {
            color: [p[1], p[2], p[3], p[4]],
            depth,
            stencil: p[7],
        };
        ops::clear(
            &self.shared.host,
            self.sub()?,
            &self.shared.resources.borrow(),
            p[0],
            &clear,
        )
    }

    fn clear_surface(&mut self, p: &[u32]) -> VrendResult<()> {
        expect_len(p, 10, "CLEAR_SURFACE")?;
        let buffers = (p[0] >> 1) & 0x7;
        let surface = self.sub()?.objects.surface(p[1])?;
        self.check_resource(surface.res_id)?;
        let depth = f64::from_bits(u64::from(p[2]) | (u64::from(p[3]) << 32));
        let clear = ops::ClearValue {
            color: [p[2], p[3], p[4], p[5]],
            depth,
            stencil: p[4],
        };
        let rect = (p[6], p[7], p[8], p[9]);
        ops::clear_surface(
            &self.shared.host,
            &self.shared.resources.borrow(),
            &surface,
            buffers,
            &clear,
            rect,
        )
    }

    fn clear_texture(&mut self, p: &[u32]) -> VrendResult<()> {
        expect_len(p, 12, "CLEAR_TEXTURE")?;
        self.check_resource(p[0])?;
        let bx = TexBox {
            x: p[2],
            y: p[3],
            z: p[4],
            width: p[5],
            height: p[6],
            depth: p[7],
        };
        let data = [p[8], p[9], p[10], p[11]];
        let resources = self.shared.resources.borrow();
        let res = resources
            .get(&p[0])
            .ok_or_else(|| invalid("resource vanished"))?;
        ops::clear_texture(&self.shared.host, res, p[1], &bx, &data)
    }

    fn blit(&mut self, p: &[u32]) -> VrendResult<()> {
        expect_len(p, 21, "BLIT")?;
        let info = ops::BlitInfo {
            mask: p[0] & 0xff,
            filter: (p[0] >> 8) & 0x3,
            scissor: ((p[0] >> 10) & 1 != 0)
                .then(|| (p[1] & 0xffff, p[1] >> 16, p[2] & 0xffff, p[2] >> 16)),
            dst: ops::BlitSide {
                res_id: p[3],
                level: p[4],
                format: p[5],
                x: p[6] as i32,
                y: p[7] as i32,
                z: p[8] as i32,
                w: p[9] as i32,
                h: p[10] as i32,
                d: p[11] as i32,
            },
            src: ops::BlitSide {
                res_id: p[12],
                level: p[13],
                format: p[14],
                x: p[15] as i32,
                y: p[16] as i32,
                z: p[17] as i32,
                w: p[18] as i32,
                h: p[19] as i32,
                d: p[20] as i32,
            },
        };
        self.check_resource(info.dst.res_id)?;
        self.check_resource(info.src.res_id)?;
        ops::blit(&self.shared.host, &self.shared.resources.borrow(), &info)
    }

    fn copy_region(&mut self, p: &[u32]) -> VrendResult<()> {
        expect_len(p, 13, "RESOURCE_COPY_REGION")?;
        self.check_resource(p[0])?;
        self.check_resource(p[5])?;
        let src_box = TexBox {
            x: p[7],
            y: p[8],
            z: p[9],
            width: p[10],
            height: p[11],
            depth: p[12],
        };
        ops::copy_region(
            &self.shared.host,
            &self.shared.resources.borrow(),
            (p[0], p[1], p[2], p[3], p[4]),
            (p[5], p[6]),
            &src_box,
        )
    }

    fn transfer_request(p: &[u32]) -> TransferRequest {
        TransferRequest {
            res_id: p[0],
            level: p[1],
            stride: p[3],
            layer_stride: p[4],
            x: p[5],
            y: p[6],
            z: p[7],
            width: p[8],
            height: p[9],
            depth: p[10],
            offset: 0,
        }
    }

    fn inline_write(&mut self, p: &[u32]) -> Result<(), ContextError> {
        if p.len() < 11 {
            return Err(invalid("RESOURCE_INLINE_WRITE too short").into());
        }
        let req = Self::transfer_request(p);
        self.check_resource(req.res_id)?;
        let mut data: Vec<u8> = p[11..].iter().flat_map(|d| d.to_le_bytes()).collect();
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
        p: &[u32],
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        expect_len(p, 13, "TRANSFER3D")?;
        let mut req = Self::transfer_request(p);
        req.offset = u64::from(p[11]);
        let direction = match p[12] {
            1 => TransferDirection::ToHost,
            2 => TransferDirection::FromHost,
            d => return Err(invalid(format!("transfer direction {d}")).into()),
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
        p: &[u32],
        backings: &mut dyn BackingLookup,
    ) -> Result<(), ContextError> {
        expect_len(p, 14, "COPY_TRANSFER3D")?;
        let mut req = Self::transfer_request(p);
        let (src, src_offset, flags) = (p[11], p[12], p[13]);
        req.offset = u64::from(src_offset);
        self.check_resource(req.res_id)?;
        self.check_resource(src)?;
        let direction = if flags & 2 != 0 {
            TransferDirection::FromHost
        } else {
            TransferDirection::ToHost
        };
        let mem = backings
            .backing(src)
            .ok_or_else(|| invalid(format!("staging resource {src} has no guest backing")))?;
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
