//! Test-only reader of ffmpeg `trace_headers` dumps (see `data/make.sh`): the syntax elements
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

    /// The values of `name[0]` .. `name[n - 1]`; panics naming the first one absent.
    pub fn indexed(&self, name: &str, n: usize) -> Vec<i64> {
        (0..n).map(|i| self.req(&format!("{name}[{i}]"))).collect()
    }

    /// Bit position right after the last element.
    pub fn end(&self) -> u64 {
        self.fields.last().map_or(0, |f| f.pos + f.bits)
    }
}

/// The first section called `name`; panics naming it when there is none.
pub fn section<'a>(sections: &'a [Section], name: &str) -> &'a Section {
    sections
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no {name} section in trace"))
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
