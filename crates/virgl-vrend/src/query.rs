//! Queries (`VIRGL_OBJECT_QUERY`, BEGIN/END_QUERY, GET_QUERY_RESULT[_QBO]) and conditional
//! rendering as GL query objects.
//!
//! GET_QUERY_RESULT writes a `struct virgl_host_query_state` (state, result size, 64-bit result)
//! into the guest backing of the query's buffer resource, where Mesa's virgl driver polls it,
//! as upstream does. Unlike upstream, the result is always waited for on the host (GL's
//! `QUERY_RESULT`) instead of being re-polled later: the guest never sees `WAIT_HOST`, at the
//! price of a stall when it asks before the GPU is done.

use glow::HasContext;
use virgl_protocol::command::{GetQueryResultQbo, Query};
use virgl_protocol::pipe::{QueryType, QueryValueType};

use crate::error::{VrendError, VrendResult};
use crate::features::Feature;
use crate::host::HostGl;
use crate::resource::{GlResource, Storage};

fn invalid(msg: impl Into<String>) -> VrendError {
    VrendError::Invalid(msg.into())
}

/// `VIRGL_QUERY_STATE_DONE`.
const QUERY_STATE_DONE: u32 = 1;
/// `sizeof(struct virgl_host_query_state)`.
pub const HOST_QUERY_STATE_SIZE: usize = 16;

/// GL targets of `PIPE_STAT_QUERY_*` (the guest puts the statistic in the index).
const PIPELINE_STATISTICS: [u32; 11] = [
    0x82EE, // VERTICES_SUBMITTED
    0x82EF, // PRIMITIVES_SUBMITTED
    0x82F0, // VERTEX_SHADER_INVOCATIONS
    0x887F, // GEOMETRY_SHADER_INVOCATIONS
    0x82F3, // GEOMETRY_SHADER_PRIMITIVES_EMITTED
    0x82F6, // CLIPPING_INPUT_PRIMITIVES
    0x82F7, // CLIPPING_OUTPUT_PRIMITIVES
    0x82F4, // FRAGMENT_SHADER_INVOCATIONS
    0x82F1, // TESS_CONTROL_SHADER_PATCHES
    0x82F2, // TESS_EVALUATION_SHADER_INVOCATIONS
    0x82F5, // COMPUTE_SHADER_INVOCATIONS
];

const ANY_SAMPLES_PASSED_CONSERVATIVE: u32 = 0x8D6A;
const TRANSFORM_FEEDBACK_OVERFLOW: u32 = 0x82EC;
const TRANSFORM_FEEDBACK_STREAM_OVERFLOW: u32 = 0x82ED;

/// A query with its GL query object.
#[derive(Debug)]
pub struct QueryObj {
    pub gl_target: u32,
    /// Vertex stream for the indexed targets (0 for statistics, whose index names the target).
    pub index: u32,
    pub query: glow::Query,
    /// The buffer resource the result state is written into.
    pub res_id: u32,
    /// Whether it has been begun/ended at least once (GL refuses results of unused names).
    used: bool,
}

impl QueryObj {
    pub fn create(host: &HostGl, res: &GlResource, q: &Query) -> VrendResult<Self> {
        let f = &host.features;
        let ty = q
            .query_type()
            .ok_or_else(|| invalid(format!("query type {}", q.query_type)))?;
        if !matches!(res.storage, Storage::Buffer(_) | Storage::GuestOnly) {
            return Err(invalid(format!(
                "query resource {} is not a buffer",
                q.res_handle
            )));
        }
        let missing = |what: &str| Err(VrendError::Unsupported(format!("{what} queries")));
        let mut index = u32::from(q.index);
        let gl_target = match ty {
            QueryType::OcclusionCounter if f.has(Feature::OcclusionQuery) => glow::SAMPLES_PASSED,
            QueryType::OcclusionCounter | QueryType::OcclusionPredicate
                if f.has(Feature::OcclusionQueryBoolean) =>
            {
                glow::ANY_SAMPLES_PASSED
            }
            QueryType::OcclusionPredicateConservative if f.has(Feature::OcclusionQueryBoolean) => {
                if host.gl_ver >= 43 {
                    ANY_SAMPLES_PASSED_CONSERVATIVE
                } else {
                    glow::ANY_SAMPLES_PASSED
                }
            }
            QueryType::Timestamp if f.has(Feature::TimerQuery) => glow::TIMESTAMP,
            QueryType::TimeElapsed if f.has(Feature::TimerQuery) => glow::TIME_ELAPSED,
            QueryType::PrimitivesGenerated => glow::PRIMITIVES_GENERATED,
            QueryType::PrimitivesEmitted => glow::TRANSFORM_FEEDBACK_PRIMITIVES_WRITTEN,
            QueryType::SoOverflowPredicate if f.has(Feature::TransformFeedbackOverflowQuery) => {
                TRANSFORM_FEEDBACK_STREAM_OVERFLOW
            }
            QueryType::SoOverflowAnyPredicate if f.has(Feature::TransformFeedbackOverflowQuery) => {
                TRANSFORM_FEEDBACK_OVERFLOW
            }
            QueryType::PipelineStatistics if f.has(Feature::PipelineStatisticsQuery) => {
                let t = *PIPELINE_STATISTICS
                    .get(index as usize)
                    .ok_or_else(|| invalid(format!("pipeline statistic {index}")))?;
                index = 0;
                t
            }
            QueryType::Timestamp | QueryType::TimeElapsed => return missing("timer"),
            QueryType::PipelineStatistics => return missing("pipeline statistics"),
            other => return missing(&format!("{other:?}")),
        };
        if index > 3 {
            return Err(invalid(format!("query stream index {index}")));
        }
        // SAFETY: current context; creating a query name.
        let query = unsafe { host.gl.create_query() }.map_err(VrendError::HostGlMissing)?;
        Ok(Self {
            gl_target,
            index,
            query,
            res_id: q.res_handle,
            used: false,
        })
    }

    fn indexed(&self, host: &HostGl) -> VrendResult<bool> {
        if self.index == 0 {
            return Ok(false);
        }
        if host.extra.begin_query_indexed.is_none() {
            return Err(VrendError::Unsupported(
                "indexed queries (no ARB_transform_feedback3)".into(),
            ));
        }
        Ok(true)
    }

    pub fn begin(&mut self, host: &HostGl) -> VrendResult<()> {
        if self.gl_target == glow::TIMESTAMP {
            return Ok(());
        }
        let gl = &host.gl;
        // SAFETY: current context; the query is ours; GL reports a query already active on the
        // target as an error, checked below.
        unsafe {
            match (self.indexed(host)?, host.extra.begin_query_indexed) {
                (true, Some(begin)) => begin(self.gl_target, self.index, self.query.0.get()),
                _ => gl.begin_query(self.gl_target, self.query),
            }
        }
        self.used = true;
        host.check("begin query")
    }

    pub fn end(&mut self, host: &HostGl) -> VrendResult<()> {
        let gl = &host.gl;
        // SAFETY: current context; ending a query that is not active is a GL error, checked.
        unsafe {
            if self.gl_target == glow::TIMESTAMP {
                gl.query_counter(self.query, glow::TIMESTAMP);
                self.used = true;
            } else {
                match (self.indexed(host)?, host.extra.end_query_indexed) {
                    (true, Some(end)) => end(self.gl_target, self.index),
                    _ => gl.end_query(self.gl_target),
                }
            }
        }
        host.check("end query")
    }

    /// Waits for the result (0 for a query never run).
    pub fn result(&self, host: &HostGl) -> u64 {
        if !self.used {
            return 0;
        }
        // SAFETY: current context; the query has been issued, so the name is a query object.
        unsafe {
            host.gl
                .get_query_parameter_u64(self.query, glow::QUERY_RESULT)
        }
    }

    /// The `virgl_host_query_state` bytes for a result.
    pub fn host_state(&self, result: u64) -> [u8; HOST_QUERY_STATE_SIZE] {
        let timer = matches!(self.gl_target, glow::TIMESTAMP | glow::TIME_ELAPSED);
        let mut out = [0u8; HOST_QUERY_STATE_SIZE];
        out[0..4].copy_from_slice(&QUERY_STATE_DONE.to_le_bytes());
        out[4..8].copy_from_slice(&(if timer { 8u32 } else { 4 }).to_le_bytes());
        out[8..16].copy_from_slice(&result.to_le_bytes());
        out
    }

    /// GET_QUERY_RESULT_QBO: GL writes the result into `qbo` at `q.offset` (no CPU round trip).
    pub fn write_to_qbo(
        &self,
        host: &HostGl,
        qbo: &GlResource,
        q: &GetQueryResultQbo,
    ) -> VrendResult<()> {
        let Storage::Buffer(buf) = qbo.storage else {
            return Err(invalid(format!(
                "QBO {} is not a host buffer",
                q.qbo_handle
            )));
        };
        let vt = QueryValueType::from_raw(q.result_type)
            .ok_or_else(|| invalid(format!("query value type {}", q.result_type)))?;
        let size = match vt {
            QueryValueType::I32 | QueryValueType::U32 => 4,
            QueryValueType::I64 | QueryValueType::U64 => 8,
        };
        if u64::from(q.offset) + size > u64::from(qbo.args.width) {
            return Err(invalid("query result beyond the QBO"));
        }
        let get = match vt {
            QueryValueType::I32 => host.extra.get_query_object_iv,
            QueryValueType::U32 => host.extra.get_query_object_uiv,
            QueryValueType::I64 => host.extra.get_query_object_i64v,
            QueryValueType::U64 => host.extra.get_query_object_ui64v,
        }
        .ok_or_else(|| VrendError::Unsupported("query buffer objects".into()))?;
        let pname = if q.index == -1 {
            glow::QUERY_RESULT_AVAILABLE
        } else if q.wait {
            glow::QUERY_RESULT
        } else {
            glow::QUERY_RESULT_NO_WAIT
        };
        if !self.used {
            return Ok(());
        }
        // SAFETY: current context; with a QUERY_BUFFER bound, the pointer argument is a byte
        // offset into it, checked above to leave room for the result.
        unsafe {
            host.gl.bind_buffer(glow::QUERY_BUFFER, Some(buf));
            get(
                self.query.0.get(),
                pname,
                q.offset as usize as *mut std::ffi::c_void,
            );
            host.gl.bind_buffer(glow::QUERY_BUFFER, None);
        }
        host.check("query result to buffer")
    }

    pub fn release(self, gl: &glow::Context) {
        // SAFETY: the query belongs to this object.
        unsafe { gl.delete_query(self.query) };
    }
}

/// GL mode of a `pipe_render_cond_flag`, inverted or not.
pub fn render_condition_mode(mode: u32, inverted: bool) -> Option<u32> {
    const QUERY_WAIT_INVERTED: u32 = 0x8E17;
    Some(match (mode, inverted) {
        (0, false) => glow::QUERY_WAIT,
        (1, false) => glow::QUERY_NO_WAIT,
        (2, false) => glow::QUERY_BY_REGION_WAIT,
        (3, false) => glow::QUERY_BY_REGION_NO_WAIT,
        (0..=3, true) => QUERY_WAIT_INVERTED + mode,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_condition_modes() {
        assert_eq!(render_condition_mode(0, false), Some(glow::QUERY_WAIT));
        assert_eq!(render_condition_mode(3, true), Some(0x8E1A));
        assert_eq!(render_condition_mode(4, false), None);
    }
}
