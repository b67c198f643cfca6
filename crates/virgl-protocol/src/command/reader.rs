//! Bounds-checked access to one command's dwords, with errors that carry the command's offset.

use super::header::CommandId;
use crate::ProtocolError;

/// One command as it sits in the stream: `words[0]` is the header, `words[1..]` the payload, so
/// the upstream `VIRGL_*` dword indices (which count the header as 0) index `words` directly.
#[derive(Clone, Copy)]
pub(crate) struct Reader<'a> {
    pub(crate) offset: usize,
    pub(crate) id: CommandId,
    pub(crate) obj: u8,
    words: &'a [u32],
}

pub(crate) type Result<T> = core::result::Result<T, ProtocolError>;

impl<'a> Reader<'a> {
    /// `words` must be exactly header + payload (the iterator guarantees it).
    pub(crate) fn new(offset: usize, id: CommandId, obj: u8, words: &'a [u32]) -> Self {
        Reader {
            offset,
            id,
            obj,
            words,
        }
    }

    /// Payload length in dwords.
    pub(crate) fn len(&self) -> usize {
        self.words.len().saturating_sub(1)
    }

    /// Dword `i` (1-based payload index). Callers check the length first; an index past the end
    /// reads as 0 rather than panicking, and debug builds flag the bug.
    pub(crate) fn dw(&self, i: usize) -> u32 {
        debug_assert!(
            i < self.words.len(),
            "{}: dword {i} read past checked length",
            self.name()
        );
        self.words.get(i).copied().unwrap_or(0)
    }

    pub(crate) fn f32(&self, i: usize) -> f32 {
        f32::from_bits(self.dw(i))
    }

    /// Dwords `from..` of the command (1-based), empty if `from` is past the end.
    pub(crate) fn tail(&self, from: usize) -> &'a [u32] {
        self.words.get(from..).unwrap_or(&[])
    }

    /// Dwords `from..from + n`, empty if out of range (callers check the length first).
    pub(crate) fn slice(&self, from: usize, n: usize) -> &'a [u32] {
        from.checked_add(n)
            .and_then(|end| self.words.get(from..end))
            .unwrap_or(&[])
    }

    pub(crate) fn array<const N: usize>(&self, from: usize) -> [u32; N] {
        core::array::from_fn(|i| self.dw(from + i))
    }

    pub(crate) fn name(&self) -> &'static str {
        self.id.name()
    }

    pub(crate) fn bad_len(&self, rule: &'static str) -> ProtocolError {
        ProtocolError::BadCommandLength {
            offset: self.offset,
            cmd: self.name(),
            len: self.len(),
            rule,
        }
    }

    /// Payload must be exactly `n` dwords.
    pub(crate) fn exact(&self, n: usize, rule: &'static str) -> Result<()> {
        if self.len() == n {
            Ok(())
        } else {
            Err(self.bad_len(rule))
        }
    }

    /// Payload must be at least `n` dwords.
    pub(crate) fn at_least(&self, n: usize, rule: &'static str) -> Result<()> {
        if self.len() >= n {
            Ok(())
        } else {
            Err(self.bad_len(rule))
        }
    }

    pub(crate) fn invalid(&self, field: &'static str, value: impl Into<u64>) -> ProtocolError {
        ProtocolError::InvalidCommandField {
            offset: self.offset,
            cmd: self.name(),
            field,
            value: value.into(),
        }
    }

    /// Fails with `InvalidCommandField` unless `ok`.
    pub(crate) fn check(&self, ok: bool, field: &'static str, value: impl Into<u64>) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(self.invalid(field, value))
        }
    }

    /// Dword `i` as a shader stage (`< PIPE_SHADER_TYPES`).
    pub(crate) fn shader_type(&self, i: usize) -> Result<crate::pipe::ShaderType> {
        let raw = self.dw(i);
        crate::pipe::ShaderType::from_raw(raw).ok_or_else(|| self.invalid("shader_type", raw))
    }

    /// Checks that `start + count <= max` without overflow.
    pub(crate) fn check_slots(&self, start: u32, count: usize, max: usize) -> Result<()> {
        let ok = (start as usize)
            .checked_add(count)
            .is_some_and(|end| end <= max);
        self.check(ok, "start_slot", start)
    }
}
