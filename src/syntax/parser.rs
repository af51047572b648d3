//! Text → syntax tree, never failing: bad lines become `ItemKind::Error` plus
//! a diagnostic, and everything around them still parses.

use std::path::Path;

use pest::Parser;
use pest::iterators::Pair;

use super::ast::*;
use crate::diagnostic::{Code, Diagnostic, did_you_mean};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/qualify.pest"]
struct QualParser;

/// Deeper nesting than this is refused before pest sees it: pest recurses
/// once per level and would overflow the stack on pathological input.
pub const MAX_NESTING: usize = 64;

const DECL_KEYWORDS: &[&str] = &[
    "import",
    "field",
    "stages",
    "otherwise",
    "criterion",
    "score",
    "rule",
    "test",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Parsed {
    pub file: Module,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn parse(path: &Path, text: &str) -> Parsed {
    let comments = scan_comments(text);
    if let Some(offset) = too_deep(text) {
        let span = Span::new(offset, offset + 1);
        return Parsed {
            file: Module {
                items: Vec::new(),
                comments,
            },
            diagnostics: vec![
                Diagnostic::new(
                    Code::TooDeep,
                    path,
                    span,
                    format!("brackets are nested more than {MAX_NESTING} levels deep"),
                )
                .label("too deep from here")
                .help("split the condition into named criteria"),
            ],
        };
    }
    let mut builder = Builder {
        path,
        text,
        diagnostics: Vec::new(),
    };
    let items = match QualParser::parse(Rule::file, text) {
        Ok(mut pairs) => {
            let file = pairs.next().expect("file rule yields one pair");
            builder.items(file)
        }
        Err(err) => {
            // The catch-all rules make this unreachable in practice; keep a
            // diagnostic rather than a panic in case the grammar changes.
            builder.diagnostics.push(builder.pest_error(err, 0));
            Vec::new()
        }
    };
    Parsed {
        file: Module { items, comments },
        diagnostics: builder.diagnostics,
    }
}

/// The characters of `text` outside strings and comments, with their byte
/// offsets: what bracket counting sees.
pub fn code_chars(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    text.char_indices().filter(move |&(_, c)| {
        if in_comment {
            in_comment = c != '\n';
            return false;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' => in_string = false,
                _ => {}
            }
            return false;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            _ => return true,
        }
        false
    })
}

fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in code_chars(text) {
        match c {
            '(' | '{' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            ')' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Comments are not in the grammar's tree (pest drops them), so find them
/// lexically for the formatter.
fn scan_comments(text: &str) -> Vec<Comment> {
    let mut comments = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let mut in_string = false;
        let mut escaped = false;
        for (i, c) in line.char_indices() {
            if in_string {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_string = false,
                    _ => {}
                }
                continue;
            }
            if c == '"' {
                in_string = true;
            } else if c == '#' {
                let body = line[i + 1..].trim_end_matches(['\n', '\r']);
                let start = line_start + i;
                comments.push(Comment {
                    text: body.to_string(),
                    span: Span::new(start, start + 1 + body.len()),
                    trailing: !line[..i].trim().is_empty(),
                });
                break;
            }
        }
        line_start += line.len();
    }
    comments
}

struct Builder<'a> {
    path: &'a Path,
    text: &'a str,
    diagnostics: Vec<Diagnostic>,
}

/// A node's span without the whitespace and comments pest includes after
/// an optional or repeated trailing part: it ends where its last token does.
/// Children are in order, so that token is found by following the last
/// child down (a string, with its closing quote, and a name count as one
/// token): linear in the depth, where scanning every token of every node
/// made building the tree of a 2,000-rule policy take longer than parsing.
fn span_of(pair: &Pair<Rule>) -> Span {
    let start = pair.as_span().start();
    let mut node = pair.clone();
    loop {
        if matches!(node.as_rule(), Rule::string | Rule::name) {
            break;
        }
        match node.clone().into_inner().next_back() {
            Some(last) => node = last,
            None => break,
        }
    }
    Span::new(start, node.as_span().end())
}

impl<'a> Builder<'a> {
    fn items(&mut self, file: Pair<Rule>) -> Vec<Item> {
        let mut items = Vec::new();
        // Consecutive error lines are one mistake (often one multi-line item):
        // report it once, from where it starts.
        let mut in_error_run = false;
        for pair in file.into_inner() {
            let span = span_of(&pair);
            let kind = match pair.as_rule() {
                Rule::EOI => continue,
                Rule::error_item => {
                    if !in_error_run {
                        // A line that starts with a declaration keyword is
                        // explained as that declaration, not as a rule.
                        let first_word: String = self.text[span.range()]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let rule = match first_word.as_str() {
                            "import" => Rule::strict_import,
                            "field" => Rule::strict_field,
                            "stages" => Rule::strict_stages,
                            "otherwise" => Rule::strict_otherwise,
                            "criterion" => Rule::strict_criterion,
                            "require" => Rule::strict_require,
                            "score" => Rule::strict_score,
                            "test" => Rule::strict_test,
                            _ => Rule::strict_item,
                        };
                        let diag = self.strict_error(rule, span.start as usize);
                        self.diagnostics.push(diag);
                    }
                    in_error_run = true;
                    items.push(Item {
                        kind: ItemKind::Error,
                        span,
                    });
                    continue;
                }
                Rule::import_decl => {
                    ItemKind::Import(self.string(pair.into_inner().nth(1).unwrap()))
                }
                Rule::field_decl => ItemKind::Field(self.field(pair)),
                Rule::stages_decl => ItemKind::Stages(
                    pair.into_inner()
                        .filter(|p| p.as_rule() == Rule::name)
                        .map(|p| self.name(p))
                        .collect(),
                ),
                Rule::otherwise_decl => {
                    ItemKind::Otherwise(self.name(pair.into_inner().nth(1).unwrap()))
                }
                Rule::criterion_decl => {
                    let mut inner = pair.into_inner().skip(1);
                    let name = self.name(inner.next().unwrap());
                    inner.next(); // colon
                    let condition = self.condition(inner.next().unwrap());
                    ItemKind::Criterion(CriterionDecl { name, condition })
                }
                Rule::require_decl => {
                    let mut inner = pair.into_inner().skip(1);
                    let stage = self.name(inner.next().unwrap());
                    inner.next(); // colon
                    let condition = self.condition(inner.next().unwrap());
                    ItemKind::Require(RequireDecl { stage, condition })
                }
                Rule::score_decl => ItemKind::Score(self.score(pair)),
                Rule::rule_decl => ItemKind::Rule(self.rule(pair)),
                Rule::test_decl => ItemKind::Test(self.test(pair)),
                other => unreachable!("unexpected top-level rule {other:?}"),
            };
            in_error_run = false;
            items.push(Item { kind, span });
        }
        items
    }

    fn strict_error(&self, rule: Rule, start: usize) -> Diagnostic {
        match QualParser::parse(rule, &self.text[start..]) {
            Err(err) => self.pest_error(err, start),
            Ok(_) => {
                // The entry parses alone but not in place: say so plainly.
                let end = self.text[start..]
                    .find('\n')
                    .map_or(self.text.len(), |i| start + i);
                Diagnostic::new(
                    Code::Syntax,
                    self.path,
                    Span::new(start, end),
                    "this line does not fit here",
                )
                .help("each declaration, rule or test starts on its own line")
            }
        }
    }

    fn pest_error(&self, err: pest::error::Error<Rule>, base: usize) -> Diagnostic {
        let mut pos = match err.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((s, _)) => s,
        } + base;
        // An item cut short is reported where its text ends, not at the
        // start of whatever line comes next.
        let before = &self.text[..pos];
        let trimmed = before.trim_end();
        let mut at_line_end = false;
        if before[trimmed.len()..].contains('\n') && trimmed.len() > base {
            pos = trimmed.len();
            at_line_end = true;
        }
        let found = if at_line_end {
            ""
        } else {
            found_token(self.text, pos)
        };
        let end = pos + found.len().max(if pos < self.text.len() { 1 } else { 0 });
        let end = floor_char_boundary(self.text, end.min(self.text.len()));
        let expected = match &err.variant {
            pest::error::ErrorVariant::ParsingError { positives, .. } => {
                describe_expected(positives)
            }
            pest::error::ErrorVariant::CustomError { message } => message.clone(),
        };
        let found_text = if at_line_end {
            "the end of the line".to_string()
        } else if found.is_empty() {
            "the end of the file".to_string()
        } else {
            format!("`{found}`")
        };
        let mut diag = Diagnostic::new(
            Code::Syntax,
            self.path,
            Span::new(pos, end.max(pos)),
            format!("expected {expected}, found {found_text}"),
        )
        .label(format!("expected {expected}"));
        // `$10,000`: thousands separated as a CRM shows them.
        if let Some(fixed) = comma_number(self.text, pos) {
            return fixed.into_diagnostic(self.path);
        }
        // `field budget: currency`: a CRM's name for a type.
        if let pest::error::ErrorVariant::ParsingError { positives, .. } = &err.variant {
            if positives.contains(&Rule::field_type) || positives.contains(&Rule::scalar_type) {
                if let Some(diag) = crm_type(diag.clone(), found, pos) {
                    return diag;
                }
            }
        }
        // A misspelt keyword at the start of a line is the commonest cause.
        let line_start = self.text[..pos].rfind('\n').map_or(0, |i| i + 1);
        let first_word: String = self.text[line_start..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let word_start = line_start
            + (self.text[line_start..].len() - self.text[line_start..].trim_start().len());
        if !first_word.is_empty() && !DECL_KEYWORDS.contains(&first_word.as_str()) {
            if let Some(keyword) = did_you_mean(&first_word, DECL_KEYWORDS.iter().copied()) {
                diag = diag.help(format!("did you mean `{keyword}`?")).fix(
                    Span::new(word_start, word_start + first_word.len()),
                    keyword,
                );
                return diag;
            }
        }
        // `rule do not call: …`: a reserved word inside a rule's name makes
        // the parser read the name as a condition, and fail further on.
        if first_word == "rule" {
            let after = &self.text[word_start + 4..];
            let label = after[..after.find('\n').unwrap_or(after.len())]
                .split(':')
                .next()
                .unwrap_or("");
            let line_has_colon = after[..after.find('\n').unwrap_or(after.len())].contains(':');
            if line_has_colon {
                if let Some(word) = label.split_whitespace().find(|w| RESERVED.contains(w)) {
                    return diag.help(format!(
                        "`{word}` is a reserved word and cannot be part of a rule's name: leave it out or join the words with `_` (e.g. `rule do_{word}_x:`)"
                    ));
                }
            }
        }
        if RESERVED.contains(&found) {
            return diag.help(format!(
                "`{found}` is a reserved word and cannot be part of a name: leave it out or join the words with `_` (e.g. `do_{found}_x`), and read the column with `from \"…\"`"
            ));
        }
        if found == "-" && self.text[..pos].ends_with(|c: char| c.is_alphanumeric()) {
            return diag.help("names are words of letters, digits and `_`: write `follow_up` or `follow up`, not `follow-up`");
        }
        let line_end = self.text[pos..]
            .find('\n')
            .map_or(self.text.len(), |i| pos + i);
        let line = &self.text[line_start..line_end];
        if line.matches('"').count() % 2 == 1 {
            return diag.help("a quoted string on this line has no closing quote");
        }
        if line.matches('(').count() > line.matches(')').count() {
            return diag.help("a `(` on this line is never closed");
        }
        diag.help(help_for(&err))
    }

    fn name(&self, pair: Pair<Rule>) -> Name {
        debug_assert_eq!(pair.as_rule(), Rule::name);
        let span = span_of(&pair);
        let text = pair
            .into_inner()
            .map(|w| w.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Name { text, span }
    }

    fn string(&self, pair: Pair<Rule>) -> StringLit {
        let span = span_of(&pair);
        let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
        StringLit {
            value: unescape(inner),
            span,
        }
    }

    fn number(&self, pair: Pair<Rule>) -> NumberLit {
        let span = span_of(&pair);
        let text = pair.as_str().to_string();
        let value = parse_number(&text);
        NumberLit { value, text, span }
    }

    fn field(&mut self, pair: Pair<Rule>) -> FieldDecl {
        let mut inner = pair.into_inner().skip(1);
        let name = self.name(inner.next().unwrap());
        inner.next(); // colon
        let ty_pair = inner.next().unwrap();
        let ty_span = span_of(&ty_pair);
        let ty_inner = ty_pair.into_inner().next().unwrap();
        let ty = match ty_inner.as_rule() {
            Rule::scalar_type => TypeExpr::Scalar(match ty_inner.as_str() {
                "bool" => ScalarType::Bool,
                "integer" => ScalarType::Integer,
                "number" => ScalarType::Number,
                "money" => ScalarType::Money,
                "string" => ScalarType::String,
                _ => ScalarType::Date,
            }),
            Rule::list_type => TypeExpr::List,
            _ => TypeExpr::Enum(
                ty_inner
                    .into_inner()
                    .filter(|p| p.as_rule() == Rule::enum_variant)
                    .map(|v| {
                        let v = v.into_inner().next().unwrap();
                        if v.as_rule() == Rule::string {
                            self.string(v)
                        } else {
                            StringLit {
                                value: v.as_str().to_string(),
                                span: span_of(&v),
                            }
                        }
                    })
                    .collect(),
            ),
        };
        let mut decl = FieldDecl {
            name,
            ty,
            ty_span,
            optional: false,
            key: false,
            column: None,
            missing: Vec::new(),
            true_values: Vec::new(),
            false_values: Vec::new(),
            separator: None,
            default: None,
        };
        for option in inner {
            let rule = option.as_rule();
            let mut args = option.into_inner().skip(1);
            match rule {
                Rule::opt_optional => decl.optional = true,
                Rule::opt_key => decl.key = true,
                Rule::opt_from => decl.column = Some(self.string(args.next().unwrap())),
                Rule::opt_separator => decl.separator = Some(self.string(args.next().unwrap())),
                Rule::opt_default => decl.default = Some(self.literal(args.next().unwrap())),
                Rule::opt_missing | Rule::opt_true | Rule::opt_false => {
                    let values: Vec<StringLit> = args
                        .next()
                        .unwrap()
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::string)
                        .map(|p| self.string(p))
                        .collect();
                    let target = match rule {
                        Rule::opt_missing => &mut decl.missing,
                        Rule::opt_true => &mut decl.true_values,
                        _ => &mut decl.false_values,
                    };
                    target.extend(values);
                }
                _ => {}
            }
        }
        decl
    }

    fn score(&mut self, pair: Pair<Rule>) -> ScoreDecl {
        let mut inner = pair.into_inner().skip(1);
        let name = self.name(inner.next().unwrap());
        let mut entries = Vec::new();
        for entry in inner {
            let span = span_of(&entry);
            match entry.as_rule() {
                Rule::point_line => {
                    let mut parts = entry.into_inner();
                    let points = self.number(parts.next().unwrap());
                    let clause = parts.next().unwrap();
                    let kind = match clause.as_rule() {
                        Rule::when_clause => {
                            PointKind::When(self.condition(clause.into_inner().nth(1).unwrap()))
                        }
                        _ => {
                            let mut parts = clause.into_inner().skip(1);
                            let field = self.name(parts.next().unwrap());
                            let mut cap = None;
                            let mut when = None;
                            for part in parts {
                                match part.as_rule() {
                                    Rule::line_cap => {
                                        cap = Some(self.number(part.into_inner().nth(1).unwrap()))
                                    }
                                    Rule::when_clause => {
                                        when =
                                            Some(self.condition(part.into_inner().nth(1).unwrap()))
                                    }
                                    _ => {}
                                }
                            }
                            PointKind::Per { field, cap, when }
                        }
                    };
                    entries.push(ScoreEntry::Points(PointLine { points, kind, span }));
                }
                Rule::score_cap => {
                    let value = self.number(entry.into_inner().nth(1).unwrap());
                    entries.push(ScoreEntry::Cap { value, span });
                }
                Rule::block_error => {
                    self.diagnostics.push(self.block_error(
                        span,
                        "a point line such as `+10 when demo requested`, or `cap 100`",
                    ));
                    entries.push(ScoreEntry::Error { span });
                }
                _ => {}
            }
        }
        ScoreDecl { name, entries }
    }

    fn block_error(&self, span: Span, what: &str) -> Diagnostic {
        let text = &self.text[span.range()];
        if let Some(fixed) = text
            .char_indices()
            .find_map(|(i, c)| (c == ',').then(|| comma_number(self.text, span.start as usize + i)))
            .flatten()
        {
            return fixed.into_diagnostic(self.path);
        }
        Diagnostic::new(
            Code::Syntax,
            self.path,
            span,
            format!("expected {what}, found `{}`", &self.text[span.range()]),
        )
        .label("not understood")
        .help(format!("each line in this block must be {what}"))
    }

    fn rule(&mut self, pair: Pair<Rule>) -> RuleDecl {
        let mut label = None;
        let mut condition = None;
        let mut stage = None;
        let mut reason = None;
        let mut ceiling = None;
        let mut overrides = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::rule_label => label = Some(self.name(part.into_inner().nth(1).unwrap())),
                Rule::condition => condition = Some(self.condition(part)),
                Rule::ceiling => ceiling = Some(span_of(&part)),
                Rule::name => stage = Some(self.name(part)),
                Rule::because => reason = Some(self.string(part.into_inner().nth(1).unwrap())),
                Rule::overrides => overrides = Some(span_of(&part)),
                _ => {}
            }
        }
        RuleDecl {
            label,
            condition: condition.unwrap(),
            stage: stage.unwrap(),
            ceiling,
            reason,
            overrides,
        }
    }

    fn test(&mut self, pair: Pair<Rule>) -> TestDecl {
        let mut inner = pair.into_inner().skip(1);
        let name = self.string(inner.next().unwrap());
        let mut entries = Vec::new();
        for entry in inner {
            let span = span_of(&entry);
            match entry.as_rule() {
                Rule::test_lead => {
                    let values = entry
                        .into_inner()
                        .filter(|p| p.as_rule() == Rule::lead_value)
                        .map(|p| {
                            let mut parts = p.into_inner();
                            let field = self.name(parts.next().unwrap());
                            parts.next(); // colon
                            let value = self.literal(parts.next().unwrap());
                            LeadValue { field, value }
                        })
                        .collect();
                    entries.push(TestEntry::Lead { values, span });
                }
                Rule::expect => {
                    let what = entry.into_inner().nth(1).unwrap();
                    entries.push(match what.as_rule() {
                        Rule::expect_score => {
                            let mut parts = what.into_inner().skip(1);
                            let score = self.name(parts.next().unwrap());
                            parts.next(); // equals
                            let value = self.number(parts.next().unwrap());
                            TestEntry::ExpectScore { score, value, span }
                        }
                        Rule::expect_rule => {
                            TestEntry::ExpectRule(self.name(what.into_inner().nth(1).unwrap()))
                        }
                        Rule::expect_none => TestEntry::ExpectNoStage { span },
                        _ => TestEntry::ExpectStage(self.name(what.into_inner().next().unwrap())),
                    });
                }
                Rule::test_as_of => {
                    let date = entry
                        .into_inner()
                        .find(|p| p.as_rule() == Rule::date)
                        .unwrap();
                    entries.push(TestEntry::AsOf(self.literal(date)));
                }
                Rule::block_error => {
                    let mut diag = match QualParser::parse(
                        Rule::strict_test_entry,
                        &self.text[span.start as usize..],
                    ) {
                        Err(err) => self.pest_error(err, span.start as usize),
                        Ok(_) => self.block_error(span, "`lead { … }` or `expect …`"),
                    };
                    let word: String = self.text[span.range()]
                        .chars()
                        .take_while(|c| c.is_alphabetic())
                        .collect();
                    if let Some(keyword) = did_you_mean(&word, ["lead", "expect", "as"]) {
                        if keyword != word {
                            let at = span.start as usize;
                            diag = diag
                                .help(format!("did you mean `{keyword}`?"))
                                .fix(Span::new(at, at + word.len()), keyword);
                        }
                    } else {
                        diag = diag
                            .help("a test holds `as of DATE`, `lead { … }` and `expect …` lines");
                    }
                    self.diagnostics.push(diag);
                    entries.push(TestEntry::Error { span });
                }
                _ => {}
            }
        }
        TestDecl { name, entries }
    }

    fn literal(&self, pair: Pair<Rule>) -> Literal {
        let span = span_of(&pair);
        let text = pair.as_str().to_string();
        let kind = match pair.as_rule() {
            Rule::number => LiteralKind::Number(parse_number(&text)),
            Rule::money => LiteralKind::Money(parse_number(&text.replace('$', ""))),
            Rule::string => LiteralKind::String(self.string(pair).value),
            Rule::boolean => LiteralKind::Bool(text == "true"),
            Rule::date => LiteralKind::Date(text.clone()),
            Rule::bare_word => LiteralKind::Word(text.clone()),
            Rule::list_literal => LiteralKind::List(
                pair.into_inner()
                    .filter(|p| p.as_rule() == Rule::string)
                    .map(|p| self.string(p).value)
                    .collect(),
            ),
            other => unreachable!("not a literal: {other:?}"),
        };
        Literal { kind, text, span }
    }

    fn operand(&self, pair: Pair<Rule>) -> Operand {
        let inner = pair.into_inner().next().unwrap();
        match inner.as_rule() {
            Rule::name => Operand::Name(self.name(inner)),
            _ => Operand::Literal(self.literal(inner)),
        }
    }

    fn condition(&mut self, pair: Pair<Rule>) -> Cond {
        let span = span_of(&pair);
        match pair.as_rule() {
            Rule::condition => self.condition(pair.into_inner().next().unwrap()),
            Rule::or_expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::or_expr;
                let mut parts: Vec<Cond> = pair
                    .into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::kw_or | Rule::kw_and))
                    .map(|p| self.condition(p))
                    .collect();
                if parts.len() == 1 {
                    parts.pop().unwrap()
                } else if is_or {
                    Cond {
                        kind: CondKind::Or(parts),
                        span,
                    }
                } else {
                    Cond {
                        kind: CondKind::And(parts),
                        span,
                    }
                }
            }
            Rule::not_expr => {
                let parts: Vec<Pair<Rule>> = pair.into_inner().collect();
                let (mut nots, atom) = parts.split_at(parts.len() - 1);
                if nots.len() > MAX_NESTING {
                    let first = span_of(&nots[0]);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::TooDeep,
                            self.path,
                            first,
                            format!("more than {MAX_NESTING} `not`s in a row"),
                        )
                        .label("too many")
                        .help("two `not`s cancel out: remove them in pairs"),
                    );
                    nots = &nots[nots.len() - nots.len() % 2..];
                }
                let mut cond = self.condition(atom[0].clone());
                for not in nots.iter().rev() {
                    let not_span = span_of(not);
                    cond = Cond {
                        span: Span::new(not_span.start as usize, cond.span.end as usize),
                        kind: CondKind::Not(Box::new(cond)),
                    };
                }
                cond
            }
            Rule::paren => {
                let inner = pair.into_inner().nth(1).unwrap();
                Cond {
                    kind: CondKind::Paren(Box::new(self.condition(inner))),
                    span,
                }
            }
            Rule::at_least => {
                let mut n = 0;
                let mut n_span = span;
                let mut items = Vec::new();
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::integer => {
                            n = part.as_str().parse().unwrap_or(u32::MAX);
                            n_span = span_of(&part);
                        }
                        Rule::condition => items.push(self.condition(part)),
                        _ => {}
                    }
                }
                Cond {
                    kind: CondKind::AtLeast { n, n_span, items },
                    span,
                }
            }
            Rule::predicate => {
                let mut parts = pair.into_inner();
                let lhs = self.operand(parts.next().unwrap());
                let Some(test) = parts.next() else {
                    return Cond {
                        kind: CondKind::Is(lhs),
                        span,
                    };
                };
                let kind = match test.as_rule() {
                    Rule::known_test => CondKind::Known(lhs),
                    Rule::unknown_test => CondKind::Unknown(lhs),
                    Rule::compare => {
                        let mut t = test.into_inner();
                        let op_pair = t.next().unwrap();
                        let op_span = span_of(&op_pair);
                        let op = match op_pair.as_str() {
                            "=" | "==" => CmpOp::Eq,
                            "!=" => CmpOp::Ne,
                            "<" => CmpOp::Lt,
                            "<=" => CmpOp::Le,
                            ">" => CmpOp::Gt,
                            _ => CmpOp::Ge,
                        };
                        let rhs = self.operand(t.next().unwrap());
                        let ignore_case = t.next().is_some();
                        CondKind::Compare {
                            lhs,
                            op,
                            op_span,
                            rhs,
                            ignore_case,
                        }
                    }
                    Rule::in_test | Rule::not_in_test => {
                        let negated = test.as_rule() == Rule::not_in_test;
                        let mut values = Vec::new();
                        let mut ignore_case = false;
                        for part in test.into_inner() {
                            match part.as_rule() {
                                Rule::value_set => {
                                    values = part
                                        .into_inner()
                                        .filter(|p| {
                                            !matches!(
                                                p.as_rule(),
                                                Rule::lbrace | Rule::rbrace | Rule::comma
                                            )
                                        })
                                        .map(|p| self.literal(p))
                                        .collect()
                                }
                                Rule::ignoring_case => ignore_case = true,
                                _ => {}
                            }
                        }
                        CondKind::In {
                            lhs,
                            negated,
                            values,
                            ignore_case,
                        }
                    }
                    Rule::between_test => {
                        let mut ops = test.into_inner().filter(|p| p.as_rule() == Rule::operand);
                        let low = self.operand(ops.next().unwrap());
                        let high = self.operand(ops.next().unwrap());
                        CondKind::Between { lhs, low, high }
                    }
                    Rule::contains_test | Rule::starts_test | Rule::ends_test => {
                        let op = match test.as_rule() {
                            Rule::contains_test => TextOp::Contains,
                            Rule::starts_test => TextOp::StartsWith,
                            _ => TextOp::EndsWith,
                        };
                        let mut rhs = None;
                        let mut ignore_case = false;
                        for part in test.into_inner() {
                            match part.as_rule() {
                                Rule::operand => rhs = Some(self.operand(part)),
                                Rule::ignoring_case => ignore_case = true,
                                _ => {}
                            }
                        }
                        CondKind::Text {
                            lhs,
                            op,
                            rhs: rhs.unwrap(),
                            ignore_case,
                        }
                    }
                    Rule::within_test => {
                        let test_span = span_of(&test);
                        let mut days = 0;
                        let mut direction = Direction::Either;
                        for part in test.into_inner() {
                            match part.as_rule() {
                                Rule::integer => days = part.as_str().parse().unwrap_or(u32::MAX),
                                Rule::within_dir => {
                                    if part.into_inner().any(|p| p.as_rule() == Rule::within_next) {
                                        direction = Direction::Next;
                                    } else {
                                        direction = Direction::Last;
                                    }
                                }
                                _ => {}
                            }
                        }
                        CondKind::Within {
                            lhs,
                            days,
                            direction,
                            test_span,
                        }
                    }
                    other => unreachable!("unexpected test {other:?}"),
                };
                Cond { kind, span }
            }
            other => unreachable!("unexpected condition rule {other:?}"),
        }
    }
}

/// A number written with thousands separators, `$10,000` or `1,250.50`.
struct CommaNumber {
    span: Span,
    written: String,
}

impl CommaNumber {
    fn into_diagnostic(self, path: &Path) -> Diagnostic {
        let fixed = self.written.replace(',', "_");
        Diagnostic::new(
            Code::Syntax,
            path,
            self.span,
            format!(
                "`{}` has commas, and a comma separates items: write `{fixed}`",
                self.written
            ),
        )
        .label(format!("write `{fixed}`"))
        .help(format!(
            "group the digits of a number with `_`, not `,` (as a CRM shows them): `{fixed}`"
        ))
        .fix(self.span, fixed)
    }
}

/// The number around `pos` written with commas between groups of three
/// digits (`$10,000`, `-1,250.5`): where a CRM's export or a spreadsheet
/// puts them, and where the grammar sees a list separator.
fn comma_number(text: &str, pos: usize) -> Option<CommaNumber> {
    let line_start = text[..pos.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[pos.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |i| pos + i);
    let line = &text.as_bytes()[line_start..line_end];
    let word_char = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < line.len() {
        let starts = (line[i] == b'$' || line[i].is_ascii_digit())
            && (i == 0 || !(word_char(line[i - 1]) || line[i - 1] == b'$'));
        if !starts {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i + usize::from(line[i] == b'$');
        let digits_from = j;
        while j < line.len() && line[j].is_ascii_digit() {
            j += 1;
        }
        let lead = j - digits_from;
        let mut groups = 0;
        if (1..=3).contains(&lead) {
            while line.get(j) == Some(&b',')
                && line
                    .get(j + 1..j + 4)
                    .is_some_and(|g| g.iter().all(u8::is_ascii_digit))
                && !line.get(j + 4).is_some_and(|b| b.is_ascii_digit())
            {
                j += 4;
                groups += 1;
            }
        }
        if groups > 0 {
            if line.get(j) == Some(&b'.') && line.get(j + 1).is_some_and(u8::is_ascii_digit) {
                j += 1;
                while j < line.len() && line[j].is_ascii_digit() {
                    j += 1;
                }
            }
            let end_ok = !line.get(j).is_some_and(|&b| word_char(b));
            let (from, to) = (line_start + start, line_start + j);
            if end_ok && (from..=to).contains(&pos) {
                return Some(CommaNumber {
                    span: Span::new(from, to),
                    written: text[from..to].to_string(),
                });
            }
        }
        i = j.max(i + 1);
    }
    None
}

/// `field budget: currency`: the type a CRM would call it, with a fix.
fn crm_type(diag: Diagnostic, found: &str, pos: usize) -> Option<Diagnostic> {
    const TYPES: &[&str] = &[
        "bool", "integer", "number", "money", "string", "date", "list",
    ];
    let word = found.to_lowercase();
    let (ty, why) = match word.as_str() {
        "currency" | "amount" | "price" | "dollars" => ("money", "amounts are `money`"),
        "decimal" | "float" | "double" | "real" | "numeric" | "percent" | "percentage" => {
            ("number", "numbers with decimals are `number`")
        }
        "int" | "long" | "bigint" | "smallint" | "whole" => {
            ("integer", "whole numbers are `integer`")
        }
        "text" | "varchar" | "char" | "str" | "textarea" | "email" | "phone" | "url" => {
            ("string", "text is `string`")
        }
        "boolean" | "checkbox" | "bit" | "yesno" => ("bool", "yes/no values are `bool`"),
        "datetime" | "timestamp" | "time" => ("date", "a `date` reads the day of a date-time"),
        "multipicklist" | "multiselect" | "array" | "tags" => (
            "list",
            "several values in one cell are a `list` (`separator \",\"` says what splits them)",
        ),
        "picklist" | "dropdown" | "select" | "choice" => {
            let mut diag = diag.label("did you mean `enum { … }`?");
            diag.message =
                format!("`{found}` is not a type of Qualify: did you mean `enum {{ … }}`?");
            return Some(diag.help(
                "a picklist is an `enum` listing its values: \
                     `enum { new, working, \"closed won\" }`",
            ));
        }
        _ => {
            let ty = did_you_mean(&word, TYPES.iter().copied()).filter(|t| *t != word)?;
            let span = Span::new(pos, pos + found.len());
            return Some(diag.help(format!("did you mean `{ty}`?")).fix(span, ty));
        }
    };
    let span = Span::new(pos, pos + found.len());
    let mut diag = diag
        .label(format!("did you mean `{ty}`?"))
        .help(format!("did you mean `{ty}`? {why}"))
        .fix(span, ty);
    diag.message = format!("`{found}` is not a type of Qualify: {why}");
    Some(diag)
}

pub(crate) fn parse_number(text: &str) -> f64 {
    text.replace(['_', '+'], "").parse().unwrap_or(f64::NAN)
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Words of the language that cannot be (part of) a name; the formatter
/// quotes an enum value that is one.
pub const RESERVED: &[&str] = &[
    "and",
    "or",
    "not",
    "known",
    "unknown",
    "in",
    "between",
    "contains",
    "starts",
    "ends",
    "within",
    "cap",
    "because",
    "true",
    "false",
    "ignoring",
    "when",
    "per",
    "overrides",
];

/// Escape a string value for printing back as a literal.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn found_token(text: &str, pos: usize) -> &str {
    let rest = &text[pos.min(text.len())..];
    let first = rest.chars().next();
    match first {
        None => "",
        Some(c) if c.is_alphanumeric() || c == '_' => {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        }
        Some('\n') | Some('\r') => "",
        Some(c) if "=<>!".contains(c) => {
            let end = rest
                .find(|c: char| !"=<>!".contains(c))
                .unwrap_or(rest.len());
            &rest[..end]
        }
        Some(c) => &rest[..c.len_utf8()],
    }
}

fn describe_expected(rules: &[Rule]) -> String {
    // The token that completes the item is the useful one to name; the
    // operators that could also continue the condition are noise.
    for key in [Rule::arrow, Rule::rparen, Rule::rbrace, Rule::colon] {
        if rules.contains(&key) {
            return describe(key).to_string();
        }
    }
    let mut words: Vec<&str> = Vec::new();
    for rule in rules {
        let word = describe(*rule);
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.len() {
        0 => "something else".to_string(),
        1 => words[0].to_string(),
        n => format!("{} or {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

fn help_for(err: &pest::error::Error<Rule>) -> String {
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &err.variant {
        if positives.contains(&Rule::arrow) {
            return "a rule reads `condition => Stage`, e.g. `budget known and demo requested => SQL`".into();
        }
        if positives.contains(&Rule::colon) {
            return "a definition reads `field name: type`, `criterion name: condition` or `rule name: condition => Stage`"
                .into();
        }
        if positives.contains(&Rule::rbrace) || positives.contains(&Rule::rparen) {
            return "check that every opening bracket has its closing one".into();
        }
        if [Rule::kw_the, Rule::kw_last, Rule::kw_next, Rule::kw_days]
            .iter()
            .any(|r| positives.contains(r))
        {
            return "a recency test reads `within the last 30 days` (on or before the evaluation \
                    date) or `within the next 90 days` (on or after it)"
                .into();
        }
        if positives.contains(&Rule::scalar_type) {
            return "field types are bool, integer, number, money, string, date, list and enum { … }".into();
        }
    }
    "see docs/language.md for the syntax of each declaration".into()
}

fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::name | Rule::word => "a name",
        Rule::arrow => "`=>`",
        Rule::colon => "`:`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::less => "`<`",
        Rule::equals => "`=`",
        Rule::string => "a quoted string",
        Rule::number | Rule::integer | Rule::points => "a number",
        Rule::money => "an amount",
        Rule::date => "a date (YYYY-MM-DD)",
        Rule::operand
        | Rule::predicate
        | Rule::condition
        | Rule::or_expr
        | Rule::and_expr
        | Rule::not_expr => "a condition",
        Rule::cmp_op => "a comparison (`=`, `<`, …)",
        Rule::field_type | Rule::scalar_type | Rule::enum_type | Rule::list_type => "a type",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_known => "`known`",
        Rule::kw_unknown => "`unknown`",
        Rule::kw_in => "`in`",
        Rule::kw_of => "`of`",
        Rule::kw_least => "`least`",
        Rule::kw_most => "`most`",
        Rule::kw_days => "`days`",
        Rule::kw_the | Rule::within_dir => "`the last`/`the next`",
        Rule::kw_last | Rule::within_last => "`last`",
        Rule::kw_next | Rule::within_next => "`next`",
        Rule::kw_when => "`when`",
        Rule::kw_per => "`per`",
        Rule::kw_with => "`with`",
        Rule::kw_case => "`case`",
        Rule::kw_expect => "`expect`",
        Rule::kw_lead => "`lead`",
        Rule::kw_stage => "`stage`",
        Rule::kw_between => "`between`",
        Rule::kw_contains => "`contains`",
        Rule::point_line | Rule::score_cap => "a point line",
        Rule::test_lead | Rule::expect => "`lead { … }` or `expect …`",
        Rule::EOI => "the end of the file",
        Rule::kw_because => "`because`",
        Rule::kw_overrides => "`overrides`",
        Rule::kw_not => "`not`",
        Rule::kw_ignoring => "`ignoring case`",
        Rule::kw_cap => "`cap`",
        Rule::kw_starts | Rule::kw_ends => "`starts with`/`ends with`",
        Rule::kw_within => "`within`",
        Rule::kw_as => "`as of`",
        Rule::test_as_of => "`as of`",
        _ => "a declaration or rule",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Module {
        let parsed = parse(Path::new("t.qual"), text);
        assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
        parsed.file
    }

    #[test]
    fn the_readable_rule_form_parses_exactly_as_written() {
        let file = ok("budget known and demo requested => SQL\n");
        let ItemKind::Rule(rule) = &file.items[0].kind else {
            panic!("not a rule")
        };
        assert_eq!(rule.stage.text, "SQL");
        let CondKind::And(parts) = &rule.condition.kind else {
            panic!("not and")
        };
        assert!(matches!(&parts[0].kind, CondKind::Known(Operand::Name(n)) if n.text == "budget"));
        assert!(
            matches!(&parts[1].kind, CondKind::Is(Operand::Name(n)) if n.text == "demo requested")
        );
    }

    #[test]
    fn multi_word_names_normalise_spaces() {
        let file = ok("company   size > 500 => MQL");
        let ItemKind::Rule(rule) = &file.items[0].kind else {
            panic!()
        };
        let CondKind::Compare {
            lhs: Operand::Name(n),
            ..
        } = &rule.condition.kind
        else {
            panic!()
        };
        assert_eq!(n.text, "company size");
    }

    #[test]
    fn bad_lines_are_reported_and_the_rest_still_parses() {
        let parsed = parse(
            Path::new("t.qual"),
            "stages a < b\nbudget known and => b\nx => a\nfeild y: integer\n",
        );
        assert_eq!(parsed.diagnostics.len(), 2, "{:#?}", parsed.diagnostics);
        assert_eq!(
            parsed
                .file
                .items
                .iter()
                .filter(|i| matches!(i.kind, ItemKind::Rule(_)))
                .count(),
            1
        );
        assert_eq!(
            parsed.diagnostics[1].help.as_deref(),
            Some("did you mean `field`?")
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}x{} => a", "(".repeat(10_000), ")".repeat(10_000));
        let parsed = parse(Path::new("t.qual"), &text);
        assert_eq!(parsed.diagnostics[0].code, Code::TooDeep);
    }

    #[test]
    fn comments_are_found_outside_strings() {
        let file = ok("# lead\nfield x: string from \"a#b\" # trailing\n");
        assert_eq!(file.comments.len(), 2);
        assert!(!file.comments[0].trailing);
        assert!(file.comments[1].trailing);
    }
}

/// Whether `text` can be written as a name: words on one line, single
/// spaces, no reserved word. Rename refuses anything else.
pub fn is_valid_name(text: &str) -> bool {
    match QualParser::parse(Rule::name, text) {
        Ok(mut pairs) => pairs.next().is_some_and(|p| p.as_str() == text) && !text.contains("  "),
        Err(_) => false,
    }
}

/// A lexical class, for highlighting; names are classified by the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lexeme {
    Keyword,
    Type,
    String,
    Number,
    Operator,
    EnumValue,
    Comment,
}

/// The keywords, literals and operators of `text`, in order, never
/// overlapping. Lines that do not parse contribute nothing but comments.
pub fn lexemes(text: &str) -> Vec<(Span, Lexeme)> {
    let mut out: Vec<(Span, Lexeme)> = scan_comments(text)
        .into_iter()
        .map(|c| (c.span, Lexeme::Comment))
        .collect();
    if too_deep(text).is_some() {
        return out;
    }
    let Ok(pairs) = QualParser::parse(Rule::file, text) else {
        return out;
    };
    for pair in pairs.flatten() {
        let class = match pair.as_rule() {
            Rule::kw_import
            | Rule::kw_field
            | Rule::kw_stages
            | Rule::kw_otherwise
            | Rule::kw_criterion
            | Rule::kw_require
            | Rule::kw_score
            | Rule::kw_rule
            | Rule::kw_test
            | Rule::kw_lead
            | Rule::kw_expect
            | Rule::kw_enum
            | Rule::kw_list
            | Rule::kw_optional
            | Rule::kw_from
            | Rule::kw_missing
            | Rule::kw_key
            | Rule::kw_separator
            | Rule::kw_default
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_known
            | Rule::kw_unknown
            | Rule::kw_in
            | Rule::kw_between
            | Rule::kw_contains
            | Rule::kw_starts
            | Rule::kw_ends
            | Rule::kw_with
            | Rule::kw_within
            | Rule::kw_the
            | Rule::kw_last
            | Rule::kw_next
            | Rule::kw_days
            | Rule::kw_ignoring
            | Rule::kw_case
            | Rule::kw_at
            | Rule::kw_least
            | Rule::kw_most
            | Rule::kw_of
            | Rule::kw_as
            | Rule::kw_when
            | Rule::kw_per
            | Rule::kw_cap
            | Rule::kw_because
            | Rule::kw_overrides
            | Rule::kw_true
            | Rule::kw_false
            | Rule::kw_no
            | Rule::kw_stage => Lexeme::Keyword,
            Rule::scalar_type => Lexeme::Type,
            Rule::string => Lexeme::String,
            Rule::number | Rule::money | Rule::integer | Rule::points | Rule::date => {
                Lexeme::Number
            }
            Rule::cmp_op | Rule::arrow => Lexeme::Operator,
            Rule::enum_variant | Rule::bare_word => Lexeme::EnumValue,
            _ => continue,
        };
        let span = pair.as_span();
        out.push((Span::new(span.start(), span.end()), class));
    }
    out.sort_by_key(|(span, _)| (span.start, std::cmp::Reverse(span.end)));
    let mut kept: Vec<(Span, Lexeme)> = Vec::with_capacity(out.len());
    for (span, class) in out {
        if kept.last().is_none_or(|(last, _)| span.start >= last.end) {
            kept.push((span, class));
        }
    }
    kept
}

#[cfg(test)]
mod span_tests {
    use super::*;

    /// The definition `span_of` must keep: the largest end of any token.
    fn span_by_scanning(pair: &Pair<Rule>) -> Span {
        let s = pair.as_span();
        if matches!(pair.as_rule(), Rule::string | Rule::name) {
            return Span::new(s.start(), s.end());
        }
        let end = pair
            .clone()
            .into_inner()
            .flatten()
            .filter(|p| p.as_rule() == Rule::string || p.clone().into_inner().next().is_none())
            .map(|p| p.as_span().end())
            .max()
            .unwrap_or(s.end());
        Span::new(s.start(), end)
    }

    #[test]
    fn span_of_ends_at_the_last_token_of_every_node() {
        let mut files = Vec::new();
        for dir in [
            "examples",
            "templates",
            "tests/analysis",
            "tests/wrong",
            "tests/sql",
        ] {
            for entry in
                walkdir::WalkDir::new(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + dir)
            {
                let path = entry.unwrap().into_path();
                if path.extension().is_some_and(|e| e == "qual") {
                    files.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        assert!(files.len() > 50);
        let mut checked = 0;
        for text in &files {
            let Ok(pairs) = QualParser::parse(Rule::file, text) else {
                continue;
            };
            for pair in pairs.flatten() {
                assert_eq!(
                    span_of(&pair),
                    span_by_scanning(&pair),
                    "{:?}",
                    pair.as_rule()
                );
                checked += 1;
            }
        }
        assert!(checked > 10_000, "{checked}");
    }
}
