//! Names, types and the rest of what makes a policy well-formed: syntax tree
//! in, checked `Policy` plus diagnostics out. Pure functions: the salsa
//! database (`crate::db`) decides which files make up a policy and caches
//! the result.

pub mod names;
pub mod policy;
mod resolve;

use std::path::PathBuf;

pub use policy::*;

use crate::diagnostic::Diagnostic;
use crate::syntax::Module;

/// One file of a policy, in policy order (imports before their importers).
pub struct Unit<'a> {
    pub path: PathBuf,
    pub text: &'a str,
    pub module: &'a Module,
    /// For an imported file: the `import` line of the policy file that
    /// brought it in, where its errors are reported.
    pub imported_at: Option<crate::syntax::Span>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    pub policy: Policy,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Check the policy made of `units`; the last unit is the policy file itself.
pub fn check(units: &[Unit]) -> Checked {
    resolve::Resolver::run(units)
}
