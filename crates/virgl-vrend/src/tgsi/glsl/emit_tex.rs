//! Texture sampling, queries, images, shader buffers and shared memory.

use super::emit::{GResult, Gen};
use super::expr::{mask_comps, swizzle_str, vec_ty, Ty};
use super::iface::SamplerKind;
use super::Feature;
use crate::error::VrendError;
use crate::tgsi::ir::*;

/// GLSL sampler type of a kind (`usampler2DArray`, `samplerCubeShadow`...).
pub(crate) fn sampler_type(k: &SamplerKind) -> String {
    let prefix = match k.return_type {
        ReturnType::Sint => "i",
        ReturnType::Uint => "u",
        _ => "",
    };
    let base = match k.target {
        TexTarget::Buffer => "Buffer",
        TexTarget::T1D => "1D",
        TexTarget::T3D => "3D",
        TexTarget::Cube => "Cube",
        TexTarget::Rect => "2DRect",
        TexTarget::T1DArray => "1DArray",
        TexTarget::T2DArray => "2DArray",
        TexTarget::T2DMsaa => "2DMS",
        TexTarget::T2DArrayMsaa => "2DMSArray",
        TexTarget::CubeArray => "CubeArray",
        _ => "2D",
    };
    format!(
        "{prefix}sampler{base}{}",
        if k.shadow { "Shadow" } else { "" }
    )
}

/// Names of the (mask, add) uniforms of shadow sampler `i` (see
/// [`super::SamplerBinding::shadow_swizzle`]).
pub(crate) fn shadow_uniforms(pre: &str, i: u32) -> (String, String) {
    (format!("{pre}_shadmask{i}"), format!("{pre}_shadadd{i}"))
}

/// Image type suffix (`2D`, `2DArray`...).
pub(crate) fn image_suffix(t: TexTarget) -> &'static str {
    match t.without_shadow() {
        TexTarget::Buffer => "Buffer",
        TexTarget::T1D => "1D",
        TexTarget::T3D => "3D",
        TexTarget::Cube => "Cube",
        TexTarget::Rect => "2DRect",
        TexTarget::T1DArray => "1DArray",
        TexTarget::T2DArray => "2DArray",
        TexTarget::T2DMsaa => "2DMS",
        TexTarget::T2DArrayMsaa => "2DMSArray",
        TexTarget::CubeArray => "CubeArray",
        _ => "2D",
    }
}

/// GLSL image format qualifier and lane type of a `PIPE_FORMAT_*` name.
pub(crate) fn image_format(f: &str) -> (Option<&'static str>, Ty) {
    let name = f.strip_prefix("PIPE_FORMAT_").unwrap_or(f);
    let q = match name {
        "R32G32B32A32_FLOAT" => "rgba32f",
        "R16G16B16A16_FLOAT" => "rgba16f",
        "R32G32_FLOAT" => "rg32f",
        "R16G16_FLOAT" => "rg16f",
        "R11G11B10_FLOAT" => "r11f_g11f_b10f",
        "R32_FLOAT" => "r32f",
        "R16_FLOAT" => "r16f",
        "R16G16B16A16_UNORM" => "rgba16",
        "R10G10B10A2_UNORM" => "rgb10_a2",
        "R8G8B8A8_UNORM" => "rgba8",
        "R16G16_UNORM" => "rg16",
        "R8G8_UNORM" => "rg8",
        "R16_UNORM" => "r16",
        "R8_UNORM" => "r8",
        "R16G16B16A16_SNORM" => "rgba16_snorm",
        "R8G8B8A8_SNORM" => "rgba8_snorm",
        "R16G16_SNORM" => "rg16_snorm",
        "R8G8_SNORM" => "rg8_snorm",
        "R16_SNORM" => "r16_snorm",
        "R8_SNORM" => "r8_snorm",
        "R32G32B32A32_UINT" => "rgba32ui",
        "R16G16B16A16_UINT" => "rgba16ui",
        "R10G10B10A2_UINT" => "rgb10_a2ui",
        "R8G8B8A8_UINT" => "rgba8ui",
        "R32G32_UINT" => "rg32ui",
        "R16G16_UINT" => "rg16ui",
        "R8G8_UINT" => "rg8ui",
        "R32_UINT" => "r32ui",
        "R16_UINT" => "r16ui",
        "R8_UINT" => "r8ui",
        "R32G32B32A32_SINT" => "rgba32i",
        "R16G16B16A16_SINT" => "rgba16i",
        "R8G8B8A8_SINT" => "rgba8i",
        "R32G32_SINT" => "rg32i",
        "R16G16_SINT" => "rg16i",
        "R8G8_SINT" => "rg8i",
        "R32_SINT" => "r32i",
        "R16_SINT" => "r16i",
        "R8_SINT" => "r8i",
        _ => return (None, Ty::F),
    };
    let ty = if q.ends_with("ui") {
        Ty::U
    } else if q.ends_with('i') {
        Ty::I
    } else {
        Ty::F
    };
    (Some(q), ty)
}

/// Spatial dimensions (offsets, gradients).
fn dims(t: TexTarget) -> usize {
    match t.without_shadow() {
        TexTarget::T1D | TexTarget::T1DArray | TexTarget::Buffer => 1,
        TexTarget::T3D | TexTarget::Cube | TexTarget::CubeArray => 3,
        _ => 2,
    }
}

/// Coordinate lanes `texture()` takes (reference included for shadow targets).
fn coord_len(t: TexTarget) -> usize {
    match t {
        TexTarget::T1D | TexTarget::Buffer => 1,
        TexTarget::T2D | TexTarget::Rect | TexTarget::T1DArray | TexTarget::T2DMsaa => 2,
        TexTarget::T3D
        | TexTarget::Cube
        | TexTarget::T2DArray
        | TexTarget::Shadow1D
        | TexTarget::Shadow2D
        | TexTarget::ShadowRect
        | TexTarget::Shadow1DArray
        | TexTarget::T2DArrayMsaa => 3,
        _ => 4,
    }
}

/// Integer coordinate lanes of texelFetch / image access (without sample index).
fn int_coord_len(t: TexTarget) -> usize {
    match t.without_shadow() {
        TexTarget::T1D | TexTarget::Buffer => 1,
        TexTarget::T2D | TexTarget::Rect | TexTarget::T1DArray | TexTarget::T2DMsaa => 2,
        _ => 3,
    }
}

/// Lanes `textureSize` returns.
fn size_len(t: TexTarget) -> usize {
    match t.without_shadow() {
        TexTarget::T1D | TexTarget::Buffer => 1,
        TexTarget::T3D | TexTarget::T2DArray | TexTarget::CubeArray | TexTarget::T2DArrayMsaa => 3,
        _ => 2,
    }
}

fn has_lod(t: TexTarget) -> bool {
    !matches!(
        t.without_shadow(),
        TexTarget::Rect | TexTarget::Buffer | TexTarget::T2DMsaa | TexTarget::T2DArrayMsaa
    )
}

fn iota(n: usize) -> Vec<u8> {
    (0..n as u8).collect()
}

impl Gen<'_> {
    fn sampler_expr(
        &mut self,
        s: &SrcOperand,
        target: TexTarget,
    ) -> GResult<(String, SamplerKind)> {
        if s.file != File::Sampler && s.file != File::SamplerView {
            return Err(self.err("texture instruction without a sampler"));
        }
        let idx = if s.index.indirect.is_some() {
            None
        } else {
            Some(s.index.offset as u32)
        };
        let rt = idx
            .and_then(|i| {
                self.p
                    .decls(File::SamplerView)
                    .find(|d| i >= d.first && i <= d.last)
                    .and_then(|d| d.sampler_view.map(|(_, r)| r[0]))
            })
            .unwrap_or(ReturnType::Float);
        let mut kind = SamplerKind {
            target: target.without_shadow(),
            shadow: target.is_shadow(),
            return_type: rt,
        };
        match kind.target {
            TexTarget::CubeArray => self.require(Feature::CubeArray)?,
            TexTarget::Buffer => self.require(Feature::BufferTexture)?,
            TexTarget::T2DArrayMsaa => self.require(Feature::MsArray)?,
            TexTarget::Unknown => return Err(self.err("texture target UNKNOWN")),
            _ => {}
        }
        if self.samp_indirect {
            self.require(Feature::GpuShader5)?;
            if let Some(k) = self.samplers.values().next() {
                if k.target != kind.target || k.shadow != kind.shadow {
                    return Err(VrendError::Unsupported(
                        "indirectly indexed samplers of different types".into(),
                    ));
                }
                kind = *k;
            }
            self.samplers.entry(idx.unwrap_or(0)).or_insert(kind);
            let n = self
                .p
                .decls(File::Sampler)
                .map(|d| d.last + 1)
                .max()
                .unwrap_or(1);
            let i = match s.index.indirect {
                Some(ind) => {
                    let a = self.addr_expr_pub(&ind)?;
                    format!("clamp({a} + {}, 0, {})", s.index.offset, n - 1)
                }
                None => s.index.offset.to_string(),
            };
            return Ok((format!("{}_samp[{i}]", self.pre), kind));
        }
        let i = idx.unwrap_or(0);
        if let Some(k) = self.samplers.get(&i) {
            if *k != kind {
                return Err(VrendError::Unsupported(format!(
                    "SAMP[{i}] used as two different types (line {})",
                    self.line
                )));
            }
        }
        self.samplers.insert(i, kind);
        Ok((format!("{}_samp{i}", self.pre), kind))
    }

    fn offset_expr(
        &mut self,
        inst: &Instruction,
        n: usize,
        gather: bool,
    ) -> GResult<Option<String>> {
        let Some(o) = inst.tex_offsets.first() else {
            return Ok(None);
        };
        let sw = &o.swizzle[..n];
        if o.file == File::Immediate {
            let imm = self
                .p
                .immediates
                .get(o.index as usize)
                .ok_or_else(|| self.err("offset immediate not declared"))?;
            let vals: Vec<u32> = sw.iter().map(|&c| imm.data[c as usize & 3]).collect();
            return Ok(Some(super::expr::literal(Ty::I, &vals)));
        }
        if !gather {
            return Err(VrendError::Unsupported("non-constant texel offset".into()));
        }
        self.require(Feature::GpuShader5)?;
        let src = SrcOperand {
            file: o.file,
            index: RegIndex::direct(o.index),
            dimension: None,
            swizzle: [sw[0], *sw.get(1).unwrap_or(&0), *sw.get(2).unwrap_or(&0), 0],
            negate: false,
            absolute: false,
        };
        Ok(Some(self.fetch(&src, Ty::I, &iota(n))?))
    }

    pub fn texture(&mut self, inst: &Instruction) -> GResult<()> {
        use Opcode::*;
        let target = inst
            .texture
            .ok_or_else(|| self.err("texture target missing"))?;
        let samp_src = match inst.opcode {
            Txqs => 0,
            Txd => 3,
            Tg4 | Tex2 | Txb2 | Txl2 => 2,
            _ => 1,
        };
        let (samp, kind) = self.sampler_expr(&inst.src[samp_src], target)?;
        let rty = match kind.return_type {
            ReturnType::Sint => Ty::I,
            ReturnType::Uint => Ty::U,
            _ => Ty::F,
        };
        let c0 = &inst.src[0];
        let d = inst.dst[0];
        let (e, ty) = match inst.opcode {
            Txq => {
                let n = size_len(target);
                let lod = if has_lod(target) {
                    format!(", {}", self.fetch(c0, Ty::I, &[0])?)
                } else {
                    String::new()
                };
                let size = format!("textureSize({samp}{lod})");
                let mut lanes: Vec<String> = if n == 1 {
                    vec![size]
                } else {
                    (0..n)
                        .map(|i| format!("{size}.{}", super::expr::SWZ[i]))
                        .collect()
                };
                while lanes.len() < 3 {
                    lanes.push("0".into());
                }
                if d.write_mask & 8 != 0 && has_lod(target) {
                    self.require(Feature::QueryLevels)?;
                    lanes.push(format!("textureQueryLevels({samp})"));
                } else {
                    lanes.push("0".into());
                }
                (format!("ivec4({})", lanes.join(", ")), Ty::I)
            }
            Txqs => {
                self.require(Feature::TextureSamples)?;
                (format!("ivec4(textureSamples({samp}))"), Ty::I)
            }
            Txf | TxfLz => {
                let n = int_coord_len(target);
                let p = self.fetch(c0, Ty::I, &iota(n))?;
                let extra = match target {
                    TexTarget::T2DMsaa | TexTarget::T2DArrayMsaa => {
                        format!(", {}", self.fetch(c0, Ty::I, &[3])?)
                    }
                    t if has_lod(t) => {
                        if inst.opcode == TxfLz {
                            ", 0".to_string()
                        } else {
                            format!(", {}", self.fetch(c0, Ty::I, &[3])?)
                        }
                    }
                    _ => String::new(),
                };
                match self.offset_expr(inst, dims(target), false)? {
                    Some(o) => (format!("texelFetchOffset({samp}, {p}{extra}, {o})"), rty),
                    None => (format!("texelFetch({samp}, {p}{extra})"), rty),
                }
            }
            Lodq => {
                self.require(Feature::QueryLod)?;
                let p = self.fetch(c0, Ty::F, &iota(dims(target)))?;
                (
                    format!("vec4(textureQueryLod({samp}, {p}), 0.0, 0.0)"),
                    Ty::F,
                )
            }
            Tg4 => {
                self.require(Feature::TextureGather)?;
                let off = self.offset_expr(inst, 2, true)?;
                let (p, extra) = if target.is_shadow() {
                    let n = coord_len(target) - 1;
                    let p = self.fetch(c0, Ty::F, &iota(n))?;
                    (p, self.fetch(c0, Ty::F, &[n as u8])?)
                } else {
                    let n = coord_len(target);
                    let p = self.fetch(c0, Ty::F, &iota(n))?;
                    let comp = match inst.src[1].file {
                        File::Immediate => self.fetch(&inst.src[1], Ty::I, &[0])?,
                        _ => {
                            return Err(VrendError::Unsupported(
                                "non-constant gather component".into(),
                            ))
                        }
                    };
                    (p, comp)
                };
                match off {
                    Some(o) => (
                        format!("textureGatherOffset({samp}, {p}, {o}, {extra})"),
                        rty,
                    ),
                    None => (format!("textureGather({samp}, {p}, {extra})"), rty),
                }
            }
            Tex2 | Txb2 | Txl2 => {
                let p = self.fetch(c0, Ty::F, &iota(4))?;
                let a = self.fetch(&inst.src[1], Ty::F, &[0])?;
                let f = match inst.opcode {
                    Txl2 => "textureLod",
                    _ => "texture",
                };
                let e = format!("{f}({samp}, {p}, {a})");
                if kind.shadow {
                    (self.shadow_result(&e, &inst.src[samp_src]), Ty::F)
                } else {
                    (e, rty)
                }
            }
            Tex | TexLz | Txb | Txl | Txd | Txp => {
                let n = coord_len(target);
                let proj_native = matches!(
                    target,
                    TexTarget::T1D
                        | TexTarget::T2D
                        | TexTarget::Rect
                        | TexTarget::T3D
                        | TexTarget::Shadow1D
                        | TexTarget::Shadow2D
                        | TexTarget::ShadowRect
                );
                let off = self.offset_expr(inst, dims(target), false)?;
                let (func, p, extra) = match inst.opcode {
                    Txp if proj_native => (
                        "textureProj",
                        self.fetch(c0, Ty::F, &iota(4))?,
                        String::new(),
                    ),
                    Txp => {
                        let all = self.fetch(c0, Ty::F, &iota(4))?;
                        (
                            "texture",
                            format!("(({all}) / ({all}).w).{}", swizzle_str(&iota(n))),
                            String::new(),
                        )
                    }
                    Txb => (
                        "texture",
                        self.fetch(c0, Ty::F, &iota(n))?,
                        format!(", {}", self.fetch(c0, Ty::F, &[3])?),
                    ),
                    Txl => (
                        "textureLod",
                        self.fetch(c0, Ty::F, &iota(n))?,
                        format!(", {}", self.fetch(c0, Ty::F, &[3])?),
                    ),
                    TexLz => (
                        "textureLod",
                        self.fetch(c0, Ty::F, &iota(n))?,
                        ", 0.0".into(),
                    ),
                    Txd => {
                        let k = dims(target);
                        let dx = self.fetch(&inst.src[1], Ty::F, &iota(k))?;
                        let dy = self.fetch(&inst.src[2], Ty::F, &iota(k))?;
                        (
                            "textureGrad",
                            self.fetch(c0, Ty::F, &iota(n))?,
                            format!(", {dx}, {dy}"),
                        )
                    }
                    _ => ("texture", self.fetch(c0, Ty::F, &iota(n))?, String::new()),
                };
                let (func, p) = self.gl_clamp_coords(inst, samp_src, &samp, target, func, p)?;
                let e = match off {
                    // Bias goes after the offset in textureOffset; lod/grad before it.
                    Some(o) if inst.opcode == Txb => {
                        format!("{func}Offset({samp}, {p}, {o}{extra})")
                    }
                    Some(o) => format!("{func}Offset({samp}, {p}{extra}, {o})"),
                    None => format!("{func}({samp}, {p}{extra})"),
                };
                if kind.shadow {
                    (self.shadow_result(&e, &inst.src[samp_src]), Ty::F)
                } else {
                    (e, rty)
                }
            }
            other => {
                return Err(VrendError::Unsupported(format!(
                    "texture opcode {}",
                    other.name()
                )))
            }
        };
        let comps = mask_comps(d.write_mask);
        self.store(&d, &format!("({e}).{}", swizzle_str(&comps)), ty)
    }

    /// GL_CLAMP emulation (key `gl_clamp`): the coordinates the key names are clamped to
    /// [0, 1] (rectangle textures: [0, size]); a projected lookup divides first. Cube maps
    /// ignore wrapping, and indirectly indexed samplers are left alone.
    fn gl_clamp_coords<'f>(
        &mut self,
        inst: &Instruction,
        samp_src: usize,
        samp_expr: &str,
        target: TexTarget,
        func: &'f str,
        p: String,
    ) -> GResult<(&'f str, String)> {
        let samp = &inst.src[samp_src];
        let rect = target.without_shadow() == TexTarget::Rect;
        let wraps = rect
            || matches!(
                target.without_shadow(),
                TexTarget::T1D
                    | TexTarget::T2D
                    | TexTarget::T3D
                    | TexTarget::T1DArray
                    | TexTarget::T2DArray
            );
        if !wraps || self.samp_indirect || samp.index.indirect.is_some() {
            return Ok((func, p));
        }
        let i = samp.index.offset;
        if !(0..32).contains(&i) {
            return Ok((func, p));
        }
        let lanes: Vec<usize> = (0..dims(target))
            .filter(|&c| self.key.gl_clamp[c] & (1 << i) != 0)
            .collect();
        if lanes.is_empty() {
            return Ok((func, p));
        }
        let n = coord_len(target);
        let (func, p) = if func == "textureProj" {
            let all = self.fetch(&inst.src[0], Ty::F, &iota(4))?;
            (
                "texture",
                format!("(({all}) / ({all}).w).{}", swizzle_str(&iota(n))),
            )
        } else {
            (func, p)
        };
        let parts: Vec<String> = (0..n)
            .map(|c| {
                let lane = if n == 1 {
                    format!("({p})")
                } else {
                    format!("({p}).{}", super::expr::SWZ[c])
                };
                if !lanes.contains(&c) {
                    lane
                } else if rect {
                    let size = format!("textureSize({samp_expr})");
                    format!("clamp({lane}, 0.0, float({size}.{}))", super::expr::SWZ[c])
                } else {
                    format!("clamp({lane}, 0.0, 1.0)")
                }
            })
            .collect();
        let p = if n == 1 {
            parts.join("")
        } else {
            format!("vec{n}({})", parts.join(", "))
        };
        Ok((func, p))
    }

    /// A shadow comparison result as a vec4 with the view's swizzle applied (directly
    /// indexed samplers; an indirectly indexed array gets the plain replicated result).
    fn shadow_result(&self, e: &str, samp: &SrcOperand) -> String {
        if self.samp_indirect || samp.index.indirect.is_some() {
            return format!("vec4({e})");
        }
        let (m, a) = shadow_uniforms(self.pre, samp.index.offset as u32);
        format!("(vec4({e}) * {m} + {a})")
    }

    fn addr_expr_pub(&self, ind: &Indirect) -> GResult<String> {
        let r = RegIndex {
            offset: 0,
            indirect: Some(*ind),
        };
        self.index_expr_pub(&r)
    }

    /// `LOAD`, `STORE`, `RESQ` and atomics.
    pub fn memory(&mut self, inst: &Instruction) -> GResult<()> {
        use Opcode::*;
        let (res_file, res_idx, res_mask) = if inst.opcode == Store {
            let d = inst.dst[0];
            (d.file, d.index, d.write_mask)
        } else {
            let s = inst.src[0];
            (s.file, s.index, 0xf)
        };
        if res_file == File::HwAtomic {
            return self.atomic_counter(inst);
        }
        if res_idx.indirect.is_some() {
            return self.memory_indirect(inst, res_file, res_idx);
        }
        let ri = res_idx.offset as u32;
        match res_file {
            File::Image => {
                self.require(Feature::ImageLoadStore)?;
                let img = self
                    .images
                    .get(&ri)
                    .cloned()
                    .ok_or_else(|| self.err(format!("IMAGE[{ri}] not declared")))?;
                let name = format!("{}_img{ri}", self.pre);
                let (_, ty) = image_format(&img.format);
                let n = int_coord_len(img.target);
                let coord_src = if inst.opcode == Store {
                    &inst.src[0]
                } else {
                    &inst.src[1]
                };
                let mut p = self.fetch(coord_src, Ty::I, &iota(n))?;
                if matches!(img.target, TexTarget::T2DMsaa | TexTarget::T2DArrayMsaa) {
                    p = format!("{p}, {}", self.fetch(coord_src, Ty::I, &[3])?);
                }
                match inst.opcode {
                    Load => {
                        let d = inst.dst[0];
                        let comps = mask_comps(d.write_mask);
                        self.store(
                            &d,
                            &format!("imageLoad({name}, {p}).{}", swizzle_str(&comps)),
                            ty,
                        )
                    }
                    Store => {
                        let v = self.fetch(&inst.src[1], ty, &iota(4))?;
                        self.out.line(format!("imageStore({name}, {p}, {v});"));
                        Ok(())
                    }
                    Resq => {
                        let k = size_len(img.target);
                        let size = format!("imageSize({name})");
                        let mut lanes: Vec<String> = if k == 1 {
                            vec![size]
                        } else {
                            (0..k)
                                .map(|i| format!("{size}.{}", super::expr::SWZ[i]))
                                .collect()
                        };
                        while lanes.len() < 4 {
                            lanes.push("0".into());
                        }
                        let d = inst.dst[0];
                        let comps = mask_comps(d.write_mask);
                        self.store(
                            &d,
                            &format!("ivec4({}).{}", lanes.join(", "), swizzle_str(&comps)),
                            Ty::I,
                        )
                    }
                    op => {
                        let v = self.fetch(&inst.src[2], ty, &[0])?;
                        let f = match op {
                            Atomuadd => "imageAtomicAdd".to_string(),
                            Atomxchg => "imageAtomicExchange".into(),
                            Atomand => "imageAtomicAnd".into(),
                            Atomor => "imageAtomicOr".into(),
                            Atomxor => "imageAtomicXor".into(),
                            Atomumin | Atomimin => "imageAtomicMin".into(),
                            Atomumax | Atomimax => "imageAtomicMax".into(),
                            _ => "imageAtomicCompSwap".into(),
                        };
                        let args = if op == Atomcas {
                            let w = self.fetch(&inst.src[3], ty, &[0])?;
                            format!("{v}, {w}")
                        } else {
                            v
                        };
                        let d = inst.dst[0];
                        let n = mask_comps(d.write_mask).len();
                        let e = format!("{f}({name}, {p}, {args})");
                        let e = if n == 1 {
                            e
                        } else {
                            format!("{}({e})", vec_ty(ty, n))
                        };
                        self.store(&d, &e, ty)
                    }
                }
            }
            File::Buffer | File::Memory => {
                let arr = if res_file == File::Buffer {
                    self.require(Feature::Ssbo)?;
                    if !self.buffers.contains_key(&ri) {
                        return Err(self.err(format!("BUFFER[{ri}] not declared")));
                    }
                    format!("{}_ssbo{ri}_d", self.pre)
                } else {
                    if !self.shared_mem {
                        return Err(self.err("MEMORY not declared"));
                    }
                    if self.key.shared_mem_bytes == 0 {
                        return Err(VrendError::Unsupported(
                            "shared memory without a size in the key".into(),
                        ));
                    }
                    format!("{}_shm", self.pre)
                };
                let off_src = if inst.opcode == Store {
                    &inst.src[0]
                } else {
                    &inst.src[1]
                };
                if inst.opcode == Resq {
                    if res_file != File::Buffer {
                        return Err(self.err("RESQ of shared memory"));
                    }
                    let d = inst.dst[0];
                    let n = mask_comps(d.write_mask).len();
                    let e = format!("(uint({arr}.length()) * 4u)");
                    let e = if n == 1 {
                        e
                    } else {
                        format!("{}({e})", vec_ty(Ty::U, n))
                    };
                    return self.store(&d, &e, Ty::U);
                }
                let off = self.fetch(off_src, Ty::U, &[0])?;
                let base = format!("({off} >> 2)");
                match inst.opcode {
                    Load => {
                        let d = inst.dst[0];
                        let lanes: Vec<String> = mask_comps(d.write_mask)
                            .iter()
                            .map(|c| format!("{arr}[{base} + {c}u]"))
                            .collect();
                        let e = if lanes.len() == 1 {
                            lanes[0].clone()
                        } else {
                            format!("{}({})", vec_ty(Ty::U, lanes.len()), lanes.join(", "))
                        };
                        self.store(&d, &e, Ty::U)
                    }
                    Store => {
                        for c in mask_comps(res_mask) {
                            let v = self.fetch(&inst.src[1], Ty::U, &[c])?;
                            self.out.line(format!("{arr}[{base} + {c}u] = {v};"));
                        }
                        Ok(())
                    }
                    Atomimin | Atomimax => {
                        // The storage is uint: a compare-and-swap loop on the signed value.
                        let v = self.fetch(&inst.src[2], Ty::I, &[0])?;
                        let f = if inst.opcode == Atomimin {
                            "min"
                        } else {
                            "max"
                        };
                        let d = inst.dst[0];
                        let n = mask_comps(d.write_mask).len();
                        self.out.line("{");
                        self.out.indent += 1;
                        self.out.line(format!("uint virgl_at = {arr}[{base}];"));
                        self.out.line("uint virgl_seen;");
                        self.out.line("do {");
                        self.out.line("   virgl_seen = virgl_at;");
                        self.out.line(format!(
                            "   virgl_at = atomicCompSwap({arr}[{base}], virgl_seen, \
                             uint({f}(int(virgl_seen), {v})));"
                        ));
                        self.out.line("} while (virgl_at != virgl_seen);");
                        let e = if n == 1 {
                            "virgl_at".to_string()
                        } else {
                            format!("{}(virgl_at)", vec_ty(Ty::U, n))
                        };
                        self.store(&d, &e, Ty::U)?;
                        self.out.indent -= 1;
                        self.out.line("}");
                        Ok(())
                    }
                    op => {
                        let v = self.fetch(&inst.src[2], Ty::U, &[0])?;
                        let f = match op {
                            Atomuadd => "atomicAdd",
                            Atomxchg => "atomicExchange",
                            Atomand => "atomicAnd",
                            Atomor => "atomicOr",
                            Atomxor => "atomicXor",
                            Atomumin => "atomicMin",
                            Atomumax => "atomicMax",
                            Atomcas => "atomicCompSwap",
                            other => {
                                return Err(VrendError::Unsupported(format!(
                                    "{} on buffers",
                                    other.name()
                                )))
                            }
                        };
                        let args = if op == Atomcas {
                            let w = self.fetch(&inst.src[3], Ty::U, &[0])?;
                            format!("{v}, {w}")
                        } else {
                            v
                        };
                        let d = inst.dst[0];
                        let n = mask_comps(d.write_mask).len();
                        let e = format!("{f}({arr}[{base}], {args})");
                        let e = if n == 1 {
                            e
                        } else {
                            format!("{}({e})", vec_ty(Ty::U, n))
                        };
                        self.store(&d, &e, Ty::U)
                    }
                }
            }
            f => Err(self.err(format!("memory access to {}", f.name()))),
        }
    }

    /// An access to `IMAGE[ADDR..]` / `BUFFER[ADDR..]`: a switch over the declared units,
    /// each case the same access with a constant index (works for units of different
    /// types, and GLSL wants dynamically uniform indices into image arrays anyway).
    fn memory_indirect(&mut self, inst: &Instruction, file: File, idx: RegIndex) -> GResult<()> {
        let units: Vec<u32> = match file {
            File::Image => self.images.keys().copied().collect(),
            File::Buffer => self.buffers.keys().copied().collect(),
            f => return Err(self.err(format!("indirect index into {}", f.name()))),
        };
        let i = self.index_expr_pub(&idx)?;
        self.out.line(format!("switch ({i}) {{"));
        for u in units {
            let mut one = inst.clone();
            let direct = RegIndex::direct(u);
            if inst.opcode == Opcode::Store {
                one.dst[0].index = direct;
            } else {
                one.src[0].index = direct;
            }
            self.out.line(format!("case {u}: {{"));
            self.out.indent += 1;
            self.memory(&one)?;
            self.out.line("break;");
            self.out.indent -= 1;
            self.out.line("}");
        }
        self.out.line("default: break;");
        self.out.line("}");
        Ok(())
    }

    /// The counter an `HWATOMIC[b][i]` operand names (`ac<b>_<first>[i - first]`).
    fn atomic_counter_expr(&self, s: &SrcOperand) -> GResult<String> {
        let b = match s.dimension {
            None => 0,
            Some(d) if d.indirect.is_none() && d.offset >= 0 => d.offset as u32,
            Some(_) => {
                return Err(VrendError::Unsupported(
                    "indirect atomic counter buffer index".into(),
                ))
            }
        };
        match s.index.indirect {
            None => {
                let i = u32::try_from(s.index.offset)
                    .map_err(|_| self.err("negative atomic counter index"))?;
                let &(_, first, _) = self
                    .atomics
                    .iter()
                    .find(|a| a.0 == b && a.1 <= i && i <= a.2)
                    .ok_or_else(|| self.err(format!("HWATOMIC[{b}][{i}] not declared")))?;
                Ok(format!("ac{b}_{first}[{}]", i - first))
            }
            Some(_) => {
                // An indirect index stays inside the declaration holding its constant part.
                let base = s.index.offset.max(0) as u32;
                let &(_, first, last) = self
                    .atomics
                    .iter()
                    .find(|a| a.0 == b && a.1 <= base && base <= a.2)
                    .ok_or_else(|| self.err(format!("HWATOMIC[{b}][{base}] not declared")))?;
                let i = self.index_expr_pub(&s.index)?;
                Ok(format!(
                    "ac{b}_{first}[clamp({i} - {first}, 0, {})]",
                    last - first
                ))
            }
        }
    }

    /// `LOAD` and atomics on atomic counters.
    fn atomic_counter(&mut self, inst: &Instruction) -> GResult<()> {
        use Opcode::*;
        let c = self.atomic_counter_expr(&inst.src[0])?;
        let d = *inst
            .dst
            .first()
            .ok_or_else(|| self.err("atomic counter access without a destination"))?;
        let e = match inst.opcode {
            Load => format!("atomicCounter({c})"),
            Atomuadd if self.imm_scalar_pub(&inst.src[2]) == Some(1) => {
                format!("atomicCounterIncrement({c})")
            }
            // atomicCounterDecrement returns the new value; TGSI wants the old one.
            Atomuadd if self.imm_scalar_pub(&inst.src[2]) == Some(u32::MAX) => {
                format!("(atomicCounterDecrement({c}) + 1u)")
            }
            op => {
                self.require(Feature::AtomicCounterOps)?;
                let f = match op {
                    Atomuadd => "Add",
                    Atomxchg => "Exchange",
                    Atomcas => "CompSwap",
                    Atomand => "And",
                    Atomor => "Or",
                    Atomxor => "Xor",
                    Atomumin | Atomimin => "Min",
                    Atomumax | Atomimax => "Max",
                    other => {
                        return Err(VrendError::Unsupported(format!(
                            "{} on an atomic counter",
                            other.name()
                        )))
                    }
                };
                let v = self.fetch(&inst.src[2], Ty::U, &[0])?;
                let args = if op == Atomcas {
                    let w = self.fetch(&inst.src[3], Ty::U, &[0])?;
                    format!("{v}, {w}")
                } else {
                    v
                };
                let sfx = if self.t.version >= 460 { "" } else { "ARB" };
                format!("atomicCounter{f}{sfx}({c}, {args})")
            }
        };
        let n = mask_comps(d.write_mask).len();
        let e = if n == 1 {
            e
        } else {
            format!("{}({e})", vec_ty(Ty::U, n))
        };
        self.store(&d, &e, Ty::U)
    }
}
