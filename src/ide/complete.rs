//! Completion that reads the text before the cursor: fields, criteria and
//! scores where a condition goes; the operators that fit a field's type
//! after its name; enum values after `in {` or `==`; stages and `at most`
//! after `=>`; keywords and snippets at the start of a line.
//!
//! It works from the text and the last checked policy, so it keeps working
//! on the line being typed, which never parses.

use crate::check::{FieldType, Policy};
use crate::db::{self, Db, SourceFile};
use crate::syntax::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Field,
    Criterion,
    Score,
    Stage,
    Rule,
    EnumValue,
    Operator,
    Keyword,
    Type,
    Snippet,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: ItemKind,
    /// Text replacing `replace`; a snippet with `$1`-style tab stops when
    /// `snippet` is set.
    pub insert: String,
    pub snippet: bool,
    pub replace: Span,
    pub detail: Option<String>,
}

/// What the cursor is in the middle of.
#[derive(Debug, PartialEq)]
enum Context {
    LineStart,
    Condition,
    AfterOperand(Operand),
    Values {
        field: Option<usize>,
    },
    Stages,
    /// Right after `=>`: a stage, or `at most` for a ceiling.
    Conclusion,
    /// After `=> at`.
    Most,
    /// After `within`: which side of the evaluation date.
    Within,
    /// After `=> STAGE `: the reason.
    Because,
    FieldType,
    FieldOptions,
    ScoreLine,
    TestLine,
    LeadField,
    Expect,
    ExpectScore,
    ExpectRule,
    /// After `+N per`: a number field.
    PerField,
    /// After `+N per FIELD ` (`cap` still possible) or `… cap M `.
    AfterPer {
        cap: bool,
    },
    Nothing,
}

#[derive(Debug, PartialEq, Clone, Copy)]
enum Operand {
    Field(usize),
    Criterion,
    Score,
}

/// The `within` tests of a date: label, snippet, detail.
const WITHIN_OFFERS: [(&str, &str, &str); 2] = [
    (
        "within the last N days",
        "within the last ${1:30} days",
        "on the evaluation date or at most N days before it",
    ),
    (
        "within the next N days",
        "within the next ${1:90} days",
        "on the evaluation date or at most N days after it",
    ),
];

const LINE_KEYWORDS: &[&str] = &[
    "field",
    "stages",
    "otherwise",
    "criterion",
    "require",
    "score",
    "rule",
    "test",
    "import",
];

pub fn complete(db: &dyn Db, file: SourceFile, offset: usize) -> Vec<Completion> {
    let text = file.text(db);
    let offset = super::clamp(text, offset);
    let policy = &db::checked(db, file).policy;
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[line_start..offset];
    if in_string_or_comment(line) {
        return Vec::new();
    }
    let partial_len = line
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum::<usize>();
    let before = &line[..line.len() - partial_len];
    let word_span = Span::new(offset - partial_len, offset);
    let block = open_block(&text[..line_start]);
    let context = context(policy, before, block.as_deref());
    let mut offers = Offers {
        out: Vec::new(),
        replace: word_span,
    };
    let o = &mut offers;
    match context {
        Context::LineStart => {
            for kw in LINE_KEYWORDS {
                o.add(kw, ItemKind::Keyword, &format!("{kw} "), None);
            }
            for (label, detail, insert) in snippets(policy) {
                o.add(label, ItemKind::Snippet, &insert, Some(detail));
            }
            o.names(policy);
        }
        Context::Condition => {
            o.names(policy);
            o.add("not", ItemKind::Keyword, "not ", None);
            o.add(
                "at least N of (…)",
                ItemKind::Snippet,
                "at least ${1:2} of (${2:condition}, ${3:condition})",
                Some("true when N of the conditions are"),
            );
        }
        Context::AfterOperand(op) => {
            for (label, insert, detail) in operators(policy, op) {
                o.add(label, ItemKind::Operator, insert, detail);
            }
            // `company si`: the word being typed may continue a longer name.
            if partial_len > 0 {
                o.names(policy);
            }
        }
        Context::Values { field } => match field.map(|f| &policy.fields[f].ty) {
            Some(FieldType::Enum(values)) => {
                for v in values {
                    o.add(
                        v,
                        ItemKind::EnumValue,
                        &crate::syntax::format::enum_value(v),
                        None,
                    );
                }
            }
            Some(FieldType::Bool) => {
                for v in ["true", "false"] {
                    o.add(v, ItemKind::Keyword, v, None);
                }
            }
            _ => {}
        },
        Context::Stages => o.stages(policy, "stage"),
        Context::Conclusion => {
            o.stages(policy, "stage");
            o.add(
                "at most",
                ItemKind::Keyword,
                "at most ",
                Some("a ceiling: the leads it matches get this stage or lower"),
            );
        }
        Context::Because => o.add(
            "because \"…\"",
            ItemKind::Keyword,
            "because \"${1:reason}\"",
            Some("the reason given with the result"),
        ),
        Context::Most => o.add(
            "most",
            ItemKind::Keyword,
            "most ",
            Some("a ceiling: the leads it matches get this stage or lower"),
        ),
        Context::Within => {
            for (label, insert, detail) in WITHIN_OFFERS {
                o.add(
                    &label["within ".len()..],
                    ItemKind::Keyword,
                    &insert["within ".len()..],
                    Some(detail),
                );
            }
        }
        Context::FieldType => {
            for t in [
                "bool", "integer", "number", "money", "string", "date", "list",
            ] {
                o.add(t, ItemKind::Type, t, None);
            }
            o.add(
                "enum { … }",
                ItemKind::Type,
                "enum { ${1:a}, ${2:b} }",
                None,
            );
        }
        Context::FieldOptions => {
            for (label, insert) in [
                ("optional", "optional"),
                ("from \"…\"", "from \"${1:Column}\""),
                ("missing \"…\"", "missing \"${1:N/A}\""),
                ("default …", "default ${1:value}"),
                ("true \"…\"", "true \"${1:Yes}\""),
                ("false \"…\"", "false \"${1:No}\""),
                ("separator \"…\"", "separator \"${1:;}\""),
                ("key", "key"),
            ] {
                o.add(label, ItemKind::Keyword, insert, None);
            }
        }
        Context::ScoreLine => {
            o.add(
                "+N when …",
                ItemKind::Snippet,
                "+${1:10} when ${2:condition}",
                None,
            );
            o.add(
                "+N per FIELD cap M",
                ItemKind::Snippet,
                "+${1:1} per ${2:field} cap ${3:10}",
                None,
            );
            o.add(
                "cap",
                ItemKind::Keyword,
                "cap ${1:100}",
                Some("bound on the total"),
            );
        }
        Context::TestLine => {
            o.add(
                "lead { … }",
                ItemKind::Snippet,
                "lead { ${1:field}: ${2:value} }",
                None,
            );
            o.add("expect", ItemKind::Keyword, "expect ", None);
            o.add("as of", ItemKind::Keyword, "as of ${1:2026-01-01}", None);
        }
        Context::LeadField => {
            for f in &policy.fields {
                o.add(
                    &f.name,
                    ItemKind::Field,
                    &format!("{}: ", f.name),
                    Some(f.ty.describe()),
                );
            }
        }
        Context::Expect => {
            o.stages(policy, "stage");
            o.add("no stage", ItemKind::Keyword, "no stage", None);
            o.add("score", ItemKind::Keyword, "score ", None);
            o.add("rule", ItemKind::Keyword, "rule ", None);
        }
        Context::ExpectScore => {
            for s in &policy.scores {
                o.add(
                    &s.name,
                    ItemKind::Score,
                    &format!("{} = ", s.name),
                    Some("score"),
                );
            }
        }
        Context::ExpectRule => o.rules(policy),
        Context::PerField => o.number_fields(policy),
        Context::AfterPer { cap } => {
            // `+1 per email op`: the word being typed may continue a longer name.
            if partial_len > 0 {
                o.number_fields(policy);
            }
            if cap {
                o.add(
                    "cap",
                    ItemKind::Keyword,
                    "cap ${1:10}",
                    Some("bound on what this line adds or takes off"),
                );
            }
            o.add(
                "when",
                ItemKind::Keyword,
                "when ",
                Some("only when the condition is true"),
            );
        }
        Context::Nothing => {}
    }
    let mut out = offers.out;
    // A point line concludes nothing.
    if block.as_deref().is_some_and(|b| b.starts_with("score")) {
        out.retain(|c| c.label != "=>");
    }
    widen_for_names(line, line_start, offset, &mut out);
    out
}

/// A multi-word name replaces every word of it already typed: after
/// `company si`, `company size` replaces both words.
fn widen_for_names(line: &str, line_start: usize, offset: usize, out: &mut [Completion]) {
    let lower = line.to_lowercase();
    for c in out.iter_mut() {
        if c.snippet || !c.label.contains(' ') {
            continue;
        }
        let label = c.label.to_lowercase();
        // The longest tail of the line, starting at a word, that begins the label.
        let mut best = None;
        for (i, _) in lower.char_indices() {
            let starts_word =
                i == 0 || !lower[..i].ends_with(|ch: char| ch.is_alphanumeric() || ch == '_');
            if starts_word && label.starts_with(&lower[i..]) && !lower[i..].is_empty() {
                best = Some(i);
                break;
            }
        }
        if let Some(i) = best {
            let start = line_start + i;
            if start < c.replace.start as usize {
                c.replace = Span::new(start, offset);
            }
        }
    }
}

/// Completions being collected, all replacing the word being typed.
struct Offers {
    out: Vec<Completion>,
    replace: Span,
}

impl Offers {
    /// An item inserting `insert`; a snippet when it has `$` tab stops.
    fn add(&mut self, label: &str, kind: ItemKind, insert: &str, detail: Option<&str>) {
        self.out.push(Completion {
            label: label.to_string(),
            kind,
            insert: insert.to_string(),
            snippet: insert.contains('$'),
            replace: self.replace,
            detail: detail.map(String::from),
        });
    }

    /// Fields, criteria and scores: what a condition can name.
    fn names(&mut self, policy: &Policy) {
        for f in &policy.fields {
            let ty = match &f.ty {
                FieldType::Enum(values) => {
                    let values: Vec<String> = values
                        .iter()
                        .map(|v| crate::syntax::format::enum_value(v))
                        .collect();
                    format!("enum {{ {} }}", values.join(", "))
                }
                other => other.describe().to_string(),
            };
            self.add(
                &f.name,
                ItemKind::Field,
                &f.name,
                Some(&format!("field: {ty}")),
            );
        }
        for c in &policy.criteria {
            self.add(&c.name, ItemKind::Criterion, &c.name, Some("criterion"));
        }
        for s in &policy.scores {
            self.add(&s.name, ItemKind::Score, &s.name, Some("score"));
        }
    }

    /// The fields `+N per FIELD` takes.
    fn number_fields(&mut self, policy: &Policy) {
        for f in policy.fields.iter().filter(|f| f.ty.is_numeric()) {
            self.add(
                &f.name,
                ItemKind::Field,
                &f.name,
                Some(&format!("field: {}", f.ty.describe())),
            );
        }
    }

    /// Stages, highest first.
    fn stages(&mut self, policy: &Policy, detail: &str) {
        for s in policy.stages.iter().rev() {
            self.add(&s.name, ItemKind::Stage, &s.name, Some(detail));
        }
    }

    fn rules(&mut self, policy: &Policy) {
        for label in policy.rules.iter().filter_map(|r| r.label.as_ref()) {
            self.add(label, ItemKind::Rule, label, Some("rule"));
        }
    }
}

fn snippets(policy: &Policy) -> Vec<(&'static str, &'static str, String)> {
    let top = policy.stages.last().map_or("SQL", |s| s.name.as_str());
    let bottom = policy
        .stages
        .first()
        .map_or("unqualified", |s| s.name.as_str());
    vec![
        (
            "BANT rule",
            "a rule: 3 of budget, authority, need, timeline",
            format!(
                "rule ${{1:bant qualified}}: at least ${{2:3}} of (${{3:budget known}}, ${{4:authority}}, ${{5:need known}}, ${{6:timeline within the next 90 days}}) => ${{7:{top}}} because \"${{8:Meets 3 of 4 BANT criteria}}\""
            ),
        ),
        (
            "disqualifier rule",
            "a ceiling: the leads it matches get this stage or lower",
            format!(
                "rule ${{1:competitor}}: ${{2:condition}} => at most ${{3:{bottom}}} because \"${{4:reason}}\""
            ),
        ),
        (
            "score block",
            "points for attributes and actions, with a cap",
            "score ${1:engagement} {\n  +${2:20} when ${3:condition}\n  +${4:5} per ${5:field} cap ${6:15}\n  cap ${7:100}\n}".to_string(),
        ),
        (
            "test block",
            "a lead and the stage the policy must give it",
            format!("test \"${{1:what it shows}}\" {{\n  lead {{ ${{2:field}}: ${{3:value}} }}\n  expect ${{4:{top}}}\n}}"),
        ),
        (
            "field declaration",
            "a column of the lead file",
            "field ${1:name}: ${2|bool,integer,number,money,string,date,list|} from \"${3:Column}\"".to_string(),
        ),
        (
            "criterion declaration",
            "a named condition",
            "criterion ${1:name}: ${2:condition}".to_string(),
        ),
    ]
}

fn operators(
    policy: &Policy,
    op: Operand,
) -> Vec<(&'static str, &'static str, Option<&'static str>)> {
    let connect = [
        ("and", "and ", None),
        ("or", "or ", None),
        ("=>", "=> ", Some("conclude a stage")),
    ];
    let presence = [
        ("known", "known", Some("the value is present")),
        ("unknown", "unknown", Some("the value is missing")),
    ];
    let order = [
        (">=", ">= ", None),
        (">", "> ", None),
        ("<=", "<= ", None),
        ("<", "< ", None),
        ("=", "= ", None),
        ("!=", "!= ", None),
        ("between … and …", "between ${1:low} and ${2:high}", None),
    ];
    let mut out: Vec<(&'static str, &'static str, Option<&'static str>)> = Vec::new();
    match op {
        Operand::Criterion => out.extend(connect),
        Operand::Score => out.extend(order),
        Operand::Field(f) => {
            let field = &policy.fields[f];
            match &field.ty {
                FieldType::Bool => {
                    out.extend(connect);
                    out.push(("= true", "= true", None));
                    out.push(("= false", "= false", None));
                }
                FieldType::Integer | FieldType::Number | FieldType::Money => {
                    out.extend(order);
                    out.push(("in { … }", "in { ${1:value} }", None));
                }
                FieldType::Date => {
                    out.extend(WITHIN_OFFERS.iter().map(|(l, i, d)| (*l, *i, Some(*d))));
                    out.extend(order);
                }
                FieldType::Enum(_) => {
                    out.push(("in { … }", "in { $1 }", Some("one of these values")));
                    out.push(("not in { … }", "not in { $1 }", None));
                    out.push(("=", "= ", None));
                    out.push(("!=", "!= ", None));
                }
                FieldType::String => {
                    out.push(("contains \"…\"", "contains \"$1\"", None));
                    out.push(("starts with \"…\"", "starts with \"$1\"", None));
                    out.push(("ends with \"…\"", "ends with \"$1\"", None));
                    out.push(("= \"…\"", "= \"$1\"", None));
                    out.push(("in { … }", "in { \"$1\" }", None));
                    out.push(("ignoring case", "ignoring case", None));
                }
                FieldType::List => {
                    out.push((
                        "contains \"…\"",
                        "contains \"$1\"",
                        Some("the list has this item"),
                    ));
                }
            }
            if field.can_be_missing() {
                out.extend(presence);
            }
        }
    }
    out
}

/// Inside a string or after `#`, nothing is completed.
fn in_string_or_comment(line: &str) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '#' {
            return true;
        }
    }
    in_string
}

/// The header line of the innermost `{ … }` block still open at the end of
/// `text` (`score fit {`, `test "…" {`), if any.
fn open_block(text: &str) -> Option<String> {
    let mut stack: Vec<usize> = Vec::new();
    for (i, c) in crate::syntax::code_chars(text) {
        match c {
            '{' => stack.push(i),
            '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    let open = *stack.first()?;
    let start = text[..open].rfind('\n').map_or(0, |i| i + 1);
    Some(text[start..open].trim().to_string())
}

/// The longest name of `policy` (field, criterion or score) that `text` ends
/// with, as a whole word.
fn trailing_operand(policy: &Policy, text: &str) -> Option<Operand> {
    let ends_with = |name: &str| ends_with_word(text, name);
    let mut best: Option<(usize, Operand)> = None;
    let mut consider = |name: &str, op: Operand| {
        if ends_with(name) && best.is_none_or(|(len, _)| name.len() > len) {
            best = Some((name.len(), op));
        }
    };
    for (i, f) in policy.fields.iter().enumerate() {
        consider(&f.name, Operand::Field(i));
    }
    for c in &policy.criteria {
        consider(&c.name, Operand::Criterion);
    }
    for s in &policy.scores {
        consider(&s.name, Operand::Score);
    }
    best.map(|(_, op)| op)
}

fn trailing_field(policy: &Policy, text: &str) -> Option<usize> {
    match trailing_operand(policy, text)? {
        Operand::Field(f) => Some(f),
        _ => None,
    }
}

fn ends_with_word(text: &str, word: &str) -> bool {
    let t = text.trim_end();
    t.ends_with(word)
        && t[..t.len() - word.len()]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
}

fn context(policy: &Policy, before: &str, block: Option<&str>) -> Context {
    let trimmed = before.trim();
    // Inside `in { … }` (of a condition) on this line.
    if let Some(open) = before.rfind('{') {
        if !before[open..].contains('}') {
            let head = before[..open].trim_end();
            let head = head
                .strip_suffix("in")
                .filter(|h| h.is_empty() || h.ends_with(' '));
            if let Some(head) = head {
                let head = head.trim_end();
                let head = head.strip_suffix(" not").unwrap_or(head);
                return Context::Values {
                    field: trailing_field(policy, head),
                };
            }
            if before[..open].trim_end().ends_with("lead") {
                return lead_context(policy, &before[open + 1..]);
            }
            if before[..open].contains("enum") {
                return Context::Nothing;
            }
        }
    }
    if let Some(header) = block {
        if header.starts_with("test") {
            if before[..].contains("lead") && before.contains('{') {
                let open = before.rfind('{').unwrap_or(0);
                return lead_context(policy, &before[open + 1..]);
            }
            if trimmed.is_empty() {
                return Context::TestLine;
            }
            if trimmed == "expect" {
                return Context::Expect;
            }
            if trimmed == "expect score" {
                return Context::ExpectScore;
            }
            if trimmed == "expect rule" {
                return Context::ExpectRule;
            }
            return Context::Nothing;
        }
        if header.starts_with("score") && trimmed.is_empty() {
            return Context::ScoreLine;
        }
        if header.starts_with("score") && ends_with_word(before, "per") {
            return Context::PerField;
        }
        if header.starts_with("score") {
            if let Some(context) = after_per(policy, before) {
                return context;
            }
        }
    }
    if trimmed.is_empty() {
        return if block.is_some() {
            Context::Condition
        } else {
            Context::LineStart
        };
    }
    let first = trimmed.split_whitespace().next().unwrap_or("");
    match first {
        "field" => {
            return match trimmed.find(':') {
                None => Context::Nothing,
                Some(colon) if trimmed[colon + 1..].trim().is_empty() => Context::FieldType,
                Some(_) => Context::FieldOptions,
            };
        }
        "stages" | "import" => return Context::Nothing,
        "otherwise" => return Context::Stages,
        "require" if !trimmed.contains(':') => return Context::Stages,
        _ => {}
    }
    if let Some(arrow) = trimmed.rfind("=>") {
        let mut words: Vec<&str> = trimmed[arrow + 2..].split_whitespace().collect();
        if words == ["at"] {
            return Context::Most;
        }
        let ceiling = words.starts_with(&["at", "most"]);
        if ceiling {
            words.drain(..2);
        }
        if words.is_empty() {
            return if ceiling {
                Context::Stages
            } else {
                Context::Conclusion
            };
        }
        // The next word of a stage name of several words.
        let typed = format!("{} ", words.join(" "));
        if policy.stages.iter().any(|s| s.name.starts_with(&typed)) {
            return Context::Stages;
        }
        if before.ends_with(' ') && !words.contains(&"because") {
            return Context::Because;
        }
        return Context::Nothing;
    }
    // After a comparison operator: the values of the field before it.
    for op in ["!=", "==", "="] {
        if let Some(rest) = trimmed.strip_suffix(op) {
            if !rest.ends_with(['<', '>', '!', '=']) {
                return Context::Values {
                    field: trailing_field(policy, rest),
                };
            }
        }
    }
    if trimmed.ends_with(['<', '>']) || trimmed.ends_with("<=") || trimmed.ends_with(">=") {
        return Context::Nothing;
    }
    if ends_with_word(before, "within") {
        return Context::Within;
    }
    for word in ["and", "or", "not", "when", "of", "("] {
        if ends_with_word(before, word) || (word == "(" && trimmed.ends_with('(')) {
            return Context::Condition;
        }
    }
    if trimmed.ends_with(':') || trimmed.ends_with(',') {
        return Context::Condition;
    }
    if before.ends_with(' ') {
        if let Some(op) = trailing_operand(policy, trimmed) {
            return Context::AfterOperand(op);
        }
        // After a finished test (`budget known `): join or conclude.
        if ["known", "unknown", "days", "case", ")", "}", "\""]
            .iter()
            .any(|w| trimmed.ends_with(w))
            || trimmed.ends_with(|c: char| c.is_ascii_digit())
        {
            return Context::AfterOperand(Operand::Criterion);
        }
    }
    Context::Condition
}

/// `+N per FIELD ` or `+N per FIELD cap M `, before any `when`.
fn after_per(policy: &Policy, before: &str) -> Option<Context> {
    if !before.ends_with(' ') {
        return None;
    }
    let at = before.rfind(" per ")?;
    let rest: Vec<&str> = before[at + 5..].split_whitespace().collect();
    if rest.contains(&"when") {
        return None;
    }
    let (field, cap) = match rest.iter().position(|w| *w == "cap") {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (&rest[..], None),
    };
    policy.field_by_name(&field.join(" "))?;
    match cap {
        None => Some(Context::AfterPer { cap: true }),
        Some([_number]) => Some(Context::AfterPer { cap: false }),
        Some(_) => Some(Context::Nothing),
    }
}

fn lead_context(policy: &Policy, inside: &str) -> Context {
    let current = inside.rsplit(',').next().unwrap_or("");
    match current.find(':') {
        None => Context::LeadField,
        Some(colon) => match policy.field_by_name(current[..colon].trim()) {
            Some(f) => Context::Values { field: Some(f) },
            None => Context::Nothing,
        },
    }
}
