//! Split shader text: Encoder::create_shader splits as Mesa does; ShaderAssembler rejoins it.

use virgl_protocol::command::*;
use virgl_protocol::pipe::ShaderType;
use virgl_protocol::ProtocolError;

fn chunks(words: &[u32]) -> Vec<CreateShader<'_>> {
    CommandIter::new(words)
        .map(|r| match r.unwrap().1 {
            Command::CreateObject(CreateObject::Shader(s)) => s,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn tgsi(n: usize) -> Vec<u8> {
    let mut t: Vec<u8> = (0..n)
        .map(|i| b"FRAG DCL OUT[0] MOV END\n"[i % 24])
        .collect();
    t.push(0);
    t
}

#[test]
fn split_shader_reassembles() {
    let so = StreamOutputInfo {
        stride: [4, 0, 0, 0],
        outputs: vec![StreamOutputEntry {
            register_index: 2,
            num_components: 4,
            ..Default::default()
        }],
    };
    for (len, step) in [
        (0usize, 4usize),
        (3, 4),
        (100, 1),
        (1000, 7),
        (4096, 1000),
        (4096, 2000),
    ] {
        let text = tgsi(len);
        let src = ShaderSource {
            handle: 9,
            shader_type: ShaderType::Vertex,
            num_tokens: 300,
            req_local_mem: 0,
            stream_output: Some(&so),
            text: &text,
        };
        let mut e = Encoder::new();
        e.create_shader(&src, step).unwrap();
        let cs = chunks(e.as_slice());
        assert_eq!(cs.len(), text.len().div_ceil(4).div_ceil(step).max(1));
        assert!(cs[1..]
            .iter()
            .all(|c| matches!(c.chunk, ShaderChunk::Continuation { .. })));
        let mut asm = ShaderAssembler::default();
        let mut done = None;
        for (i, c) in cs.iter().enumerate() {
            let r = asm.push(c).unwrap();
            assert_eq!(r.is_some(), i == cs.len() - 1);
            if i + 1 < cs.len() {
                assert_eq!(asm.in_progress(ShaderType::Vertex), Some(9));
            }
            done = r;
        }
        let s = done.unwrap();
        assert_eq!(s.text, text);
        assert_eq!(s.text_until_nul(), &text[..len]);
        assert_eq!(s.stream_output.as_ref(), Some(&so));
        assert_eq!(
            (s.handle, s.shader_type, s.num_tokens),
            (9, ShaderType::Vertex, 300)
        );
        assert_eq!(asm.in_progress(ShaderType::Vertex), None);
    }
}

#[test]
fn compute_shader_keeps_local_mem() {
    let text = tgsi(50);
    let src = ShaderSource {
        handle: 1,
        shader_type: ShaderType::Compute,
        num_tokens: 10,
        req_local_mem: 1024,
        stream_output: None,
        text: &text,
    };
    let mut e = Encoder::new();
    e.create_shader(&src, 5).unwrap();
    let mut asm = ShaderAssembler::default();
    let mut out = None;
    for c in chunks(e.as_slice()) {
        assert_eq!(c.req_local_mem, 1024);
        out = asm.push(&c).unwrap();
    }
    assert_eq!(out.unwrap().req_local_mem, 1024);
}

fn split(handle: u32, ty: ShaderType, text: &[u8], step: usize) -> Vec<u32> {
    let src = ShaderSource {
        handle,
        shader_type: ty,
        num_tokens: 1,
        req_local_mem: 0,
        stream_output: None,
        text,
    };
    let mut e = Encoder::new();
    e.create_shader(&src, step).unwrap();
    e.into_inner()
}

#[test]
fn assembler_rejects_inconsistent_chunks() {
    let text = tgsi(64);
    let a = split(1, ShaderType::Fragment, &text, 4);
    let b = split(2, ShaderType::Fragment, &text, 4);
    let ca = chunks(&a);
    let cb = chunks(&b);
    let err = |r: Result<Option<AssembledShader>, ProtocolError>| match r {
        Err(ProtocolError::ShaderAssembly { reason, .. }) => reason,
        other => panic!("expected an assembly error, got {other:?}"),
    };

    // Continuation without a first chunk.
    let mut asm = ShaderAssembler::default();
    assert!(err(asm.push(&ca[1])).contains("without"));

    // Continuation for another handle drops the partial shader.
    asm.push(&ca[0]).unwrap();
    assert!(err(asm.push(&cb[1])).contains("different handle"));
    assert_eq!(asm.in_progress(ShaderType::Fragment), None);

    // New shader of the same stage while one is unfinished.
    asm.push(&ca[0]).unwrap();
    assert!(err(asm.push(&cb[0])).contains("unfinished"));

    // Skipped chunk: offset mismatch.
    asm.push(&ca[0]).unwrap();
    assert!(err(asm.push(&ca[2])).contains("offset"));

    // Another stage may be in progress at the same time.
    let v = split(3, ShaderType::Vertex, &text, 4);
    let cv = chunks(&v);
    asm.push(&ca[0]).unwrap();
    asm.push(&cv[0]).unwrap();
    for c in &ca[1..] {
        asm.push(c).unwrap();
    }
    assert_eq!(asm.in_progress(ShaderType::Vertex), Some(3));
    asm.reset();
    assert_eq!(asm.in_progress(ShaderType::Vertex), None);

    // A continuation running past the declared length.
    let long = split(1, ShaderType::Fragment, &tgsi(200), 4);
    let cl = chunks(&long);
    asm.push(&ca[0]).unwrap();
    for c in &ca[1..ca.len() - 1] {
        asm.push(c).unwrap();
    }
    let at = ca.len() - 1;
    assert!(err(asm.push(&cl[at])).contains("past the declared"));
}

#[test]
fn assembler_enforces_hard_limit() {
    let text = tgsi(5000);
    let words = split(1, ShaderType::Vertex, &text, 100);
    let cs = chunks(&words);
    let mut asm = ShaderAssembler::new(4096);
    let e = asm.push(&cs[0]).unwrap_err();
    assert!(
        matches!(e, ProtocolError::ShaderAssembly { reason, .. } if reason.contains("hard limit"))
    );
    // A first chunk declaring 2 GiB with no data allocates nothing and is refused.
    let hdr = Header {
        cmd: CommandId::CreateObject.raw(),
        obj: ObjectType::Shader.raw(),
        len: 5,
    };
    let w = [hdr.to_raw(), 1, 0, 0x7fff_ffff, 0, 0];
    let c = chunks(&w);
    assert!(ShaderAssembler::default().push(&c[0]).is_err());
}
