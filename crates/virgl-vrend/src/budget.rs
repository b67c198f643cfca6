//! Per-context byte budget for what a guest makes the host keep outside resources: decoded
//! objects (of every sub-context) and shader text, both split text still being assembled and
//! the parsed TGSI a shader object keeps.
//!
//! The object table caps objects per sub-context (2^20) and a context has at most 64
//! sub-contexts, so without a budget one context could pin 64 x 2^20 objects, each with its
//! payload (vertex elements, parsed shaders). Every object is charged an estimate of its host
//! footprint when it is inserted and refunded when it is destroyed or its sub-context goes;
//! split shader text is charged chunk by chunk as it arrives and refunded once the shader is
//! complete (or dropped). A charge that would exceed the budget is an
//! [`VrendError::OverBudget`] error, which marks the context broken like any other guest error.
//!
//! One shader's text is capped at [`MAX_SHADER_TEXT`]. Upstream virglrenderer has no cap below
//! its 32-bit length arithmetic; Mesa's encoder gives up on shaders whose TGSI text does not fit
//! 32 MiB, and real shaders are a few KiB to a few hundred KiB.
//!
//! Not counted here: resource storage (virgl-resource's per-context quotas), GL objects of
//! compiled shader variants and linked programs (bounded in count by `program.rs`), and
//! transient copies made while one command runs (bounded by the command buffer and
//! [`MAX_SHADER_TEXT`]).
//!
//! The budget is `VIRGL_RS_MAX_OBJECT_BYTES` bytes per context when that is set (`0`: no
//! budget), else [`DEFAULT_CONTEXT_BYTES`]. For scale: the 481 shaders of the TGSI corpus
//! (glmark2, piglit, games) average 0.7 KiB of text (largest 29 KiB) and are charged about 5.3
//! times their text length for the parsed program, so the default holds well over 100,000
//! such shaders.

use std::cell::Cell;
use std::collections::HashMap;
use std::mem::{size_of, size_of_val};
use std::rc::Rc;

use virgl_protocol::command::{AssembledShader, CreateShader, ShaderAssembler};

use crate::error::{VrendError, VrendResult};
use crate::objects::Object;
use crate::tgsi;

/// Longest shader text (declared length, bytes) a context may send.
pub const MAX_SHADER_TEXT: usize = 16 << 20;

/// Bytes of objects and shader text one context may hold unless `VIRGL_RS_MAX_OBJECT_BYTES`
/// says otherwise.
pub const DEFAULT_CONTEXT_BYTES: usize = 512 << 20;

/// Charged per object on top of its payload: the table's hash entries and this module's own.
const OBJECT_OVERHEAD: usize = 64;

/// Pipe shader stages (the assembler keeps one split shader per stage).
const STAGES: usize = virgl_protocol::pipe::SHADER_TYPES;

/// The byte account of one context, shared by its sub-contexts.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    /// `None`: unlimited.
    limit: Option<usize>,
    used: Cell<usize>,
}

impl Budget {
    /// A budget of `limit` bytes (`None`: unlimited).
    pub fn new(limit: Option<usize>) -> Rc<Self> {
        Rc::new(Self {
            limit,
            used: Cell::new(0),
        })
    }

    /// The budget a new context gets, from the environment or the default.
    pub fn for_context() -> Rc<Self> {
        const VAR: &str = "VIRGL_RS_MAX_OBJECT_BYTES";
        let limit = match std::env::var(VAR) {
            Err(_) => Some(DEFAULT_CONTEXT_BYTES),
            Ok(value) => match value.trim().parse::<u64>() {
                Ok(0) => None,
                Ok(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                Err(_) => {
                    tracing::warn!("ignoring {VAR}={value:?}: not a number");
                    Some(DEFAULT_CONTEXT_BYTES)
                }
            },
        };
        Self::new(limit)
    }

    /// Bytes charged now.
    #[cfg(test)]
    pub fn used(&self) -> usize {
        self.used.get()
    }

    /// Takes `bytes` from the budget, or fails without taking anything.
    pub fn charge(&self, what: &'static str, bytes: usize) -> VrendResult<()> {
        let used = self.used.get();
        let after = used.saturating_add(bytes);
        if let Some(limit) = self.limit {
            if after > limit {
                return Err(VrendError::OverBudget {
                    what,
                    bytes,
                    used,
                    limit,
                });
            }
        }
        self.used.set(after);
        Ok(())
    }

    /// Gives back bytes taken by [`Budget::charge`].
    pub fn refund(&self, bytes: usize) {
        let used = self.used.get();
        debug_assert!(bytes <= used, "refund of {bytes} with {used} charged");
        self.used.set(used.saturating_sub(bytes));
    }
}

/// What an object is charged: its decoded form, what it owns on the heap, and the overhead.
pub(crate) fn object_cost(object: &Object) -> usize {
    let payload = match object {
        Object::VertexElements(v) => {
            size_of_val(v.elements.as_slice()) + size_of_val(v.formats.as_slice())
        }
        Object::Shader(s) => size_of_val(&**s) + tgsi_bytes(&s.tgsi) + so_bytes(s.so.as_ref()),
        _ => 0,
    };
    size_of::<Object>() + OBJECT_OVERHEAD + payload
}

/// Heap bytes of a parsed TGSI program (vectors by length; strings by length).
fn tgsi_bytes(p: &tgsi::Program) -> usize {
    use tgsi::ir::{Declaration, DstOperand, Immediate, Instruction, Property, SrcOperand};
    let instructions: usize = p
        .instructions
        .iter()
        .map(|i| {
            i.dst.len() * size_of::<DstOperand>()
                + i.src.len() * size_of::<SrcOperand>()
                + size_of_val(i.tex_offsets.as_slice())
                + i.memory_format.as_ref().map_or(0, String::len)
        })
        .sum();
    p.properties.len() * size_of::<Property>()
        + p.declarations.len() * size_of::<Declaration>()
        + p.immediates.len() * size_of::<Immediate>()
        + p.instructions.len() * size_of::<Instruction>()
        + instructions
}

fn so_bytes(so: Option<&tgsi::StreamOutputKey>) -> usize {
    so.map_or(0, |so| size_of_val(so.outputs.as_slice()))
}

/// Objects of one sub-context charged to the context's budget: what was charged per handle,
/// refunded exactly when the object leaves (even if it changed in between).
#[derive(Debug, Default)]
pub(crate) struct ObjectCharges {
    budget: Rc<Budget>,
    charged: HashMap<u32, usize>,
}

impl ObjectCharges {
    pub fn new(budget: Rc<Budget>) -> Self {
        Self {
            budget,
            charged: HashMap::new(),
        }
    }

    /// Charges `object` under `handle` (which holds no charge yet).
    pub fn charge(&mut self, handle: u32, object: &Object) -> VrendResult<()> {
        let cost = object_cost(object);
        self.budget.charge("object", cost)?;
        if let Some(stale) = self.charged.insert(handle, cost) {
            self.budget.refund(stale);
        }
        Ok(())
    }

    /// Refunds the charge of `handle`, if it has one.
    pub fn refund(&mut self, handle: u32) {
        if let Some(cost) = self.charged.remove(&handle) {
            self.budget.refund(cost);
        }
    }

    /// Refunds every charge (the table was drained).
    pub fn refund_all(&mut self) {
        let total: usize = self.charged.drain().map(|(_, c)| c).sum();
        self.budget.refund(total);
    }
}

impl Drop for ObjectCharges {
    fn drop(&mut self) {
        self.refund_all();
    }
}

/// The sub-context's [`ShaderAssembler`] with split text charged to the budget while it waits
/// for its continuations, and the per-shader cap of [`MAX_SHADER_TEXT`].
#[derive(Debug)]
pub(crate) struct ShaderText {
    assembler: ShaderAssembler,
    budget: Rc<Budget>,
    /// Bytes charged per stage for the shader in progress.
    pending: [usize; STAGES],
}

impl ShaderText {
    pub fn new(budget: Rc<Budget>) -> Self {
        Self {
            assembler: ShaderAssembler::new(MAX_SHADER_TEXT),
            budget,
            pending: [0; STAGES],
        }
    }

    /// Feeds one chunk; the whole text once its last chunk arrived.
    pub fn push(&mut self, cmd: &CreateShader<'_>) -> VrendResult<Option<AssembledShader>> {
        let slot = cmd.shader_type.index().min(STAGES - 1);
        let chunk = cmd.text.len().saturating_mul(4);
        // Refused: the context breaks; a split shader already in progress keeps its charge
        // until the sub-context is torn down, as it keeps its memory.
        self.budget.charge("shader text", chunk)?;
        self.pending[slot] += chunk;
        match self.assembler.push(cmd) {
            Ok(None) => Ok(None),
            Ok(Some(done)) => {
                self.refund(slot);
                Ok(Some(done))
            }
            Err(e) => {
                // Every assembler error leaves no shader in progress for the stage.
                self.refund(slot);
                Err(VrendError::Invalid(e.to_string()))
            }
        }
    }

    /// Drops every split shader and its charge.
    pub fn reset(&mut self) {
        self.assembler.reset();
        for slot in 0..STAGES {
            self.refund(slot);
        }
    }

    fn refund(&mut self, slot: usize) {
        self.budget.refund(std::mem::take(&mut self.pending[slot]));
    }
}

impl Drop for ShaderText {
    fn drop(&mut self) {
        self.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::ShaderObj;
    use virgl_protocol::command::ShaderChunk;
    use virgl_protocol::pipe::ShaderType;

    const VS: &str = "VERT\nDCL IN[0]\nDCL OUT[0], POSITION\nDCL TEMP[0]\n\
                      IMM[0] FLT32 { 1.0, 0.0, 0.0, 1.0 }\n  0: MOV TEMP[0], IN[0]\n\
                      \x20 1: ADD OUT[0], TEMP[0], IMM[0]\n  2: END\n";

    fn words(text: &str) -> Vec<u32> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(0);
        bytes.resize(bytes.len().div_ceil(4) * 4, 0);
        bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    fn chunk(handle: u32, chunk: ShaderChunk, text: &[u32]) -> CreateShader<'_> {
        CreateShader {
            handle,
            shader_type: ShaderType::Vertex,
            chunk,
            num_tokens: 100,
            req_local_mem: 0,
            stream_output: None,
            text,
        }
    }

    #[test]
    fn charges_refunds_and_refuses_past_the_limit() {
        let b = Budget::new(Some(100));
        b.charge("object", 60).unwrap();
        let err = b.charge("object", 41).unwrap_err();
        assert!(matches!(
            err,
            VrendError::OverBudget {
                bytes: 41,
                used: 60,
                limit: 100,
                ..
            }
        ));
        assert_eq!(b.used(), 60, "a refused charge takes nothing");
        b.charge("object", 40).unwrap();
        b.refund(100);
        assert_eq!(b.used(), 0);
        let unlimited = Budget::new(None);
        unlimited.charge("object", usize::MAX).unwrap();
        unlimited.charge("object", 1).unwrap();
    }

    #[test]
    fn split_text_is_charged_until_complete_or_dropped() {
        let budget = Budget::new(Some(1 << 20));
        let mut text = ShaderText::new(budget.clone());
        let all = words(VS);
        let total_len = VS.len() as u32 + 1;
        let (first, rest) = all.split_at(4);
        assert!(text
            .push(&chunk(1, ShaderChunk::First { total_len }, first))
            .unwrap()
            .is_none());
        assert_eq!(budget.used(), 16);
        let done = text
            .push(&chunk(1, ShaderChunk::Continuation { offset: 16 }, rest))
            .unwrap()
            .expect("complete");
        assert_eq!(done.text_until_nul(), VS.as_bytes());
        assert_eq!(budget.used(), 0, "complete text is no longer held");

        // A mismatched continuation drops the split shader and its charge.
        text.push(&chunk(2, ShaderChunk::First { total_len }, first))
            .unwrap();
        assert!(text
            .push(&chunk(2, ShaderChunk::Continuation { offset: 8 }, rest))
            .is_err());
        assert_eq!(budget.used(), 0);

        // Dropping the sub-context's assembler refunds what was in progress.
        text.push(&chunk(3, ShaderChunk::First { total_len }, first))
            .unwrap();
        assert_eq!(budget.used(), 16);
        drop(text);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn split_text_over_the_budget_is_refused() {
        let budget = Budget::new(Some(64));
        let mut text = ShaderText::new(budget.clone());
        let filler = vec![0x2020_2020u32; 12];
        text.push(&chunk(1, ShaderChunk::First { total_len: 4096 }, &filler))
            .unwrap();
        let err = text
            .push(&chunk(1, ShaderChunk::Continuation { offset: 48 }, &filler))
            .unwrap_err();
        assert!(matches!(err, VrendError::OverBudget { .. }), "{err}");
        assert_eq!(budget.used(), 48);
    }

    #[test]
    fn shader_text_longer_than_the_cap_is_refused() {
        let budget = Budget::new(None);
        let mut text = ShaderText::new(budget.clone());
        let first = [0u32; 4];
        let total_len = MAX_SHADER_TEXT as u32 + 1;
        let err = text
            .push(&chunk(1, ShaderChunk::First { total_len }, &first))
            .unwrap_err();
        assert!(matches!(err, VrendError::Invalid(_)), "{err}");
        assert_eq!(budget.used(), 0);
        let at_cap = MAX_SHADER_TEXT as u32;
        assert!(text
            .push(&chunk(1, ShaderChunk::First { total_len: at_cap }, &first))
            .unwrap()
            .is_none());
    }

    #[test]
    fn objects_are_charged_by_payload_and_refunded_by_handle() {
        let budget = Budget::new(Some(1 << 20));
        let mut charges = ObjectCharges::new(budget.clone());
        let shader = Object::Shader(Rc::new(
            ShaderObj::new(ShaderType::Vertex, VS.as_bytes(), None, 0).unwrap(),
        ));
        let shader_cost = object_cost(&shader);
        // The parsed program is charged, not just the object's fixed part.
        assert!(shader_cost > size_of::<Object>() + OBJECT_OVERHEAD + VS.len());
        charges.charge(7, &shader).unwrap();
        assert_eq!(budget.used(), shader_cost);
        let surface = Object::Surface(crate::objects::Surface {
            res_id: 1,
            format: 1,
            level: 0,
            first_layer: 0,
            last_layer: 0,
            samples: 0,
            view: None,
        });
        charges.charge(8, &surface).unwrap();
        assert_eq!(budget.used(), shader_cost + object_cost(&surface));
        charges.refund(7);
        charges.refund(7);
        assert_eq!(budget.used(), object_cost(&surface));
        drop(charges);
        assert_eq!(budget.used(), 0);

        // A budget that fits a few objects refuses the next one.
        let small = Budget::new(Some(3 * object_cost(&surface)));
        let mut charges = ObjectCharges::new(small.clone());
        for h in 1..=3 {
            charges.charge(h, &surface).unwrap();
        }
        assert!(matches!(
            charges.charge(4, &surface),
            Err(VrendError::OverBudget { .. })
        ));
        charges.refund_all();
        assert_eq!(small.used(), 0);
    }
}
