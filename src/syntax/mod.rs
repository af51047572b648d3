//! Text to syntax tree and back: the pest grammar's driver, the AST with
//! spans, and the formatter. Depends on nothing but the diagnostics layer
//! (`span`, `diagnostic`).

pub mod ast;
pub mod format;
mod parser;

pub use ast::*;
pub use parser::{
    Lexeme, MAX_NESTING, Parsed, RESERVED, code_chars, escape, is_valid_name, lexemes, parse,
};
