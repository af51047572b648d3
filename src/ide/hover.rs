//! Hover: what a name is, in the words of the policy, and — with a sample
//! lead file — how the sample measures it.

use std::fmt::Write;

use super::{name_at, slice};
use crate::analysis::sample::{Report, percent};
use crate::check::names::Target;
use crate::check::{FieldType, Policy, RuleId, format_number, thousands};
use crate::db::{self, Db, SourceFile};
use crate::syntax::{ItemKind, Span};

/// Markdown describing what is under `offset`, and the span it describes.
pub fn hover(
    db: &dyn Db,
    file: SourceFile,
    offset: usize,
    sample: Option<&Report>,
) -> Option<(Span, String)> {
    let checked = db::checked(db, file);
    let policy = &checked.policy;
    if let Some(name) = name_at(db, file, offset) {
        let text = match name.target {
            Target::Field(f) => field(policy, f, sample),
            Target::Criterion(c) => criterion(db, policy, c, sample),
            Target::Score(s) => score(db, file, policy, s),
            Target::Stage(s) => stage(policy, s, sample),
            Target::Rule(r) => rule(policy, r, sample),
        };
        return Some((name.span, text));
    }
    // Anywhere else on a rule: the rule.
    let parsed = db::parse(db, file);
    let item = parsed
        .file
        .items
        .iter()
        .find(|i| i.span.contains(offset) && matches!(i.kind, ItemKind::Rule(_)))?;
    let r = policy
        .rules
        .iter()
        .position(|r| r.loc.file == 0 && r.loc.span == item.span)?;
    Some((item.span, rule(policy, r, sample)))
}

/// "1,137 of 9,240 sample leads (12.3%)"
fn of_sample(part: usize, report: &Report) -> String {
    format!(
        "{} of {} sample leads ({})",
        thousands(part as u64),
        thousands(report.stats.leads as u64),
        percent(part, report.stats.leads)
    )
}

fn passes(part: usize, report: &Report) -> String {
    format!("passes {}", of_sample(part, report))
}

fn quoted(values: &[String]) -> String {
    values
        .iter()
        .map(|v| crate::syntax::escape(v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn field(policy: &Policy, f: usize, sample: Option<&Report>) -> String {
    let field = &policy.fields[f];
    let mut out = format!("**field** `{}`: {}", field.name, field.ty.describe());
    if let FieldType::Enum(values) = &field.ty {
        // As the policy writes them: `"real estate"` is one value.
        let values: Vec<String> = values
            .iter()
            .map(|v| crate::syntax::format::enum_value(v))
            .collect();
        let _ = write!(out, " {{ {} }}", values.join(", "));
    }
    if field.optional {
        out.push_str(", optional");
    }
    if field.key {
        out.push_str(", key");
    }
    let _ = write!(out, "\n\nRead from column `{}`.", field.column);
    if field.ty == FieldType::Bool {
        let yes = if field.true_values.is_empty() {
            "\"true\", \"yes\", \"1\"".to_string()
        } else {
            quoted(&field.true_values)
        };
        let no = if field.false_values.is_empty() {
            "\"false\", \"no\", \"0\"".to_string()
        } else {
            quoted(&field.false_values)
        };
        let _ = write!(out, " Yes for {yes}; no for {no}.");
    }
    if field.ty == FieldType::List {
        let _ = write!(
            out,
            " Items separated by {}.",
            crate::syntax::escape(&field.separator)
        );
    }
    let mut missing = String::from("an empty cell");
    if !field.missing.is_empty() {
        let _ = write!(missing, " or {}", quoted(&field.missing));
    }
    match &field.default {
        Some(value) => {
            let _ = write!(
                out,
                " When missing ({missing}) it reads as `{}`.",
                policy.show_value(Some(f), value)
            );
        }
        None if field.optional => {
            let _ = write!(
                out,
                " Missing on {missing}: tests on it are then unknown, and a rule needs `known`/`unknown` to say what happens."
            );
        }
        None => {
            let _ = write!(
                out,
                " Required: a row with {missing} is rejected with its line and column."
            );
        }
    }
    if let Some(report) = sample {
        let missing = report.stats.missing.get(f).copied().unwrap_or(0);
        let _ = write!(out, "\n\nMissing in {}.", of_sample(missing, report));
    }
    out
}

fn source_of(db: &dyn Db, policy: &Policy, loc: crate::check::Loc) -> String {
    db.load(policy.path(loc))
        .map(|f| slice(f.text(db), loc.span).trim().to_string())
        .unwrap_or_default()
}

fn criterion(db: &dyn Db, policy: &Policy, c: usize, sample: Option<&Report>) -> String {
    let criterion = &policy.criteria[c];
    let definition = source_of(db, policy, criterion.expr.loc);
    let mut out = format!(
        "**criterion** `{}`\n\n```qualify\n{}\n```",
        criterion.name, definition
    );
    if let Some(report) = sample {
        if let Some(&n) = report.stats.criterion_passes.get(c) {
            let _ = write!(out, "\n\n{}.", capitalise(&passes(n, report)));
        }
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn score(db: &dyn Db, file: SourceFile, policy: &Policy, s: usize) -> String {
    let score = &policy.scores[s];
    let mut out = format!("**score** `{}`", score.name);
    if let Some((low, high)) = db::score_ranges(db, file).get(s) {
        let _ = write!(
            out,
            ": from {} to {}",
            format_number(*low),
            format_number(*high)
        );
    }
    out.push_str("\n\n```qualify\n");
    for line in &score.lines {
        let _ = writeln!(out, "{}", source_of(db, policy, line.loc));
    }
    if let Some(cap) = score.cap {
        let _ = writeln!(out, "cap {}", format_number(cap));
    }
    out.push_str("```");
    out
}

fn stage(policy: &Policy, s: usize, sample: Option<&Report>) -> String {
    let ladder: Vec<&str> = policy.stages.iter().map(|s| s.name.as_str()).collect();
    let mut out = format!(
        "**stage** `{}`: {} of {} ({})",
        policy.stages[s].name,
        s + 1,
        ladder.len(),
        ladder.join(" < ")
    );
    let rules = policy.rules.iter().filter(|r| r.stage == s).count();
    let _ = write!(
        out,
        "\n\n{} rule{} conclude{} it",
        rules,
        if rules == 1 { "" } else { "s" },
        if rules == 1 { "s" } else { "" }
    );
    if policy.otherwise == Some(s) {
        out.push_str("; it is the `otherwise` stage");
    }
    out.push('.');
    let required = policy.requirements.iter().filter(|r| r.stage <= s).count();
    if required > 0 {
        let _ = write!(
            out,
            " {required} `require` line{} appl{} to it.",
            if required == 1 { "" } else { "s" },
            if required == 1 { "ies" } else { "y" }
        );
    }
    if let Some(report) = sample {
        if let Some(&n) = report.stats.stage_reached.get(s) {
            let _ = write!(out, "\n\nReached by {}.", of_sample(n, report));
        }
    }
    out
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn rule(policy: &Policy, r: RuleId, sample: Option<&Report>) -> String {
    let rule = &policy.rules[r];
    let stage = &policy
        .stages
        .get(rule.stage)
        .map_or("?", |s| s.name.as_str());
    let title = format!("**rule** `{}`", rule.display_name());
    let mut out = if rule.ceiling {
        format!(
            "{title} ⇒ at most `{stage}`\n\nA ceiling: a lead it matches ends at `{stage}` or lower, whatever the other rules say. When several ceilings match, the lowest wins."
        )
    } else {
        let order = policy.rules_by_precedence();
        let place = order.iter().position(|&x| x == r).unwrap_or(0) + 1;
        format!(
            "{title} ⇒ `{stage}`\n\nPrecedence: tried {} of {} (higher stages first, then in policy order); the first rule that matches decides, unless a ceiling (`=> at most …`) lowers the stage.",
            ordinal(place),
            order.len()
        )
    };
    if let Some(reason) = &rule.reason {
        let _ = write!(out, "\n\nBecause: {reason}");
    }
    if let Some(report) = sample {
        if let Some(&n) = report.stats.rule_passes.get(r) {
            let _ = write!(out, "\n\n{}.", capitalise(&passes(n, report)));
        }
        if let Some(c) = &report.stats.conversions {
            let known = c.rule_known.get(r).copied().unwrap_or(0);
            let converted = c.rule_converted.get(r).copied().unwrap_or(0);
            let _ = if known == 0 {
                write!(out, " None of them has a known outcome.")
            } else {
                write!(
                    out,
                    " Of those with a known outcome, {} converted: {} of {}, against {} of all sample leads.",
                    percent(converted, known),
                    thousands(converted as u64),
                    thousands(known as u64),
                    percent(c.converted, c.known),
                )
            };
        }
    }
    out
}
