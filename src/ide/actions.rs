//! Quick fixes: apply a did-you-mean, mark a reviewed conflict as intended,
//! and turn the example lead of an analysis finding into a test.

use std::fmt::Write;
use std::path::Path;

use super::FileEdit;

use crate::check::{FieldType, Policy, Value, date_to_string, format_number};
use crate::db::{self, Db, SourceFile};
use crate::diagnostic::Diagnostic;
use crate::eval::Lead;
use crate::syntax::{self, Span};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub edits: Vec<FileEdit>,
    /// The diagnostic it fixes.
    pub diagnostic: Option<Diagnostic>,
    /// The one fix an editor may apply without asking.
    pub preferred: bool,
}

/// Fixes for the diagnostics of `file` that touch `range`; `extra` holds
/// diagnostics computed outside the database (the sample's).
pub fn actions(db: &dyn Db, file: SourceFile, range: Span, extra: &[Diagnostic]) -> Vec<Action> {
    let path = file.path(db).clone();
    let touches = |d: &Diagnostic| overlaps(d.span, range);
    let diagnostics = db::diagnostics(db, file);
    let mut out = fixes(&path, diagnostics.iter().chain(extra), range);
    let checked = db::checked(db, file);
    if checked.has_errors() {
        return out;
    }
    let policy = &checked.policy;
    let text = file.text(db);
    for finding in db::analysis(db, file)
        .iter()
        .filter(|f| touches(&f.diagnostic))
    {
        if let Some(lead) = &finding.witness {
            let as_of = *db.settings().as_of(db);
            let test = test_for(policy, lead, as_of, &finding.diagnostic);
            let end = text.len();
            let sep = if text.ends_with("\n\n") {
                ""
            } else if text.ends_with('\n') {
                "\n"
            } else {
                "\n\n"
            };
            out.push(Action {
                title: "Turn the example lead into a test".into(),
                edits: vec![FileEdit {
                    path: path.clone(),
                    span: Span::new(end, end),
                    text: format!("{sep}{test}"),
                }],
                diagnostic: Some(finding.diagnostic.clone()),
                preferred: false,
            });
        }
    }
    out
}

/// The fixes carried by the checker's diagnostics (did-you-mean, …) that
/// touch `range`: ready as soon as the policy is checked, never waiting for
/// the analysis (an editor asks on every cursor move).
pub fn checker_actions(db: &dyn Db, file: SourceFile, range: Span) -> Vec<Action> {
    fixes(file.path(db), &db::checked(db, file).diagnostics, range)
}

/// The fixes of `diagnostics` (in the file at `path`) offered at `range`.
fn fixes<'a>(
    path: &Path,
    diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    range: Span,
) -> Vec<Action> {
    let mut out = Vec::new();
    for d in diagnostics {
        // Of several fixes none is preferred: the author chooses.
        let preferred = d.other_fixes.is_empty();
        for fix in d.fixes() {
            // A fix may change other text than the diagnostic points at (a
            // misspelt keyword found only at the `:` after it): offered on both.
            if !overlaps(d.span, range) && !overlaps(fix.span, range) {
                continue;
            }
            let title = fix
                .title
                .clone()
                .unwrap_or_else(|| format!("Change to `{}`", fix.replacement));
            out.push(Action {
                title,
                edits: vec![FileEdit {
                    path: path.to_path_buf(),
                    span: fix.span,
                    text: fix.replacement.clone(),
                }],
                diagnostic: Some(d.clone()),
                preferred,
            });
        }
    }
    out
}

fn overlaps(span: Span, range: Span) -> bool {
    span.start <= range.end && range.start <= span.end
}

/// A `test` block pinning what the policy does with `lead` today.
pub fn test_for(policy: &Policy, lead: &Lead, as_of: i32, about: &Diagnostic) -> String {
    let outcome = crate::eval::reference::evaluate(policy, lead, as_of);
    let mut summary: String = about.message.chars().take(70).collect();
    if summary.len() < about.message.len() {
        summary.push('…');
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "test {} {{",
        syntax::escape(&format!("{}: {summary}", about.code.as_str()))
    );
    let _ = writeln!(out, "  as of {}", date_to_string(as_of));
    let values: Vec<String> = policy
        .fields
        .iter()
        .enumerate()
        .filter_map(|(f, field)| {
            let value = lead.get(f)?.as_ref()?;
            if field.default.as_ref() == Some(value) {
                return None;
            }
            Some(format!(
                "{}: {}",
                field.name,
                lead_literal(&field.ty, value)
            ))
        })
        .collect();
    let _ = writeln!(out, "  lead {{ {} }}", values.join(", "));
    match outcome.stage {
        Some(s) => {
            let _ = writeln!(out, "  expect {}", policy.stages[s].name);
        }
        None => out.push_str("  expect no stage\n"),
    }
    if let Some(label) = outcome.rule.and_then(|r| policy.rules[r].label.as_ref()) {
        let _ = writeln!(out, "  expect rule {label}");
    }
    out.push_str("}\n");
    out
}

fn lead_literal(ty: &FieldType, value: &Value) -> String {
    match value {
        Value::Bool(b) => b.to_string(),
        Value::Num(n) if *ty == FieldType::Money => {
            if *n < 0.0 {
                format!("-${}", format_number(-n))
            } else {
                format!("${}", format_number(*n))
            }
        }
        Value::Num(n) => format_number(*n),
        Value::Str(s) => syntax::escape(s),
        Value::Enum(i) => match ty {
            FieldType::Enum(values) => values
                .get(*i as usize)
                .map_or_else(String::new, |v| syntax::format::enum_value(v)),
            _ => String::new(),
        },
        Value::Date(d) => date_to_string(*d),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|s| syntax::escape(s)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}
