//! Test-only reader of ffmpeg `trace_headers` dumps (see `make.sh`): the syntax elements
//! ffmpeg's own bitstream parser (libavcodec CBS) read, with their bit positions, so the tests
//! compare our translation against values computed by independent code.
#![allow(dead_code)]

/// One syntax element: bit position inside its unit (RBSP bits for H.264/HEVC, counted from
/// the NAL header), name, bit length, value.
#[derive(Clone, Debug)]
pub struct Field {
    pub pos: u64,
    pub name: String,
    pub bits: u64,
    pub value: i64,
}

/// One header structure ("Slice Header", "Picture Parameter Set", ...).
#[derive(Clone, Debug)]
pub struct Section {
    pub name: String,
    pub fields: Vec<Field>,
}

impl Section {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<i64> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.value)
    }

    /// The value of `name`, or `default` when the element is absent (inferred).
    pub fn or(&self, name: &str, default: i64) -> i64 {
        self.get(name).unwrap_or(default)
    }

    /// The value of `name`; panics naming the element when absent.
    pub fn req(&self, name: &str) -> i64 {
        self.get(name)
            .unwrap_or_else(|| panic!("{}: no {name} in trace", self.name))
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<i64> {
        self.fields
            .iter()
            .filter(|f| f.name == name)
            .map(|f| f.value)
            .collect()
    }

    /// Bit position right after the last element.
    pub fn end(&self) -> u64 {
        self.fields.last().map_or(0, |f| f.pos + f.bits)
    }
}

/// Parses a whole dump into sections, in file order ("Packet:" and "Extradata" lines are
/// dropped; their sections follow).
pub fn parse(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("Packet:") || line == "Extradata" {
            continue;
        }
        let parsed = (|| {
            let (lhs, value) = line.rsplit_once(" = ")?;
            let mut words = lhs.split(' ');
            let pos: u64 = words.next()?.parse().ok()?;
            let rest: Vec<&str> = words.collect();
            let (bits, name) = rest.split_last()?;
            Some(Field {
                pos,
                name: name.join(" "),
                bits: bits.len() as u64,
                value: value.trim().parse().ok()?,
            })
        })();
        match parsed {
            Some(f) => match sections.last_mut() {
                Some(s) => s.fields.push(f),
                None => panic!("field before any section: {line}"),
            },
            None => sections.push(Section {
                name: line.to_string(),
                fields: Vec::new(),
            }),
        }
    }
    sections
}

/// Reads `tests/data/<name>` and its trace.
pub fn clip(name: &str) -> (Vec<u8>, Vec<Section>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let data = std::fs::read(dir.join(name)).expect("clip");
    let text = std::fs::read_to_string(dir.join(format!("{name}.trace"))).expect("trace");
    (data, parse(&text))
}

/// Reads a VA struct out of a translated buffer's bytes.
pub fn read_struct<T: Copy>(bytes: &[u8]) -> T {
    assert_eq!(bytes.len(), std::mem::size_of::<T>(), "buffer size");
    // SAFETY: the length equals `size_of::<T>()`, `read_unaligned` needs no alignment, and `T`
    // is a libva-sys plain-C struct for which any bit pattern the translator wrote is valid.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) }
}

/// A surface map for tests: guest handle `h` is VA surface `h + 1000`; handles above 99 are
/// unknown.
pub struct Surfaces {
    pub target: u32,
    pub size: (u32, u32),
}

impl virgl_video::translate::SurfaceMap for Surfaces {
    fn surface(&self, guest_handle: u32) -> Option<u32> {
        (guest_handle < 100).then_some(guest_handle + 1000)
    }
    fn target(&self) -> Option<u32> {
        Some(self.target)
    }
    fn coded_size(&self) -> Option<(u32, u32)> {
        Some(self.size)
    }
}

/// A small deterministic xorshift generator for mutation tests (no dependency, reproducible).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Flips 1-4 random bits of `bytes` and sometimes truncates it.
    pub fn mutate(&mut self, bytes: &mut Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        for _ in 0..1 + self.below(4) {
            let i = self.below(bytes.len());
            bytes[i] ^= 1 << self.below(8);
        }
        if self.below(8) == 0 {
            let keep = self.below(bytes.len());
            bytes.truncate(keep);
        }
    }

    /// Overwrites one random byte of `bytes` (a description's wire bytes) with a random or
    /// boundary value.
    pub fn poke(&mut self, bytes: &mut [u8]) {
        let i = self.below(bytes.len());
        bytes[i] = match self.below(4) {
            0 => 0,
            1 => 0xff,
            2 => 0x80,
            _ => self.next() as u8,
        };
    }
}
