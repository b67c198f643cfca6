//! TGSI text → [`Program`].
//!
//! The grammar is the one Gallium's `tgsi_dump` prints and `tgsi_text` reads, one statement a
//! line: a processor header, then `PROPERTY`, `DCL`, `IMM` and instruction lines (the latter
//! optionally numbered `N:`). The text comes from the guest: every number is bounds-checked,
//! every count is capped (see [`Limits`](super::Limits)) and every error names its line.

use super::ir::*;
use super::Limits;
use crate::error::VrendError;

type PResult<T> = Result<T, VrendError>;

fn err(line: usize, message: impl Into<String>) -> VrendError {
    VrendError::Shader {
        line,
        message: message.into(),
    }
}

/// A cursor over one line.
struct Cur<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str, line: usize) -> Self {
        Cur {
            s: s.as_bytes(),
            pos: 0,
            line,
        }
    }

    fn err(&self, msg: impl std::fmt::Display) -> VrendError {
        err(self.line, format!("{msg} at column {}", self.pos + 1))
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] == b' ' || self.s[self.pos] == b'\t') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn at_end(&mut self) -> bool {
        self.ws();
        self.pos >= self.s.len()
    }

    /// Consumes `c` (after optional blanks) if present.
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(self.err(format_args!("expected `{}`", c as char)))
        }
    }

    /// An identifier-like word: `[A-Za-z0-9_]+`.
    fn word(&mut self) -> PResult<&'a str> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("expected a name"));
        }
        // The line is valid UTF-8 and the word is ASCII.
        std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("bad name"))
    }

    fn uint(&mut self) -> PResult<u32> {
        self.ws();
        let start = self.pos;
        let mut v: u64 = 0;
        while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            v = v * 10 + u64::from(c - b'0');
            if v > u64::from(u32::MAX) {
                return Err(self.err("number out of range"));
            }
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("expected a number"));
        }
        Ok(v as u32)
    }

    fn int(&mut self) -> PResult<i64> {
        self.ws();
        let neg = match self.peek() {
            Some(b'-') => {
                self.pos += 1;
                true
            }
            Some(b'+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        let v = i64::from(self.uint()?);
        Ok(if neg { -v } else { v })
    }

    /// A numeric literal token (digits, signs, `.`, exponent, hex, inf/nan letters).
    fn number_token(&mut self) -> PResult<&'a str> {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric()
                || matches!(self.s[self.pos], b'.' | b'-' | b'+'))
        {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err("expected a number"));
        }
        std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.err("bad number"))
    }
}

fn component(c: u8) -> Option<u8> {
    match c.to_ascii_lowercase() {
        b'x' => Some(0),
        b'y' => Some(1),
        b'z' => Some(2),
        b'w' => Some(3),
        _ => None,
    }
}

struct Parser<'l> {
    limits: &'l Limits,
    prog: Program,
    /// Open blocks, for nesting checks.
    blocks: Vec<Opcode>,
}

/// Parses TGSI text with the given limits.
pub fn parse_with_limits(text: &str, limits: &Limits) -> PResult<Program> {
    // The guest may pad the text with NULs.
    let text = text.split('\0').next().unwrap_or("");
    if text.len() > limits.max_text_len {
        return Err(err(
            0,
            format!(
                "shader text of {} bytes exceeds {}",
                text.len(),
                limits.max_text_len
            ),
        ));
    }
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty());
    let (hline, header) = lines.next().ok_or_else(|| err(1, "empty shader text"))?;
    let processor = Processor::from_name(header)
        .ok_or_else(|| err(hline, format!("unknown processor header `{header}`")))?;
    let mut p = Parser {
        limits,
        prog: Program {
            processor,
            properties: Vec::new(),
            declarations: Vec::new(),
            immediates: Vec::new(),
            instructions: Vec::new(),
        },
        blocks: Vec::new(),
    };
    for (line, text) in lines {
        p.statement(&mut Cur::new(text, line))?;
    }
    if let Some(open) = p.blocks.last() {
        return Err(err(
            text.lines().count(),
            format!("unterminated {} block", open.name()),
        ));
    }
    Ok(p.prog)
}

impl Parser<'_> {
    fn statement(&mut self, c: &mut Cur) -> PResult<()> {
        // An optional `N:` label.
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.uint()?;
            c.expect(b':')?;
            return self.instruction(c);
        }
        let save = c.pos;
        let w = c.word()?;
        match w {
            "DCL" => self.declaration(c),
            "IMM" => self.immediate(c),
            "PROPERTY" => self.property(c),
            _ => {
                c.pos = save;
                self.instruction(c)
            }
        }
    }

    fn property(&mut self, c: &mut Cur) -> PResult<()> {
        if self.prog.properties.len() >= self.limits.max_properties {
            return Err(c.err("too many properties"));
        }
        let name_s = c.word()?;
        let name = PropertyName::from_name(name_s)
            .ok_or_else(|| c.err(format_args!("unknown property `{name_s}`")))?;
        c.ws();
        let value = if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            c.uint()?
        } else {
            let v = c.word()?;
            let found = match name {
                PropertyName::GsInputPrimitive | PropertyName::GsOutputPrimitive => {
                    Primitive::from_name(v).map(|p| p as u32)
                }
                PropertyName::FsCoordOrigin => match v {
                    "UPPER_LEFT" => Some(0),
                    "LOWER_LEFT" => Some(1),
                    _ => None,
                },
                PropertyName::FsCoordPixelCenter => match v {
                    "HALF_INTEGER" => Some(0),
                    "INTEGER" => Some(1),
                    _ => None,
                },
                PropertyName::NextShader => Processor::from_name(v).map(|p| p as u32),
                _ => None,
            };
            found.ok_or_else(|| c.err(format_args!("bad value `{v}` for {name_s}")))?
        };
        if !c.at_end() {
            return Err(c.err("trailing text after property"));
        }
        self.prog.properties.push(Property { name, value });
        Ok(())
    }

    fn immediate(&mut self, c: &mut Cur) -> PResult<()> {
        if self.prog.immediates.len() >= self.limits.max_immediates {
            return Err(c.err("too many immediates"));
        }
        if c.eat(b'[') {
            let n = c.uint()?;
            c.expect(b']')?;
            if n as usize != self.prog.immediates.len() {
                return Err(c.err(format_args!(
                    "immediate numbered {n}, expected {}",
                    self.prog.immediates.len()
                )));
            }
        }
        let ty_s = c.word()?;
        let ty = ImmType::from_name(ty_s)
            .ok_or_else(|| c.err(format_args!("unknown immediate type `{ty_s}`")))?;
        c.expect(b'{')?;
        let mut data = [0u32; 4];
        let mut len = 0usize;
        loop {
            let tok = c.number_token()?;
            let words: (u32, Option<u32>) = match ty {
                ImmType::Flt32 => (parse_f32_bits(tok).ok_or_else(|| c.err("bad float"))?, None),
                ImmType::Uint32 => (parse_u32(tok).ok_or_else(|| c.err("bad uint"))?, None),
                ImmType::Int32 => {
                    let v: i64 = tok.parse().map_err(|_| c.err("bad int"))?;
                    let v = i32::try_from(v).map_err(|_| c.err("int out of range"))?;
                    (v as u32, None)
                }
                ImmType::Flt64 => {
                    let bits = parse_f64_bits(tok).ok_or_else(|| c.err("bad double"))?;
                    (bits as u32, Some((bits >> 32) as u32))
                }
                ImmType::Uint64 => {
                    let v: u64 = tok.parse().map_err(|_| c.err("bad uint64"))?;
                    (v as u32, Some((v >> 32) as u32))
                }
                ImmType::Int64 => {
                    let v: i64 = tok.parse().map_err(|_| c.err("bad int64"))?;
                    (v as u32, Some(((v as u64) >> 32) as u32))
                }
            };
            for w in std::iter::once(words.0).chain(words.1) {
                if len >= 4 {
                    return Err(c.err("more than four words in an immediate"));
                }
                data[len] = w;
                len += 1;
            }
            if c.eat(b'}') {
                break;
            }
            c.expect(b',')?;
        }
        if !c.at_end() {
            return Err(c.err("trailing text after immediate"));
        }
        self.prog.immediates.push(Immediate {
            ty,
            data,
            len: len as u8,
        });
        Ok(())
    }

    /// A register number, bounds-checked.
    fn reg_uint(&self, c: &mut Cur) -> PResult<u32> {
        let v = c.uint()?;
        if v > self.limits.max_register_index {
            Err(c.err(format_args!("register index {v} out of range")))
        } else {
            Ok(v)
        }
    }

    fn declaration(&mut self, c: &mut Cur) -> PResult<()> {
        if self.prog.declarations.len() >= self.limits.max_declarations {
            return Err(c.err("too many declarations"));
        }
        let file_s = c.word()?;
        let file = File::from_name(file_s)
            .ok_or_else(|| c.err(format_args!("unknown file `{file_s}`")))?;
        let mut brackets: Vec<Option<(u32, u32)>> = Vec::new();
        while c.eat(b'[') {
            if brackets.len() >= 3 {
                return Err(c.err("too many brackets"));
            }
            if c.eat(b']') {
                brackets.push(None);
                continue;
            }
            let first = self.reg_uint(c)?;
            let mut last = first;
            c.ws();
            if c.s[c.pos..].starts_with(b"..") {
                c.pos += 2;
                last = self.reg_uint(c)?;
            }
            c.expect(b']')?;
            if last < first {
                return Err(c.err("empty declaration range"));
            }
            brackets.push(Some((first, last)));
        }
        let (first, last) = brackets
            .pop()
            .flatten()
            .ok_or_else(|| c.err("declaration without a register range"))?;
        let mut per_vertex = false;
        let mut dimension = None;
        for b in brackets {
            match b {
                None => per_vertex = true,
                Some((d, d2)) if d == d2 => dimension = Some(d),
                Some(_) => return Err(c.err("range in a dimension bracket")),
            }
        }
        let mut d = Declaration {
            file,
            dimension,
            per_vertex,
            first,
            last,
            usage_mask: 0xf,
            array_id: None,
            local: false,
            semantic: None,
            interpolation: None,
            location: InterpLocation::Center,
            invariant: false,
            image: None,
            sampler_view: None,
            atomic: false,
            memory_type: None,
            line: c.line,
        };
        if c.eat(b'.') {
            d.usage_mask = self.write_mask(c)?;
        }
        let mut return_types: Vec<ReturnType> = Vec::new();
        while c.eat(b',') {
            let w = c.word()?;
            match w {
                "ARRAY" => {
                    c.expect(b'(')?;
                    d.array_id = Some(c.uint()?);
                    c.expect(b')')?;
                }
                "LOCAL" => d.local = true,
                "INVARIANT" => d.invariant = true,
                "STREAM" => {
                    c.expect(b'(')?;
                    let mut s = [0u8; 4];
                    for (i, v) in s.iter_mut().enumerate() {
                        if i > 0 {
                            c.expect(b',')?;
                        }
                        let n = c.uint()?;
                        *v = u8::try_from(n)
                            .ok()
                            .filter(|&n| n < 4)
                            .ok_or_else(|| c.err("stream out of range"))?;
                    }
                    c.expect(b')')?;
                    match d.semantic.as_mut() {
                        Some(sem) => sem.stream = s,
                        None => return Err(c.err("STREAM without a semantic")),
                    }
                }
                "ATOMIC" if file == File::Buffer => d.atomic = true,
                "WR" if file == File::Image => {
                    d.image
                        .as_mut()
                        .ok_or_else(|| c.err("WR before target"))?
                        .writable = true
                }
                "RAW" if file == File::Image => {
                    d.image
                        .as_mut()
                        .ok_or_else(|| c.err("RAW before target"))?
                        .raw = true
                }
                _ if file == File::Memory && MemoryType::from_name(w).is_some() => {
                    d.memory_type = MemoryType::from_name(w);
                }
                _ if matches!(file, File::Image | File::SamplerView)
                    && TexTarget::from_name(w).is_some()
                    && d.image.is_none()
                    && d.sampler_view.is_none() =>
                {
                    let t = TexTarget::from_name(w).unwrap_or(TexTarget::Unknown);
                    if file == File::Image {
                        d.image = Some(ImageDecl {
                            target: t,
                            format: String::new(),
                            writable: false,
                            raw: false,
                        });
                    } else {
                        d.sampler_view = Some((t, [ReturnType::Float; 4]));
                    }
                }
                _ if file == File::Image && w.starts_with("PIPE_FORMAT_") => {
                    d.image
                        .as_mut()
                        .ok_or_else(|| c.err("format before target"))?
                        .format = w.to_string();
                }
                _ if file == File::SamplerView && ReturnType::from_name(w).is_some() => {
                    if return_types.len() >= 4 {
                        return Err(c.err("more than four return types"));
                    }
                    return_types.extend(ReturnType::from_name(w));
                }
                _ if matches!(file, File::Input | File::Output | File::SystemValue)
                    && d.semantic.is_none()
                    && SemanticName::from_name(w).is_some() =>
                {
                    let name = SemanticName::from_name(w).unwrap_or(SemanticName::Generic);
                    let mut index = 0;
                    if c.eat(b'[') {
                        index = c.uint()?;
                        if index > self.limits.max_register_index {
                            return Err(c.err("semantic index out of range"));
                        }
                        c.expect(b']')?;
                    }
                    d.semantic = Some(Semantic {
                        name,
                        index,
                        stream: [0; 4],
                    });
                }
                _ if Interpolation::from_name(w).is_some() && d.interpolation.is_none() => {
                    d.interpolation = Interpolation::from_name(w);
                }
                _ if InterpLocation::from_name(w).is_some() => {
                    d.location = InterpLocation::from_name(w).unwrap_or(InterpLocation::Center);
                }
                _ => return Err(c.err(format_args!("unexpected `{w}` in declaration"))),
            }
        }
        if !c.at_end() {
            return Err(c.err("trailing text after declaration"));
        }
        if let Some((_, rt)) = d.sampler_view.as_mut() {
            match return_types.len() {
                0 => {}
                1 => *rt = [return_types[0]; 4],
                4 => rt.copy_from_slice(&return_types),
                _ => return Err(c.err("sampler view needs one or four return types")),
            }
        } else if !return_types.is_empty() {
            return Err(c.err("return type without a sampler view target"));
        }
        if file == File::SamplerView && d.sampler_view.is_none() {
            return Err(c.err("sampler view without a target"));
        }
        if file == File::Image && d.image.is_none() {
            return Err(c.err("image without a target"));
        }
        if last - first >= self.limits.max_registers_per_decl {
            return Err(c.err("declaration range too large"));
        }
        self.prog.declarations.push(d);
        Ok(())
    }

    fn write_mask(&self, c: &mut Cur) -> PResult<u8> {
        let mut mask = 0u8;
        let mut prev: i8 = -1;
        while let Some(comp) = c.peek().and_then(component) {
            if comp as i8 <= prev {
                return Err(c.err("write mask components out of order"));
            }
            prev = comp as i8;
            mask |= 1 << comp;
            c.pos += 1;
        }
        if mask == 0 {
            return Err(c.err("empty write mask"));
        }
        Ok(mask)
    }

    /// One bracket's content: `5`, `ADDR[0].x`, `ADDR[0].x+3`, `TEMP[1].y-2`, plus `(id)`.
    fn bracket_index(&self, c: &mut Cur) -> PResult<RegIndex> {
        c.ws();
        let r = if c.peek().is_some_and(|b| b.is_ascii_digit() || b == b'-') {
            let v = c.int()?;
            if v < 0 || v > i64::from(self.limits.max_register_index) {
                return Err(c.err("register index out of range"));
            }
            RegIndex {
                offset: v as i32,
                indirect: None,
            }
        } else {
            let fs = c.word()?;
            let file = File::from_name(fs)
                .ok_or_else(|| c.err(format_args!("unknown file `{fs}` in index")))?;
            c.expect(b'[')?;
            let index = self.reg_uint(c)?;
            c.expect(b']')?;
            c.expect(b'.')?;
            let comp = c
                .peek()
                .and_then(component)
                .ok_or_else(|| c.err("expected an index component"))?;
            c.pos += 1;
            c.ws();
            let mut offset = 0i64;
            if matches!(c.peek(), Some(b'+' | b'-')) {
                offset = c.int()?;
                if offset.abs() > i64::from(self.limits.max_register_index) {
                    return Err(c.err("index offset out of range"));
                }
            }
            RegIndex {
                offset: offset as i32,
                indirect: Some(Indirect {
                    file,
                    index,
                    component: comp,
                    array_id: None,
                }),
            }
        };
        c.expect(b']')?;
        let mut r = r;
        c.ws();
        if c.peek() == Some(b'(') {
            c.pos += 1;
            let id = c.uint()?;
            c.expect(b')')?;
            if let Some(ind) = r.indirect.as_mut() {
                ind.array_id = Some(id);
            }
        }
        Ok(r)
    }

    /// `FILE[a]` or `FILE[a][b]` (then a is the dimension).
    fn register(&self, c: &mut Cur) -> PResult<(File, RegIndex, Option<RegIndex>)> {
        let fs = c.word()?;
        let file = File::from_name(fs).ok_or_else(|| c.err(format_args!("unknown file `{fs}`")))?;
        c.expect(b'[')?;
        let a = self.bracket_index(c)?;
        c.ws();
        if c.peek() == Some(b'[') {
            c.pos += 1;
            let b = self.bracket_index(c)?;
            Ok((file, b, Some(a)))
        } else {
            Ok((file, a, None))
        }
    }

    fn dst(&self, c: &mut Cur) -> PResult<DstOperand> {
        let (file, index, dimension) = self.register(c)?;
        let mut write_mask = 0xf;
        if c.peek() == Some(b'.') {
            c.pos += 1;
            write_mask = self.write_mask(c)?;
        }
        Ok(DstOperand {
            file,
            index,
            dimension,
            write_mask,
        })
    }

    fn src(&self, c: &mut Cur) -> PResult<SrcOperand> {
        let negate = c.eat(b'-');
        let absolute = c.eat(b'|');
        let (file, index, dimension) = self.register(c)?;
        let mut swizzle = [0, 1, 2, 3];
        if c.peek() == Some(b'.') {
            c.pos += 1;
            let mut n = 0;
            while let Some(comp) = c.peek().and_then(component) {
                if n == 4 {
                    return Err(c.err("swizzle longer than four"));
                }
                swizzle[n] = comp;
                n += 1;
                c.pos += 1;
            }
            match n {
                1 => swizzle = [swizzle[0]; 4],
                4 => {}
                _ => return Err(c.err("swizzle needs one or four components")),
            }
        }
        if absolute {
            c.expect(b'|')?;
        }
        Ok(SrcOperand {
            file,
            index,
            dimension,
            swizzle,
            negate,
            absolute,
        })
    }

    fn instruction(&mut self, c: &mut Cur) -> PResult<()> {
        if self.prog.instructions.len() >= self.limits.max_instructions {
            return Err(c.err("too many instructions"));
        }
        let w = c.word()?;
        let (opcode, saturate, precise) =
            resolve_opcode(w).ok_or_else(|| c.err(format_args!("unknown opcode `{w}`")))?;
        let mut inst = Instruction {
            opcode,
            saturate,
            precise,
            dst: Vec::with_capacity(opcode.num_dst()),
            src: Vec::with_capacity(opcode.num_src()),
            texture: None,
            tex_offsets: Vec::new(),
            memory_qualifier: 0,
            memory_texture: None,
            memory_format: None,
            label: None,
            line: c.line,
        };
        for i in 0..opcode.num_dst() + opcode.num_src() {
            if i > 0 {
                c.expect(b',')?;
            }
            if i < opcode.num_dst() {
                inst.dst.push(self.dst(c)?);
            } else {
                inst.src.push(self.src(c)?);
            }
        }
        if opcode.has_texture_target() {
            if opcode.num_dst() + opcode.num_src() > 0 {
                c.expect(b',')?;
            }
            let t = c.word()?;
            inst.texture = Some(
                TexTarget::from_name(t)
                    .ok_or_else(|| c.err(format_args!("unknown texture target `{t}`")))?,
            );
        }
        if opcode.takes_tex_offsets() {
            while inst.tex_offsets.len() < 4 && c.eat(b',') {
                let fs = c.word()?;
                let file = File::from_name(fs)
                    .ok_or_else(|| c.err(format_args!("unknown file `{fs}`")))?;
                c.expect(b'[')?;
                let index = self.reg_uint(c)?;
                c.expect(b']')?;
                c.expect(b'.')?;
                let mut swizzle = [0u8; 3];
                for s in swizzle.iter_mut() {
                    *s = c
                        .peek()
                        .and_then(component)
                        .ok_or_else(|| c.err("expected an offset swizzle"))?;
                    c.pos += 1;
                }
                inst.tex_offsets.push(TexOffset {
                    file,
                    index,
                    swizzle,
                });
            }
        }
        if opcode.is_memory() {
            while c.eat(b',') {
                let w = c.word()?;
                match w {
                    "COHERENT" => inst.memory_qualifier |= 1,
                    "RESTRICT" => inst.memory_qualifier |= 2,
                    "VOLATILE" => inst.memory_qualifier |= 4,
                    _ if w.starts_with("PIPE_FORMAT_") => inst.memory_format = Some(w.into()),
                    _ => {
                        inst.memory_texture = Some(TexTarget::from_name(w).ok_or_else(|| {
                            c.err(format_args!("expected a memory qualifier, not `{w}`"))
                        })?)
                    }
                }
            }
        }
        if opcode.is_branch() && c.eat(b':') {
            inst.label = Some(c.uint()?);
        }
        if !c.at_end() {
            return Err(c.err("trailing text after instruction"));
        }
        self.nesting(c, opcode)?;
        self.prog.instructions.push(inst);
        Ok(())
    }

    /// Keeps flow control balanced, so the generated GLSL always is.
    fn nesting(&mut self, c: &Cur, op: Opcode) -> PResult<()> {
        use Opcode::*;
        let top = self.blocks.last().copied();
        match op {
            If | Uif | Bgnloop | Switch | Bgnsub => {
                if self.blocks.len() >= self.limits.max_nesting {
                    return Err(c.err("flow control nested too deeply"));
                }
                if op == Bgnsub && !self.blocks.is_empty() {
                    return Err(c.err("BGNSUB inside a block"));
                }
                self.blocks.push(op);
            }
            Else => match top {
                Some(If | Uif) => {
                    self.blocks.pop();
                    self.blocks.push(Else);
                }
                _ => return Err(c.err("ELSE without IF")),
            },
            Endif => match top {
                Some(If | Uif | Else) => {
                    self.blocks.pop();
                }
                _ => return Err(c.err("ENDIF without IF")),
            },
            Endloop => match top {
                Some(Bgnloop) => {
                    self.blocks.pop();
                }
                _ => return Err(c.err("ENDLOOP without BGNLOOP")),
            },
            Endswitch => match top {
                Some(Switch | Case | Default) => {
                    self.blocks.pop();
                }
                _ => return Err(c.err("ENDSWITCH without SWITCH")),
            },
            Case | Default => match top {
                Some(Switch) => {}
                _ => return Err(c.err("CASE outside SWITCH")),
            },
            Endsub => match top {
                Some(Bgnsub) => {
                    self.blocks.pop();
                }
                _ => return Err(c.err("ENDSUB without BGNSUB")),
            },
            Brk if !self.blocks.iter().any(|b| matches!(b, Bgnloop | Switch)) => {
                return Err(c.err("BRK outside a loop or switch"));
            }
            Cont if !self.blocks.contains(&Bgnloop) => {
                return Err(c.err("CONT outside a loop"));
            }
            _ => {}
        }
        Ok(())
    }
}

/// `MOV_SAT` → (MOV, sat), `FMA_PRECISE`, `ADD_SAT_PRECISE`...
fn resolve_opcode(w: &str) -> Option<(Opcode, bool, bool)> {
    if let Some(op) = Opcode::from_name(w) {
        return Some((op, false, false));
    }
    let (w, precise) = match w.strip_suffix("_PRECISE") {
        Some(rest) => (rest, true),
        None => (w, false),
    };
    if let Some(op) = Opcode::from_name(w) {
        return Some((op, false, precise));
    }
    let w = w.strip_suffix("_SAT")?;
    Opcode::from_name(w).map(|op| (op, true, precise))
}

fn parse_u32(tok: &str) -> Option<u32> {
    match tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => tok.parse().ok(),
    }
}

/// Floats are sent as `0x3f800000` (Mesa's virgl dumps with FLOAT_AS_HEX) or as decimals.
fn parse_f32_bits(tok: &str) -> Option<u32> {
    if let Some(h) = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        return u32::from_str_radix(h, 16).ok();
    }
    parse_float_text(tok).map(|v| (v as f32).to_bits())
}

fn parse_f64_bits(tok: &str) -> Option<u64> {
    if let Some(h) = tok.strip_prefix("0x").or_else(|| tok.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    parse_float_text(tok).map(f64::to_bits)
}

/// A decimal as C's `%f` prints it, including `inf`, `-inf`, `nan`, `-nan`.
fn parse_float_text(tok: &str) -> Option<f64> {
    let (neg, body) = match tok.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, tok.strip_prefix('+').unwrap_or(tok)),
    };
    let v = match body.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => f64::NAN,
        b => {
            // Only plain decimal syntax; Rust would also take words like "infinity" above.
            if !b
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'-' | b'+'))
            {
                return None;
            }
            b.parse::<f64>().ok()?
        }
    };
    Some(if neg { -v } else { v })
}
