//! Every shader Mesa's virgl driver sent in our capture (glxgears, glmark2 scenes, piglit
//! shader_runner tests; `tests/tgsi_corpus/<program>_<stage>_<hash>.tgsi`) is parsed,
//! translated to GLSL 4.50 core and compiled by llvmpipe; vertex+fragment (and geometry /
//! tessellation) shaders of one program are linked together.

use std::collections::BTreeMap;
use std::path::PathBuf;

use glow::HasContext;
use virgl_vrend::tgsi::ir::Processor;
use virgl_vrend::tgsi::{self, GlslShader, GlslTarget, ShaderKey};
use virgl_vrend::{EglOptions, EglProvider, GlContextParams, GlContextProvider, VrendError};

fn corpus() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tgsi_corpus");
    let mut v: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tgsi"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    assert!(v.len() > 100, "corpus too small: {}", v.len());
    v
}

/// The key the draw code would use: inputs named after the stage that really precedes.
fn key_for(stage: Processor, present: &[Processor]) -> ShaderKey {
    let has = |p| present.contains(&p);
    let prev = match stage {
        Processor::Fragment if has(Processor::Geometry) => Some(Processor::Geometry),
        Processor::Fragment | Processor::Geometry if has(Processor::TessEval) => {
            Some(Processor::TessEval)
        }
        Processor::TessEval if !has(Processor::TessCtrl) => Some(Processor::Vertex),
        _ => None,
    };
    let last_vertex = match stage {
        Processor::Vertex => !has(Processor::Geometry) && !has(Processor::TessEval),
        Processor::TessEval => !has(Processor::Geometry),
        _ => true,
    };
    ShaderKey {
        nr_cbufs: 1,
        shared_mem_bytes: if stage == Processor::Compute {
            16384
        } else {
            0
        },
        prev_stage: prev,
        last_vertex_stage: Some(last_vertex),
        ..Default::default()
    }
}

/// Program tag of a corpus file name (`pig12_vs_0123abcd.tgsi` → `pig12`).
fn tag(name: &str) -> &str {
    let mut it = name.rsplitn(3, '_');
    it.next();
    it.next();
    it.next().unwrap_or(name)
}

/// A current GL 4.5 core context on llvmpipe for this thread.
struct Gl {
    gl: glow::Context,
    _provider: EglProvider,
}

impl Gl {
    fn open() -> Gl {
        let provider = EglProvider::new(&EglOptions::default()).expect("EGL");
        let ctx = provider
            .create_context(&GlContextParams {
                shared: false,
                major: 4,
                minor: 5,
                compat: false,
            })
            .expect("GL 4.5 core context");
        provider.make_current(Some(ctx)).unwrap();
        // SAFETY: the context is current on this thread and get_proc_address returns entry
        // points of that GL implementation (or null, which glow treats as missing).
        let gl = unsafe {
            glow::Context::from_loader_function_cstr(|name| provider.get_proc_address(name))
        };
        Gl {
            gl,
            _provider: provider,
        }
    }

    /// Compiles; Err(log) on failure.
    fn compile(&self, sh: &GlslShader) -> Result<glow::Shader, String> {
        let ty = tgsi::glsl::gl_shader_type(sh.stage);
        // SAFETY: plain GL calls on the current context with valid objects.
        unsafe {
            let s = self.gl.create_shader(ty)?;
            self.gl.shader_source(s, &sh.source);
            self.gl.compile_shader(s);
            if self.gl.get_shader_compile_status(s) {
                Ok(s)
            } else {
                let log = self.gl.get_shader_info_log(s);
                self.gl.delete_shader(s);
                Err(log)
            }
        }
    }

    fn link(&self, shaders: &[glow::Shader]) -> Result<(), String> {
        // SAFETY: as above.
        unsafe {
            let p = self.gl.create_program()?;
            for &s in shaders {
                self.gl.attach_shader(p, s);
            }
            self.gl.link_program(p);
            let ok = self.gl.get_program_link_status(p);
            let log = self.gl.get_program_info_log(p);
            self.gl.delete_program(p);
            if ok {
                Ok(())
            } else {
                Err(log)
            }
        }
    }
}

#[test]
fn every_corpus_shader_parses() {
    let mut failures = Vec::new();
    for (name, text) in corpus() {
        if let Err(e) = tgsi::parse(&text) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_translates_and_compiles_on_llvmpipe() {
    let gl = Gl::open();
    let target = GlslTarget::desktop(450);
    let mut failures = Vec::new();
    let mut unsupported = Vec::new();
    let mut compiled: BTreeMap<String, Vec<(Processor, glow::Shader)>> = BTreeMap::new();
    // Programs with an untranslatable stage are not linked.
    let mut incomplete = std::collections::BTreeSet::new();
    let all = corpus();
    let mut stages: BTreeMap<String, Vec<Processor>> = BTreeMap::new();
    for (name, text) in &all {
        let p = tgsi::parse(text).unwrap().processor;
        stages.entry(tag(name).to_string()).or_default().push(p);
    }
    // What the draw code tells a TES about its TCS's patch outputs.
    let mut patch_arrays: BTreeMap<String, u32> = BTreeMap::new();
    for (name, text) in &all {
        if let Some(n) = tgsi::glsl::tcs_patch_array(&tgsi::parse(text).unwrap()) {
            patch_arrays.insert(tag(name).to_string(), n);
        }
    }
    for (name, text) in &all {
        let prog = tgsi::parse(text).unwrap();
        let mut key = key_for(prog.processor, &stages[tag(name)]);
        if prog.processor == Processor::TessEval {
            key.prev_patch_array = patch_arrays.get(tag(name)).copied();
        }
        let sh = match tgsi::translate(&prog, &key, &target) {
            Ok(sh) => sh,
            Err(VrendError::Unsupported(what)) => {
                unsupported.push(format!("{name}: {what}"));
                incomplete.insert(tag(name).to_string());
                continue;
            }
            Err(e) => {
                failures.push(format!("{name}: translate: {e}"));
                continue;
            }
        };
        // TGSI_CORPUS_DUMP=<tag> prints a program's GLSL (to study another host's compiler).
        if std::env::var("TGSI_CORPUS_DUMP").is_ok_and(|t| t == tag(name)) {
            eprintln!("=== {name}\n{}", sh.source);
        }
        match gl.compile(&sh) {
            Ok(s) => compiled
                .entry(tag(name).to_string())
                .or_default()
                .push((prog.processor, s)),
            Err(log) => failures.push(format!("{name}: compile:\n{log}\n{}", sh.source)),
        }
    }
    // Link programs whose stages are unambiguous (one shader per stage).
    let mut linked = 0;
    for (t, shaders) in &compiled {
        let mut per_stage: BTreeMap<u32, Vec<glow::Shader>> = BTreeMap::new();
        for (p, s) in shaders {
            per_stage.entry(*p as u32).or_default().push(*s);
        }
        let has = |p: Processor| per_stage.contains_key(&(p as u32));
        if incomplete.contains(t)
            || !(has(Processor::Vertex) && has(Processor::Fragment))
            || per_stage.values().any(|v| v.len() != 1)
            || has(Processor::Compute)
        {
            continue;
        }
        let list: Vec<glow::Shader> = per_stage.values().map(|v| v[0]).collect();
        match gl.link(&list) {
            Ok(()) => linked += 1,
            Err(log) => failures.push(format!("{t}: link: {log}")),
        }
    }
    eprintln!(
        "{} shaders, {} unsupported, {} failures, {} programs linked",
        all.len(),
        unsupported.len(),
        failures.len(),
        linked
    );
    for u in &unsupported {
        eprintln!("unsupported: {u}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(linked >= 40, "only {linked} programs linked");
    assert!(
        unsupported.len() * 20 <= all.len(),
        "too many unsupported: {}",
        unsupported.len()
    );
}
