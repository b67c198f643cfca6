//! Typed expression helpers: GLSL type names, bit casts, literals.

/// The type an operation reads or produces its 32-bit lanes as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    F,
    I,
    U,
}

pub(crate) fn vec_ty(ty: Ty, n: usize) -> &'static str {
    const F: [&str; 4] = ["float", "vec2", "vec3", "vec4"];
    const I: [&str; 4] = ["int", "ivec2", "ivec3", "ivec4"];
    const U: [&str; 4] = ["uint", "uvec2", "uvec3", "uvec4"];
    let i = n.clamp(1, 4) - 1;
    match ty {
        Ty::F => F[i],
        Ty::I => I[i],
        Ty::U => U[i],
    }
}

/// Reinterprets the bits of `e` (n lanes of `from`) as `to`.
pub(crate) fn cast(e: &str, from: Ty, to: Ty, n: usize) -> String {
    match (from, to) {
        (a, b) if a == b => e.to_string(),
        (Ty::F, Ty::I) => format!("floatBitsToInt({e})"),
        (Ty::F, Ty::U) => format!("floatBitsToUint({e})"),
        (Ty::I, Ty::F) => format!("intBitsToFloat({e})"),
        (Ty::U, Ty::F) => format!("uintBitsToFloat({e})"),
        (_, to) => format!("{}({e})", vec_ty(to, n)),
    }
}

pub(crate) const SWZ: [char; 4] = ['x', 'y', 'z', 'w'];

pub(crate) fn swizzle_str(comps: &[u8]) -> String {
    comps.iter().map(|&c| SWZ[c as usize & 3]).collect()
}

pub(crate) fn mask_comps(mask: u8) -> Vec<u8> {
    (0..4).filter(|c| mask & (1 << c) != 0).collect()
}

/// A float literal that reads back to exactly `bits`, or a bit cast when none exists.
pub(crate) fn float_lit(bits: u32) -> String {
    let v = f32::from_bits(bits);
    if v.is_finite() && !(v == 0.0 && v.is_sign_negative()) {
        let s = format!("{v:?}");
        if s.parse::<f32>().ok().map(f32::to_bits) == Some(bits) {
            return s;
        }
    }
    format!("uintBitsToFloat(0x{bits:08x}u)")
}

pub(crate) fn int_lit(bits: u32) -> String {
    let v = bits as i32;
    if v == i32::MIN {
        "int(0x80000000u)".to_string()
    } else {
        v.to_string()
    }
}

pub(crate) fn uint_lit(bits: u32) -> String {
    if bits > 0xffff {
        format!("0x{bits:08x}u")
    } else {
        format!("{bits}u")
    }
}

/// A literal vector of the given lanes.
pub(crate) fn literal(ty: Ty, vals: &[u32]) -> String {
    let parts: Vec<String> = vals
        .iter()
        .map(|&b| match ty {
            Ty::F => float_lit(b),
            Ty::I => int_lit(b),
            Ty::U => uint_lit(b),
        })
        .collect();
    if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else if parts.iter().all(|p| p == &parts[0]) {
        format!("{}({})", vec_ty(ty, vals.len()), parts[0])
    } else {
        format!("{}({})", vec_ty(ty, vals.len()), parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_round_trip() {
        assert_eq!(float_lit(1.0f32.to_bits()), "1.0");
        assert_eq!(float_lit(0.1f32.to_bits()), "0.1");
        assert_eq!(
            float_lit(f32::NAN.to_bits()),
            "uintBitsToFloat(0x7fc00000u)"
        );
        assert_eq!(
            float_lit((-0.0f32).to_bits()),
            "uintBitsToFloat(0x80000000u)"
        );
        assert_eq!(int_lit(0x8000_0000), "int(0x80000000u)");
        assert_eq!(int_lit(-5i32 as u32), "-5");
        assert_eq!(literal(Ty::U, &[1, 1]), "uvec2(1u)");
        assert_eq!(literal(Ty::F, &[0, 0x3f80_0000]), "vec2(0.0, 1.0)");
        assert_eq!(cast("a", Ty::I, Ty::U, 3), "uvec3(a)");
    }
}
