//! Outputs and inputs beyond one register per GLSL variable: tessellation control outputs
//! shared by the patch (written in place, indexed at run time), constant buffers and
//! per-vertex inputs selected at run time, and transform feedback captures.

use std::fmt::Write as _;

use super::emit::{GResult, Gen, InReg, OutReg};
use super::expr::{cast, swizzle_str, vec_ty, Ty};
use super::iface::Varying;
use super::Feature;
use crate::tgsi::ir::*;

/// `gl_SkipComponentsN` markers for a gap of `n` dwords in a transform feedback record.
fn skip_components(names: &mut Vec<String>, mut n: u32) {
    while n > 0 {
        let k = n.min(4);
        names.push(format!("gl_SkipComponents{k}"));
        n -= k;
    }
}

/// A tessellation level array read as a vec4.
pub(crate) fn tess_level_expr(outer: bool) -> &'static str {
    if outer {
        "vec4(gl_TessLevelOuter[0], gl_TessLevelOuter[1], gl_TessLevelOuter[2], gl_TessLevelOuter[3])"
    } else {
        "vec4(gl_TessLevelInner[0], gl_TessLevelInner[1], 0.0, 0.0)"
    }
}

impl Gen<'_> {
    /// Per-patch outputs of a tessellation control shader, declared in place.
    pub(crate) fn tcs_patch_output(&mut self, sem: Option<Semantic>) -> GResult<Option<OutReg>> {
        let Some(sem) = sem.filter(|_| self.stage == Processor::TessCtrl) else {
            return Ok(None);
        };
        Ok(Some(match sem.name {
            SemanticName::Patch if self.tcs_patch_array.is_some_and(|n| sem.index < n) => {
                let name = format!("tcs_pa[{}]", sem.index);
                self.iface.outputs.push(Varying {
                    semantic: sem,
                    name: name.clone(),
                    interpolation: None,
                    location: InterpLocation::Center,
                    patch: true,
                });
                OutReg::Patch(name)
            }
            SemanticName::Patch => {
                let name = format!("{}_p{}", self.pre, sem.index);
                self.out.global(format!("patch out vec4 {name};"));
                self.iface.outputs.push(Varying {
                    semantic: sem,
                    name: name.clone(),
                    interpolation: None,
                    location: InterpLocation::Center,
                    patch: true,
                });
                OutReg::Patch(name)
            }
            SemanticName::TessOuter => OutReg::TessLevel(true),
            SemanticName::TessInner => OutReg::TessLevel(false),
            _ => return Ok(None),
        }))
    }

    /// A TCS output store that cannot be one assignment: tessellation levels (float arrays)
    /// and indirectly indexed outputs (a switch over the registers). `v` is `comps.len()`
    /// float lanes. Patch outputs go through `tcs_pa` with a dynamic index (see
    /// [`super::tcs_patch_array`]).
    pub(crate) fn tcs_store_in_place(
        &mut self,
        d: &DstOperand,
        v: &str,
        comps: &[u8],
    ) -> GResult<()> {
        let sw = swizzle_str(comps);
        // With a vertex index the register is one of the per-vertex outputs (written for
        // the invocation's own vertex), without one a per-patch output or level.
        let per_vertex = d.dimension.is_some();
        let regs: Vec<(u32, OutReg)> = if d.index.indirect.is_some() {
            self.outputs
                .iter()
                .filter(|(_, (r, _))| matches!(r, OutReg::PerVertex(..)) == per_vertex)
                .map(|(k, (r, _))| (*k, r.clone()))
                .collect()
        } else {
            let reg = d.index.offset as u32;
            let (r, _) = self
                .outputs
                .get(&reg)
                .ok_or_else(|| self.err(format!("OUT[{reg}] not declared")))?;
            vec![(reg, r.clone())]
        };
        let switch = d.index.indirect.is_some();
        let mut regs = regs;
        if switch && !per_vertex && !self.tcs_patch_regs.is_empty() {
            // Patch registers: one store through a dynamic index into `tcs_pa`.
            let i = self.index_expr(&d.index)?;
            let map: String = self
                .tcs_patch_regs
                .iter()
                .map(|(r, p)| format!("(virgl_r == {r}) ? {p} : "))
                .collect();
            self.out.line("{");
            self.out.indent += 1;
            self.out.line(format!("int virgl_r = {i};"));
            self.out.line(format!("int virgl_pi = {map}-1;"));
            self.out
                .line(format!("if (virgl_pi >= 0) tcs_pa[virgl_pi].{sw} = {v};"));
            self.out.indent -= 1;
            self.out.line("}");
            regs.retain(|(r, _)| !self.tcs_patch_regs.contains_key(r));
        }
        if switch {
            let i = self.index_expr(&d.index)?;
            self.out.line(format!("switch ({i}) {{"));
        }
        for (reg, r) in regs {
            if switch {
                self.out.line(format!("case {reg}:"));
            }
            match r {
                OutReg::Shadow => self.out.line(format!("outr[{reg}].{sw} = {v};")),
                OutReg::Patch(name) => self.out.line(format!("{name}.{sw} = {v};")),
                OutReg::TessLevel(outer) => {
                    let (arr, n) = if outer {
                        ("gl_TessLevelOuter", 4)
                    } else {
                        ("gl_TessLevelInner", 2)
                    };
                    for (lane, &c) in comps.iter().enumerate() {
                        if c >= n {
                            continue;
                        }
                        let e = if comps.len() == 1 {
                            v.to_string()
                        } else {
                            format!("({v}).{}", super::expr::SWZ[lane])
                        };
                        self.out.line(format!("{arr}[{c}] = {e};"));
                    }
                }
                OutReg::PerVertex(a, suffix) => self
                    .out
                    .line(format!("{a}[gl_InvocationID]{suffix}.{sw} = {v};")),
            }
            if switch {
                self.out.line("break;");
            }
        }
        if switch {
            self.out.line("default: break;");
            self.out.line("}");
        }
        Ok(())
    }

    /// `uvec4 <s>_ubo_ind(int b, int i)`: constant buffer `b` (vec4 `i`, clamped) selected at
    /// run time; undeclared buffers read zero.
    pub(crate) fn ubo_reader(&self) -> String {
        let pre = self.pre;
        let mut s = format!("uvec4 {pre}_ubo_ind(int b, int i) {{\n   switch (b) {{\n");
        if self.const0_len > 0 {
            let _ = writeln!(
                s,
                "   case 0: return {pre}_const0[clamp(i, 0, {})];",
                self.const0_len - 1
            );
        }
        for (&b, &n) in &self.ubos {
            let _ = writeln!(
                s,
                "   case {b}: return {pre}_ubo{b}_d[clamp(i, 0, {})];",
                n.max(1) - 1
            );
        }
        s.push_str("   default: return uvec4(0u);\n   }\n}\n");
        s
    }

    /// `vec4 <s>_in_ind(int i, int v)`: input register `i` of vertex `v`, for registers
    /// selected at run time.
    pub(crate) fn input_reader(&self) -> String {
        let pre = self.pre;
        let mut s = format!("vec4 {pre}_in_ind(int i, int v) {{\n   switch (i) {{\n");
        for (reg, r) in &self.inputs {
            let e = match r {
                InReg::PerVertex(a, suffix) => format!("{a}[v]{suffix}"),
                InReg::Expr(e, ty) => cast(e, *ty, Ty::F, 4),
                InReg::Varying(e) => e.clone(),
            };
            let _ = writeln!(s, "   case {reg}: return {e};");
        }
        s.push_str("   default: return vec4(0.0);\n   }\n}\n");
        s
    }

    /// `vec4 virgl_tcs_out(int i, int v)`: TCS output register `i` read with an indirect
    /// index (of vertex `v` for per-vertex outputs).
    pub(crate) fn tcs_out_reader(&self) -> String {
        let mut s = String::from("vec4 virgl_tcs_out(int i, int v) {\n   switch (i) {\n");
        for (reg, (r, _)) in &self.outputs {
            let e = match r {
                OutReg::Shadow => format!("outr[{reg}]"),
                OutReg::Patch(name) => name.clone(),
                OutReg::TessLevel(outer) => tess_level_expr(*outer).to_string(),
                // Clamped: patch reads pass v = -1 and the guest's vertex index is untrusted;
                // NVIDIA's compiler also rejects the constant -1 once the call is inlined,
                // even though that case is never taken.
                OutReg::PerVertex(a, suffix) => {
                    format!("{a}[clamp(v, 0, {a}.length() - 1)]{suffix}")
                }
            };
            let _ = writeln!(s, "   case {reg}: return {e};");
        }
        s.push_str("   default: return vec4(0.0);\n   }\n}\n");
        s
    }

    /// Transform feedback: one `virgl_tf<i>` output per captured range, written with the
    /// other outputs, and the varying list (in buffer and offset order, gaps and strides
    /// as skip markers) the program is linked with.
    pub(crate) fn stream_output(
        &mut self,
        so: &super::StreamOutputKey,
        s: &mut String,
        globals: &mut String,
    ) -> GResult<()> {
        if so.outputs.len() > 64 {
            return Err(self.err("too many stream outputs"));
        }
        for (i, o) in so.outputs.iter().enumerate() {
            let end = u32::from(o.start) + u32::from(o.count);
            if o.count == 0 || end > 4 || o.buffer > 3 || o.stream > 3 {
                return Err(self.err(format!("stream output {i} out of range")));
            }
            if !matches!(self.outputs.get(&o.register), Some((OutReg::Shadow, _))) {
                return Err(self.err(format!("stream output of OUT[{}]", o.register)));
            }
            let stream = if o.stream != 0 {
                self.require(Feature::GpuShader5)?;
                format!("layout(stream = {}) ", o.stream)
            } else {
                String::new()
            };
            let comps: Vec<u8> = (o.start..end as u8).collect();
            let _ = writeln!(
                globals,
                "{stream}out {} virgl_tf{i};",
                vec_ty(Ty::F, comps.len())
            );
            let _ = writeln!(
                s,
                "   virgl_tf{i} = outr[{}].{};",
                o.register,
                swizzle_str(&comps)
            );
        }
        let mut order: Vec<usize> = (0..so.outputs.len()).collect();
        order.sort_by_key(|&i| (so.outputs[i].buffer, so.outputs[i].dst_offset));
        let last_buffer = order.last().map_or(0, |&i| so.outputs[i].buffer);
        let mut names = Vec::new();
        for b in 0..=last_buffer {
            if b > 0 {
                names.push("gl_NextBuffer".to_string());
            }
            let mut at = 0u32;
            for &i in order.iter().filter(|&&i| so.outputs[i].buffer == b) {
                let o = &so.outputs[i];
                let off = u32::from(o.dst_offset);
                if off < at {
                    return Err(self.err("overlapping stream outputs"));
                }
                skip_components(&mut names, off - at);
                names.push(format!("virgl_tf{i}"));
                at = off + u32::from(o.count);
            }
            let stride = so.stride[usize::from(b)];
            if stride > at {
                skip_components(&mut names, stride - at);
            }
        }
        self.iface.so_varyings = names;
        Ok(())
    }
}
