//! Reading vk.xml (plus our small description of the VK_MESA_venus_protocol structs that
//! chain into core structs) into the few facts the Venus code generator needs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use roxmltree::{Document, Node};

/// A member of a struct/union or a command parameter.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: String,
    pub ty: String,
    pub is_const: bool,
    /// Number of `*`.
    pub ptr: usize,
    /// Fixed array dimensions (`[N]`), as written (numbers or constant names).
    pub dims: Vec<String>,
    /// The `altlen` if present, else `len`.
    pub len: Option<String>,
    pub optional: bool,
    /// `values="VK_STRUCTURE_TYPE_..."` on sType members.
    pub values: Option<String>,
    pub bitfield: bool,
}

#[derive(Debug, Clone)]
pub enum Kind {
    /// A plain number, by its Rust type name.
    Scalar(&'static str),
    Handle,
    Struct {
        members: Vec<Member>,
        extends: Vec<String>,
    },
    Union {
        members: Vec<Member>,
    },
    /// Anything we cannot put on the wire (function pointers, platform types, void).
    Opaque,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub name: String,
    pub ret: String,
    pub params: Vec<Member>,
}

#[derive(Debug, Default)]
pub struct Registry {
    pub kinds: HashMap<String, Kind>,
    pub aliases: HashMap<String, String>,
    pub consts: HashMap<String, u64>,
    pub enum_values: HashMap<String, i64>,
    pub commands: HashMap<String, Command>,
    pub command_aliases: HashMap<String, String>,
    /// type/command name -> features and extensions that require it.
    pub required_by: HashMap<String, BTreeSet<String>>,
    /// extension name -> number.
    pub ext_numbers: BTreeMap<String, u32>,
    /// Names of core features (VK_*VERSION_*) of the "vulkan" API.
    pub core_features: BTreeSet<String>,
}

fn for_vulkan(node: Node<'_, '_>) -> bool {
    node.attribute("api")
        .is_none_or(|api| api.split(',').any(|a| a == "vulkan"))
}

fn elem<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|c| c.has_tag_name(name))
}

fn text_of(node: Node<'_, '_>) -> String {
    node.text().unwrap_or("").to_string()
}

fn parse_member(node: Node<'_, '_>) -> Member {
    let mut before_type = String::new();
    let mut after_name = String::new();
    let mut between = String::new();
    let (mut ty, mut name) = (String::new(), String::new());
    for c in node.children() {
        if c.is_text() {
            let t = c.text().unwrap_or("");
            if ty.is_empty() {
                before_type.push_str(t);
            } else if name.is_empty() {
                between.push_str(t);
            } else {
                after_name.push_str(t);
            }
        } else if c.has_tag_name("type") {
            ty = text_of(c);
        } else if c.has_tag_name("name") {
            name = text_of(c);
        } else if c.has_tag_name("enum") && !name.is_empty() {
            after_name.push_str(&text_of(c));
        }
    }
    let mut dims = Vec::new();
    let mut rest = after_name.as_str();
    while let Some(start) = rest.find('[') {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        dims.push(rest[start + 1..start + end].trim().to_string());
        rest = &rest[start + end + 1..];
    }
    Member {
        name,
        ty,
        is_const: before_type.contains("const"),
        ptr: between.matches('*').count(),
        dims,
        len: node
            .attribute("altlen")
            .or_else(|| node.attribute("len"))
            .map(str::to_string),
        optional: node
            .attribute("optional")
            .is_some_and(|o| o.starts_with("true")),
        values: node.attribute("values").map(str::to_string),
        bitfield: after_name.contains(':'),
    }
}

fn scalar_of(c_type: &str) -> Option<&'static str> {
    Some(match c_type {
        "uint8_t" => "u8",
        "int8_t" => "i8",
        "char" => "u8",
        "uint16_t" => "u16",
        "int16_t" => "i16",
        "uint32_t" => "u32",
        "int32_t" | "int" => "i32",
        "uint64_t" => "u64",
        "int64_t" => "i64",
        "float" => "f32",
        "double" => "f64",
        "size_t" => "usize",
        _ => return None,
    })
}

fn enum_value(e: Node<'_, '_>, ext_number: Option<u32>) -> Option<i64> {
    if let Some(v) = e.attribute("value") {
        let v = v.trim();
        return if let Some(hex) = v.strip_prefix("0x") {
            i64::from_str_radix(hex, 16).ok()
        } else {
            v.parse().ok()
        };
    }
    if let Some(b) = e.attribute("bitpos") {
        return b.parse::<u32>().ok().map(|b| 1i64 << b);
    }
    let offset: i64 = e.attribute("offset")?.parse().ok()?;
    let number: i64 = e
        .attribute("extnumber")
        .and_then(|n| n.parse().ok())
        .or(ext_number.map(i64::from))?;
    let v = 1_000_000_000 + (number - 1) * 1000 + offset;
    Some(if e.attribute("dir") == Some("-") {
        -v
    } else {
        v
    })
}

impl Registry {
    pub fn parse(xml: &str) -> Result<Self, String> {
        let doc = Document::parse_with_options(
            xml,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .map_err(|e| format!("vk.xml: {e}"))?;
        let mut reg = Registry::default();
        let root = doc.root_element();
        for section in root.children().filter(Node::is_element) {
            match section.tag_name().name() {
                "types" => reg.parse_types(section),
                "enums" => reg.parse_enums(section),
                "commands" => reg.parse_commands(section),
                "feature" => reg.parse_requires(section, None),
                "extensions" => {
                    for ext in section.children().filter(|c| c.has_tag_name("extension")) {
                        let supported = ext.attribute("supported").unwrap_or("");
                        if !supported.split(',').any(|s| s == "vulkan") {
                            continue;
                        }
                        let number = ext.attribute("number").and_then(|n| n.parse().ok());
                        let name = ext.attribute("name").unwrap_or("").to_string();
                        if let Some(n) = number {
                            reg.ext_numbers.insert(name, n);
                        }
                        reg.parse_requires(ext, number);
                    }
                }
                _ => {}
            }
        }
        Ok(reg)
    }

    fn parse_types(&mut self, section: Node<'_, '_>) {
        for t in section.children().filter(|c| c.has_tag_name("type")) {
            if !for_vulkan(t) {
                continue;
            }
            let name = t
                .attribute("name")
                .map(str::to_string)
                .or_else(|| elem(t, "name").map(text_of))
                .unwrap_or_default();
            if let Some(alias) = t.attribute("alias") {
                self.aliases.insert(name, alias.to_string());
                continue;
            }
            let kind = match t.attribute("category") {
                Some("basetype") | Some("bitmask") => {
                    let base = elem(t, "type").map(text_of).unwrap_or_default();
                    let raw = t.text().unwrap_or("");
                    match base.as_str() {
                        "VkFlags" | "uint32_t" if !raw.contains('*') => Kind::Scalar("u32"),
                        "VkFlags64" | "uint64_t" if !raw.contains('*') => Kind::Scalar("u64"),
                        _ => Kind::Opaque,
                    }
                }
                Some("enum") => Kind::Scalar("i32"),
                Some("handle") => Kind::Handle,
                Some("struct") | Some("union") => {
                    let members: Vec<Member> = t
                        .children()
                        .filter(|c| c.has_tag_name("member") && for_vulkan(*c))
                        .map(parse_member)
                        .collect();
                    if t.attribute("category") == Some("union") {
                        Kind::Union { members }
                    } else {
                        Kind::Struct {
                            members,
                            extends: t
                                .attribute("structextends")
                                .map(|s| s.split(',').map(str::to_string).collect())
                                .unwrap_or_default(),
                        }
                    }
                }
                _ => {
                    if let Some(s) = scalar_of(&name) {
                        Kind::Scalar(s)
                    } else {
                        Kind::Opaque
                    }
                }
            };
            if let (Kind::Handle, Some(o)) = (&kind, t.attribute("objtypeenum")) {
                // resolved after enums are read
                self.aliases
                    .insert(format!("@objtype:{name}"), o.to_string());
            }
            self.kinds.insert(name, kind);
        }
    }

    fn parse_enums(&mut self, section: Node<'_, '_>) {
        for e in section.children().filter(|c| c.has_tag_name("enum")) {
            let Some(name) = e.attribute("name") else {
                continue;
            };
            if let Some(v) = enum_value(e, None) {
                self.enum_values.insert(name.to_string(), v);
                if section.attribute("name") == Some("API Constants") {
                    self.consts.insert(name.to_string(), v as u64);
                }
            } else if let Some(alias) = e.attribute("alias") {
                self.aliases.insert(name.to_string(), alias.to_string());
            }
        }
    }

    fn parse_commands(&mut self, section: Node<'_, '_>) {
        for c in section.children().filter(|c| c.has_tag_name("command")) {
            if !for_vulkan(c) {
                continue;
            }
            if let (Some(name), Some(alias)) = (c.attribute("name"), c.attribute("alias")) {
                self.command_aliases
                    .insert(name.to_string(), alias.to_string());
                continue;
            }
            let Some(proto) = elem(c, "proto") else {
                continue;
            };
            let name = elem(proto, "name").map(text_of).unwrap_or_default();
            let ret = elem(proto, "type").map(text_of).unwrap_or_default();
            let params = c
                .children()
                .filter(|p| p.has_tag_name("param") && for_vulkan(*p))
                .map(parse_member)
                .collect();
            self.commands
                .insert(name.clone(), Command { name, ret, params });
        }
    }

    fn parse_requires(&mut self, feature: Node<'_, '_>, ext_number: Option<u32>) {
        if !for_vulkan(feature) {
            return;
        }
        let owner = feature.attribute("name").unwrap_or("").to_string();
        if ext_number.is_none() {
            self.core_features.insert(owner.clone());
        }
        for req in feature.children().filter(|c| c.has_tag_name("require")) {
            if !for_vulkan(req) {
                continue;
            }
            for item in req.children().filter(Node::is_element) {
                let Some(name) = item.attribute("name") else {
                    continue;
                };
                match item.tag_name().name() {
                    "type" | "command" => {
                        self.required_by
                            .entry(name.to_string())
                            .or_default()
                            .insert(owner.clone());
                    }
                    "enum" if item.attribute("extends").is_some() => {
                        if let Some(v) = enum_value(item, ext_number) {
                            self.enum_values.insert(name.to_string(), v);
                        } else if let Some(alias) = item.attribute("alias") {
                            self.aliases.insert(name.to_string(), alias.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// Resolves type aliases (`VkFooKHR` -> `VkFoo`).
    pub fn canonical<'s>(&'s self, mut name: &'s str) -> &'s str {
        for _ in 0..8 {
            match self.aliases.get(name) {
                Some(a) => name = a,
                None => break,
            }
        }
        name
    }

    pub fn kind(&self, name: &str) -> Option<&Kind> {
        let name = self.canonical(name);
        if let Some(k) = self.kinds.get(name) {
            return Some(k);
        }
        None
    }

    /// The numeric value of an enumerant (following aliases).
    pub fn value_of(&self, name: &str) -> Option<i64> {
        self.enum_values
            .get(name)
            .copied()
            .or_else(|| self.enum_values.get(self.canonical(name)).copied())
    }

    /// The `VkObjectType` value of a handle type.
    pub fn objtype_of(&self, handle: &str) -> i64 {
        let handle = self.canonical(handle);
        self.aliases
            .get(&format!("@objtype:{handle}"))
            .and_then(|e| self.value_of(e))
            .unwrap_or(0)
    }

    /// A constant array dimension.
    pub fn dim(&self, d: &str) -> Option<u64> {
        d.parse()
            .ok()
            .or_else(|| self.consts.get(d).copied())
            .or_else(|| self.value_of(d).map(|v| v as u64))
    }
}

/// The VK_MESA_venus_protocol structures that chain into core structures (our own description,
/// numbers from the extension: number 385, so 1000384000 + n).
pub const MESA_XML: &str = r#"<registry>
<types>
<type category="struct" name="VkImportMemoryResourceInfoMESA" structextends="VkMemoryAllocateInfo">
  <member values="VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA"><type>VkStructureType</type> <name>sType</name></member>
  <member optional="true">const <type>void</type>* <name>pNext</name></member>
  <member><type>uint32_t</type> <name>resourceId</name></member>
</type>
<type category="struct" name="VkMemoryResourceAllocationSizePropertiesMESA" structextends="VkMemoryResourcePropertiesMESA" returnedonly="true">
  <member values="VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA"><type>VkStructureType</type> <name>sType</name></member>
  <member optional="true"><type>void</type>* <name>pNext</name></member>
  <member><type>uint64_t</type> <name>allocationSize</name></member>
</type>
<type category="struct" name="VkMemoryResourcePropertiesMESA" returnedonly="true">
  <member values="VK_STRUCTURE_TYPE_MEMORY_RESOURCE_PROPERTIES_MESA"><type>VkStructureType</type> <name>sType</name></member>
  <member optional="true"><type>void</type>* <name>pNext</name></member>
  <member><type>uint32_t</type> <name>memoryTypeBits</name></member>
</type>
<type category="struct" name="VkImportSemaphoreResourceInfoMESA">
  <member values="VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_RESOURCE_INFO_MESA"><type>VkStructureType</type> <name>sType</name></member>
  <member optional="true">const <type>void</type>* <name>pNext</name></member>
  <member><type>VkSemaphore</type> <name>semaphore</name></member>
  <member><type>uint32_t</type> <name>resourceId</name></member>
</type>
<type category="struct" name="VkDeviceQueueTimelineInfoMESA" structextends="VkDeviceQueueInfo2">
  <member values="VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA"><type>VkStructureType</type> <name>sType</name></member>
  <member optional="true">const <type>void</type>* <name>pNext</name></member>
  <member><type>uint32_t</type> <name>ringIdx</name></member>
</type>
</types>
<enums name="VkStructureType">
  <enum value="1000384001" name="VK_STRUCTURE_TYPE_MEMORY_RESOURCE_PROPERTIES_MESA"/>
  <enum value="1000384002" name="VK_STRUCTURE_TYPE_IMPORT_MEMORY_RESOURCE_INFO_MESA"/>
  <enum value="1000384003" name="VK_STRUCTURE_TYPE_MEMORY_RESOURCE_ALLOCATION_SIZE_PROPERTIES_MESA"/>
  <enum value="1000384004" name="VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_RESOURCE_INFO_MESA"/>
  <enum value="1000384005" name="VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA"/>
</enums>
<feature api="vulkan" name="VK_MESA_venus_protocol" number="0">
  <require>
    <type name="VkImportMemoryResourceInfoMESA"/>
    <type name="VkMemoryResourceAllocationSizePropertiesMESA"/>
    <type name="VkMemoryResourcePropertiesMESA"/>
    <type name="VkImportSemaphoreResourceInfoMESA"/>
    <type name="VkDeviceQueueTimelineInfoMESA"/>
  </require>
</feature>
</registry>"#;

impl Registry {
    /// Merges another (small) registry document into this one.
    pub fn merge(&mut self, other: Registry) {
        self.kinds.extend(other.kinds);
        self.aliases.extend(other.aliases);
        self.enum_values.extend(other.enum_values);
        for (k, v) in other.required_by {
            self.required_by.entry(k).or_default().extend(v);
        }
        self.core_features.extend(other.core_features);
    }
}
