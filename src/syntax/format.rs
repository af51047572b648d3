//! The one canonical layout, used by `qualify fmt` and the editor.
//!
//! Works from the syntax tree, so it only formats a file that parsed without
//! errors (it would otherwise lose the lines it could not read). Comments are
//! not in the tree; they are put back by source position: own-line comments
//! before the next line printed, trailing comments at the end of their line.

use super::ast::*;
use super::parser::{RESERVED, escape};

const INDENT: &str = "  ";

pub fn format(text: &str, file: &Module) -> String {
    let mut out = Emitter {
        text,
        comments: &file.comments,
        next_comment: 0,
        lines: Vec::new(),
        last_end: 0,
    };
    for item in &file.items {
        out.item(item);
    }
    out.flush_comments(text.len(), 0);
    let mut result = out.lines.join("\n");
    result.push('\n');
    if file.items.is_empty() && file.comments.is_empty() {
        return String::new();
    }
    // A byte-order mark stays: the editor that wrote it expects it.
    if text.starts_with('\u{feff}') {
        result.insert(0, '\u{feff}');
    }
    result
}

struct Emitter<'a> {
    text: &'a str,
    comments: &'a [Comment],
    next_comment: usize,
    lines: Vec<String>,
    last_end: usize,
}

impl Emitter<'_> {
    fn blank_line_before(&mut self, offset: usize) {
        let gap = &self.text[self.last_end.min(offset)..offset];
        let blank = gap.split('\n').count() > 2;
        if blank && !self.lines.is_empty() && !self.lines.last().is_some_and(|l| l.ends_with('{')) {
            self.lines.push(String::new());
        }
    }

    fn flush_comments(&mut self, before: usize, depth: usize) {
        while let Some(comment) = self.comments.get(self.next_comment) {
            if comment.span.start as usize >= before {
                break;
            }
            self.blank_line_before(comment.span.start as usize);
            self.lines.push(format!(
                "{}#{}",
                INDENT.repeat(depth),
                comment.text.trim_end()
            ));
            self.last_end = comment.span.end as usize;
            self.next_comment += 1;
        }
    }

    fn emit(&mut self, depth: usize, content: String, start: usize, end: usize) {
        self.flush_comments(start, depth);
        self.blank_line_before(start);
        let mut line = format!("{}{}", INDENT.repeat(depth), content);
        let line_end = self.text[end..]
            .find('\n')
            .map_or(self.text.len(), |i| end + i);
        let mut extra = Vec::new();
        while let Some(comment) = self.comments.get(self.next_comment) {
            let at = comment.span.start as usize;
            if at >= line_end || !comment.trailing {
                break;
            }
            if extra.is_empty() && !line.contains(" #") {
                line.push_str(&format!("  #{}", comment.text.trim_end()));
            } else {
                extra.push(format!(
                    "{}#{}",
                    INDENT.repeat(depth),
                    comment.text.trim_end()
                ));
            }
            self.next_comment += 1;
        }
        self.lines.push(line);
        self.lines.extend(extra);
        self.last_end = line_end;
    }

    fn item(&mut self, item: &Item) {
        let (start, end) = (item.span.start as usize, item.span.end as usize);
        match &item.kind {
            ItemKind::Import(path) => {
                self.emit(0, format!("import {}", escape(&path.value)), start, end)
            }
            ItemKind::Field(field) => self.emit(0, field_line(field), start, end),
            ItemKind::Stages(stages) => {
                let names: Vec<&str> = stages.iter().map(|s| s.text.as_str()).collect();
                self.emit(0, format!("stages {}", names.join(" < ")), start, end)
            }
            ItemKind::Otherwise(stage) => {
                self.emit(0, format!("otherwise {}", stage.text), start, end)
            }
            ItemKind::Criterion(c) => self.emit(
                0,
                format!("criterion {}: {}", c.name.text, cond(&c.condition)),
                start,
                end,
            ),
            ItemKind::Require(r) => self.emit(
                0,
                format!("require {}: {}", r.stage.text, cond(&r.condition)),
                start,
                end,
            ),
            ItemKind::Rule(rule) => self.emit(0, rule_line(rule, self.text), start, end),
            ItemKind::Score(score) => {
                let open_end = score.name.span.end as usize;
                self.emit(0, format!("score {} {{", score.name.text), start, open_end);
                for entry in &score.entries {
                    match entry {
                        ScoreEntry::Points(line) => {
                            let (s, e) = (line.span.start as usize, line.span.end as usize);
                            self.emit(1, point_line(line), s, e)
                        }
                        ScoreEntry::Cap { value, span } => self.emit(
                            1,
                            format!("cap {}", value.text),
                            span.start as usize,
                            span.end as usize,
                        ),
                        ScoreEntry::Error { span } => self.emit(
                            1,
                            self.text[span.range()].trim().to_string(),
                            span.start as usize,
                            span.end as usize,
                        ),
                    }
                }
                self.close_block(end);
            }
            ItemKind::Test(test) => {
                let open_end = test.name.span.end as usize;
                self.emit(
                    0,
                    format!("test {} {{", escape(&test.name.value)),
                    start,
                    open_end,
                );
                for entry in &test.entries {
                    let (content, span) = test_entry(entry, self.text);
                    self.emit(1, content, span.start as usize, span.end as usize);
                }
                self.close_block(end);
            }
            ItemKind::Error => self.emit(
                0,
                self.text[item.span.range()].trim().to_string(),
                start,
                end,
            ),
        }
    }

    fn close_block(&mut self, end: usize) {
        // Own-line comments inside the block, before its `}`.
        let close = end.saturating_sub(1);
        self.flush_comments(close, 1);
        self.lines.push("}".to_string());
        self.last_end = close;
        let line_end = self.text[end..]
            .find('\n')
            .map_or(self.text.len(), |i| end + i);
        if let Some(comment) = self.comments.get(self.next_comment) {
            if comment.trailing && (comment.span.start as usize) < line_end {
                let last = self.lines.last_mut().unwrap();
                last.push_str(&format!("  #{}", comment.text.trim_end()));
                self.next_comment += 1;
            }
        }
        self.last_end = line_end;
    }
}

fn field_line(field: &FieldDecl) -> String {
    let ty = match &field.ty {
        TypeExpr::Scalar(s) => s.keyword().to_string(),
        TypeExpr::List => "list".to_string(),
        TypeExpr::Enum(values) => {
            let values: Vec<String> = values.iter().map(|v| enum_value(&v.value)).collect();
            format!("enum {{ {} }}", values.join(", "))
        }
    };
    let mut line = format!("field {}: {}", field.name.text, ty);
    if field.optional {
        line.push_str(" optional");
    }
    if field.key {
        line.push_str(" key");
    }
    if let Some(column) = &field.column {
        line.push_str(&format!(" from {}", escape(&column.value)));
    }
    for (keyword, values) in [
        ("missing", &field.missing),
        ("true", &field.true_values),
        ("false", &field.false_values),
    ] {
        if !values.is_empty() {
            let values: Vec<String> = values.iter().map(|v| escape(&v.value)).collect();
            line.push_str(&format!(" {keyword} {}", values.join(", ")));
        }
    }
    if let Some(default) = &field.default {
        line.push_str(&format!(" default {}", literal(default)));
    }
    if let Some(sep) = &field.separator {
        line.push_str(&format!(" separator {}", escape(&sep.value)));
    }
    line
}

/// Enum values print bare when they are a plain word, quoted otherwise.
pub fn enum_value(value: &str) -> String {
    let plain = value
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !RESERVED.contains(&value);
    if plain {
        value.to_string()
    } else {
        escape(value)
    }
}

fn rule_line(rule: &RuleDecl, text: &str) -> String {
    let mut line = String::new();
    if let Some(label) = &rule.label {
        line.push_str(&format!("rule {}: ", label.text));
    }
    let ceiling = if rule.ceiling.is_some() {
        "at most "
    } else {
        ""
    };
    line.push_str(&format!(
        "{} => {ceiling}{}",
        cond(&rule.condition),
        rule.stage.text
    ));
    if let Some(reason) = &rule.reason {
        line.push_str(&format!(" because {}", escape(&reason.value)));
    }
    if let Some(overrides) = rule.overrides {
        // Kept as written: the checker offers to delete it, the formatter
        // never drops text silently.
        let written: Vec<&str> = text[overrides.range()].split_whitespace().collect();
        line.push(' ');
        line.push_str(&written.join(" "));
    }
    line
}

fn point_line(line: &PointLine) -> String {
    let points = &line.points.text;
    match &line.kind {
        PointKind::When(c) => format!("{points} when {}", cond(c)),
        PointKind::Per { field, cap, when } => {
            let mut s = format!("{points} per {}", field.text);
            if let Some(cap) = cap {
                s.push_str(&format!(" cap {}", cap.text));
            }
            if let Some(w) = when {
                s.push_str(&format!(" when {}", cond(w)));
            }
            s
        }
    }
}

fn test_entry(entry: &TestEntry, text: &str) -> (String, Span) {
    match entry {
        TestEntry::Lead { values, span } => {
            let values: Vec<String> = values
                .iter()
                .map(|v| format!("{}: {}", v.field.text, literal(&v.value)))
                .collect();
            if values.is_empty() {
                ("lead {}".to_string(), *span)
            } else {
                (format!("lead {{ {} }}", values.join(", ")), *span)
            }
        }
        TestEntry::ExpectStage(stage) => (format!("expect {}", stage.text), stage.span),
        TestEntry::ExpectNoStage { span } => ("expect no stage".to_string(), *span),
        TestEntry::ExpectScore { score, value, span } => (
            format!("expect score {} = {}", score.text, value.text),
            *span,
        ),
        TestEntry::ExpectRule(rule) => (format!("expect rule {}", rule.text), rule.span),
        TestEntry::AsOf(date) => (format!("as of {}", date.text), date.span),
        TestEntry::Error { span } => (text[span.range()].trim().to_string(), *span),
    }
}

pub fn literal(lit: &Literal) -> String {
    match &lit.kind {
        LiteralKind::String(s) => escape(s),
        LiteralKind::List(items) => {
            let items: Vec<String> = items.iter().map(|s| escape(s)).collect();
            format!("[{}]", items.join(", "))
        }
        _ => lit.text.clone(),
    }
}

pub fn operand(op: &Operand) -> String {
    match op {
        Operand::Literal(l) => literal(l),
        Operand::Name(n) => n.text.clone(),
    }
}

/// A condition on one line, in canonical spelling.
pub fn cond(c: &Cond) -> String {
    let ic = |ignore: bool| if ignore { " ignoring case" } else { "" };
    match &c.kind {
        CondKind::And(parts) => parts.iter().map(cond).collect::<Vec<_>>().join(" and "),
        CondKind::Or(parts) => parts.iter().map(cond).collect::<Vec<_>>().join(" or "),
        CondKind::Not(inner) => format!("not {}", cond(inner)),
        CondKind::Paren(inner) => format!("({})", cond(inner)),
        CondKind::AtLeast { n, items, .. } => format!(
            "at least {n} of ({})",
            items.iter().map(cond).collect::<Vec<_>>().join(", ")
        ),
        CondKind::Is(op) => operand(op),
        CondKind::Known(op) => format!("{} known", operand(op)),
        CondKind::Unknown(op) => format!("{} unknown", operand(op)),
        CondKind::Compare {
            lhs,
            op,
            rhs,
            ignore_case,
            ..
        } => format!(
            "{} {} {}{}",
            operand(lhs),
            op.symbol(),
            operand(rhs),
            ic(*ignore_case)
        ),
        CondKind::In {
            lhs,
            negated,
            values,
            ignore_case,
        } => format!(
            "{} {}in {{ {} }}{}",
            operand(lhs),
            if *negated { "not " } else { "" },
            values.iter().map(literal).collect::<Vec<_>>().join(", "),
            ic(*ignore_case)
        ),
        CondKind::Between { lhs, low, high } => {
            format!(
                "{} between {} and {}",
                operand(lhs),
                operand(low),
                operand(high)
            )
        }
        CondKind::Text {
            lhs,
            op,
            rhs,
            ignore_case,
        } => format!(
            "{} {} {}{}",
            operand(lhs),
            op.words(),
            operand(rhs),
            ic(*ignore_case)
        ),
        CondKind::Within {
            lhs,
            days,
            direction,
            ..
        } => format!("{} {}", operand(lhs), direction.phrase(*days)),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::syntax::parse;

    fn fmt(text: &str) -> String {
        let parsed = parse(Path::new("t.qual"), text);
        assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
        format(text, &parsed.file)
    }

    #[test]
    fn formats_canonically_and_keeps_comments() {
        let src = "# Policy\nstages  a<b   # order\n\n\n\nscore s {\n+1   when x # one\n  # before cap\n cap 5 }\nx==1=>b because \"why\"\n# end\n";
        let out = fmt(src);
        assert_eq!(
            out,
            "# Policy\nstages a < b  # order\n\nscore s {\n  +1 when x  # one\n  # before cap\n  cap 5\n}\nx = 1 => b because \"why\"\n# end\n"
        );
        assert_eq!(fmt(&out), out, "idempotent");
    }
}
