//! Arithmetic, comparison, conversion, flow control and geometry instructions.

use super::emit::{GResult, Gen};
use super::expr::{mask_comps, vec_ty, Ty};
use super::Feature;
use crate::error::VrendError;
use crate::tgsi::ir::*;

fn cmp_fn(op: &str) -> &'static str {
    match op {
        "<" => "lessThan",
        ">=" => "greaterThanEqual",
        ">" => "greaterThan",
        "<=" => "lessThanEqual",
        "==" => "equal",
        _ => "notEqual",
    }
}

impl Gen<'_> {
    /// Layout qualifiers of the stage (`layout(triangles) in;`...).
    pub fn stage_layout(&mut self) -> GResult<()> {
        let p = self.p;
        let mut l = String::new();
        match self.stage {
            Processor::Geometry => {
                let inp = p
                    .property(PropertyName::GsInputPrimitive)
                    .and_then(Primitive::from_index)
                    .ok_or_else(|| self.err("GS_INPUT_PRIMITIVE missing"))?;
                let outp = p
                    .property(PropertyName::GsOutputPrimitive)
                    .and_then(Primitive::from_index)
                    .ok_or_else(|| self.err("GS_OUTPUT_PRIMITIVE missing"))?;
                let max = p.property(PropertyName::GsMaxOutputVertices).unwrap_or(1);
                let inq = match inp {
                    Primitive::Points => "points",
                    Primitive::Lines | Primitive::LineStrip | Primitive::LineLoop => "lines",
                    Primitive::LinesAdjacency | Primitive::LineStripAdjacency => "lines_adjacency",
                    Primitive::TrianglesAdjacency | Primitive::TriangleStripAdjacency => {
                        "triangles_adjacency"
                    }
                    _ => "triangles",
                };
                let outq = match outp {
                    Primitive::Points => "points",
                    Primitive::Lines | Primitive::LineStrip => "line_strip",
                    _ => "triangle_strip",
                };
                l.push_str(&format!("layout({inq}) in;\n"));
                if let Some(inv) = p.property(PropertyName::GsInvocations).filter(|&i| i > 1) {
                    self.require(Feature::GpuShader5)?;
                    l.push_str(&format!("layout(invocations = {inv}) in;\n"));
                }
                l.push_str(&format!("layout({outq}, max_vertices = {max}) out;\n"));
            }
            Processor::TessCtrl => {
                let n = p.property(PropertyName::TcsVerticesOut).unwrap_or(0);
                l.push_str(&format!("layout(vertices = {n}) out;\n"));
            }
            Processor::TessEval => {
                let prim = match p
                    .property(PropertyName::TesPrimMode)
                    .and_then(Primitive::from_index)
                {
                    Some(Primitive::Quads) => "quads",
                    Some(Primitive::Lines) => "isolines",
                    _ => "triangles",
                };
                // PIPE_TESS_SPACING_FRACTIONAL_ODD = 0, _FRACTIONAL_EVEN = 1, _EQUAL = 2.
                let spacing = match p.property(PropertyName::TesSpacing) {
                    Some(0) => "fractional_odd_spacing",
                    Some(1) => "fractional_even_spacing",
                    _ => "equal_spacing",
                };
                let order = if p.property(PropertyName::TesVertexOrderCw) == Some(1) {
                    "cw"
                } else {
                    "ccw"
                };
                let pm = if p.property(PropertyName::TesPointMode) == Some(1) {
                    ", point_mode"
                } else {
                    ""
                };
                l.push_str(&format!("layout({prim}, {spacing}, {order}{pm}) in;\n"));
            }
            Processor::Compute => {
                let w = p
                    .property(PropertyName::CsFixedBlockWidth)
                    .unwrap_or(1)
                    .max(1);
                let h = p
                    .property(PropertyName::CsFixedBlockHeight)
                    .unwrap_or(1)
                    .max(1);
                let d = p
                    .property(PropertyName::CsFixedBlockDepth)
                    .unwrap_or(1)
                    .max(1);
                self.iface.local_size = [w, h, d];
                l.push_str(&format!(
                    "layout(local_size_x = {w}, local_size_y = {h}, local_size_z = {d}) in;\n"
                ));
            }
            Processor::Fragment => {
                if p.property(PropertyName::FsEarlyDepthStencil) == Some(1) {
                    self.require(Feature::ImageLoadStore)?;
                    l.push_str("layout(early_fragment_tests) in;\n");
                }
            }
            Processor::Vertex => {}
        }
        self.out.layout = l;
        Ok(())
    }

    fn typed_op(
        &mut self,
        inst: &Instruction,
        ty: Ty,
        f: impl Fn(&[String]) -> String,
    ) -> GResult<()> {
        let d = inst.dst[0];
        let comps = mask_comps(d.write_mask);
        let mut args = Vec::with_capacity(inst.src.len());
        for s in &inst.src {
            args.push(self.fetch(s, ty, &comps)?);
        }
        let e = f(&args);
        self.store(&d, &e, ty)
    }

    /// Scalar (or fixed-width) result replicated to every written component.
    fn repl_op(
        &mut self,
        inst: &Instruction,
        ty: Ty,
        src_comps: &[u8],
        f: impl Fn(&[String]) -> String,
    ) -> GResult<()> {
        let d = inst.dst[0];
        let n = mask_comps(d.write_mask).len();
        let mut args = Vec::with_capacity(inst.src.len());
        for s in &inst.src {
            args.push(self.fetch(s, ty, src_comps)?);
        }
        let e = f(&args);
        let e = if n == 1 {
            e
        } else {
            format!("{}({e})", vec_ty(ty, n))
        };
        self.store(&d, &e, ty)
    }

    /// A scalar expression of `ty` replicated to every written component.
    fn repl_op_expr(&mut self, inst: &Instruction, ty: Ty, e: &str) -> GResult<()> {
        let d = inst.dst[0];
        let n = mask_comps(d.write_mask).len();
        let e = if n == 1 {
            e.to_string()
        } else {
            format!("{}({e})", vec_ty(ty, n))
        };
        self.store(&d, &e, ty)
    }

    /// Per-component result from a full vec4 expression of `ty`.
    fn vec4_op(&mut self, inst: &Instruction, ty: Ty, e: &str) -> GResult<()> {
        let d = inst.dst[0];
        let comps = mask_comps(d.write_mask);
        let e = format!("({e}).{}", super::expr::swizzle_str(&comps));
        self.store(&d, &e, ty)
    }

    fn compare(&mut self, inst: &Instruction, ty: Ty, op: &str, float_result: bool) -> GResult<()> {
        let d = inst.dst[0];
        let comps = mask_comps(d.write_mask);
        let n = comps.len();
        let a = self.fetch(&inst.src[0], ty, &comps)?;
        let b = self.fetch(&inst.src[1], ty, &comps)?;
        let e = match (n, float_result) {
            (1, true) => format!("float({a} {op} {b})"),
            (1, false) => format!("(({a} {op} {b}) ? 0xffffffffu : 0u)"),
            (_, true) => format!("{}({}({a}, {b}))", vec_ty(Ty::F, n), cmp_fn(op)),
            (_, false) => format!(
                "({}({}({a}, {b})) * 0xffffffffu)",
                vec_ty(Ty::U, n),
                cmp_fn(op)
            ),
        };
        self.store(&d, &e, if float_result { Ty::F } else { Ty::U })
    }

    /// Per-lane select `cond ? b : c`.
    fn select(
        &mut self,
        inst: &Instruction,
        ty: Ty,
        cond: impl Fn(&str) -> String,
        cond_ty: Ty,
    ) -> GResult<()> {
        let d = inst.dst[0];
        let comps = mask_comps(d.write_mask);
        let mut lanes = Vec::new();
        for &c in &comps {
            let a = self.fetch(&inst.src[0], cond_ty, &[c])?;
            let b = self.fetch(&inst.src[1], ty, &[c])?;
            let e = self.fetch(&inst.src[2], ty, &[c])?;
            lanes.push(format!("({} ? {b} : {e})", cond(&a)));
        }
        let e = if lanes.len() == 1 {
            lanes.remove(0)
        } else {
            format!("{}({})", vec_ty(ty, lanes.len()), lanes.join(", "))
        };
        self.store(&d, &e, ty)
    }

    fn cond_src(&mut self, s: &SrcOperand, ty: Ty) -> GResult<String> {
        let a = self.fetch(s, ty, &[0])?;
        Ok(match ty {
            Ty::F => format!("{a} != 0.0"),
            Ty::I => format!("{a} != 0"),
            Ty::U => format!("{a} != 0u"),
        })
    }

    fn imm_scalar(&self, s: &SrcOperand) -> Option<u32> {
        if s.file == File::Immediate && s.index.indirect.is_none() {
            self.p
                .immediates
                .get(s.index.offset as usize)
                .map(|i| i.data[s.swizzle[0] as usize & 3])
        } else {
            None
        }
    }

    pub fn imm_scalar_pub(&self, s: &SrcOperand) -> Option<u32> {
        self.imm_scalar(s)
    }

    pub fn instruction(&mut self, inst: &Instruction, last: bool) -> GResult<()> {
        use Opcode::*;
        use Ty::{F, I, U};
        match inst.opcode {
            Mov => {
                // Without modifiers MOV is a bit copy: read the source in its own type.
                let ty = if inst.saturate || inst.src[0].negate || inst.src[0].absolute {
                    F
                } else {
                    self.native_ty(&inst.src[0])?
                };
                self.typed_op(inst, ty, |a| a[0].clone())?
            }
            Add => self.typed_op(inst, F, |a| format!("({} + {})", a[0], a[1]))?,
            Sub => self.typed_op(inst, F, |a| format!("({} - {})", a[0], a[1]))?,
            Mul => self.typed_op(inst, F, |a| format!("({} * {})", a[0], a[1]))?,
            Div => self.typed_op(inst, F, |a| format!("({} / {})", a[0], a[1]))?,
            Mad => self.typed_op(inst, F, |a| format!("({} * {} + {})", a[0], a[1], a[2]))?,
            Fma => {
                self.require(Feature::GpuShader5)?;
                self.typed_op(inst, F, |a| format!("fma({}, {}, {})", a[0], a[1], a[2]))?
            }
            Lrp => self.typed_op(inst, F, |a| format!("mix({}, {}, {})", a[2], a[1], a[0]))?,
            Min => self.typed_op(inst, F, |a| format!("min({}, {})", a[0], a[1]))?,
            Max => self.typed_op(inst, F, |a| format!("max({}, {})", a[0], a[1]))?,
            Abs => self.typed_op(inst, F, |a| format!("abs({})", a[0]))?,
            Frc => self.typed_op(inst, F, |a| format!("fract({})", a[0]))?,
            Flr => self.typed_op(inst, F, |a| format!("floor({})", a[0]))?,
            Ceil => self.typed_op(inst, F, |a| format!("ceil({})", a[0]))?,
            Trunc => self.typed_op(inst, F, |a| format!("trunc({})", a[0]))?,
            Round => self.typed_op(inst, F, |a| format!("roundEven({})", a[0]))?,
            Ssg => self.typed_op(inst, F, |a| format!("sign({})", a[0]))?,
            Ddx => self.typed_op(inst, F, |a| format!("dFdx({})", a[0]))?,
            Ddy => self.typed_op(inst, F, |a| format!("dFdy({})", a[0]))?,
            DdxFine | DdyFine => {
                self.require(Feature::DerivativeControl)?;
                let f = if inst.opcode == DdxFine {
                    "dFdxFine"
                } else {
                    "dFdyFine"
                };
                self.typed_op(inst, F, |a| format!("{f}({})", a[0]))?
            }
            Rcp => self.repl_op(inst, F, &[0], |a| format!("(1.0 / {})", a[0]))?,
            Rsq => self.repl_op(inst, F, &[0], |a| format!("inversesqrt({})", a[0]))?,
            Sqrt => self.repl_op(inst, F, &[0], |a| format!("sqrt({})", a[0]))?,
            Ex2 => self.repl_op(inst, F, &[0], |a| format!("exp2({})", a[0]))?,
            Lg2 => self.repl_op(inst, F, &[0], |a| format!("log2({})", a[0]))?,
            Sin => self.repl_op(inst, F, &[0], |a| format!("sin({})", a[0]))?,
            Cos => self.repl_op(inst, F, &[0], |a| format!("cos({})", a[0]))?,
            Pow => self.repl_op(inst, F, &[0], |a| format!("pow({}, {})", a[0], a[1]))?,
            Dp2 => self.repl_op(inst, F, &[0, 1], |a| format!("dot({}, {})", a[0], a[1]))?,
            Dp3 => self.repl_op(inst, F, &[0, 1, 2], |a| format!("dot({}, {})", a[0], a[1]))?,
            Dp4 => self.repl_op(inst, F, &[0, 1, 2, 3], |a| {
                format!("dot({}, {})", a[0], a[1])
            })?,
            Dph => {
                let a = self.fetch(&inst.src[0], F, &[0, 1, 2])?;
                let b = self.fetch(&inst.src[1], F, &[0, 1, 2, 3])?;
                self.vec4_op(inst, F, &format!("vec4(dot({a}, ({b}).xyz) + ({b}).w)"))?
            }
            Xpd => {
                let a = self.fetch(&inst.src[0], F, &[0, 1, 2])?;
                let b = self.fetch(&inst.src[1], F, &[0, 1, 2])?;
                self.vec4_op(inst, F, &format!("vec4(cross({a}, {b}), 1.0)"))?
            }
            Dst => {
                let a = self.fetch(&inst.src[0], F, &[0, 1, 2, 3])?;
                let b = self.fetch(&inst.src[1], F, &[0, 1, 2, 3])?;
                self.vec4_op(
                    inst,
                    F,
                    &format!("vec4(1.0, ({a}).y * ({b}).y, ({a}).z, ({b}).w)"),
                )?
            }
            Lit => {
                let a = self.fetch(&inst.src[0], F, &[0, 1, 2, 3])?;
                self.vec4_op(
                    inst,
                    F,
                    &format!(
                        "vec4(1.0, max(({a}).x, 0.0), (({a}).x > 0.0) ? pow(max(({a}).y, 0.0), clamp(({a}).w, -128.0, 128.0)) : 0.0, 1.0)"
                    ),
                )?
            }
            Exp => {
                let a = self.fetch(&inst.src[0], F, &[0])?;
                self.vec4_op(
                    inst,
                    F,
                    &format!("vec4(exp2(floor({a})), {a} - floor({a}), exp2({a}), 1.0)"),
                )?
            }
            Log => {
                let a = self.fetch(&inst.src[0], F, &[0])?;
                self.vec4_op(
                    inst,
                    F,
                    &format!(
                        "vec4(floor(log2(abs({a}))), abs({a}) / exp2(floor(log2(abs({a})))), log2(abs({a})), 1.0)"
                    ),
                )?
            }
            Slt => self.compare(inst, F, "<", true)?,
            Sge => self.compare(inst, F, ">=", true)?,
            Sgt => self.compare(inst, F, ">", true)?,
            Sle => self.compare(inst, F, "<=", true)?,
            Seq => self.compare(inst, F, "==", true)?,
            Sne => self.compare(inst, F, "!=", true)?,
            Fslt => self.compare(inst, F, "<", false)?,
            Fsge => self.compare(inst, F, ">=", false)?,
            Fseq => self.compare(inst, F, "==", false)?,
            Fsne => self.compare(inst, F, "!=", false)?,
            Islt => self.compare(inst, I, "<", false)?,
            Isge => self.compare(inst, I, ">=", false)?,
            Uslt => self.compare(inst, U, "<", false)?,
            Usge => self.compare(inst, U, ">=", false)?,
            Useq => self.compare(inst, U, "==", false)?,
            Usne => self.compare(inst, U, "!=", false)?,
            Cmp => self.select(inst, F, |a| format!("{a} < 0.0"), F)?,
            Ucmp => self.select(inst, U, |a| format!("{a} != 0u"), U)?,
            Arl | Arr => {
                let d = inst.dst[0];
                let comps = mask_comps(d.write_mask);
                let a = self.fetch(&inst.src[0], F, &comps)?;
                let f = if inst.opcode == Arl {
                    "floor"
                } else {
                    "roundEven"
                };
                self.store(&d, &format!("{}({f}({a}))", vec_ty(I, comps.len())), I)?
            }
            Uarl => self.typed_op(inst, I, |a| a[0].clone())?,
            I2f => {
                let d = inst.dst[0];
                let comps = mask_comps(d.write_mask);
                let a = self.fetch(&inst.src[0], I, &comps)?;
                self.store(&d, &format!("{}({a})", vec_ty(F, comps.len())), F)?
            }
            U2f => {
                let d = inst.dst[0];
                let comps = mask_comps(d.write_mask);
                let a = self.fetch(&inst.src[0], U, &comps)?;
                self.store(&d, &format!("{}({a})", vec_ty(F, comps.len())), F)?
            }
            F2i => {
                let d = inst.dst[0];
                let comps = mask_comps(d.write_mask);
                let a = self.fetch(&inst.src[0], F, &comps)?;
                self.store(&d, &format!("{}({a})", vec_ty(I, comps.len())), I)?
            }
            F2u => {
                let d = inst.dst[0];
                let comps = mask_comps(d.write_mask);
                let a = self.fetch(&inst.src[0], F, &comps)?;
                self.store(&d, &format!("{}({a})", vec_ty(U, comps.len())), U)?
            }
            Not => self.typed_op(inst, U, |a| format!("(~{})", a[0]))?,
            And => self.typed_op(inst, U, |a| format!("({} & {})", a[0], a[1]))?,
            Or => self.typed_op(inst, U, |a| format!("({} | {})", a[0], a[1]))?,
            Xor => self.typed_op(inst, U, |a| format!("({} ^ {})", a[0], a[1]))?,
            Shl => self.typed_op(inst, U, |a| format!("({} << ({} & 31u))", a[0], a[1]))?,
            Ushr => self.typed_op(inst, U, |a| format!("({} >> ({} & 31u))", a[0], a[1]))?,
            Ishr => self.typed_op(inst, I, |a| format!("({} >> ({} & 31))", a[0], a[1]))?,
            Uadd => self.typed_op(inst, U, |a| format!("({} + {})", a[0], a[1]))?,
            Umul => self.typed_op(inst, U, |a| format!("({} * {})", a[0], a[1]))?,
            Umad => self.typed_op(inst, U, |a| format!("({} * {} + {})", a[0], a[1], a[2]))?,
            Udiv => self.typed_op(inst, U, |a| format!("({} / {})", a[0], a[1]))?,
            Umod => self.typed_op(inst, U, |a| format!("({} % {})", a[0], a[1]))?,
            Idiv => self.typed_op(inst, I, |a| format!("({} / {})", a[0], a[1]))?,
            Mod => self.typed_op(inst, I, |a| format!("({} % {})", a[0], a[1]))?,
            Umax => self.typed_op(inst, U, |a| format!("max({}, {})", a[0], a[1]))?,
            Umin => self.typed_op(inst, U, |a| format!("min({}, {})", a[0], a[1]))?,
            Imax => self.typed_op(inst, I, |a| format!("max({}, {})", a[0], a[1]))?,
            Imin => self.typed_op(inst, I, |a| format!("min({}, {})", a[0], a[1]))?,
            Ineg => self.typed_op(inst, I, |a| format!("(-{})", a[0]))?,
            Iabs => self.typed_op(inst, I, |a| format!("abs({})", a[0]))?,
            Issg => self.typed_op(inst, I, |a| format!("sign({})", a[0]))?,
            Ibfe | Ubfe | Bfi | Brev | Popc | Lsb | Imsb | Umsb => {
                self.require(Feature::GpuShader5)?;
                match inst.opcode {
                    Ibfe => self.typed_op_mixed(inst, &[I, I, I], I, |a| {
                        format!("bitfieldExtract({}, {}, {})", a[0], a[1], a[2])
                    })?,
                    Ubfe => self.typed_op_mixed(inst, &[U, I, I], U, |a| {
                        format!("bitfieldExtract({}, {}, {})", a[0], a[1], a[2])
                    })?,
                    Bfi => self.typed_op_mixed(inst, &[U, U, I, I], U, |a| {
                        format!("bitfieldInsert({}, {}, {}, {})", a[0], a[1], a[2], a[3])
                    })?,
                    Brev => self.typed_op(inst, U, |a| format!("bitfieldReverse({})", a[0]))?,
                    Imsb => self.typed_op_mixed(inst, &[I], I, |a| format!("findMSB({})", a[0]))?,
                    Popc => {
                        self.typed_op_mixed(inst, &[U], I, |a| format!("bitCount({})", a[0]))?
                    }
                    Lsb => self.typed_op_mixed(inst, &[U], I, |a| format!("findLSB({})", a[0]))?,
                    _ => self.typed_op_mixed(inst, &[U], I, |a| format!("findMSB({})", a[0]))?,
                }
            }
            ImulHi | UmulHi => {
                self.require(Feature::GpuShader5)?;
                let (ty, f) = if inst.opcode == ImulHi {
                    (I, "imulExtended")
                } else {
                    (U, "umulExtended")
                };
                let d = inst.dst[0];
                let comps = mask_comps(d.write_mask);
                let n = comps.len();
                let a = self.fetch(&inst.src[0], ty, &comps)?;
                let b = self.fetch(&inst.src[1], ty, &comps)?;
                let t = vec_ty(ty, n);
                self.out
                    .line(format!("{{ {t} hi, lo; {f}({a}, {b}, hi, lo);"));
                self.store(&d, "hi", ty)?;
                self.out.line("}");
            }
            Pk2h => {
                self.require(Feature::PackHalf)?;
                let d = inst.dst[0];
                let n = mask_comps(d.write_mask).len();
                let a = self.fetch(&inst.src[0], F, &[0, 1])?;
                let e = format!("packHalf2x16({a})");
                let e = if n == 1 {
                    e
                } else {
                    format!("{}({e})", vec_ty(U, n))
                };
                self.store(&d, &e, U)?
            }
            Up2h => {
                self.require(Feature::PackHalf)?;
                let a = self.fetch(&inst.src[0], U, &[0])?;
                self.vec4_op(inst, F, &format!("unpackHalf2x16({a}).xyxy"))?
            }
            // Flow control.
            If | Uif => {
                let c = self.cond_src(&inst.src[0], if inst.opcode == If { F } else { U })?;
                self.out.line(format!("if ({c}) {{"));
                self.out.indent += 1;
            }
            Else => {
                self.out.indent = self.out.indent.saturating_sub(1);
                self.out.line("} else {");
                self.out.indent += 1;
            }
            Endif | Endloop | Endswitch => {
                self.out.indent = self.out.indent.saturating_sub(1);
                self.out.line("}");
            }
            Bgnloop => {
                self.out.line("while (true) {");
                self.out.indent += 1;
            }
            Brk => self.out.line("break;"),
            Cont => self.out.line("continue;"),
            Switch => {
                let a = self.fetch(&inst.src[0], I, &[0])?;
                self.out.line(format!("switch ({a}) {{"));
            }
            Case => {
                let v = self
                    .imm_scalar(&inst.src[0])
                    .ok_or_else(|| self.err("CASE needs an immediate"))?;
                self.out.line(format!("case {}:", v as i32));
            }
            Default => self.out.line("default:"),
            Ret | End => {
                if !last {
                    if self.stage != Processor::Geometry {
                        self.out.line("virgl_store_outputs();");
                    }
                    self.out.line("return;");
                }
            }
            Nop => {}
            Kill => {
                self.iface.uses_discard = true;
                self.out.line("discard;");
            }
            KillIf => {
                self.iface.uses_discard = true;
                let a = self.fetch(&inst.src[0], F, &[0, 1, 2, 3])?;
                self.out
                    .line(format!("if (any(lessThan({a}, vec4(0.0)))) discard;"));
            }
            Demote => {
                self.iface.uses_discard = true;
                self.out.line("discard;");
            }
            Emit | Endprim => {
                if self.stage != Processor::Geometry {
                    return Err(self.err("EMIT/ENDPRIM outside a geometry shader"));
                }
                let stream = self.imm_scalar(&inst.src[0]).unwrap_or(0);
                if stream > 3 {
                    return Err(self.err("stream out of range"));
                }
                if inst.opcode == Emit {
                    self.out.line("virgl_store_outputs();");
                    if stream == 0 {
                        self.out.line("EmitVertex();");
                    } else {
                        self.require(Feature::GpuShader5)?;
                        self.out.line(format!("EmitStreamVertex({stream});"));
                    }
                } else if stream == 0 {
                    self.out.line("EndPrimitive();");
                } else {
                    self.require(Feature::GpuShader5)?;
                    self.out.line(format!("EndStreamPrimitive({stream});"));
                }
            }
            Barrier => self.out.line("barrier();"),
            Membar => {
                let v = self.imm_scalar(&inst.src[0]).unwrap_or(0xf);
                if v & 16 != 0 {
                    self.out.line("groupMemoryBarrier();");
                } else {
                    if v & 1 != 0 {
                        self.out.line("memoryBarrierBuffer();");
                    }
                    if v & 2 != 0 {
                        self.out.line("memoryBarrierAtomicCounter();");
                    }
                    if v & 4 != 0 {
                        self.out.line("memoryBarrierImage();");
                    }
                    if v & 8 != 0 {
                        self.out.line("memoryBarrierShared();");
                    }
                }
            }
            InterpCentroid | InterpSample | InterpOffset => self.interp(inst)?,
            VoteAny | VoteAll | VoteEq => {
                self.require(Feature::ShaderGroupVote)?;
                let f = match inst.opcode {
                    VoteAny => "anyInvocationARB",
                    VoteAll => "allInvocationsARB",
                    _ => "allInvocationsEqualARB",
                };
                // GLSL 4.60 spells them without the suffix.
                let f = if !self.t.es && self.t.version >= 460 {
                    f.trim_end_matches("ARB")
                } else {
                    f
                };
                let c = self.cond_src(&inst.src[0], U)?;
                self.repl_op_expr(inst, U, &format!("({f}({c}) ? 0xffffffffu : 0u)"))?
            }
            Tex | Txp | Txb | Txl | Txd | Txf | Txq | Txqs | Tg4 | Lodq | Tex2 | Txb2 | Txl2
            | TexLz | TxfLz => self.texture(inst)?,
            Load | Store | Resq | Atomuadd | Atomxchg | Atomcas | Atomand | Atomor | Atomxor
            | Atomumin | Atomumax | Atomimin | Atomimax => self.memory(inst)?,
            F2d | D2f | Dabs | Dneg | Dadd | Dmul | Dmax | Dmin | Dslt | Dsge | Dseq | Dsne
            | Drcp | Dsqrt | Dmad | Dfma | Dfrac | D2i | I2d | D2u | U2d | Drsq | Dtrunc
            | Dceil | Dflr | Dround | Dssg | Ddiv => self.double_op(inst)?,
            op => {
                return Err(VrendError::Unsupported(format!(
                    "TGSI opcode {} (line {})",
                    op.name(),
                    inst.line
                )))
            }
        }
        Ok(())
    }

    /// Per-lane op with differently typed sources (bitfield functions take scalar offsets and
    /// counts, so every lane is computed on its own).
    fn typed_op_mixed(
        &mut self,
        inst: &Instruction,
        src_tys: &[Ty],
        res: Ty,
        f: impl Fn(&[String]) -> String,
    ) -> GResult<()> {
        let d = inst.dst[0];
        let comps = mask_comps(d.write_mask);
        let mut lanes = Vec::new();
        for &c in &comps {
            let mut args = Vec::new();
            for (s, ty) in inst.src.iter().zip(src_tys) {
                args.push(self.fetch(s, *ty, &[c])?);
            }
            lanes.push(f(&args));
        }
        let e = if lanes.len() == 1 {
            lanes.remove(0)
        } else {
            format!("{}({})", vec_ty(res, lanes.len()), lanes.join(", "))
        };
        self.store(&d, &e, res)
    }

    fn interp(&mut self, inst: &Instruction) -> GResult<()> {
        self.require(Feature::GpuShader5)?;
        let s = inst.src[0];
        if s.file != File::Input || s.index.indirect.is_some() {
            return Err(self.err("interpolation of a non-input"));
        }
        let name = match self.inputs.get(&(s.index.offset as u32)) {
            Some(super::emit::InReg::Varying(n)) => n.clone(),
            _ => return Err(self.err("interpolation of a non-varying input")),
        };
        let d = inst.dst[0];
        let comps = mask_comps(d.write_mask);
        let sw: Vec<u8> = comps.iter().map(|&c| s.swizzle[c as usize]).collect();
        let call = match inst.opcode {
            Opcode::InterpCentroid => format!("interpolateAtCentroid({name})"),
            Opcode::InterpSample => {
                let i = self.fetch(&inst.src[1], Ty::I, &[0])?;
                format!("interpolateAtSample({name}, {i})")
            }
            _ => {
                let o = self.fetch(&inst.src[1], Ty::F, &[0, 1])?;
                format!("interpolateAtOffset({name}, {o})")
            }
        };
        let mut e = format!("{call}.{}", super::expr::swizzle_str(&sw));
        if s.absolute {
            e = format!("abs({e})");
        }
        if s.negate {
            e = format!("(-{e})");
        }
        self.store(&d, &e, Ty::F)
    }

    fn double_op(&mut self, inst: &Instruction) -> GResult<()> {
        use Opcode::*;
        self.require(Feature::Fp64)?;
        let d = inst.dst[0];
        // A double lives in .xy or .zw; lane l of the destination.
        let lanes: Vec<usize> = (0..2)
            .filter(|l| d.write_mask & (0b11 << (2 * l)) != 0)
            .collect();
        let dsrc = |g: &mut Self, s: &SrcOperand, l: usize| -> GResult<String> {
            let c = [2 * l as u8, 2 * l as u8 + 1];
            let sw = [s.swizzle[c[0] as usize], s.swizzle[c[1] as usize]];
            let plain = SrcOperand {
                negate: false,
                absolute: false,
                swizzle: [sw[0], sw[1], sw[0], sw[1]],
                ..*s
            };
            let bits = g.fetch(&plain, Ty::U, &[0, 1])?;
            let mut e = format!("packDouble2x32({bits})");
            if s.absolute {
                e = format!("abs({e})");
            }
            if s.negate {
                e = format!("(-{e})");
            }
            Ok(e)
        };
        match inst.opcode {
            // 32-bit results from doubles: dst.x from lane 0, dst.y from lane 1.
            D2f | D2i | D2u | Dslt | Dsge | Dseq | Dsne => {
                for c in mask_comps(d.write_mask) {
                    let l = (c % 2) as usize;
                    let a = dsrc(self, &inst.src[0], l)?;
                    let (e, ty) = match inst.opcode {
                        D2f => (format!("float({a})"), Ty::F),
                        D2i => (format!("int({a})"), Ty::I),
                        D2u => (format!("uint({a})"), Ty::U),
                        op => {
                            let b = dsrc(self, &inst.src[1], l)?;
                            let o = match op {
                                Dslt => "<",
                                Dsge => ">=",
                                Dseq => "==",
                                _ => "!=",
                            };
                            (format!("(({a} {o} {b}) ? 0xffffffffu : 0u)"), Ty::U)
                        }
                    };
                    let one = DstOperand {
                        write_mask: 1 << c,
                        ..d
                    };
                    self.store(&one, &e, ty)?;
                }
            }
            F2d | I2d | U2d => {
                for l in lanes {
                    let ty = match inst.opcode {
                        F2d => Ty::F,
                        I2d => Ty::I,
                        _ => Ty::U,
                    };
                    let a = self.fetch(&inst.src[0], ty, &[l as u8])?;
                    let one = DstOperand {
                        write_mask: 0b11 << (2 * l),
                        ..d
                    };
                    self.store(&one, &format!("unpackDouble2x32(double({a}))"), Ty::U)?;
                }
            }
            op => {
                for l in lanes {
                    let mut a = Vec::new();
                    for s in &inst.src {
                        a.push(dsrc(self, s, l)?);
                    }
                    let e = match op {
                        Dabs => format!("abs({})", a[0]),
                        Dneg => format!("(-{})", a[0]),
                        Dadd => format!("({} + {})", a[0], a[1]),
                        Dmul => format!("({} * {})", a[0], a[1]),
                        Ddiv => format!("({} / {})", a[0], a[1]),
                        Dmax => format!("max({}, {})", a[0], a[1]),
                        Dmin => format!("min({}, {})", a[0], a[1]),
                        Drcp => format!("(1.0LF / {})", a[0]),
                        Dsqrt => format!("sqrt({})", a[0]),
                        Drsq => format!("inversesqrt({})", a[0]),
                        Dmad => format!("({} * {} + {})", a[0], a[1], a[2]),
                        Dfma => format!("fma({}, {}, {})", a[0], a[1], a[2]),
                        Dfrac => format!("fract({})", a[0]),
                        Dtrunc => format!("trunc({})", a[0]),
                        Dceil => format!("ceil({})", a[0]),
                        Dflr => format!("floor({})", a[0]),
                        Dround => format!("roundEven({})", a[0]),
                        Dssg => format!("sign({})", a[0]),
                        other => {
                            return Err(VrendError::Unsupported(format!(
                                "TGSI opcode {}",
                                other.name()
                            )))
                        }
                    };
                    let one = DstOperand {
                        write_mask: 0b11 << (2 * l),
                        ..d
                    };
                    self.store(&one, &format!("unpackDouble2x32({e})"), Ty::U)?;
                }
            }
        }
        Ok(())
    }
}
