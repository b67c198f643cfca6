//! `CREATE_OBJECT(SHADER)`: the header, stream-output info, TGSI text chunks, and
//! [`ShaderAssembler`], which joins a text split across several commands.
//!
//! Mesa sends TGSI as NUL-terminated text. A text that does not fit one command buffer is split:
//! the first command carries the total byte length (NUL included) in `offset`, each continuation
//! carries its byte offset with `VIRGL_OBJ_SHADER_OFFSET_CONT` set. The decoder exposes one chunk
//! per command; [`ShaderAssembler`] checks the chunks against each other, as upstream's
//! `vrend_create_shader` does, and never allocates past the declared length or its hard limit.
//! Text bytes are the dwords' little-endian bytes (the guest wrote bytes into a dword buffer).

use super::reader::{Reader, Result};
use crate::pipe::{limits, ShaderType, SHADER_TYPES};
use crate::ProtocolError;

/// `VIRGL_OBJ_SHADER_OFFSET_CONT`.
pub const SHADER_OFFSET_CONT: u32 = 1 << 31;

/// Which part of a possibly split shader text a command carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShaderChunk {
    /// First (or only) command; `total_len` is the whole text's length in bytes.
    First { total_len: u32 },
    /// A continuation starting `offset` bytes into the text.
    Continuation { offset: u32 },
}

impl ShaderChunk {
    pub const fn from_raw(v: u32) -> Self {
        if v & SHADER_OFFSET_CONT != 0 {
            ShaderChunk::Continuation {
                offset: v & !SHADER_OFFSET_CONT,
            }
        } else {
            ShaderChunk::First { total_len: v }
        }
    }

    pub const fn to_raw(self) -> u32 {
        match self {
            ShaderChunk::First { total_len } => total_len & !SHADER_OFFSET_CONT,
            ShaderChunk::Continuation { offset } => {
                (offset & !SHADER_OFFSET_CONT) | SHADER_OFFSET_CONT
            }
        }
    }
}

/// One stream-output entry (`VIRGL_OBJ_SHADER_SO_OUTPUT0` and `_SO` dwords).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StreamOutputEntry {
    pub register_index: u8,
    /// 2 bits.
    pub start_component: u8,
    /// 3 bits.
    pub num_components: u8,
    /// 3 bits.
    pub output_buffer: u8,
    /// In dwords.
    pub dst_offset: u16,
    /// 2 bits.
    pub stream: u8,
}

impl StreamOutputEntry {
    fn from_raw(a: u32, b: u32) -> Self {
        StreamOutputEntry {
            register_index: a as u8,
            start_component: ((a >> 8) & 0x3) as u8,
            num_components: ((a >> 10) & 0x7) as u8,
            output_buffer: ((a >> 13) & 0x7) as u8,
            dst_offset: (a >> 16) as u16,
            stream: (b & 0x3) as u8,
        }
    }

    fn to_raw(self) -> [u32; 2] {
        [
            self.register_index as u32
                | (self.start_component as u32 & 0x3) << 8
                | (self.num_components as u32 & 0x7) << 10
                | (self.output_buffer as u32 & 0x7) << 13
                | (self.dst_offset as u32) << 16,
            self.stream as u32 & 0x3,
        ]
    }
}

/// Stream-output description of a non-compute shader (present when `num_outputs > 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOutput<'a> {
    /// Per-buffer strides in dwords.
    pub stride: [u32; limits::MAX_SO_BUFFERS],
    raw_outputs: &'a [u32],
}

impl<'a> StreamOutput<'a> {
    /// Views `raw_outputs` (2 dwords per entry, as [`StreamOutput::dwords_of`] packs them).
    pub fn new(stride: [u32; limits::MAX_SO_BUFFERS], raw_outputs: &'a [u32]) -> Self {
        StreamOutput {
            stride,
            raw_outputs: &raw_outputs[..raw_outputs.len() / 2 * 2],
        }
    }

    /// Packs entries into the dwords [`StreamOutput::new`] views.
    pub fn dwords_of(entries: &[StreamOutputEntry]) -> Vec<u32> {
        entries.iter().flat_map(|e| e.to_raw()).collect()
    }

    /// Number of outputs (`<= PIPE_MAX_SO_OUTPUTS`).
    pub fn len(&self) -> usize {
        self.raw_outputs.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.raw_outputs.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = StreamOutputEntry> + 'a {
        self.raw_outputs
            .chunks_exact(2)
            .map(|c| StreamOutputEntry::from_raw(c[0], c[1]))
    }

    pub fn to_owned_info(&self) -> StreamOutputInfo {
        StreamOutputInfo {
            stride: self.stride,
            outputs: self.iter().collect(),
        }
    }
}

/// Owned copy of [`StreamOutput`], kept by [`ShaderAssembler`] across continuations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StreamOutputInfo {
    pub stride: [u32; limits::MAX_SO_BUFFERS],
    pub outputs: Vec<StreamOutputEntry>,
}

/// One `CREATE_OBJECT(SHADER)` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateShader<'a> {
    pub handle: u32,
    pub shader_type: ShaderType,
    pub chunk: ShaderChunk,
    /// TGSI token count hint for the host parser.
    pub num_tokens: u32,
    /// Compute shaders: required shared memory in bytes (dword 5). 0 for other stages.
    pub req_local_mem: u32,
    /// Non-compute shaders with stream output (only meaningful on the first chunk).
    pub stream_output: Option<StreamOutput<'a>>,
    /// This command's text dwords (4 text bytes each, little-endian, last dword padded).
    pub text: &'a [u32],
}

impl<'a> CreateShader<'a> {
    pub(crate) fn decode(r: &Reader<'a>) -> Result<Self> {
        r.at_least(5, "VIRGL_OBJ_SHADER_HDR_SIZE(0)")?;
        let shader_type = r.shader_type(2)?;
        let chunk = ShaderChunk::from_raw(r.dw(3));
        let mut text_start = 6;
        let (req_local_mem, stream_output) = if shader_type == ShaderType::Compute {
            (r.dw(5), None)
        } else {
            let nso = r.dw(5) as usize;
            r.check(nso <= limits::MAX_SO_OUTPUTS, "so_num_outputs", nso as u64)?;
            if nso == 0 {
                (0, None)
            } else {
                r.at_least(5 + 4 + 2 * nso, "VIRGL_OBJ_SHADER_HDR_SIZE(nso)")?;
                text_start += 4 + 2 * nso;
                let so = StreamOutput {
                    stride: r.array(6),
                    raw_outputs: r.slice(10, 2 * nso),
                };
                (0, Some(so))
            }
        };
        let text = r.tail(text_start);
        if let ShaderChunk::First { total_len } = chunk {
            // Upstream: the first chunk may not carry more dwords than the declared length needs.
            let needed = (total_len as usize).div_ceil(4);
            if text.len() > needed {
                return Err(r.bad_len("shader text longer than its declared total length"));
            }
        }
        Ok(CreateShader {
            handle: r.dw(1),
            shader_type,
            chunk,
            num_tokens: r.dw(4),
            req_local_mem,
            stream_output,
            text,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u32>) {
        out.extend([
            self.handle,
            self.shader_type.raw(),
            self.chunk.to_raw(),
            self.num_tokens,
        ]);
        encode_dword5_and_so(
            out,
            self.shader_type,
            self.req_local_mem,
            self.stream_output.as_ref(),
        );
        out.extend_from_slice(self.text);
    }

    /// Text bytes of this chunk (padding included).
    pub fn text_bytes(&self) -> impl ExactSizeIterator<Item = u8> + 'a {
        dword_bytes(self.text)
    }
}

/// The LE bytes of a dword slice.
pub(crate) fn dword_bytes(words: &[u32]) -> impl ExactSizeIterator<Item = u8> + '_ {
    // `flat_map` is not ExactSizeIterator; index arithmetic keeps the length known.
    (0..words.len() * 4).map(move |i| words[i / 4].to_le_bytes()[i % 4])
}

pub(crate) fn encode_dword5_and_so(
    out: &mut Vec<u32>,
    shader_type: ShaderType,
    req_local_mem: u32,
    so: Option<&StreamOutput<'_>>,
) {
    if shader_type == ShaderType::Compute {
        out.push(req_local_mem);
        return;
    }
    match so {
        Some(so) if !so.is_empty() => {
            out.push(so.len() as u32);
            out.extend_from_slice(&so.stride);
            out.extend_from_slice(so.raw_outputs);
        }
        _ => out.push(0),
    }
}

pub(crate) fn encode_so_info(out: &mut Vec<u32>, so: &StreamOutputInfo) {
    out.push(so.outputs.len() as u32);
    if !so.outputs.is_empty() {
        out.extend_from_slice(&so.stride);
        for o in &so.outputs {
            out.extend(o.to_raw());
        }
    }
}

/// A complete shader text with the header fields of its first command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledShader {
    pub handle: u32,
    pub shader_type: ShaderType,
    pub num_tokens: u32,
    pub req_local_mem: u32,
    pub stream_output: Option<StreamOutputInfo>,
    /// Exactly the declared number of bytes (normally NUL-terminated TGSI).
    pub text: Vec<u8>,
}

impl AssembledShader {
    /// The text up to (not including) the first NUL.
    pub fn text_until_nul(&self) -> &[u8] {
        let end = self
            .text
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.text.len());
        &self.text[..end]
    }
}

struct Partial {
    first: AssembledShader,
    /// Declared length rounded up to whole dwords: the most the chunks may carry.
    capacity: usize,
    declared: usize,
}

/// Joins shader text split over several `CREATE_OBJECT(SHADER)` commands.
///
/// Keeps at most one shader in progress per stage, like upstream. A first chunk while one is in
/// progress for its stage, a continuation whose handle or offset does not match, or data beyond
/// the declared length is an error and drops the partial shader. Memory is bounded by the declared
/// length, which must not exceed the hard limit given to [`ShaderAssembler::new`].
pub struct ShaderAssembler {
    limit: usize,
    partial: [Option<Partial>; SHADER_TYPES],
}

impl Default for ShaderAssembler {
    fn default() -> Self {
        Self::new(Self::DEFAULT_LIMIT)
    }
}

impl core::fmt::Debug for ShaderAssembler {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let in_progress: Vec<u32> = self
            .partial
            .iter()
            .flatten()
            .map(|p| p.first.handle)
            .collect();
        f.debug_struct("ShaderAssembler")
            .field("limit", &self.limit)
            .field("in_progress", &in_progress)
            .finish()
    }
}

impl ShaderAssembler {
    /// Default hard limit on one shader's text: 16 MiB.
    pub const DEFAULT_LIMIT: usize = 16 << 20;

    /// An assembler refusing texts longer than `limit` bytes.
    pub fn new(limit: usize) -> Self {
        ShaderAssembler {
            limit,
            partial: Default::default(),
        }
    }

    /// Whether a shader of this stage awaits continuations.
    pub fn in_progress(&self, stage: ShaderType) -> Option<u32> {
        self.partial[stage.index()].as_ref().map(|p| p.first.handle)
    }

    /// Drops every partial shader (e.g. when the sub-context changes or is destroyed).
    pub fn reset(&mut self) {
        self.partial = Default::default();
    }

    /// Feeds one chunk. Returns the shader once its last chunk arrived.
    pub fn push(&mut self, cmd: &CreateShader<'_>) -> Result<Option<AssembledShader>> {
        let slot = cmd.shader_type.index();
        let err = |reason| ProtocolError::ShaderAssembly {
            handle: cmd.handle,
            reason,
        };
        let chunk_len = cmd.text.len() * 4;
        match cmd.chunk {
            ShaderChunk::First { total_len } => {
                if self.partial[slot].is_some() {
                    self.partial[slot] = None;
                    return Err(err(
                        "new shader while a split shader of this stage is unfinished",
                    ));
                }
                let declared = total_len as usize;
                if declared > self.limit {
                    return Err(err("declared shader length exceeds the hard limit"));
                }
                let capacity = declared.div_ceil(4) * 4;
                if chunk_len > capacity {
                    return Err(err("first chunk longer than the declared length"));
                }
                let mut text = Vec::with_capacity(chunk_len.min(capacity));
                text.extend(cmd.text_bytes());
                let first = AssembledShader {
                    handle: cmd.handle,
                    shader_type: cmd.shader_type,
                    num_tokens: cmd.num_tokens,
                    req_local_mem: cmd.req_local_mem,
                    stream_output: cmd.stream_output.map(|so| so.to_owned_info()),
                    text,
                };
                if chunk_len == capacity {
                    return Ok(Some(finish(first, declared)));
                }
                self.partial[slot] = Some(Partial {
                    first,
                    capacity,
                    declared,
                });
                Ok(None)
            }
            ShaderChunk::Continuation { offset } => {
                let Some(p) = self.partial[slot].as_mut() else {
                    return Err(err("continuation without a shader in progress"));
                };
                if p.first.handle != cmd.handle {
                    self.partial[slot] = None;
                    return Err(err("continuation for a different handle"));
                }
                if offset as usize != p.first.text.len() {
                    self.partial[slot] = None;
                    return Err(err("continuation offset does not match received length"));
                }
                if p.capacity - p.first.text.len() < chunk_len {
                    self.partial[slot] = None;
                    return Err(err("continuation runs past the declared length"));
                }
                p.first.text.extend(cmd.text_bytes());
                if p.first.text.len() == p.capacity {
                    let Some(p) = self.partial[slot].take() else {
                        return Err(err("internal: partial shader vanished"));
                    };
                    return Ok(Some(finish(p.first, p.declared)));
                }
                Ok(None)
            }
        }
    }
}

fn finish(mut s: AssembledShader, declared: usize) -> AssembledShader {
    s.text.truncate(declared);
    s
}
