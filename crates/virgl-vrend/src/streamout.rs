//! Stream output (transform feedback): the targets bound by `SET_STREAMOUT_TARGETS` and the
//! GL transform feedback object that captures into them.
//!
//! Gallium has no begin/end: captures happen on every draw while targets are bound, and a
//! target's `append` bit continues where the previous capture stopped. GL needs
//! `glBeginTransformFeedback` with a primitive class and forbids changing the buffers or (in
//! an unpaused session) the program meanwhile. So each set of targets gets a GL transform
//! feedback object whose session is begun at the first draw whose program captures
//! anything, paused after every draw (any program may run in between) and resumed by the
//! next capturing draw. Binding another set leaves it paused; binding the same targets again
//! resumes it (GL keeps appending): Mesa creates new target objects for each new capture.
//!
//! Draws counted from stream output use the set's object with
//! `glDrawTransformFeedbackInstanced` ([`StreamOut::draw_auto_source`]). Not done: appending
//! to a set evicted after [`MAX_BINDINGS`] newer ones (it restarts at the targets' offsets).

use std::collections::HashMap;

use glow::HasContext;

use crate::error::{VrendError, VrendResult};
use crate::objects::{Object, ObjectTable, ObjectType};
use crate::resource::{GlResource, Storage};
use crate::tgsi::ir::{Primitive, Processor, PropertyName};
use crate::tgsi::Program;

/// One bound target (resolved from its `STREAMOUT_TARGET` object when bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SoTarget {
    pub handle: u32,
    pub res_id: u32,
    pub offset: u32,
    pub size: u32,
}

/// The targets of `SET_STREAMOUT_TARGETS` (handle 0 leaves a slot empty).
pub(crate) fn resolve_targets(
    objects: &ObjectTable,
    handles: &[u32],
) -> VrendResult<Vec<SoTarget>> {
    handles
        .iter()
        .map(|&h| {
            if h == 0 {
                return Ok(SoTarget {
                    handle: 0,
                    res_id: 0,
                    offset: 0,
                    size: 0,
                });
            }
            match objects.get(ObjectType::StreamoutTarget, h)? {
                Object::StreamoutTarget(t) => Ok(SoTarget {
                    handle: h,
                    res_id: t.res_handle,
                    offset: t.buffer_offset,
                    size: t.buffer_size,
                }),
                _ => Err(VrendError::Invalid(
                    "stream output target of another type".into(),
                )),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Session {
    Idle,
    /// Begun with this primitive class and paused.
    Paused(u32),
    Active(u32),
}

/// One set of targets with the GL transform feedback object capturing into it. Sets are
/// kept (paused) when the guest binds others, so binding them again with their append bits
/// continues where they stopped, as GL does for paused objects.
#[derive(Debug)]
struct Binding {
    targets: Vec<SoTarget>,
    tfo: Option<glow::TransformFeedback>,
    session: Session,
    /// The targets' buffers are not bound to `tfo` yet.
    dirty: bool,
    last_use: u64,
}

/// Target sets kept with their transform feedback objects before the least recently used is
/// ended and deleted.
const MAX_BINDINGS: usize = 8;

/// Stream-output state of a sub-context.
#[derive(Debug, Default)]
pub(crate) struct StreamOut {
    bindings: Vec<Binding>,
    current: Option<usize>,
    tick: u64,
}

impl StreamOut {
    /// `SET_STREAMOUT_TARGETS`. The sub-context's GL context is current.
    ///
    /// The append bits are not used: Mesa's virgl driver always sends 0 and creates new
    /// target objects for every `glBeginTransformFeedback`, so the same targets bound again
    /// mean a resumed (appending) capture and new targets a new one (upstream does the same).
    pub fn set_targets(&mut self, gl: &glow::Context, targets: Vec<SoTarget>, _append: u32) {
        self.tick += 1;
        if targets.iter().all(|t| t.handle == 0) {
            self.current = None;
            return;
        }
        let idx = match self.bindings.iter().position(|b| b.targets == targets) {
            Some(i) => i,
            None => {
                if self.bindings.len() >= MAX_BINDINGS {
                    let lru = (0..self.bindings.len())
                        .min_by_key(|&i| self.bindings[i].last_use)
                        .unwrap_or(0);
                    let mut old = self.bindings.swap_remove(lru);
                    old.release(gl);
                }
                self.bindings.push(Binding {
                    targets,
                    tfo: None,
                    session: Session::Idle,
                    dirty: true,
                    last_use: 0,
                });
                self.bindings.len() - 1
            }
        };
        self.bindings[idx].last_use = self.tick;
        self.current = Some(idx);
    }

    /// Before a draw: starts or resumes capturing when targets are bound and the program
    /// captures varyings (`has_so`); `prim` is the GL primitive class reaching the
    /// rasterizer (`POINTS`, `LINES` or `TRIANGLES`).
    pub fn before_draw(
        &mut self,
        gl: &glow::Context,
        resources: &HashMap<u32, GlResource>,
        attached: &std::collections::HashSet<u32>,
        has_so: bool,
        prim: u32,
    ) -> VrendResult<()> {
        let Some(b) = self.current.and_then(|i| self.bindings.get_mut(i)) else {
            return Ok(());
        };
        if !has_so {
            return Ok(());
        }
        b.begin(gl, resources, attached, prim)
    }

    /// After a draw: pauses an active capture so other programs may run.
    pub fn after_draw(&mut self, gl: &glow::Context) {
        if let Some(b) = self.current.and_then(|i| self.bindings.get_mut(i)) {
            if let Session::Active(m) = b.session {
                // SAFETY: current context; the session is active on the bound object. The
                // default object is bound between draws: Mesa refuses to link programs while
                // a paused object is bound.
                unsafe {
                    gl.pause_transform_feedback();
                    gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, None);
                }
                b.session = Session::Paused(m);
            }
        }
    }

    /// A draw counted from stream output: Mesa sends the target's `buffer_size`, so the
    /// capture is the most recent set whose first target has that size. Its session is ended
    /// (the guest ended it: Mesa creates new targets for the next capture) and its GL object
    /// returned for `glDrawTransformFeedback*`. Call before [`Self::before_draw`].
    pub fn draw_auto_source(
        &mut self,
        gl: &glow::Context,
        buffer_size: u32,
    ) -> VrendResult<glow::TransformFeedback> {
        let b = self
            .bindings
            .iter_mut()
            .filter(|b| b.tfo.is_some())
            .filter(|b| b.targets.iter().find(|t| t.handle != 0).map(|t| t.size) == Some(buffer_size))
            .max_by_key(|b| b.last_use)
            .ok_or_else(|| {
                VrendError::Invalid(format!(
                    "draw counted from a {buffer_size}-byte stream output target that captured nothing"
                ))
            })?;
        b.end(gl);
        b.tfo
            .ok_or_else(|| VrendError::Invalid("stream output object vanished".into()))
    }

    /// Ends every session and deletes the GL objects (sub-context teardown).
    pub fn release(&mut self, gl: &glow::Context) {
        for mut b in self.bindings.drain(..) {
            b.release(gl);
        }
        self.current = None;
    }
}

impl Binding {
    fn begin(
        &mut self,
        gl: &glow::Context,
        resources: &HashMap<u32, GlResource>,
        attached: &std::collections::HashSet<u32>,
        prim: u32,
    ) -> VrendResult<()> {
        if let Session::Paused(m) | Session::Active(m) = self.session {
            if m != prim {
                self.end(gl);
            }
        }
        let tfo = match self.tfo {
            Some(t) => t,
            None => {
                // SAFETY: the sub-context's GL context is current.
                let t =
                    unsafe { gl.create_transform_feedback() }.map_err(VrendError::HostGlMissing)?;
                self.tfo = Some(t);
                t
            }
        };
        // SAFETY: current context; a live transform feedback object of this context, and the
        // one bound before (if any) is paused.
        unsafe { gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, Some(tfo)) };
        if self.dirty {
            for (i, t) in self.targets.iter().enumerate() {
                if t.handle == 0 {
                    // SAFETY: unbinding an index below the decoder's limit of 16 (GL reports
                    // an index beyond the host's as an error).
                    unsafe { gl.bind_buffer_base(glow::TRANSFORM_FEEDBACK_BUFFER, i as u32, None) };
                    continue;
                }
                let buf = target_buffer(t, resources, attached)?;
                // SAFETY: current context, our transform feedback object bound and not
                // active; the range lies inside the buffer.
                unsafe {
                    gl.bind_buffer_range(
                        glow::TRANSFORM_FEEDBACK_BUFFER,
                        i as u32,
                        Some(buf),
                        t.offset as i32,
                        t.size as i32,
                    )
                };
            }
            self.dirty = false;
        }
        // SAFETY: current context; the program with captured varyings is in use and the
        // buffers are bound (GL reports misuse as errors).
        unsafe {
            match self.session {
                Session::Paused(_) => gl.resume_transform_feedback(),
                Session::Idle => gl.begin_transform_feedback(prim),
                Session::Active(_) => {}
            }
        }
        self.session = Session::Active(prim);
        Ok(())
    }

    fn end(&mut self, gl: &glow::Context) {
        if self.session == Session::Idle {
            return;
        }
        // SAFETY: current context; our object holds the begun session and any other bound
        // object is paused.
        unsafe {
            gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, self.tfo);
            gl.end_transform_feedback();
            gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, None);
        }
        self.session = Session::Idle;
        self.dirty = true;
    }

    fn release(&mut self, gl: &glow::Context) {
        self.end(gl);
        if let Some(t) = self.tfo.take() {
            // SAFETY: the object belongs to this sub-context and is deleted once.
            unsafe {
                gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, None);
                gl.delete_transform_feedback(t);
            }
        }
    }
}

/// The buffer of a target, checked: attached, a host buffer, the range inside it.
fn target_buffer(
    t: &SoTarget,
    resources: &HashMap<u32, GlResource>,
    attached: &std::collections::HashSet<u32>,
) -> VrendResult<glow::Buffer> {
    if !attached.contains(&t.res_id) {
        return Err(VrendError::Invalid(format!(
            "stream output resource {} is not attached",
            t.res_id
        )));
    }
    let res = resources.get(&t.res_id).ok_or_else(|| {
        VrendError::Invalid(format!("unknown stream output resource {}", t.res_id))
    })?;
    let Storage::Buffer(buf) = res.storage else {
        return Err(VrendError::Invalid(format!(
            "stream output target {} is not a buffer",
            t.res_id
        )));
    };
    let end = u64::from(t.offset) + u64::from(t.size);
    if t.size == 0 || end > u64::from(res.args.width) || !t.offset.is_multiple_of(4) {
        return Err(VrendError::Invalid(format!(
            "stream output range {}+{} of a {}-byte buffer",
            t.offset, t.size, res.args.width
        )));
    }
    Ok(buf)
}

/// The primitive class transform feedback records for a draw: what the last vertex stage
/// emits (geometry shader output, tessellation output) or else the draw's mode.
pub(crate) fn capture_primitive(last: Option<&Program>, draw_mode: u32) -> u32 {
    if let Some(p) = last {
        match p.processor {
            Processor::Geometry => {
                return match p
                    .property(PropertyName::GsOutputPrimitive)
                    .and_then(Primitive::from_index)
                {
                    Some(Primitive::Points) => glow::POINTS,
                    Some(Primitive::Lines | Primitive::LineStrip) => glow::LINES,
                    _ => glow::TRIANGLES,
                }
            }
            Processor::TessEval => {
                if p.property(PropertyName::TesPointMode) == Some(1) {
                    return glow::POINTS;
                }
                return match p
                    .property(PropertyName::TesPrimMode)
                    .and_then(Primitive::from_index)
                {
                    Some(Primitive::Lines) => glow::LINES,
                    _ => glow::TRIANGLES,
                };
            }
            _ => {}
        }
    }
    match draw_mode {
        glow::POINTS => glow::POINTS,
        glow::LINES
        | glow::LINE_STRIP
        | glow::LINE_LOOP
        | glow::LINES_ADJACENCY
        | glow::LINE_STRIP_ADJACENCY => glow::LINES,
        _ => glow::TRIANGLES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_primitive_follows_the_last_stage() {
        let gs = crate::tgsi::parse(
            "GEOM\nPROPERTY GS_INPUT_PRIMITIVE TRIANGLES\nPROPERTY GS_OUTPUT_PRIMITIVE \
             LINE_STRIP\nPROPERTY GS_MAX_OUTPUT_VERTICES 2\nDCL OUT[0], POSITION\n0: END\n",
        )
        .unwrap();
        assert_eq!(capture_primitive(Some(&gs), glow::TRIANGLES), glow::LINES);
        assert_eq!(
            capture_primitive(None, glow::TRIANGLE_STRIP),
            glow::TRIANGLES
        );
        assert_eq!(capture_primitive(None, glow::LINE_LOOP), glow::LINES);
        assert_eq!(capture_primitive(None, glow::POINTS), glow::POINTS);
    }
}
