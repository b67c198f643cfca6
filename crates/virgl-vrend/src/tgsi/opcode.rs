//! The TGSI opcodes Mesa's virgl driver can send, as a data table.
//!
//! Each row gives the mnemonic, the number of destination and source operands, whether a
//! texture target follows the operands and whether the opcode may carry a `:label`. Names and
//! operand counts follow Gallium's `tgsi_info` (the text grammar is defined by them).

/// How an opcode's result relates to its sources; drives the GLSL generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpClass {
    /// Per-component operation.
    Comp,
    /// One scalar result replicated to every written component.
    Repl,
    /// Per-channel special cases (LIT, EXP, LOG, DST).
    Chan,
    /// Texture, memory, flow control and other special opcodes.
    Other,
}

macro_rules! opcodes {
    ($( $v:ident = $name:literal, $dst:literal, $src:literal, $tex:literal, $class:ident; )*) => {
        /// A TGSI opcode.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(clippy::upper_case_acronyms)]
        #[non_exhaustive]
        pub enum Opcode { $( $v, )* }

        impl Opcode {
            /// Every opcode, in table order.
            pub const ALL: &'static [Opcode] = &[$( Opcode::$v, )*];

            /// The mnemonic as TGSI text spells it.
            pub fn name(self) -> &'static str {
                match self { $( Opcode::$v => $name, )* }
            }

            /// Number of destination operands.
            pub fn num_dst(self) -> usize {
                match self { $( Opcode::$v => $dst, )* }
            }

            /// Number of source operands (a texture instruction's sampler is a source).
            pub fn num_src(self) -> usize {
                match self { $( Opcode::$v => $src, )* }
            }

            /// Whether a texture target (`2D`, `SHADOWCUBE`...) follows the operands.
            pub fn has_texture_target(self) -> bool {
                match self { $( Opcode::$v => $tex != 0, )* }
            }

            /// Result shape class.
            pub fn class(self) -> OpClass {
                match self { $( Opcode::$v => OpClass::$class, )* }
            }
        }
    };
}

opcodes! {
    Arl = "ARL", 1, 1, 0, Comp;
    Mov = "MOV", 1, 1, 0, Comp;
    Lit = "LIT", 1, 1, 0, Chan;
    Rcp = "RCP", 1, 1, 0, Repl;
    Rsq = "RSQ", 1, 1, 0, Repl;
    Exp = "EXP", 1, 1, 0, Chan;
    Log = "LOG", 1, 1, 0, Chan;
    Mul = "MUL", 1, 2, 0, Comp;
    Add = "ADD", 1, 2, 0, Comp;
    Dp3 = "DP3", 1, 2, 0, Repl;
    Dp4 = "DP4", 1, 2, 0, Repl;
    Dst = "DST", 1, 2, 0, Chan;
    Min = "MIN", 1, 2, 0, Comp;
    Max = "MAX", 1, 2, 0, Comp;
    Slt = "SLT", 1, 2, 0, Comp;
    Sge = "SGE", 1, 2, 0, Comp;
    Mad = "MAD", 1, 3, 0, Comp;
    Sub = "SUB", 1, 2, 0, Comp;
    Lrp = "LRP", 1, 3, 0, Comp;
    Fma = "FMA", 1, 3, 0, Comp;
    Sqrt = "SQRT", 1, 1, 0, Repl;
    Frc = "FRC", 1, 1, 0, Comp;
    Flr = "FLR", 1, 1, 0, Comp;
    Round = "ROUND", 1, 1, 0, Comp;
    Ex2 = "EX2", 1, 1, 0, Repl;
    Lg2 = "LG2", 1, 1, 0, Repl;
    Pow = "POW", 1, 2, 0, Repl;
    Xpd = "XPD", 1, 2, 0, Comp;
    Abs = "ABS", 1, 1, 0, Comp;
    Dph = "DPH", 1, 2, 0, Repl;
    Cos = "COS", 1, 1, 0, Repl;
    Ddx = "DDX", 1, 1, 0, Comp;
    Ddy = "DDY", 1, 1, 0, Comp;
    Kill = "KILL", 0, 0, 0, Other;
    Pk2h = "PK2H", 1, 1, 0, Repl;
    Pk2us = "PK2US", 1, 1, 0, Repl;
    Pk4b = "PK4B", 1, 1, 0, Repl;
    Pk4ub = "PK4UB", 1, 1, 0, Repl;
    Seq = "SEQ", 1, 2, 0, Comp;
    Sgt = "SGT", 1, 2, 0, Comp;
    Sin = "SIN", 1, 1, 0, Repl;
    Sle = "SLE", 1, 2, 0, Comp;
    Sne = "SNE", 1, 2, 0, Comp;
    Tex = "TEX", 1, 2, 1, Other;
    Txd = "TXD", 1, 4, 1, Other;
    Txp = "TXP", 1, 2, 1, Other;
    Up2h = "UP2H", 1, 1, 0, Other;
    Up2us = "UP2US", 1, 1, 0, Other;
    Up4b = "UP4B", 1, 1, 0, Other;
    Up4ub = "UP4UB", 1, 1, 0, Other;
    Arr = "ARR", 1, 1, 0, Comp;
    Cal = "CAL", 0, 0, 0, Other;
    Ret = "RET", 0, 0, 0, Other;
    Ssg = "SSG", 1, 1, 0, Comp;
    Cmp = "CMP", 1, 3, 0, Comp;
    Txb = "TXB", 1, 2, 1, Other;
    Fbfetch = "FBFETCH", 1, 1, 0, Other;
    Div = "DIV", 1, 2, 0, Comp;
    Dp2 = "DP2", 1, 2, 0, Repl;
    Txl = "TXL", 1, 2, 1, Other;
    Brk = "BRK", 0, 0, 0, Other;
    If = "IF", 0, 1, 0, Other;
    Uif = "UIF", 0, 1, 0, Other;
    Else = "ELSE", 0, 0, 0, Other;
    Endif = "ENDIF", 0, 0, 0, Other;
    DdxFine = "DDX_FINE", 1, 1, 0, Comp;
    DdyFine = "DDY_FINE", 1, 1, 0, Comp;
    Ceil = "CEIL", 1, 1, 0, Comp;
    I2f = "I2F", 1, 1, 0, Comp;
    Not = "NOT", 1, 1, 0, Comp;
    Trunc = "TRUNC", 1, 1, 0, Comp;
    Shl = "SHL", 1, 2, 0, Comp;
    And = "AND", 1, 2, 0, Comp;
    Or = "OR", 1, 2, 0, Comp;
    Mod = "MOD", 1, 2, 0, Comp;
    Xor = "XOR", 1, 2, 0, Comp;
    Txf = "TXF", 1, 2, 1, Other;
    Txq = "TXQ", 1, 2, 1, Other;
    Cont = "CONT", 0, 0, 0, Other;
    Emit = "EMIT", 0, 1, 0, Other;
    Endprim = "ENDPRIM", 0, 1, 0, Other;
    Bgnloop = "BGNLOOP", 0, 0, 0, Other;
    Bgnsub = "BGNSUB", 0, 0, 0, Other;
    Endloop = "ENDLOOP", 0, 0, 0, Other;
    Endsub = "ENDSUB", 0, 0, 0, Other;
    Txqs = "TXQS", 1, 1, 1, Other;
    Resq = "RESQ", 1, 1, 0, Other;
    Nop = "NOP", 0, 0, 0, Other;
    Fseq = "FSEQ", 1, 2, 0, Comp;
    Fsge = "FSGE", 1, 2, 0, Comp;
    Fslt = "FSLT", 1, 2, 0, Comp;
    Fsne = "FSNE", 1, 2, 0, Comp;
    Membar = "MEMBAR", 0, 1, 0, Other;
    VoteAny = "VOTE_ANY", 1, 1, 0, Comp;
    VoteAll = "VOTE_ALL", 1, 1, 0, Comp;
    VoteEq = "VOTE_EQ", 1, 1, 0, Comp;
    KillIf = "KILL_IF", 0, 1, 0, Other;
    End = "END", 0, 0, 0, Other;
    Dfma = "DFMA", 1, 3, 0, Comp;
    F2i = "F2I", 1, 1, 0, Comp;
    Idiv = "IDIV", 1, 2, 0, Comp;
    Imax = "IMAX", 1, 2, 0, Comp;
    Imin = "IMIN", 1, 2, 0, Comp;
    Ineg = "INEG", 1, 1, 0, Comp;
    Isge = "ISGE", 1, 2, 0, Comp;
    Ishr = "ISHR", 1, 2, 0, Comp;
    Islt = "ISLT", 1, 2, 0, Comp;
    F2u = "F2U", 1, 1, 0, Comp;
    U2f = "U2F", 1, 1, 0, Comp;
    Uadd = "UADD", 1, 2, 0, Comp;
    Udiv = "UDIV", 1, 2, 0, Comp;
    Umad = "UMAD", 1, 3, 0, Comp;
    Umax = "UMAX", 1, 2, 0, Comp;
    Umin = "UMIN", 1, 2, 0, Comp;
    Umod = "UMOD", 1, 2, 0, Comp;
    Umul = "UMUL", 1, 2, 0, Comp;
    Useq = "USEQ", 1, 2, 0, Comp;
    Usge = "USGE", 1, 2, 0, Comp;
    Ushr = "USHR", 1, 2, 0, Comp;
    Uslt = "USLT", 1, 2, 0, Comp;
    Usne = "USNE", 1, 2, 0, Comp;
    Switch = "SWITCH", 0, 1, 0, Other;
    Case = "CASE", 0, 1, 0, Other;
    Default = "DEFAULT", 0, 0, 0, Other;
    Endswitch = "ENDSWITCH", 0, 0, 0, Other;
    Sample = "SAMPLE", 1, 3, 0, Other;
    SampleI = "SAMPLE_I", 1, 2, 0, Other;
    SampleIMs = "SAMPLE_I_MS", 1, 3, 0, Other;
    SampleB = "SAMPLE_B", 1, 4, 0, Other;
    SampleC = "SAMPLE_C", 1, 4, 0, Other;
    SampleCLz = "SAMPLE_C_LZ", 1, 4, 0, Other;
    SampleD = "SAMPLE_D", 1, 5, 0, Other;
    SampleL = "SAMPLE_L", 1, 4, 0, Other;
    Gather4 = "GATHER4", 1, 3, 0, Other;
    Sviewinfo = "SVIEWINFO", 1, 2, 0, Other;
    SamplePos = "SAMPLE_POS", 1, 2, 0, Other;
    SampleInfo = "SAMPLE_INFO", 1, 2, 0, Other;
    Uarl = "UARL", 1, 1, 0, Comp;
    Ucmp = "UCMP", 1, 3, 0, Comp;
    Iabs = "IABS", 1, 1, 0, Comp;
    Issg = "ISSG", 1, 1, 0, Comp;
    Load = "LOAD", 1, 2, 0, Other;
    Store = "STORE", 1, 2, 0, Other;
    Barrier = "BARRIER", 0, 0, 0, Other;
    Atomuadd = "ATOMUADD", 1, 3, 0, Other;
    Atomxchg = "ATOMXCHG", 1, 3, 0, Other;
    Atomcas = "ATOMCAS", 1, 4, 0, Other;
    Atomand = "ATOMAND", 1, 3, 0, Other;
    Atomor = "ATOMOR", 1, 3, 0, Other;
    Atomxor = "ATOMXOR", 1, 3, 0, Other;
    Atomumin = "ATOMUMIN", 1, 3, 0, Other;
    Atomumax = "ATOMUMAX", 1, 3, 0, Other;
    Atomimin = "ATOMIMIN", 1, 3, 0, Other;
    Atomimax = "ATOMIMAX", 1, 3, 0, Other;
    Tex2 = "TEX2", 1, 3, 1, Other;
    Txb2 = "TXB2", 1, 3, 1, Other;
    Txl2 = "TXL2", 1, 3, 1, Other;
    ImulHi = "IMUL_HI", 1, 2, 0, Comp;
    UmulHi = "UMUL_HI", 1, 2, 0, Comp;
    Tg4 = "TG4", 1, 3, 1, Other;
    Lodq = "LODQ", 1, 2, 1, Other;
    Ibfe = "IBFE", 1, 3, 0, Comp;
    Ubfe = "UBFE", 1, 3, 0, Comp;
    Bfi = "BFI", 1, 4, 0, Comp;
    Brev = "BREV", 1, 1, 0, Comp;
    Popc = "POPC", 1, 1, 0, Comp;
    Lsb = "LSB", 1, 1, 0, Comp;
    Imsb = "IMSB", 1, 1, 0, Comp;
    Umsb = "UMSB", 1, 1, 0, Comp;
    InterpCentroid = "INTERP_CENTROID", 1, 1, 0, Other;
    InterpSample = "INTERP_SAMPLE", 1, 2, 0, Other;
    InterpOffset = "INTERP_OFFSET", 1, 2, 0, Other;
    F2d = "F2D", 1, 1, 0, Comp;
    D2f = "D2F", 1, 1, 0, Comp;
    Dabs = "DABS", 1, 1, 0, Comp;
    Dneg = "DNEG", 1, 1, 0, Comp;
    Dadd = "DADD", 1, 2, 0, Comp;
    Dmul = "DMUL", 1, 2, 0, Comp;
    Dmax = "DMAX", 1, 2, 0, Comp;
    Dmin = "DMIN", 1, 2, 0, Comp;
    Dslt = "DSLT", 1, 2, 0, Comp;
    Dsge = "DSGE", 1, 2, 0, Comp;
    Dseq = "DSEQ", 1, 2, 0, Comp;
    Dsne = "DSNE", 1, 2, 0, Comp;
    Drcp = "DRCP", 1, 1, 0, Comp;
    Dsqrt = "DSQRT", 1, 1, 0, Comp;
    Dmad = "DMAD", 1, 3, 0, Comp;
    Dfrac = "DFRAC", 1, 1, 0, Comp;
    Dldexp = "DLDEXP", 1, 2, 0, Comp;
    Dfracexp = "DFRACEXP", 2, 1, 0, Comp;
    D2i = "D2I", 1, 1, 0, Comp;
    I2d = "I2D", 1, 1, 0, Comp;
    D2u = "D2U", 1, 1, 0, Comp;
    U2d = "U2D", 1, 1, 0, Comp;
    Drsq = "DRSQ", 1, 1, 0, Comp;
    Dtrunc = "DTRUNC", 1, 1, 0, Comp;
    Dceil = "DCEIL", 1, 1, 0, Comp;
    Dflr = "DFLR", 1, 1, 0, Comp;
    Dround = "DROUND", 1, 1, 0, Comp;
    Dssg = "DSSG", 1, 1, 0, Comp;
    Ddiv = "DDIV", 1, 2, 0, Comp;
    Clock = "CLOCK", 1, 0, 0, Other;
    I64abs = "I64ABS", 1, 1, 0, Comp;
    I64neg = "I64NEG", 1, 1, 0, Comp;
    I64ssg = "I64SSG", 1, 1, 0, Comp;
    I64slt = "I64SLT", 1, 2, 0, Comp;
    I64sge = "I64SGE", 1, 2, 0, Comp;
    I64min = "I64MIN", 1, 2, 0, Comp;
    I64max = "I64MAX", 1, 2, 0, Comp;
    I64shr = "I64SHR", 1, 2, 0, Comp;
    I64div = "I64DIV", 1, 2, 0, Comp;
    I64mod = "I64MOD", 1, 2, 0, Comp;
    F2i64 = "F2I64", 1, 1, 0, Comp;
    U2i64 = "U2I64", 1, 1, 0, Comp;
    I2i64 = "I2I64", 1, 1, 0, Comp;
    D2i64 = "D2I64", 1, 1, 0, Comp;
    I642f = "I642F", 1, 1, 0, Comp;
    I642d = "I642D", 1, 1, 0, Comp;
    U64add = "U64ADD", 1, 2, 0, Comp;
    U64mul = "U64MUL", 1, 2, 0, Comp;
    U64seq = "U64SEQ", 1, 2, 0, Comp;
    U64sne = "U64SNE", 1, 2, 0, Comp;
    U64slt = "U64SLT", 1, 2, 0, Comp;
    U64sge = "U64SGE", 1, 2, 0, Comp;
    U64min = "U64MIN", 1, 2, 0, Comp;
    U64max = "U64MAX", 1, 2, 0, Comp;
    U64shl = "U64SHL", 1, 2, 0, Comp;
    U64shr = "U64SHR", 1, 2, 0, Comp;
    U64div = "U64DIV", 1, 2, 0, Comp;
    U64mod = "U64MOD", 1, 2, 0, Comp;
    F2u64 = "F2U64", 1, 1, 0, Comp;
    D2u64 = "D2U64", 1, 1, 0, Comp;
    U642f = "U642F", 1, 1, 0, Comp;
    U642d = "U642D", 1, 1, 0, Comp;
    TexLz = "TEX_LZ", 1, 2, 1, Other;
    TxfLz = "TXF_LZ", 1, 2, 1, Other;
    Demote = "DEMOTE", 0, 0, 0, Other;
}

impl Opcode {
    /// Looks a mnemonic up (case-sensitive, as Mesa prints it).
    pub fn from_name(name: &str) -> Option<Opcode> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// Whether the text may append ` :N` (a branch label) to this opcode.
    pub fn is_branch(self) -> bool {
        matches!(
            self,
            Opcode::If
                | Opcode::Uif
                | Opcode::Else
                | Opcode::Bgnloop
                | Opcode::Endloop
                | Opcode::Cal
                | Opcode::Bgnsub
        )
    }

    /// Whether memory qualifiers, a target and a format may follow the operands.
    pub fn is_memory(self) -> bool {
        matches!(
            self,
            Opcode::Load
                | Opcode::Store
                | Opcode::Resq
                | Opcode::Atomuadd
                | Opcode::Atomxchg
                | Opcode::Atomcas
                | Opcode::Atomand
                | Opcode::Atomor
                | Opcode::Atomxor
                | Opcode::Atomumin
                | Opcode::Atomumax
                | Opcode::Atomimin
                | Opcode::Atomimax
        )
    }

    /// Whether the instruction takes texture offsets after its target (the `SAMPLE*` family
    /// too, although it has no target in the text).
    pub fn takes_tex_offsets(self) -> bool {
        self.has_texture_target()
            || matches!(
                self,
                Opcode::Sample
                    | Opcode::SampleI
                    | Opcode::SampleIMs
                    | Opcode::SampleB
                    | Opcode::SampleC
                    | Opcode::SampleCLz
                    | Opcode::SampleD
                    | Opcode::SampleL
                    | Opcode::Gather4
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for &op in Opcode::ALL {
            assert!(seen.insert(op.name()), "duplicate {}", op.name());
            assert_eq!(Opcode::from_name(op.name()), Some(op));
        }
        assert_eq!(Opcode::from_name("MOV_SAT"), None);
        assert_eq!(Opcode::Txd.num_src(), 4);
        assert!(Opcode::Tex.has_texture_target());
        assert!(Opcode::Load.is_memory() && !Opcode::Barrier.is_memory());
    }
}
