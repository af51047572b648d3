//! Qualify: a language, compiler and language server for lead qualification
//! policies. See `docs/architecture.md` for the map of the layers.

pub mod analysis;
pub mod check;
pub mod cli;
pub mod compile;
pub mod config;
pub mod db;
pub mod diagnostic;
pub mod eval;
pub mod files;
pub mod ide;
pub mod leads;
pub mod line_index;
pub mod lsp;
pub mod render;
pub mod span;
pub mod sql;
pub mod syntax;
