//! The generator: declarations from the program's `DCL`s, then one GLSL statement (or a few)
//! per TGSI instruction, then the output epilogue.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::emit_io::tess_level_expr;
use super::expr::{cast, literal, mask_comps, swizzle_str, vec_ty, Ty};
use super::iface::{SamplerKind, ShaderInterface, Varying};
use super::{shader_err, stage_prefix, AlphaFunc, Feature, GlslShader, GlslTarget, Out, ShaderKey};
use crate::error::VrendError;
use crate::tgsi::ir::*;

pub(crate) type GResult<T> = Result<T, VrendError>;

/// How one input register is read.
#[derive(Debug, Clone)]
pub(crate) enum InReg {
    /// A vec4-like expression of the given lane type.
    Expr(String, Ty),
    /// Per-vertex array: `prefix[v]suffix` (`gl_in[v].gl_Position`, `vs_g0[v]`).
    PerVertex(String, String),
    /// Fragment varying that can be interpolated at an offset/sample (`interpolateAt*`).
    Varying(String),
}

/// Where one output register goes.
#[derive(Debug, Clone)]
pub(crate) enum OutReg {
    /// Shadow register `outr[i]`, copied in the epilogue.
    Shadow,
    /// TCS per-vertex output: `prefix[v]suffix`.
    PerVertex(String, String),
    /// TCS patch output, written in place: every invocation of the patch shares it, so a
    /// private shadow copy would hide writes from the others (reads after `BARRIER`) and
    /// overwrite them with stale values at the end.
    Patch(String),
    /// TCS `TESSOUTER` (true) / `TESSINNER` (false), written in place per component.
    TessLevel(bool),
}

pub(crate) struct Gen<'a> {
    pub p: &'a Program,
    pub key: &'a ShaderKey,
    pub t: &'a GlslTarget,
    pub out: Out,
    pub iface: ShaderInterface,
    pub stage: Processor,
    pub pre: &'static str,
    pub in_pre: &'static str,
    /// One flat temp array of this length (indirect access without array ids).
    pub temp_flat: Option<u32>,
    /// (array id, first, last) of `DCL TEMP[a..b], ARRAY(id)`.
    pub temp_arrays: Vec<(u32, u32, u32)>,
    pub max_temp: Option<u32>,
    pub inputs: BTreeMap<u32, InReg>,
    /// Inputs copied into `inr[]` because they are indexed indirectly.
    pub in_array: Option<u32>,
    pub outputs: BTreeMap<u32, (OutReg, Option<Semantic>)>,
    pub out_len: u32,
    pub sv: BTreeMap<u32, (String, Ty)>,
    pub imm_array: bool,
    pub samp_indirect: bool,
    pub samplers: BTreeMap<u32, SamplerKind>,
    pub const0_len: u32,
    pub ubos: BTreeMap<u32, u32>,
    pub addr_len: u32,
    pub last_vertex: bool,
    pub images: BTreeMap<u32, ImageDecl>,
    pub buffers: BTreeMap<u32, bool>,
    /// `DCL HWATOMIC[binding][first..last]`: atomic counter arrays.
    pub atomics: Vec<(u32, u32, u32)>,
    pub shared_mem: bool,
    pub line: usize,
    pub cur_saturate: bool,
    /// Fragment shader: `gl_ClipDistance` entries read.
    pub fs_clipdist_in: u32,
    /// TCS: outputs are read with an indirect index (`virgl_tcs_out(i)` is emitted).
    pub tcs_out_read_indirect: std::cell::Cell<bool>,
    /// TCS: patch outputs are elements of `tcs_pa[n]` ([`super::tcs_patch_array`]).
    pub tcs_patch_array: Option<u32>,
    /// TCS: register -> PATCH semantic index, for `tcs_pa`.
    pub tcs_patch_regs: BTreeMap<u32, u32>,
    /// Constant buffers are selected by an indirect index (`<s>_ubo_ind(b, i)` is emitted).
    pub ubo_indirect: bool,
    /// Per-vertex inputs are read with an indirect register index (`<s>_in_ind(i, v)`).
    pub in_indirect: bool,
}

fn sem_suffix(s: &Semantic) -> Option<String> {
    Some(match s.name {
        SemanticName::Generic => format!("g{}", s.index),
        SemanticName::Texcoord => format!("tc{}", s.index),
        SemanticName::Color => format!("c{}", s.index),
        SemanticName::BColor => format!("bc{}", s.index),
        SemanticName::Fog => format!("fog{}", s.index),
        SemanticName::Patch => format!("p{}", s.index),
        SemanticName::Normal => format!("n{}", s.index),
        _ => return None,
    })
}

impl<'a> Gen<'a> {
    pub fn new(p: &'a Program, key: &'a ShaderKey, t: &'a GlslTarget) -> GResult<Self> {
        let stage = p.processor;
        let prev = key.prev_stage.unwrap_or(match stage {
            Processor::TessEval => Processor::TessCtrl,
            _ => Processor::Vertex,
        });
        let mut g = Gen {
            p,
            key,
            t,
            out: Out::default(),
            iface: ShaderInterface {
                stage: Some(stage),
                ..Default::default()
            },
            stage,
            pre: stage_prefix(stage),
            in_pre: stage_prefix(prev),
            temp_flat: None,
            temp_arrays: Vec::new(),
            max_temp: None,
            inputs: BTreeMap::new(),
            in_array: None,
            outputs: BTreeMap::new(),
            out_len: 0,
            sv: BTreeMap::new(),
            imm_array: false,
            samp_indirect: false,
            samplers: BTreeMap::new(),
            const0_len: 0,
            ubos: BTreeMap::new(),
            addr_len: 0,
            last_vertex: key.last_vertex_stage.unwrap_or(matches!(
                stage,
                Processor::Vertex | Processor::TessEval | Processor::Geometry
            )),
            images: BTreeMap::new(),
            buffers: BTreeMap::new(),
            atomics: Vec::new(),
            shared_mem: false,
            line: 0,
            cur_saturate: false,
            fs_clipdist_in: 0,
            tcs_out_read_indirect: std::cell::Cell::new(false),
            tcs_patch_array: super::tcs_patch_array(p),
            tcs_patch_regs: BTreeMap::new(),
            ubo_indirect: false,
            in_indirect: false,
        };
        g.stage_features()?;
        g.scan()?;
        g.declare()?;
        Ok(g)
    }

    pub fn err(&self, msg: impl Into<String>) -> VrendError {
        shader_err(self.line, msg)
    }

    /// Makes `f` available: core in the target version, or its extension enabled.
    pub fn require(&mut self, f: Feature) -> GResult<()> {
        let (core_desktop, core_es, ext_desktop, ext_es) = f.info();
        let (core, ext) = if self.t.es {
            (core_es, ext_es)
        } else {
            (core_desktop, ext_desktop)
        };
        if self.t.version >= core {
            return Ok(());
        }
        if !ext.is_empty() && (self.t.has_ext(ext) || core == u32::MAX || self.ext_assumed(f)) {
            self.out.extensions.insert(ext);
            return Ok(());
        }
        Err(VrendError::Unsupported(format!(
            "{f:?} in GLSL {}{} (line {})",
            self.t.version,
            if self.t.es { " es" } else { "" },
            self.line
        )))
    }

    /// Extensions every GL 3.1+ host that runs virgl has in practice.
    fn ext_assumed(&self, f: Feature) -> bool {
        !self.t.es
            && matches!(
                f,
                Feature::BitEncoding
                    | Feature::ExplicitAttribLocation
                    | Feature::FragCoordConventions
            )
    }

    fn stage_features(&mut self) -> GResult<()> {
        self.line = 1;
        match self.stage {
            Processor::Geometry => self.require(Feature::Geometry)?,
            Processor::TessCtrl | Processor::TessEval => self.require(Feature::Tessellation)?,
            Processor::Compute => self.require(Feature::Compute)?,
            _ => {}
        }
        self.require(Feature::BitEncoding)
    }

    fn explicit_locations(&self) -> bool {
        if self.t.es {
            true
        } else {
            self.t.version >= 330
        }
    }

    /// Finds which register files are indexed indirectly.
    fn scan(&mut self) -> GResult<()> {
        for inst in &self.p.instructions {
            let regs = inst
                .src
                .iter()
                .map(|s| (s.file, s.index))
                .chain(inst.dst.iter().map(|d| (d.file, d.index)));
            for (file, idx) in regs {
                let Some(ind) = idx.indirect else { continue };
                match file {
                    File::Temp if ind.array_id.is_none() => self.temp_flat = Some(0),
                    File::Immediate => self.imm_array = true,
                    File::Sampler => self.samp_indirect = true,
                    File::Input => self.in_array = Some(0),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn declare(&mut self) -> GResult<()> {
        let decls: Vec<Declaration> = self.p.declarations.clone();
        if let Some(n) = self.tcs_patch_array {
            self.out.global(format!("patch out vec4 tcs_pa[{n}];"));
        }
        for d in &decls {
            self.line = d.line;
            match d.file {
                File::Temp => {
                    self.max_temp = Some(self.max_temp.unwrap_or(0).max(d.last));
                    if let Some(id) = d.array_id {
                        if self.temp_arrays.iter().any(|a| a.0 == id) {
                            return Err(self.err(format!("array {id} declared twice")));
                        }
                        self.temp_arrays.push((id, d.first, d.last));
                    }
                }
                File::Address => self.addr_len = self.addr_len.max(d.last + 1),
                File::Const => {
                    let b = d.dimension.unwrap_or(0);
                    if b == 0 {
                        self.const0_len = self.const0_len.max(d.last + 1);
                    } else if b > 31 {
                        return Err(self.err("constant buffer index out of range"));
                    } else {
                        let e = self.ubos.entry(b).or_insert(0);
                        *e = (*e).max(d.last + 1);
                    }
                }
                File::Input => self.declare_input(d)?,
                File::Output => self.declare_output(d)?,
                File::SystemValue => self.declare_sv(d)?,
                File::SamplerView => {}
                File::Sampler => {}
                File::Image => {
                    let img = d
                        .image
                        .clone()
                        .ok_or_else(|| self.err("image without target"))?;
                    for i in d.first..=d.last {
                        self.images.insert(i, img.clone());
                    }
                }
                File::Buffer => {
                    if d.atomic {
                        return Err(VrendError::Unsupported("atomic BUFFER declarations".into()));
                    }
                    for i in d.first..=d.last {
                        self.buffers.insert(i, true);
                    }
                }
                File::Memory => match d.memory_type {
                    Some(MemoryType::Shared) => self.shared_mem = true,
                    _ => {
                        return Err(VrendError::Unsupported(
                            "MEMORY declarations other than SHARED".into(),
                        ))
                    }
                },
                File::HwAtomic => {
                    self.require(Feature::AtomicCounters)?;
                    let b = d.dimension.unwrap_or(0);
                    if b >= 32 {
                        return Err(self.err("atomic counter buffer index out of range"));
                    }
                    if self
                        .atomics
                        .iter()
                        .any(|a| a.0 == b && a.1 <= d.last && d.first <= a.2)
                    {
                        return Err(self.err("overlapping HWATOMIC declarations"));
                    }
                    self.atomics.push((b, d.first, d.last));
                    if !self.iface.atomic_buffers.contains(&b) {
                        self.iface.atomic_buffers.push(b);
                    }
                }
                File::Immediate | File::Null | File::Predicate | File::ConstBuf => {
                    return Err(self.err(format!("cannot declare {}", d.file.name())))
                }
            }
        }
        if let (Some(_), Some(m)) = (self.temp_flat, self.max_temp) {
            self.temp_flat = Some(m + 1);
            self.temp_arrays.clear();
        }
        if self.in_array.is_some() {
            let n = self.inputs.keys().next_back().map_or(0, |k| k + 1);
            self.in_array = Some(n);
        }
        Ok(())
    }

    fn interp_qualifier(&self, interp: Option<Interpolation>, loc: InterpLocation) -> String {
        let mut q = String::new();
        match interp {
            Some(Interpolation::Constant) => q.push_str("flat "),
            Some(Interpolation::Linear) if !self.t.es => q.push_str("noperspective "),
            Some(Interpolation::Color) if self.key.flatshade => q.push_str("flat "),
            _ => {}
        }
        match loc {
            InterpLocation::Centroid => q.push_str("centroid "),
            InterpLocation::Sample => q.push_str("sample "),
            InterpLocation::Center => {}
        }
        q
    }

    fn declare_input(&mut self, d: &Declaration) -> GResult<()> {
        for reg in d.first..=d.last {
            let off = reg - d.first;
            let sem = d.semantic.map(|s| Semantic {
                index: s.index + off,
                ..s
            });
            let r = match self.stage {
                Processor::Vertex => {
                    let name = format!("attr{reg}");
                    let ty = if self.key.attrib_signed_int & (1 << (reg & 31)) != 0 {
                        Ty::I
                    } else if self.key.attrib_unsigned_int & (1 << (reg & 31)) != 0 {
                        Ty::U
                    } else {
                        Ty::F
                    };
                    let loc = if self.explicit_locations() {
                        self.require(Feature::ExplicitAttribLocation)?;
                        format!("layout(location = {reg}) ")
                    } else {
                        String::new()
                    };
                    self.out
                        .global(format!("{loc}in {} {name};", vec_ty(ty, 4)));
                    self.iface.attributes.push((reg, name.clone()));
                    InReg::Expr(name, ty)
                }
                Processor::Fragment => self.fs_input(d, sem)?,
                Processor::Geometry | Processor::TessCtrl | Processor::TessEval => {
                    self.vertex_array_input(d, sem)?
                }
                Processor::Compute => return Err(self.err("compute shaders have no inputs")),
            };
            self.inputs.insert(reg, r);
        }
        Ok(())
    }

    fn fs_input(&mut self, d: &Declaration, sem: Option<Semantic>) -> GResult<InReg> {
        let sem = sem.ok_or_else(|| self.err("fragment input without semantic"))?;
        Ok(match sem.name {
            SemanticName::Position => {
                let origin = self.p.property(PropertyName::FsCoordOrigin).unwrap_or(0)
                    ^ u32::from(self.key.fragcoord_origin_flip);
                let center = self
                    .p
                    .property(PropertyName::FsCoordPixelCenter)
                    .unwrap_or(0);
                if (origin == 0 || center == 1) && self.t.es {
                    // GLSL ES fixes gl_FragCoord at lower-left, half-pixel centres: flip y
                    // against the framebuffer height and shift the centres by hand (as
                    // upstream's GLES path does).
                    let c = if center == 1 { " - 0.5" } else { "" };
                    let y = if origin == 0 {
                        self.out.global("uniform float virgl_fb_height;");
                        self.iface.fb_height_uniform = Some("virgl_fb_height".into());
                        format!("virgl_fb_height - gl_FragCoord.y{c}")
                    } else {
                        format!("gl_FragCoord.y{c}")
                    };
                    return Ok(InReg::Expr(
                        format!("vec4(gl_FragCoord.x{c}, {y}, gl_FragCoord.zw)"),
                        Ty::F,
                    ));
                }
                if origin == 0 || center == 1 {
                    self.require(Feature::FragCoordConventions)?;
                    let mut q = Vec::new();
                    if origin == 0 {
                        q.push("origin_upper_left");
                    }
                    if center == 1 {
                        q.push("pixel_center_integer");
                    }
                    self.out
                        .global(format!("layout({}) in vec4 gl_FragCoord;", q.join(", ")));
                }
                InReg::Expr("gl_FragCoord".into(), Ty::F)
            }
            SemanticName::Face => InReg::Expr(
                "vec4(gl_FrontFacing ? 1.0 : -1.0, 0.0, 0.0, 1.0)".into(),
                Ty::F,
            ),
            SemanticName::PrimId => InReg::Expr("ivec4(gl_PrimitiveID)".into(), Ty::I),
            SemanticName::Layer => {
                self.require(Feature::ViewportLayerFs)?;
                InReg::Expr("ivec4(gl_Layer)".into(), Ty::I)
            }
            SemanticName::ViewportIndex => {
                self.require(Feature::ViewportLayerFs)?;
                self.require(Feature::EsViewportIndex)?;
                InReg::Expr("ivec4(gl_ViewportIndex)".into(), Ty::I)
            }
            SemanticName::Pcoord => InReg::Expr(self.point_coord(), Ty::F),
            SemanticName::Generic | SemanticName::Texcoord
                if sem.index < 32 && self.key.sprite_coord_enable & (1 << sem.index) != 0 =>
            {
                InReg::Expr(self.point_coord(), Ty::F)
            }
            SemanticName::ClipDist => {
                self.require(Feature::EsClipDistance)?;
                self.fs_clipdist_in = self.fs_clipdist_in.max(4 * (sem.index + 1));
                let b = 4 * sem.index;
                InReg::Expr(
                    format!(
                        "vec4(gl_ClipDistance[{b}], gl_ClipDistance[{}], gl_ClipDistance[{}], gl_ClipDistance[{}])",
                        b + 1,
                        b + 2,
                        b + 3
                    ),
                    Ty::F,
                )
            }
            _ => {
                let suffix = sem_suffix(&sem)
                    .ok_or_else(|| self.err(format!("fragment input {}", sem.name.name())))?;
                if d.location == InterpLocation::Sample {
                    self.require(Feature::SampleShading)?;
                }
                let q = self.interp_qualifier(d.interpolation, d.location);
                let name = format!("{}_{suffix}", self.in_pre);
                self.out.global(format!("{q}in vec4 {name};"));
                self.iface.inputs.push(Varying {
                    semantic: sem,
                    name: name.clone(),
                    interpolation: d.interpolation,
                    location: d.location,
                    patch: false,
                });
                if sem.name == SemanticName::Color && self.key.color_two_side {
                    let bname = format!("{}_bc{}", self.in_pre, sem.index);
                    self.out.global(format!("{q}in vec4 {bname};"));
                    self.iface.inputs.push(Varying {
                        semantic: Semantic {
                            name: SemanticName::BColor,
                            ..sem
                        },
                        name: bname.clone(),
                        interpolation: d.interpolation,
                        location: d.location,
                        patch: false,
                    });
                    InReg::Expr(format!("(gl_FrontFacing ? {name} : {bname})"), Ty::F)
                } else {
                    InReg::Varying(name)
                }
            }
        })
    }

    fn point_coord(&self) -> String {
        if self.key.sprite_coord_upper_left {
            "vec4(gl_PointCoord, 0.0, 1.0)".into()
        } else {
            "vec4(gl_PointCoord.x, 1.0 - gl_PointCoord.y, 0.0, 1.0)".into()
        }
    }

    fn vertex_array_input(&mut self, d: &Declaration, sem: Option<Semantic>) -> GResult<InReg> {
        let sem = sem.ok_or_else(|| self.err("input without semantic"))?;
        let patch = !d.per_vertex
            && matches!(
                sem.name,
                SemanticName::Patch | SemanticName::TessOuter | SemanticName::TessInner
            );
        if self.stage == Processor::Geometry && sem.name == SemanticName::PrimId {
            return Ok(InReg::Expr("ivec4(gl_PrimitiveIDIn)".into(), Ty::I));
        }
        if patch {
            return Ok(match sem.name {
                SemanticName::TessOuter => InReg::Expr(
                    "vec4(gl_TessLevelOuter[0], gl_TessLevelOuter[1], gl_TessLevelOuter[2], gl_TessLevelOuter[3])".into(),
                    Ty::F,
                ),
                SemanticName::TessInner => InReg::Expr(
                    "vec4(gl_TessLevelInner[0], gl_TessLevelInner[1], 0.0, 0.0)".into(),
                    Ty::F,
                ),
                _ if self.stage == Processor::TessEval
                    && self.key.prev_patch_array.is_some_and(|n| sem.index < n) =>
                {
                    if !self.out.globals.contains(" tcs_pa[") {
                        let n = self.key.prev_patch_array.unwrap_or(1);
                        self.out.global(format!("patch in vec4 tcs_pa[{n}];"));
                    }
                    InReg::Expr(format!("tcs_pa[{}]", sem.index), Ty::F)
                }
                _ => {
                    let name = format!("{}_p{}", self.in_pre, sem.index);
                    self.out.global(format!("patch in vec4 {name};"));
                    self.iface.inputs.push(Varying {
                        semantic: sem,
                        name: name.clone(),
                        interpolation: None,
                        location: InterpLocation::Center,
                        patch: true,
                    });
                    InReg::Expr(name, Ty::F)
                }
            });
        }
        Ok(match sem.name {
            SemanticName::Position => InReg::PerVertex("gl_in".into(), ".gl_Position".into()),
            SemanticName::Psize => InReg::PerVertex("vec4(gl_in".into(), ".gl_PointSize)".into()),
            _ => {
                let suffix = sem_suffix(&sem)
                    .ok_or_else(|| self.err(format!("input {}", sem.name.name())))?;
                let name = format!("{}_{suffix}", self.in_pre);
                let q = if self.stage == Processor::Geometry {
                    self.out_interp(&sem)
                } else {
                    String::new()
                };
                self.out.global(format!("{q}in vec4 {name}[];"));
                self.iface.inputs.push(Varying {
                    semantic: sem,
                    name: name.clone(),
                    interpolation: None,
                    location: InterpLocation::Center,
                    patch: false,
                });
                InReg::PerVertex(name, String::new())
            }
        })
    }

    /// Interpolation qualifier of an output (and of geometry inputs, which must match the
    /// previous stage's outputs the same way).
    fn out_interp(&self, sem: &Semantic) -> String {
        if let Some(vi) = self
            .key
            .next_interp
            .iter()
            .find(|v| v.semantic.name == sem.name && v.semantic.index == sem.index)
        {
            return self.interp_qualifier(Some(vi.interpolation), vi.location);
        }
        let color = matches!(sem.name, SemanticName::Color | SemanticName::BColor);
        if color && self.key.flatshade {
            "flat ".into()
        } else {
            String::new()
        }
    }

    fn declare_output(&mut self, d: &Declaration) -> GResult<()> {
        for reg in d.first..=d.last {
            let off = reg - d.first;
            let sem = d.semantic.map(|s| Semantic {
                index: s.index + off,
                ..s
            });
            let r = if self.stage == Processor::TessCtrl && d.per_vertex {
                let sem = sem.ok_or_else(|| self.err("output without semantic"))?;
                match sem.name {
                    SemanticName::Position => {
                        OutReg::PerVertex("gl_out".into(), ".gl_Position".into())
                    }
                    _ => {
                        let suffix = sem_suffix(&sem)
                            .ok_or_else(|| self.err(format!("TCS output {}", sem.name.name())))?;
                        let name = format!("{}_{suffix}", self.pre);
                        let n = self.p.property(PropertyName::TcsVerticesOut).unwrap_or(0);
                        if n == 0 || n > 32 {
                            return Err(self.err("TCS_VERTICES_OUT missing or out of range"));
                        }
                        self.out.global(format!("out vec4 {name}[{n}];"));
                        self.iface.outputs.push(Varying {
                            semantic: sem,
                            name: name.clone(),
                            interpolation: None,
                            location: InterpLocation::Center,
                            patch: false,
                        });
                        OutReg::PerVertex(name, String::new())
                    }
                }
            } else if let Some(r) = self.tcs_patch_output(sem)? {
                if let (OutReg::Patch(_), Some(sem)) = (&r, sem) {
                    if self.tcs_patch_array.is_some_and(|n| sem.index < n) {
                        self.tcs_patch_regs.insert(reg, sem.index);
                    }
                }
                r
            } else {
                self.out_len = self.out_len.max(reg + 1);
                OutReg::Shadow
            };
            if d.invariant {
                if let Some(SemanticName::Position) = sem.map(|s| s.name) {
                    self.out.global("invariant gl_Position;");
                }
            }
            self.outputs.insert(reg, (r, sem));
        }
        Ok(())
    }

    fn declare_sv(&mut self, d: &Declaration) -> GResult<()> {
        let sem = d
            .semantic
            .ok_or_else(|| self.err("system value without semantic"))?;
        let (e, ty): (String, Ty) = match sem.name {
            SemanticName::InstanceId => ("ivec4(gl_InstanceID)".into(), Ty::I),
            SemanticName::VertexId => ("ivec4(gl_VertexID)".into(), Ty::I),
            SemanticName::InvocationId => ("ivec4(gl_InvocationID)".into(), Ty::I),
            SemanticName::PrimId => {
                if self.stage == Processor::Geometry {
                    ("ivec4(gl_PrimitiveIDIn)".into(), Ty::I)
                } else {
                    ("ivec4(gl_PrimitiveID)".into(), Ty::I)
                }
            }
            SemanticName::TessCoord => ("vec4(gl_TessCoord, 0.0)".into(), Ty::F),
            SemanticName::VerticesIn => ("ivec4(gl_PatchVerticesIn)".into(), Ty::I),
            SemanticName::TessOuter => (
                "vec4(gl_TessLevelOuter[0], gl_TessLevelOuter[1], gl_TessLevelOuter[2], gl_TessLevelOuter[3])".into(),
                Ty::F,
            ),
            SemanticName::TessInner => (
                "vec4(gl_TessLevelInner[0], gl_TessLevelInner[1], 0.0, 0.0)".into(),
                Ty::F,
            ),
            SemanticName::SampleId => {
                self.require(Feature::SampleShading)?;
                ("ivec4(gl_SampleID)".into(), Ty::I)
            }
            SemanticName::SamplePos => {
                self.require(Feature::SampleShading)?;
                ("vec4(gl_SamplePosition, 0.0, 0.0)".into(), Ty::F)
            }
            SemanticName::SampleMask => {
                self.require(Feature::SampleShading)?;
                ("ivec4(gl_SampleMaskIn[0])".into(), Ty::I)
            }
            SemanticName::Face => (
                "uvec4(gl_FrontFacing ? 0xffffffffu : 0u)".into(),
                Ty::U,
            ),
            SemanticName::HelperInvocation => (
                "uvec4(gl_HelperInvocation ? 0xffffffffu : 0u)".into(),
                Ty::U,
            ),
            SemanticName::ThreadId => ("uvec4(gl_LocalInvocationID, 0u)".into(), Ty::U),
            SemanticName::BlockId => ("uvec4(gl_WorkGroupID, 0u)".into(), Ty::U),
            SemanticName::GridSize => ("uvec4(gl_NumWorkGroups, 0u)".into(), Ty::U),
            SemanticName::BlockSize => ("uvec4(gl_WorkGroupSize, 0u)".into(), Ty::U),
            SemanticName::Position if self.stage == Processor::Fragment => {
                ("gl_FragCoord".into(), Ty::F)
            }
            SemanticName::VertexIdNobase => ("ivec4(gl_VertexID)".into(), Ty::I),
            other => {
                return Err(VrendError::Unsupported(format!(
                    "system value {} (line {})",
                    other.name(),
                    d.line
                )))
            }
        };
        for reg in d.first..=d.last {
            self.sv.insert(reg, (e.clone(), ty));
        }
        Ok(())
    }

    // ----- operands -----

    /// The vec4 expression of a temp register.
    fn temp_lvalue(&self, idx: &RegIndex) -> GResult<String> {
        if let Some(n) = self.temp_flat {
            if n == 0 {
                return Err(self.err("TEMP not declared"));
            }
            let i = self.index_expr(idx)?;
            return Ok(format!("temps[clamp({i}, 0, {})]", n - 1));
        }
        match idx.indirect {
            None => {
                let r = idx.offset as u32;
                if self.max_temp.is_none_or(|m| r > m) {
                    return Err(self.err(format!("TEMP[{r}] not declared")));
                }
                if let Some(&(id, first, _)) =
                    self.temp_arrays.iter().find(|a| r >= a.1 && r <= a.2)
                {
                    Ok(format!("ta{id}[{}]", r - first))
                } else {
                    Ok(format!("t{r}"))
                }
            }
            Some(ind) => {
                let id = ind.array_id.unwrap_or(0);
                let &(_, first, last) =
                    self.temp_arrays.iter().find(|a| a.0 == id).ok_or_else(|| {
                        self.err(format!("indirect access to undeclared array {id}"))
                    })?;
                let a = self.addr_expr(&ind)?;
                let off = idx.offset - first as i32;
                Ok(format!("ta{id}[clamp({a} + {off}, 0, {})]", last - first))
            }
        }
    }

    fn addr_expr(&self, ind: &Indirect) -> GResult<String> {
        let c = super::expr::SWZ[ind.component as usize & 3];
        match ind.file {
            File::Address => {
                if ind.index >= self.addr_len {
                    return Err(self.err(format!("ADDR[{}] not declared", ind.index)));
                }
                Ok(format!("addr{}.{c}", ind.index))
            }
            File::Temp => {
                let t = self.temp_lvalue(&RegIndex::direct(ind.index))?;
                Ok(format!("floatBitsToInt({t}.{c})"))
            }
            File::SystemValue => {
                let (e, ty) = self
                    .sv
                    .get(&ind.index)
                    .ok_or_else(|| self.err("undeclared SV in index"))?;
                Ok(cast(&format!("({e}).{c}"), *ty, Ty::I, 1))
            }
            f => Err(self.err(format!("{} as an index register", f.name()))),
        }
    }

    pub fn index_expr_pub(&self, idx: &RegIndex) -> GResult<String> {
        self.index_expr(idx)
    }

    /// Integer index expression of a register index.
    pub(crate) fn index_expr(&self, idx: &RegIndex) -> GResult<String> {
        match idx.indirect {
            None => Ok(idx.offset.to_string()),
            Some(ind) => {
                let a = self.addr_expr(&ind)?;
                Ok(if idx.offset == 0 {
                    a
                } else {
                    format!("({a} + {})", idx.offset)
                })
            }
        }
    }

    /// Base of a source register: an expression of 4 lanes of a type, or immediate words.
    fn src_base(&mut self, s: &SrcOperand) -> GResult<Base> {
        Ok(match s.file {
            File::Temp => Base::Vec(self.temp_lvalue(&s.index)?, Ty::F),
            File::Immediate => {
                if s.index.indirect.is_some() {
                    let i = self.index_expr(&s.index)?;
                    let n = self.p.immediates.len().max(1);
                    Base::Vec(format!("imm[clamp({i}, 0, {})]", n - 1), Ty::U)
                } else {
                    let imm = self
                        .p
                        .immediates
                        .get(s.index.offset as usize)
                        .ok_or_else(|| self.err(format!("IMM[{}] not declared", s.index.offset)))?;
                    Base::Imm(imm.data)
                }
            }
            File::Const => {
                let b = match s.dimension {
                    None => 0,
                    Some(d) if d.indirect.is_none() => d.offset as u32,
                    Some(d) => {
                        // An array of uniform blocks indexed at run time.
                        let bi = self.index_expr(&d)?;
                        let i = self.index_expr(&s.index)?;
                        self.ubo_indirect = true;
                        return Ok(Base::Vec(format!("{}_ubo_ind({bi}, {i})", self.pre), Ty::U));
                    }
                };
                let i = self.index_expr(&s.index)?;
                if b == 0 {
                    if self.const0_len == 0 {
                        return Err(self.err("CONST not declared"));
                    }
                    let n = self.const0_len;
                    let e = if s.index.indirect.is_some() {
                        format!("{}_const0[clamp({i}, 0, {})]", self.pre, n - 1)
                    } else if (s.index.offset as u32) < n {
                        format!("{}_const0[{i}]", self.pre)
                    } else {
                        return Err(self.err("CONST index beyond declaration"));
                    };
                    Base::Vec(e, Ty::U)
                } else {
                    let n = *self
                        .ubos
                        .get(&b)
                        .ok_or_else(|| self.err(format!("CONST[{b}] not declared")))?;
                    Base::Vec(
                        format!("{}_ubo{b}_d[clamp({i}, 0, {})]", self.pre, n - 1),
                        Ty::U,
                    )
                }
            }
            File::Input => self.input_base(s)?,
            File::Output => {
                let (e, _) = self.out_lvalue(s.index, s.dimension)?;
                Base::Vec(e, Ty::F)
            }
            File::SystemValue => {
                let (e, ty) = self
                    .sv
                    .get(&(s.index.offset as u32))
                    .cloned()
                    .ok_or_else(|| self.err("SV not declared"))?;
                Base::Vec(e, ty)
            }
            File::Address => {
                let i = s.index.offset as u32;
                if i >= self.addr_len {
                    return Err(self.err("ADDR not declared"));
                }
                Base::Vec(format!("addr{i}"), Ty::I)
            }
            f => return Err(self.err(format!("{} as a source", f.name()))),
        })
    }

    fn input_base(&mut self, s: &SrcOperand) -> GResult<Base> {
        if let Some(n) = self.in_array {
            if s.dimension.is_none() {
                let i = self.index_expr(&s.index)?;
                return Ok(Base::Vec(
                    format!("inr[clamp({i}, 0, {})]", n.max(1) - 1),
                    Ty::F,
                ));
            }
        }
        if s.index.indirect.is_some() {
            let d = s
                .dimension
                .ok_or_else(|| self.err("indirect input index without an input array"))?;
            let i = self.index_expr(&s.index)?;
            let v = self.index_expr(&d)?;
            self.in_indirect = true;
            return Ok(Base::Vec(format!("{}_in_ind({i}, {v})", self.pre), Ty::F));
        }
        let reg = s.index.offset as u32;
        let r = self
            .inputs
            .get(&reg)
            .cloned()
            .ok_or_else(|| self.err(format!("IN[{reg}] not declared")))?;
        Ok(match r {
            InReg::Expr(e, ty) => Base::Vec(e, ty),
            InReg::Varying(e) => Base::Vec(e, Ty::F),
            InReg::PerVertex(a, suffix) => {
                let d = s
                    .dimension
                    .ok_or_else(|| self.err("per-vertex input without vertex index"))?;
                let v = self.index_expr(&d)?;
                Base::Vec(format!("{a}[{v}]{suffix}"), Ty::F)
            }
        })
    }

    pub fn out_lvalue(&self, idx: RegIndex, dim: Option<RegIndex>) -> GResult<(String, Ty)> {
        self.out_access(idx, dim, false)
    }

    /// An output register; `write` forces TCS per-vertex writes to the invocation's own
    /// vertex (GLSL only allows `gl_InvocationID` there, and Mesa only writes that one).
    pub fn out_access(
        &self,
        idx: RegIndex,
        dim: Option<RegIndex>,
        write: bool,
    ) -> GResult<(String, Ty)> {
        if idx.indirect.is_some() {
            let i = self.index_expr(&idx)?;
            if self.stage == Processor::TessCtrl {
                if write {
                    return Err(self.err("indirect TCS output write outside store"));
                }
                self.tcs_out_read_indirect.set(true);
                let v = match dim {
                    Some(d) => self.index_expr(&d)?,
                    None => "-1".into(),
                };
                return Ok((format!("virgl_tcs_out({i}, {v})"), Ty::F));
            }
            if self.out_len == 0 {
                return Err(self.err("OUT not declared"));
            }
            return Ok((format!("outr[clamp({i}, 0, {})]", self.out_len - 1), Ty::F));
        }
        let reg = idx.offset as u32;
        let (r, _) = self
            .outputs
            .get(&reg)
            .ok_or_else(|| self.err(format!("OUT[{reg}] not declared")))?;
        Ok(match r {
            OutReg::Shadow => (format!("outr[{reg}]"), Ty::F),
            OutReg::Patch(name) => (name.clone(), Ty::F),
            OutReg::TessLevel(outer) => {
                if write {
                    return Err(self.err("tessellation level write outside store"));
                }
                (tess_level_expr(*outer).into(), Ty::F)
            }
            OutReg::PerVertex(a, suffix) => {
                let v = match dim {
                    Some(d) if !write => self.index_expr(&d)?,
                    _ => "gl_InvocationID".into(),
                };
                (format!("{a}[{v}]{suffix}"), Ty::F)
            }
        })
    }

    /// The lane type a source register holds natively (what a bit-exact move reads).
    pub fn native_ty(&mut self, s: &SrcOperand) -> GResult<Ty> {
        Ok(match self.src_base(s)? {
            Base::Vec(_, ty) => ty,
            Base::Imm(_) => Ty::U,
        })
    }

    /// Source operand `s` read as `n = comps.len()` lanes of `want`, modifiers applied.
    pub fn fetch(&mut self, s: &SrcOperand, want: Ty, comps: &[u8]) -> GResult<String> {
        let sw: Vec<u8> = comps.iter().map(|&c| s.swizzle[c as usize & 3]).collect();
        let n = sw.len();
        let e = match self.src_base(s)? {
            Base::Imm(data) => {
                let vals: Vec<u32> = sw.iter().map(|&c| data[c as usize]).collect();
                literal(want, &vals)
            }
            Base::Vec(e, ty) => {
                let sel = format!("{e}.{}", swizzle_str(&sw));
                cast(&sel, ty, want, n)
            }
        };
        let mut e = e;
        if s.absolute {
            e = match want {
                Ty::U => format!("{}(abs({}))", vec_ty(Ty::U, n), cast(&e, Ty::U, Ty::I, n)),
                _ => format!("abs({e})"),
            };
        }
        if s.negate {
            e = format!("(-{e})");
        }
        Ok(e)
    }

    /// Stores `val` (lanes of `ty`, one per written component) into `d`.
    pub fn store(&mut self, d: &DstOperand, val: &str, ty: Ty) -> GResult<()> {
        let comps = mask_comps(d.write_mask);
        let n = comps.len();
        if d.file == File::Output && self.stage == Processor::TessCtrl {
            let in_place = d.index.indirect.is_some()
                || d.dimension.is_none()
                    && matches!(
                        self.outputs.get(&(d.index.offset as u32)),
                        Some((OutReg::TessLevel(_), _))
                    );
            if in_place {
                let mut v = val.to_string();
                if self.cur_saturate && ty == Ty::F {
                    v = format!("clamp({v}, 0.0, 1.0)");
                }
                let v = cast(&v, ty, Ty::F, n);
                return self.tcs_store_in_place(d, &v, &comps);
            }
        }
        let (lv, st) = match d.file {
            File::Temp => (self.temp_lvalue(&d.index)?, Ty::F),
            File::Output => self.out_access(d.index, d.dimension, true)?,
            File::Address => {
                let i = d.index.offset as u32;
                if i >= self.addr_len || d.index.indirect.is_some() {
                    return Err(self.err("bad ADDR destination"));
                }
                (format!("addr{i}"), Ty::I)
            }
            f => return Err(self.err(format!("{} as a destination", f.name()))),
        };
        let mut v = val.to_string();
        if self.cur_saturate && ty == Ty::F {
            v = format!("clamp({v}, 0.0, 1.0)");
        }
        let v = cast(&v, ty, st, n);
        self.out
            .line(format!("{lv}.{} = {v};", swizzle_str(&comps)));
        Ok(())
    }

    // ----- driver -----

    pub fn run(&mut self) -> GResult<()> {
        self.out.indent = 0;
        self.stage_layout()?;
        let insts = &self.p.instructions;
        for (i, inst) in insts.iter().enumerate() {
            self.line = inst.line;
            self.cur_saturate = inst.saturate;
            let last = i + 1 == insts.len();
            self.instruction(inst, last)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> GResult<GlslShader> {
        // The epilogue and the declarations may still require extensions (stencil export is
        // only seen while storing outputs): build them before the `#extension` lines.
        let epilogue = self.epilogue_text()?;
        let decls = self.declarations_text();
        let mut s = String::new();
        let _ = writeln!(
            s,
            "#version {}{}",
            self.t.version,
            if self.t.es { " es" } else { "" }
        );
        for e in &self.out.extensions {
            let _ = writeln!(s, "#extension {e} : require");
        }
        if self.t.es {
            s.push_str("precision highp float;\nprecision highp int;\n");
        }
        s.push_str(&self.out.layout);
        s.push_str(&decls);
        s.push_str(&self.out.globals);
        if self.tcs_out_read_indirect.get() {
            s.push_str(&self.tcs_out_reader());
        }
        if self.ubo_indirect {
            s.push_str(&self.ubo_reader());
        }
        if self.in_indirect {
            s.push_str(&self.input_reader());
        }
        s.push_str("void virgl_store_outputs() {\n");
        s.push_str(&epilogue);
        s.push_str("}\n");
        // The body goes straight into main(): barrier() is only allowed there.
        s.push_str("void main() {\n");
        if let Some(n) = self.in_array {
            for r in 0..n {
                let e = match self.inputs.get(&r) {
                    Some(InReg::Expr(e, ty)) => cast(e, *ty, Ty::F, 4),
                    Some(InReg::Varying(e)) => e.clone(),
                    _ => "vec4(0.0)".into(),
                };
                let _ = writeln!(s, "   inr[{r}] = {e};");
            }
        }
        s.push_str(&self.locals_text());
        s.push_str(&self.out.body);
        if self.stage != Processor::Geometry {
            s.push_str("   virgl_store_outputs();\n");
        }
        s.push_str("}\n");
        Ok(GlslShader {
            stage: self.stage,
            source: s,
            interface: self.iface,
        })
    }

    fn locals_text(&self) -> String {
        let mut s = String::new();
        if let Some(n) = self.temp_flat {
            let _ = writeln!(s, "   vec4 temps[{n}];");
        } else if let Some(m) = self.max_temp {
            for r in 0..=m {
                if !self.temp_arrays.iter().any(|a| r >= a.1 && r <= a.2) {
                    let _ = writeln!(s, "   vec4 t{r} = vec4(0.0);");
                }
            }
            for &(id, first, last) in &self.temp_arrays {
                let _ = writeln!(s, "   vec4 ta{id}[{}];", last - first + 1);
            }
        }
        for a in 0..self.addr_len {
            let _ = writeln!(s, "   ivec4 addr{a} = ivec4(0);");
        }
        s
    }

    /// Uniforms, samplers, images, buffers, immediates, shadow outputs.
    fn declarations_text(&mut self) -> String {
        let mut s = String::new();
        let pre = self.pre;
        if self.const0_len > 0 {
            let name = format!("{pre}_const0");
            let _ = writeln!(s, "uniform uvec4 {name}[{}];", self.const0_len);
            self.iface.const0 = Some((name, self.const0_len));
        }
        for (&b, &n) in &self.ubos {
            let name = format!("{pre}_ubo{b}");
            let _ = writeln!(
                s,
                "layout(std140) uniform {name} {{ uvec4 {name}_d[{n}]; }};"
            );
            self.iface.uniform_blocks.push(super::UniformBlockBinding {
                buffer_index: b,
                name,
                vec4s: n,
            });
        }
        if self.imm_array && !self.p.immediates.is_empty() {
            let vals: Vec<String> = self
                .p
                .immediates
                .iter()
                .map(|i| literal(Ty::U, &i.data))
                .collect();
            let _ = writeln!(
                s,
                "const uvec4 imm[{}] = uvec4[{}]({});",
                vals.len(),
                vals.len(),
                vals.join(", ")
            );
        }
        if self.in_array.is_some() {
            let _ = writeln!(s, "vec4 inr[{}];", self.in_array.unwrap_or(1).max(1));
        }
        if self.out_len > 0 {
            let _ = writeln!(s, "vec4 outr[{}];", self.out_len);
        }
        if self.fs_clipdist_in > 0 && !self.t.es {
            let _ = writeln!(s, "in float gl_ClipDistance[{}];", self.fs_clipdist_in);
        }
        s.push_str(&self.sampler_decls());
        s
    }
}

/// A source register before swizzling.
pub(crate) enum Base {
    Vec(String, Ty),
    Imm([u32; 4]),
}

impl Gen<'_> {
    fn sampler_decls(&mut self) -> String {
        let mut s = String::new();
        let prec = if self.t.es { "highp " } else { "" };
        if self.samp_indirect {
            let Some(kind) = self.samplers.values().next().copied() else {
                return s;
            };
            let n = self
                .p
                .decls(File::Sampler)
                .map(|d| d.last + 1)
                .max()
                .unwrap_or(1);
            let _ = writeln!(
                s,
                "uniform {prec}{} {}_samp[{n}];",
                super::emit_tex::sampler_type(&kind),
                self.pre
            );
            for i in 0..n {
                self.iface.samplers.push(super::SamplerBinding {
                    index: i,
                    name: format!("{}_samp[{i}]", self.pre),
                    kind,
                    shadow_swizzle: None,
                });
            }
            return s;
        }
        for (&i, kind) in &self.samplers {
            let name = format!("{}_samp{i}", self.pre);
            let _ = writeln!(
                s,
                "uniform {prec}{} {name};",
                super::emit_tex::sampler_type(kind)
            );
            let shadow_swizzle = kind.shadow.then(|| {
                let (m, a) = super::emit_tex::shadow_uniforms(self.pre, i);
                let _ = writeln!(s, "uniform {prec}vec4 {m};\nuniform {prec}vec4 {a};");
                (m, a)
            });
            self.iface.samplers.push(super::SamplerBinding {
                index: i,
                name,
                kind: *kind,
                shadow_swizzle,
            });
        }
        let imgs: Vec<(u32, ImageDecl)> =
            self.images.iter().map(|(k, v)| (*k, v.clone())).collect();
        for (i, img) in imgs {
            let name = format!("{}_img{i}", self.pre);
            let (fmt, ty) = super::emit_tex::image_format(&img.format);
            let (fq, access) = if self.t.es {
                es_image_qualifiers(fmt, ty, img.writable)
            } else {
                match fmt {
                    Some(f) => (format!(", {f}"), ""),
                    None => (String::new(), "writeonly "),
                }
            };
            let prefix = match ty {
                Ty::I => "i",
                Ty::U => "u",
                Ty::F => "",
            };
            let _ = writeln!(
                s,
                "layout(binding = {i}{fq}) uniform {access}{prec}{prefix}image{} {name};",
                super::emit_tex::image_suffix(img.target)
            );
            self.iface.images.push(super::ImageBinding {
                index: i,
                name,
                target: img.target,
                format: img.format.clone(),
            });
        }
        let bufs: Vec<u32> = self.buffers.keys().copied().collect();
        for i in bufs {
            let name = format!("{}_ssbo{i}", self.pre);
            let _ = writeln!(
                s,
                "layout(std430, binding = {i}) buffer {name} {{ uint {name}_d[]; }};"
            );
            self.iface
                .storage
                .push(super::StorageBinding { index: i, name });
        }
        for &(b, first, last) in &self.atomics {
            // Named without the stage prefix: every stage that declares the same counters
            // declares the same uniform (upstream names them the same way).
            let _ = writeln!(
                s,
                "layout(binding = {b}, offset = {}) uniform atomic_uint ac{b}_{first}[{}];",
                first * 4,
                last - first + 1
            );
        }
        if self.shared_mem {
            let n = (self.key.shared_mem_bytes / 4).max(1);
            let _ = writeln!(s, "shared uint {}_shm[{n}];", self.pre);
        }
        s
    }

    /// Copies shadow outputs to GLSL outputs, applying the key's fix-ups.
    fn epilogue_text(&mut self) -> GResult<String> {
        let mut s = String::new();
        let mut globals = String::new();
        let outs: Vec<(u32, OutReg, Option<Semantic>)> = self
            .outputs
            .iter()
            .map(|(k, (r, sem))| (*k, r.clone(), *sem))
            .collect();
        let mut clip_written = 0u32;
        let mut clipvertex = None;
        let mut position = None;
        let num_clipdist = self.p.property(PropertyName::NumClipdistEnabled);
        for (reg, r, sem) in &outs {
            if !matches!(r, OutReg::Shadow) {
                continue;
            }
            let Some(sem) = sem else { continue };
            let o = format!("outr[{reg}]");
            match (self.stage, sem.name) {
                (Processor::Fragment, SemanticName::Color) => {
                    let writes_all = self.p.property(PropertyName::FsColor0WritesAllCbufs)
                        == Some(1)
                        && sem.index == 0;
                    let count = if writes_all {
                        u32::from(self.key.nr_cbufs.max(1))
                    } else {
                        1
                    };
                    for k in 0..count {
                        let cb = sem.index + k;
                        self.fs_color_output(&mut s, &mut globals, cb, &o);
                    }
                }
                (Processor::Fragment, SemanticName::Position) => {
                    self.iface.writes_depth = true;
                    let _ = writeln!(s, "   gl_FragDepth = {o}.z;");
                }
                (Processor::Fragment, SemanticName::Stencil) => {
                    if self.require(Feature::StencilExport).is_err() {
                        let _ = writeln!(s, "   // stencil export unavailable");
                        continue;
                    }
                    let _ = writeln!(s, "   gl_FragStencilRefARB = floatBitsToInt({o}.y);");
                }
                (Processor::Fragment, SemanticName::SampleMask) => {
                    let _ = writeln!(s, "   gl_SampleMask[0] = floatBitsToInt({o}.x);");
                }
                (Processor::Fragment, n) => {
                    let _ = writeln!(s, "   // unsupported fragment output {}", n.name());
                }
                (_, SemanticName::Position) => {
                    position = Some(o.clone());
                    if self.stage == Processor::TessCtrl {
                        let _ = writeln!(s, "   gl_out[gl_InvocationID].gl_Position = {o};");
                    } else {
                        let _ = writeln!(s, "   gl_Position = {o};");
                    }
                }
                (_, SemanticName::Psize) => {
                    let _ = writeln!(s, "   gl_PointSize = {o}.x;");
                }
                (_, SemanticName::ClipVertex) => clipvertex = Some(o.clone()),
                (_, SemanticName::ClipDist) => {
                    for c in 0..4 {
                        let i = sem.index * 4 + c;
                        if num_clipdist.is_some_and(|n| i >= n) {
                            continue;
                        }
                        clip_written = clip_written.max(i + 1);
                        let _ = writeln!(
                            s,
                            "   gl_ClipDistance[{i}] = {o}.{};",
                            ["x", "y", "z", "w"][c as usize]
                        );
                    }
                }
                (_, SemanticName::Layer) => {
                    let _ = writeln!(s, "   gl_Layer = floatBitsToInt({o}.x);");
                }
                (_, SemanticName::ViewportIndex) => {
                    self.require(Feature::EsViewportIndex)?;
                    let _ = writeln!(s, "   gl_ViewportIndex = floatBitsToInt({o}.x);");
                }
                (_, SemanticName::PrimId) => {
                    let _ = writeln!(s, "   gl_PrimitiveID = floatBitsToInt({o}.x);");
                }
                (_, SemanticName::TessOuter) => {
                    for c in 0..4 {
                        let _ = writeln!(
                            s,
                            "   gl_TessLevelOuter[{c}] = {o}.{};",
                            ["x", "y", "z", "w"][c]
                        );
                    }
                }
                (_, SemanticName::TessInner) => {
                    for c in 0..2 {
                        let _ = writeln!(s, "   gl_TessLevelInner[{c}] = {o}.{};", ["x", "y"][c]);
                    }
                }
                (_, SemanticName::Edgeflag) | (_, SemanticName::ViewportMask) => {}
                (_, _) => {
                    let Some(suffix) = sem_suffix(sem) else {
                        let _ = writeln!(s, "   // unsupported output {}", sem.name.name());
                        continue;
                    };
                    let patch = sem.name == SemanticName::Patch;
                    let name = format!("{}_{suffix}", self.pre);
                    let q = if patch {
                        "patch ".to_string()
                    } else {
                        self.out_interp(sem)
                    };
                    if self.stage == Processor::TessCtrl && !patch {
                        continue;
                    }
                    let _ = writeln!(globals, "{q}out vec4 {name};");
                    let _ = writeln!(s, "   {name} = {o};");
                    self.iface.outputs.push(Varying {
                        semantic: *sem,
                        name,
                        interpolation: None,
                        location: InterpLocation::Center,
                        patch,
                    });
                }
            }
        }
        if matches!(
            self.stage,
            Processor::Vertex | Processor::TessEval | Processor::Geometry
        ) {
            self.missing_outputs(&outs, &mut s, &mut globals);
        }
        if self.last_vertex && self.stage != Processor::Fragment && self.stage != Processor::Compute
        {
            if self.key.clip_plane_enable != 0 && clip_written == 0 {
                let src = clipvertex.or(position.clone());
                if let Some(src) = src {
                    globals.push_str("uniform vec4 virgl_clip_plane[8];\n");
                    self.iface.clip_plane_uniform = Some("virgl_clip_plane".into());
                    let top = 8 - self.key.clip_plane_enable.leading_zeros();
                    for i in 0..top {
                        if self.key.clip_plane_enable & (1 << i) != 0 {
                            let _ = writeln!(
                                s,
                                "   gl_ClipDistance[{i}] = dot({src}, virgl_clip_plane[{i}]);"
                            );
                        } else {
                            let _ = writeln!(s, "   gl_ClipDistance[{i}] = 1.0;");
                        }
                    }
                    clip_written = top;
                }
            }
            if self.key.flip_y && position.is_some() {
                s.push_str("   gl_Position.y = -gl_Position.y;\n");
            }
        }
        if clip_written > 0 && self.t.es {
            self.require(Feature::EsClipDistance)?;
        } else if clip_written > 0 {
            let _ = writeln!(globals, "out float gl_ClipDistance[{clip_written}];");
        }
        if clip_written > 0 {
            self.iface.num_clip_distances = clip_written;
        }
        if let Some(so) = self.key.stream_output.as_ref().filter(|_| self.last_vertex) {
            self.stream_output(so, &mut s, &mut globals)?;
        }
        if self.stage == Processor::Fragment {
            if let Some((func, r)) = self.key.alpha_test {
                if let Some(c0) = self.iface.frag_outputs.iter().find(|o| o.0 == 0) {
                    let c0 = c0.1.clone();
                    let rf = super::expr::float_lit(r.to_bits());
                    let cond = match func {
                        AlphaFunc::Never => "true".to_string(),
                        AlphaFunc::Always => "false".to_string(),
                        f => {
                            let op = match f {
                                AlphaFunc::Less => "<",
                                AlphaFunc::Equal => "==",
                                AlphaFunc::LessEqual => "<=",
                                AlphaFunc::Greater => ">",
                                AlphaFunc::NotEqual => "!=",
                                _ => ">=",
                            };
                            format!("!(float({c0}.a) {op} {rf})")
                        }
                    };
                    let _ = writeln!(s, "   if ({cond}) discard;");
                    self.iface.uses_discard = true;
                }
            }
        }
        self.out.globals.push_str(&globals);
        Ok(s)
    }

    /// Outputs the consumer reads but this shader does not write ([`ShaderKey::next_inputs`]):
    /// BCOLOR[i] repeats COLOR[i] (two-sided colour with a shader that only writes the front
    /// one), anything else is zero.
    fn missing_outputs(
        &mut self,
        outs: &[(u32, OutReg, Option<Semantic>)],
        s: &mut String,
        globals: &mut String,
    ) {
        let written = |name: SemanticName, index: u32| {
            outs.iter()
                .find(|(_, r, sem)| {
                    matches!(r, OutReg::Shadow)
                        && sem.is_some_and(|x| x.name == name && x.index == index)
                })
                .map(|(reg, _, _)| *reg)
        };
        for sem in self.key.next_inputs.clone() {
            if written(sem.name, sem.index).is_some() || sem.name == SemanticName::Patch {
                continue;
            }
            let Some(suffix) = sem_suffix(&sem) else {
                continue;
            };
            let name = format!("{}_{suffix}", self.pre);
            if self.iface.outputs.iter().any(|o| o.name == name) {
                continue;
            }
            let value = match sem.name {
                SemanticName::BColor => written(SemanticName::Color, sem.index)
                    .map_or("vec4(0.0)".to_string(), |r| format!("outr[{r}]")),
                _ => "vec4(0.0)".to_string(),
            };
            let q = self.out_interp(&sem);
            let _ = writeln!(globals, "{q}out vec4 {name};");
            let _ = writeln!(s, "   {name} = {value};");
            self.iface.outputs.push(Varying {
                semantic: sem,
                name,
                interpolation: None,
                location: InterpLocation::Center,
                patch: false,
            });
        }
    }

    fn fs_color_output(&mut self, s: &mut String, globals: &mut String, cb: u32, o: &str) {
        let name = format!("fsout_c{cb}");
        let bit = 1u32 << (cb & 7);
        let (ty, conv) = if u32::from(self.key.cbuf_signed_int) & bit != 0 {
            ("ivec4", format!("floatBitsToInt({o})"))
        } else if u32::from(self.key.cbuf_unsigned_int) & bit != 0 {
            ("uvec4", format!("floatBitsToUint({o})"))
        } else {
            ("vec4", o.to_string())
        };
        let conv = if u32::from(self.key.cbuf_bgra_swizzle) & bit != 0 {
            format!("{conv}.bgra")
        } else {
            conv
        };
        let loc = if self.explicit_locations() {
            format!("layout(location = {cb}) ")
        } else {
            String::new()
        };
        let _ = writeln!(globals, "{loc}out {ty} {name};");
        let _ = writeln!(s, "   {name} = {conv};");
        self.iface.frag_outputs.push((cb, name));
    }
}

/// GLSL ES image qualifiers `(", format", access)`: ES wants a format on every image, and
/// read-write access only for r32f/r32i/r32ui; other writable images become write-only, as
/// upstream does on GLES hosts (their loads then fail to compile rather than misbehave).
fn es_image_qualifiers(
    fmt: Option<&'static str>,
    ty: Ty,
    writable: bool,
) -> (String, &'static str) {
    let f = fmt.unwrap_or(match ty {
        Ty::I => "rgba32i",
        Ty::U => "rgba32ui",
        Ty::F => "rgba32f",
    });
    let access = if !writable {
        "readonly "
    } else if matches!(fmt, Some("r32f" | "r32i" | "r32ui")) {
        ""
    } else {
        "writeonly "
    };
    (format!(", {f}"), access)
}
