//! TGSI shaders: the text Mesa's virgl driver sends, parsed into a typed [`Program`] and
//! translated to GLSL for the host.
//!
//! - [`parse`] reads TGSI text (the payload of `CREATE_OBJECT SHADER` once reassembled) into
//!   [`Program`]; hostile input gets a typed [`VrendError::Shader`] with the line, never a
//!   panic, and every count is capped by [`Limits`].
//! - [`translate`] turns a [`Program`] plus a [`ShaderKey`] (state the GLSL depends on: flat
//!   shading, alpha test, user clip planes, point sprites, two-sided colour, BGRA outputs...)
//!   into a [`GlslShader`] for a [`GlslTarget`] (desktop GLSL 1.40–4.50 core or GLSL ES
//!   3.00–3.20), together with the [`ShaderInterface`] the draw code needs to bind it.
//!
//! This module does not compile or link GL programs, bind resources or track shader
//! variants: the draw pipeline does that with what [`ShaderInterface`] describes.
//!
//! [`VrendError::Shader`]: crate::VrendError::Shader

pub mod glsl;
pub mod ir;
mod opcode;
mod parser;

pub use glsl::{
    translate, AlphaFunc, GlslShader, GlslTarget, ImageBinding, SamplerBinding, SamplerKind,
    ShaderInterface, ShaderKey, SoOutput, StorageBinding, StreamOutputKey, UniformBlockBinding,
    Varying, VaryingInterp,
};
pub use ir::Program;

use crate::error::VrendError;

/// Caps on what a guest shader may contain; defaults are far above what Mesa sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of text.
    pub max_text_len: usize,
    pub max_declarations: usize,
    pub max_instructions: usize,
    pub max_immediates: usize,
    pub max_properties: usize,
    /// Depth of IF/LOOP/SWITCH nesting.
    pub max_nesting: usize,
    /// Largest register index anywhere (`TEMP[n]`, semantic indices).
    pub max_register_index: u32,
    /// Largest register range of one declaration.
    pub max_registers_per_decl: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_text_len: 4 << 20,
            max_declarations: 4096,
            max_instructions: 65536,
            max_immediates: 4096,
            max_properties: 64,
            max_nesting: 64,
            max_register_index: 65535,
            max_registers_per_decl: 4096,
        }
    }
}

/// Parses TGSI text with the default [`Limits`].
pub fn parse(text: &str) -> Result<Program, VrendError> {
    parser::parse_with_limits(text, &Limits::default())
}

/// Parses TGSI text with explicit limits.
pub fn parse_with_limits(text: &str, limits: &Limits) -> Result<Program, VrendError> {
    parser::parse_with_limits(text, limits)
}
