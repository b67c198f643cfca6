//! Hostile TGSI: random text, and real corpus shaders mutated (bytes flipped, lines cut,
//! duplicated, numbers enlarged), must give `Ok` or a typed error: never a panic, an overflow
//! or an unbounded allocation. Whatever parses is also translated.

use proptest::prelude::*;
use virgl_vrend::tgsi::{self, GlslTarget, Limits, ShaderKey};

fn corpus() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tgsi_corpus");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    v.sort();
    v
}

fn exercise(text: &str) {
    if let Ok(p) = tgsi::parse(text) {
        for target in [
            GlslTarget::desktop(450),
            GlslTarget::desktop(140),
            GlslTarget::es(310),
        ] {
            let _ = tgsi::translate(&p, &ShaderKey::default(), &target);
            let key = ShaderKey {
                flatshade: true,
                color_two_side: true,
                clip_plane_enable: 0xff,
                sprite_coord_enable: u32::MAX,
                cbuf_bgra_swizzle: 0xff,
                nr_cbufs: 8,
                flip_y: true,
                shared_mem_bytes: 64,
                ..Default::default()
            };
            let _ = tgsi::translate(&p, &key, &target);
        }
    }
}

const TOKENS: &[&str] = &[
    "VERT\n",
    "FRAG\n",
    "GEOM\n",
    "TESS_CTRL\n",
    "COMP\n",
    "DCL ",
    "IMM[0] ",
    "FLT32 ",
    "UINT32 ",
    "{",
    "}",
    "[",
    "]",
    "..",
    ",",
    " ",
    "\n",
    "TEMP",
    "IN",
    "OUT",
    "CONST",
    "ADDR",
    "SAMP",
    "SVIEW",
    "IMAGE",
    "BUFFER",
    "MEMORY",
    "SV",
    "IMM",
    "0",
    "1",
    "7",
    "4294967295",
    "-3",
    "0x3f800000",
    ".x",
    ".xyzw",
    ".xxxx",
    "MOV",
    "ADD",
    "TEX",
    "TXQ",
    "IF",
    "UIF",
    "ELSE",
    "ENDIF",
    "BGNLOOP",
    "ENDLOOP",
    "BRK",
    "END",
    "LOAD",
    "STORE",
    "ATOMUADD",
    "EMIT",
    "2D",
    "SHADOWCUBE",
    "GENERIC",
    "POSITION",
    "COLOR",
    "ARRAY(1)",
    "ADDR[0].x+2",
    "PROPERTY ",
    "GS_INPUT_PRIMITIVE",
    "POINTS",
    "_SAT",
    ":",
    "-",
    "|",
    "(",
    ")",
    "0: ",
    "SHARED",
    "INSTANCEID",
    "PIPE_FORMAT_R32_UINT",
    "WR",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_token_soup_never_panics(idx in prop::collection::vec(0..TOKENS.len(), 0..200)) {
        let text: String = idx.iter().map(|&i| TOKENS[i]).collect();
        exercise(&text);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_corpus_never_panics(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..6, any::<u8>()), 1..8),
    ) {
        let all = corpus();
        let mut lines: Vec<String> = which.get(&all).lines().map(String::from).collect();
        for (at, op, b) in edits {
            if lines.is_empty() {
                break;
            }
            let i = at.index(lines.len());
            match op {
                0 => { lines.remove(i); }
                1 => { let l = lines[i].clone(); lines.insert(i, l); }
                2 => {
                    let mut bytes = lines[i].clone().into_bytes();
                    if !bytes.is_empty() {
                        let j = usize::from(b) % bytes.len();
                        bytes[j] = b"[]0129.,xyzw-|:(ADDRTEMP"[usize::from(b) % 24];
                    }
                    lines[i] = String::from_utf8_lossy(&bytes).into_owned();
                }
                3 => lines[i] = lines[i].replace('0', "65535"),
                4 => lines[i] = lines[i].replace('1', "4294967296"),
                _ => { let k = at.index(lines.len()); lines.swap(i, k); }
            }
        }
        exercise(&lines.join("\n"));
    }
}

#[test]
fn limits_hold() {
    let small = Limits {
        max_instructions: 3,
        max_declarations: 2,
        max_nesting: 2,
        ..Default::default()
    };
    let many = format!(
        "FRAG\nDCL TEMP[0]\n{}",
        "0: MOV TEMP[0], TEMP[0]\n".repeat(4)
    );
    assert!(tgsi::parse_with_limits(&many, &small).is_err());
    let deep = "FRAG\nDCL TEMP[0]\n0: IF TEMP[0].xxxx\n1: IF TEMP[0].xxxx\n2: IF TEMP[0].xxxx\n";
    assert!(tgsi::parse_with_limits(deep, &small).is_err());
    let huge = format!("FRAG\n{}", " ".repeat(5 << 20));
    assert!(tgsi::parse(&huge).is_err());
    // Registers far beyond the limits are refused before any allocation.
    assert!(tgsi::parse("FRAG\nDCL TEMP[0..4294967295]\n").is_err());
    assert!(tgsi::parse("FRAG\nDCL CONST[0][0..70000]\n").is_err());
    // Padding NULs after the text (as the guest sends it) are fine.
    assert!(tgsi::parse("FRAG\nDCL TEMP[0]\n0: END\n\0\0\0").is_ok());
}
