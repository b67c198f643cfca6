//! Stream output (transform feedback): the targets bound by `SET_STREAMOUT_TARGETS` and the
//! GL transform feedback object that captures into them.
//!
//! Gallium has no begin/end: captures happen on every draw while targets are bound, and a
//! target's `append` bit continues where the previous capture stopped. GL needs
//! `glBeginTransformFeedback` with a primitive class and forbids changing the buffers or (in
//! an unpaused session) the program meanwhile. So the session is begun at the first draw
//! whose program captures anything, paused after every draw (any program may run in
//! between) and resumed by the next capturing draw; binding other targets ends it. Binding
//! the same targets again with their append bits keeps the paused session, so GL keeps
//! appending (Mesa does this around every draw it splits).
//!
//! Not done here: draws whose vertex count comes from a target (`count_from_so`, refused by
//! the draw code) and appending after the targets were unbound in between (GL restarts at
//! the target's offset then).

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

/// Stream-output state of a sub-context.
#[derive(Debug)]
pub(crate) struct StreamOut {
    targets: Vec<SoTarget>,
    tfo: Option<glow::TransformFeedback>,
    session: Session,
    /// The targets changed since their buffers were bound to the transform feedback object.
    dirty: bool,
}

impl Default for StreamOut {
    fn default() -> Self {
        StreamOut {
            targets: Vec::new(),
            tfo: None,
            session: Session::Idle,
            dirty: false,
        }
    }
}

impl StreamOut {
    /// Whether any target is bound (the last vertex stage then captures its outputs).
    pub fn has_targets(&self) -> bool {
        self.targets.iter().any(|t| t.handle != 0)
    }

    /// `SET_STREAMOUT_TARGETS`. The sub-context's GL context is current.
    pub fn set_targets(&mut self, gl: &glow::Context, targets: Vec<SoTarget>, append: u32) {
        let all_append = targets
            .iter()
            .enumerate()
            .all(|(i, _)| i < 32 && append & (1 << i) != 0);
        let same = targets
            .iter()
            .map(|t| t.handle)
            .eq(self.targets.iter().map(|t| t.handle));
        if same && all_append && !targets.is_empty() {
            return;
        }
        self.end(gl);
        self.dirty = !targets.is_empty();
        self.targets = targets;
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
        if self.targets.is_empty() || !has_so {
            return Ok(());
        }
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
        // SAFETY: current context; a live transform feedback object of this context.
        unsafe { gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, Some(tfo)) };
        if self.dirty {
            for (i, t) in self.targets.iter().enumerate() {
                if t.handle == 0 {
                    // SAFETY: unbinding an index below MAX_SO_BUFFERS (decoder limit 16 is
                    // checked against the host's below by GL, which errors, not crashes).
                    unsafe { gl.bind_buffer_base(glow::TRANSFORM_FEEDBACK_BUFFER, i as u32, None) };
                    continue;
                }
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
                if t.size == 0 || end > u64::from(res.args.width) || t.offset % 4 != 0 {
                    return Err(VrendError::Invalid(format!(
                        "stream output range {}+{} of a {}-byte buffer",
                        t.offset, t.size, res.args.width
                    )));
                }
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

    /// After a draw: pauses an active capture so other programs may run.
    pub fn after_draw(&mut self, gl: &glow::Context) {
        if let Session::Active(m) = self.session {
            // SAFETY: current context; the session is active.
            unsafe { gl.pause_transform_feedback() };
            self.session = Session::Paused(m);
        }
    }

    fn end(&mut self, gl: &glow::Context) {
        if self.session == Session::Idle {
            return;
        }
        // SAFETY: current context; our object holds the begun session.
        unsafe {
            gl.bind_transform_feedback(glow::TRANSFORM_FEEDBACK, self.tfo);
            gl.end_transform_feedback();
        }
        self.session = Session::Idle;
        self.dirty = !self.targets.is_empty();
    }

    /// Ends any session and deletes the GL object (sub-context teardown).
    pub fn release(&mut self, gl: &glow::Context) {
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
