//! The checker proper. Reports every problem it finds (never stops at the
//! first) and still builds a policy from what is valid, so later layers and
//! the editor have something to work with.

use std::collections::{HashMap, HashSet};

use super::policy::*;
use super::{Checked, Unit};
use crate::diagnostic::{Code, Diagnostic, did_you_mean};
use crate::syntax::{
    self, CondKind, Direction, ItemKind, LiteralKind, Operand, ScoreEntry, TestEntry, TypeExpr,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Symbol {
    Field(FieldId),
    Criterion(CriterionId),
    Score(ScoreId),
}

/// The type of a term, as far as comparisons care.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Bool,
    Numeric,
    String,
    Date,
    List,
    Enum(FieldId),
    /// A literal whose type depends on what it is compared with.
    Word(String),
    /// Could not be typed; an error was already reported.
    Error,
}

/// A diagnostic already recorded, still being filled in.
struct Pending<'a>(&'a mut Diagnostic);

impl Pending<'_> {
    fn label(self, label: impl Into<String>) -> Self {
        self.0.label = Some(label.into());
        self
    }
    fn help(self, help: impl Into<String>) -> Self {
        self.0.help = Some(help.into());
        self
    }
    /// Help naming the candidate closest to `wanted` (the text at the
    /// diagnostic's span) with a quick fix; `otherwise` when none is close.
    fn suggest(self, wanted: &str, candidates: &[String], otherwise: impl Into<String>) -> Self {
        match did_you_mean(wanted, candidates.iter().map(String::as_str)) {
            Some(s) => {
                self.0.help = Some(format!("did you mean `{s}`?"));
                self.0.fix = Some(crate::diagnostic::Fix {
                    span: self.0.span,
                    replacement: s.to_string(),
                    title: None,
                });
            }
            None => self.0.help = Some(otherwise.into()),
        }
        self
    }
}

impl std::ops::Deref for Pending<'_> {
    type Target = Diagnostic;
    fn deref(&self) -> &Diagnostic {
        self.0
    }
}

impl std::ops::DerefMut for Pending<'_> {
    fn deref_mut(&mut self) -> &mut Diagnostic {
        self.0
    }
}

pub(super) struct Resolver<'a> {
    units: &'a [Unit<'a>],
    /// Unit index → file index in `policy.files` (the policy file is 0).
    file_of_unit: Vec<u32>,
    policy: Policy,
    symbols: HashMap<String, (Symbol, Loc)>,
    rule_labels: HashMap<String, RuleId>,
    /// Criteria used by rules that were dropped for an error of their own
    /// (an unknown stage): still used, so never reported as unused.
    used_by_broken_rules: HashSet<CriterionId>,
    diagnostics: Vec<Diagnostic>,
    current_unit: usize,
    /// Criteria and scores each definition refers to, for cycle detection.
    deps: HashMap<Symbol, Vec<(Symbol, Loc)>>,
    line_indexes: Vec<crate::line_index::LineIndex>,
}

impl<'a> Resolver<'a> {
    pub(super) fn run(units: &'a [Unit<'a>]) -> Checked {
        let root = units.len() - 1;
        let mut files = vec![units[root].path.clone()];
        let mut file_of_unit = vec![0; units.len()];
        for (i, unit) in units.iter().enumerate().take(root) {
            file_of_unit[i] = files.len() as u32;
            files.push(unit.path.clone());
        }
        let mut r = Resolver {
            units,
            file_of_unit,
            policy: Policy {
                files,
                ..Policy::default()
            },
            symbols: HashMap::new(),
            rule_labels: HashMap::new(),
            used_by_broken_rules: HashSet::new(),
            diagnostics: Vec::new(),
            current_unit: 0,
            deps: HashMap::new(),
            line_indexes: units
                .iter()
                .map(|u| crate::line_index::LineIndex::new(u.text))
                .collect(),
        };
        r.declare();
        r.define();
        r.check_cycles();
        r.warn_unchecked_optional();
        r.warn_unused();
        let diagnostics = r.finish_diagnostics();
        Checked {
            policy: r.policy,
            diagnostics,
        }
    }

    fn loc(&self, span: Span) -> Loc {
        Loc {
            file: self.file_of_unit[self.current_unit],
            span,
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.units[self.current_unit].path.clone()
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>) -> Pending<'_> {
        let diag = Diagnostic::new(code, self.path(), span, message);
        self.diagnostics.push(diag);
        Pending(self.diagnostics.last_mut().unwrap())
    }

    fn line_of(&self, span: Span) -> u32 {
        self.line_indexes[self.current_unit].line(span.start as usize) as u32 + 1
    }

    /// Diagnostics in the order of the text; those located in imported
    /// files are kept, for the caller to report at the import line.
    fn finish_diagnostics(&mut self) -> Vec<Diagnostic> {
        let mut out = std::mem::take(&mut self.diagnostics);
        out.sort_by_key(|d| (d.span.start, d.code));
        out
    }

    // ------------------------------------------------------------ declare

    fn declare_symbol(&mut self, name: &syntax::Name, symbol: Symbol, what: &str) -> bool {
        if let Some((_, first)) = self.symbols.get(&name.text) {
            let first = *first;
            let first_path = self.policy.path(first).to_path_buf();
            self.error(
                Code::DuplicateDefinition,
                name.span,
                format!("`{}` is defined twice", name.text),
            )
            .label(format!("second definition of this {what}"))
            .help("rename one of them; fields, criteria and scores share one set of names")
            .related
            .push(crate::diagnostic::Related {
                file: first_path,
                span: first.span,
                message: "first defined here".into(),
            });
            return false;
        }
        let loc = self.loc(name.span);
        self.symbols.insert(name.text.clone(), (symbol, loc));
        true
    }

    /// First pass: every name, so definitions may refer to later ones.
    fn declare(&mut self) {
        let mut stages_seen: Option<Loc> = None;
        let mut rule_labels_seen: HashSet<String> = HashSet::new();
        for unit_index in 0..self.units.len() {
            self.current_unit = unit_index;
            let module = self.units[unit_index].module;
            for item in &module.items {
                match &item.kind {
                    ItemKind::Field(f) => {
                        let id = self.policy.fields.len();
                        if self.declare_symbol(&f.name, Symbol::Field(id), "field") {
                            let field = self.field(f);
                            self.policy.fields.push(field);
                        }
                    }
                    ItemKind::Criterion(c) => {
                        let id = self.policy.criteria.len();
                        if self.declare_symbol(&c.name, Symbol::Criterion(id), "criterion") {
                            let loc = self.loc(c.name.span);
                            self.policy.criteria.push(Criterion {
                                name: c.name.text.clone(),
                                loc,
                                expr: Expr {
                                    kind: ExprKind::Const(false),
                                    loc,
                                },
                            });
                        }
                    }
                    ItemKind::Score(s) => {
                        let id = self.policy.scores.len();
                        if self.declare_symbol(&s.name, Symbol::Score(id), "score") {
                            let loc = self.loc(s.name.span);
                            self.policy.scores.push(Score {
                                name: s.name.text.clone(),
                                loc,
                                lines: Vec::new(),
                                cap: None,
                            });
                        }
                    }
                    ItemKind::Stages(names) => {
                        if let Some(first) = stages_seen {
                            let first_path = self.policy.path(first).to_path_buf();
                            self.error(
                                Code::DuplicateDefinition,
                                item.span,
                                "the stages are declared twice",
                            )
                            .help(
                                "keep one `stages` line listing every stage from lowest to highest",
                            )
                            .related
                            .push(crate::diagnostic::Related {
                                file: first_path,
                                span: first.span,
                                message: "first declared here".into(),
                            });
                            continue;
                        }
                        stages_seen = Some(self.loc(item.span));
                        for name in names {
                            if let Some(existing) =
                                self.policy.stages.iter().find(|s| s.name == name.text)
                            {
                                let first = existing.loc.span;
                                let here = self.path();
                                self.error(
                                    Code::DuplicateStage,
                                    name.span,
                                    format!("stage `{}` is listed twice", name.text),
                                )
                                .label("listed again here")
                                .help("each stage appears once, lowest first")
                                .related
                                .push(crate::diagnostic::Related {
                                    file: here,
                                    span: first,
                                    message: "first listed here".into(),
                                });
                                continue;
                            }
                            let loc = self.loc(name.span);
                            self.policy.stages.push(Stage {
                                name: name.text.clone(),
                                loc,
                            });
                        }
                    }
                    ItemKind::Rule(rule) => {
                        if let Some(label) = &rule.label {
                            // Ids are given when rules are defined; here only clashes matter.
                            if !rule_labels_seen.insert(label.text.clone()) {
                                self.error(
                                    Code::DuplicateDefinition,
                                    label.span,
                                    format!("two rules are named `{}`", label.text),
                                )
                                .help("give each rule its own name");
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    fn field(&mut self, f: &syntax::FieldDecl) -> Field {
        let ty = match &f.ty {
            TypeExpr::Scalar(s) => match s {
                syntax::ScalarType::Bool => FieldType::Bool,
                syntax::ScalarType::Integer => FieldType::Integer,
                syntax::ScalarType::Number => FieldType::Number,
                syntax::ScalarType::Money => FieldType::Money,
                syntax::ScalarType::String => FieldType::String,
                syntax::ScalarType::Date => FieldType::Date,
            },
            TypeExpr::List => FieldType::List,
            TypeExpr::Enum(values) => {
                let mut seen: Vec<String> = Vec::new();
                for v in values {
                    if seen.iter().any(|s| s.eq_ignore_ascii_case(&v.value)) {
                        self.error(
                            Code::DuplicateDefinition,
                            v.span,
                            format!("enum value `{}` is listed twice", v.value),
                        )
                        .help("enum values are matched ignoring case, so list each once");
                    } else {
                        seen.push(v.value.clone());
                    }
                }
                FieldType::Enum(seen)
            }
        };
        let strings =
            |v: &Vec<syntax::StringLit>| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>();
        if ty != FieldType::Bool {
            for values in [&f.true_values, &f.false_values] {
                if let Some(first) = values.first() {
                    self.error(
                        Code::OptionNotForType,
                        first.span,
                        format!(
                            "`true`/`false` spellings only apply to bool fields, and `{}` is {}",
                            f.name.text,
                            article(ty.describe())
                        ),
                    )
                    .help("remove them, or declare the field as `bool`");
                }
            }
        }
        if let Some(sep) = &f.separator {
            if ty != FieldType::List {
                self.error(
                    Code::OptionNotForType,
                    sep.span,
                    format!(
                        "`separator` only applies to list fields, and `{}` is {}",
                        f.name.text,
                        article(ty.describe())
                    ),
                )
                .help("remove it, or declare the field as `list`");
            }
        }
        let default = f.default.as_ref().and_then(|lit| {
            let value = self.lead_value(&ty, lit);
            if value.is_none() {
                self.error(
                    Code::TypeMismatch,
                    lit.span,
                    format!(
                        "`{}` is not a valid default for {} field",
                        lit.text,
                        article(ty.describe())
                    ),
                )
                .help("give a default of the field's own type");
            }
            value
        });
        Field {
            name: f.name.text.clone(),
            loc: self.loc(f.name.span),
            column: f
                .column
                .as_ref()
                .map_or_else(|| f.name.text.clone(), |c| c.value.clone()),
            ty,
            optional: f.optional,
            key: f.key,
            missing: strings(&f.missing),
            true_values: strings(&f.true_values),
            false_values: strings(&f.false_values),
            separator: f
                .separator
                .as_ref()
                .map_or_else(|| ";".to_string(), |s| s.value.clone()),
            default,
        }
    }

    // ------------------------------------------------------------ define

    fn define(&mut self) {
        let mut criterion_index = 0;
        let mut score_index = 0;
        let root = self.units.len() - 1;
        let mut columns: HashMap<String, Loc> = HashMap::new();
        for field in self.policy.fields.clone().iter() {
            if let Some(first) = columns.get(&field.column) {
                let path = self.policy.path(field.loc).to_path_buf();
                let first_path = self.policy.path(*first).to_path_buf();
                let diag = Diagnostic::new(
                    Code::DuplicateColumn,
                    path,
                    field.loc.span,
                    format!(
                        "`{}` reads column \"{}\", which another field already reads",
                        field.name, field.column
                    ),
                )
                .help("point each field at its own column with `from \"…\"`")
                .related(first_path, first.span, "that field is declared here");
                self.diagnostics.push(diag);
            } else {
                columns.insert(field.column.clone(), field.loc);
            }
        }
        for unit_index in 0..self.units.len() {
            self.current_unit = unit_index;
            let module = self.units[unit_index].module;
            for item in &module.items {
                match &item.kind {
                    // Duplicates were not declared: skip them here too.
                    ItemKind::Criterion(c)
                        if self.symbols.get(&c.name.text).map(|s| s.0)
                            == Some(Symbol::Criterion(criterion_index)) =>
                    {
                        let owner = Symbol::Criterion(criterion_index);
                        let expr = self.cond(&c.condition, owner);
                        self.policy.criteria[criterion_index].expr = expr;
                        criterion_index += 1;
                    }
                    ItemKind::Score(s)
                        if self.symbols.get(&s.name.text).map(|s| s.0)
                            == Some(Symbol::Score(score_index)) =>
                    {
                        self.score(score_index, s);
                        score_index += 1;
                    }
                    ItemKind::Otherwise(name) => {
                        if self.policy.otherwise.is_some() {
                            self.error(Code::MultipleOtherwise, item.span, "the policy says `otherwise` twice")
                                .help("keep one `otherwise` line: it names the stage of leads no rule matches");
                        } else if let Some(stage) = self.stage(name) {
                            self.policy.otherwise = Some(stage);
                        }
                    }
                    ItemKind::Rule(rule) => self.rule(rule, item.span),
                    ItemKind::Require(require) => {
                        // Like a rule, a requirement is not a node of the dependency graph.
                        let owner = Symbol::Criterion(usize::MAX);
                        let expr = self.cond(&require.condition, owner);
                        if let Some(stage) = self.stage(&require.stage) {
                            let loc = self.loc(item.span);
                            self.policy
                                .requirements
                                .push(Requirement { stage, expr, loc });
                        }
                    }
                    _ => {}
                }
            }
        }
        // Rule labels, for tests' `expect rule`; a duplicate label keeps its
        // first rule.
        self.rule_labels = self
            .policy
            .rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.label.clone().map(|l| (l, i)))
            .fold(HashMap::new(), |mut m, (l, i)| {
                m.entry(l).or_insert(i);
                m
            });
        if !self.policy.rules.is_empty() && self.policy.stages.is_empty() {
            let first = self.policy.rules[0].loc;
            let path = self.policy.path(first).to_path_buf();
            self.diagnostics.push(
                Diagnostic::new(
                    Code::NoStages,
                    path,
                    first.span,
                    "rules conclude stages, but no stages are declared",
                )
                .help("declare them lowest first, e.g. `stages unqualified < MQL < SQL`"),
            );
        }
        self.current_unit = root;
        for item in &self.units[root].module.items {
            if let ItemKind::Test(test) = &item.kind {
                self.test(test, item.span);
            }
        }
    }

    fn rule_by_name(&mut self, name: &syntax::Name) -> Option<RuleId> {
        if let Some(&id) = self.rule_labels.get(&name.text) {
            return Some(id);
        }
        let labels: Vec<String> = self.rule_labels.keys().cloned().collect();
        self.error(
            Code::UnknownRule,
            name.span,
            format!("no rule or stage is named `{}`", name.text),
        )
        .suggest(
            &name.text,
            &labels,
            "name a rule with `rule NAME: condition => Stage`, or give a stage",
        );
        None
    }

    fn stage(&mut self, name: &syntax::Name) -> Option<StageId> {
        if let Some(id) = self.policy.stage_by_name(&name.text) {
            return Some(id);
        }
        if self.policy.stages.is_empty() {
            return None; // reported once as NoStages
        }
        let names: Vec<String> = self.policy.stages.iter().map(|s| s.name.clone()).collect();
        // `=> at mots SQL`: a misspelt ceiling reads as one long stage name.
        let mut words = name.text.splitn(3, ' ');
        if let (Some("at"), Some(_), Some(rest)) = (words.next(), words.next(), words.next()) {
            if let Some(stage) = self.policy.stage_by_name(rest) {
                let ceiling = format!("at most {}", self.policy.stages[stage].name);
                let path = self.policy.path(self.loc(name.span)).to_path_buf();
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnknownStage,
                        path,
                        name.span,
                        format!("unknown stage `{}`", name.text),
                    )
                    .label("not a declared stage")
                    .help(format!("did you mean the ceiling `{ceiling}`?"))
                    .fix(name.span, ceiling),
                );
                return None;
            }
        }
        let otherwise = format!("the declared stages are: {}", names.join(", "));
        self.error(
            Code::UnknownStage,
            name.span,
            format!("unknown stage `{}`", name.text),
        )
        .label("not a declared stage")
        .suggest(&name.text, &names, otherwise);
        None
    }

    fn rule(&mut self, rule: &syntax::RuleDecl, span: Span) {
        let owner = Symbol::Criterion(usize::MAX); // rules are not nodes of the dependency graph
        let expr = self.cond(&rule.condition, owner);
        let Some(stage) = self.stage(&rule.stage) else {
            walk(&expr, &mut |x| {
                if let ExprKind::Criterion(c) = x.kind {
                    self.used_by_broken_rules.insert(c);
                }
            });
            // Keep rule indices aligned with the source so tests resolve;
            // an unknown stage was reported.
            let line = self.line_of(span);
            self.policy.rules.push(Rule {
                label: rule.label.as_ref().map(|l| l.text.clone()),
                loc: self.loc(span),
                expr: Expr {
                    kind: ExprKind::Const(false),
                    loc: self.loc(span),
                },
                stage: 0,
                stage_loc: self.loc(rule.stage.span),
                ceiling: rule.ceiling.is_some(),
                reason: None,
                line,
                positional_name: format!("the rule on line {line}"),
            });
            return;
        };
        let line = self.line_of(span);
        let ceiling = rule.ceiling.is_some();
        let positional_name = positional_rule_name(
            &self.policy.rules,
            stage,
            &self.policy.stages[stage].name,
            ceiling,
        );
        self.policy.rules.push(Rule {
            label: rule.label.as_ref().map(|l| l.text.clone()),
            loc: self.loc(span),
            expr,
            stage,
            stage_loc: self.loc(rule.stage.span),
            ceiling,
            reason: rule.reason.as_ref().map(|r| r.value.clone()),
            line,
            positional_name,
        });
        if let Some(overrides) = rule.overrides {
            self.warn_overrides(rule, overrides);
        }
    }

    /// `overrides` once marked an overlap between rules as reviewed; the
    /// analysis no longer reports overlaps, so it means nothing now.
    fn warn_overrides(&mut self, rule: &syntax::RuleDecl, overrides: Span) {
        let before = rule.reason.as_ref().map_or(rule.stage.span, |r| r.span);
        let path = self.policy.path(self.loc(overrides)).to_path_buf();
        self.diagnostics.push(
            Diagnostic::new(
                Code::ObsoleteOverrides,
                path,
                overrides,
                "`overrides` is no longer needed: rules that match the same lead are never reported",
            )
            .label("has no effect")
            .help(
                "delete it; when several rules match a lead, the highest stage wins, and a \
                 disqualifier is written as a ceiling: `… => at most STAGE`",
            )
            .titled_fix(
                Span::new(before.end as usize, overrides.end as usize),
                "",
                "Delete the `overrides` clause",
            ),
        );
    }

    /// `within N days` counts dates on both sides of the evaluation date,
    /// which is seldom what a policy means: offer both directions.
    fn warn_undirected_within(&mut self, at: Span, days: u32) {
        let written = Direction::Either.phrase(days);
        let last = Direction::Last.phrase(days);
        let next = Direction::Next.phrase(days);
        let path = self.path();
        self.diagnostics.push(
            Diagnostic::new(
                Code::UndirectedWithin,
                path,
                at,
                format!(
                    "`{written}` looks both ways: a date up to {days} {} before or after the \
                     evaluation date meets it",
                    if days == 1 { "day" } else { "days" }
                ),
            )
            .label("before or after the evaluation date")
            .help(format!(
                "say which you mean: `{last}` for a date in the past (recent activity), \
                 `{next}` for one ahead (an expected close)"
            ))
            .titled_fix(at, last.clone(), format!("Change to `{last}`"))
            .also_fix(at, next.clone(), format!("Change to `{next}`")),
        );
    }

    fn score(&mut self, id: ScoreId, decl: &syntax::ScoreDecl) {
        let owner = Symbol::Score(id);
        for entry in &decl.entries {
            match entry {
                ScoreEntry::Points(line) => {
                    let (per, cap, when) = match &line.kind {
                        syntax::PointKind::When(c) => (None, None, Some(self.cond(c, owner))),
                        syntax::PointKind::Per { field, cap, when } => {
                            let per = self.numeric_field(field, "per");
                            let when = when.as_ref().map(|c| self.cond(c, owner));
                            (per, cap.as_ref().map(|c| c.value.abs()), when)
                        }
                    };
                    let loc = self.loc(line.span);
                    self.policy.scores[id].lines.push(PointLine {
                        points: line.points.value,
                        per,
                        cap,
                        when,
                        loc,
                    });
                }
                ScoreEntry::Cap { value, .. } => self.policy.scores[id].cap = Some(value.value),
                ScoreEntry::Error { .. } => {}
            }
        }
    }

    fn numeric_field(&mut self, name: &syntax::Name, what: &str) -> Option<FieldId> {
        match self.lookup(name, &[]) {
            Some(Symbol::Field(f)) if self.policy.fields[f].ty.is_numeric() => Some(f),
            Some(_) => {
                let ty = self.describe_name(name);
                self.error(
                    Code::OperatorNotForType,
                    name.span,
                    format!("`{what}` needs a number field, and `{}` is {ty}", name.text),
                )
                .help("points `per` a field multiply by its value: use an integer, number or money field");
                None
            }
            None => None,
        }
    }

    fn describe_name(&self, name: &syntax::Name) -> String {
        match self.symbols.get(&name.text).map(|s| s.0) {
            Some(Symbol::Field(f)) => article(self.policy.fields[f].ty.describe()).to_string(),
            Some(Symbol::Criterion(_)) => "a criterion".into(),
            Some(Symbol::Score(_)) => "a score".into(),
            None => "unknown".into(),
        }
    }

    /// Resolve a name among fields, criteria and scores, reporting an unknown
    /// one with the closest match. `extra` are other acceptable spellings
    /// (enum values) offered in the suggestion.
    fn lookup(&mut self, name: &syntax::Name, extra: &[String]) -> Option<Symbol> {
        if let Some((symbol, _)) = self.symbols.get(&name.text) {
            return Some(*symbol);
        }
        let mut candidates: Vec<String> = self.symbols.keys().cloned().collect();
        candidates.sort();
        candidates.extend(extra.iter().cloned());
        self.error(
            Code::UnknownName,
            name.span,
            format!("unknown name `{}`", name.text),
        )
        .label("not a field, criterion or score")
        .suggest(
            &name.text,
            &candidates,
            "declare it with `field NAME: TYPE` or `criterion NAME: condition`",
        );
        None
    }

    fn add_dep(&mut self, owner: Symbol, target: Symbol, span: Span) {
        let loc = self.loc(span);
        if owner != Symbol::Criterion(usize::MAX) {
            self.deps.entry(owner).or_default().push((target, loc));
        }
    }

    // ------------------------------------------------------------ conditions

    fn cond(&mut self, c: &syntax::Cond, owner: Symbol) -> Expr {
        let loc = self.loc(c.span);
        let kind = match &c.kind {
            CondKind::And(parts) => {
                ExprKind::And(parts.iter().map(|p| self.cond(p, owner)).collect())
            }
            CondKind::Or(parts) => {
                ExprKind::Or(parts.iter().map(|p| self.cond(p, owner)).collect())
            }
            CondKind::Not(inner) => ExprKind::Not(Box::new(self.cond(inner, owner))),
            CondKind::Paren(inner) => return self.cond(inner, owner),
            CondKind::AtLeast { n, n_span, items } => {
                if *n == 0 || *n as usize > items.len() {
                    let message = if *n == 0 {
                        "`at least 0 of` always holds".to_string()
                    } else {
                        format!("`at least {n} of` a list of {} can never hold", items.len())
                    };
                    let label = if *n == 0 {
                        "must be at least 1".to_string()
                    } else {
                        format!(
                            "the list has {} item{}",
                            items.len(),
                            if items.len() == 1 { "" } else { "s" }
                        )
                    };
                    self.error(Code::AtLeastTooLarge, *n_span, message)
                        .label(label)
                        .help(format!("use a number from 1 to {}", items.len()));
                }
                ExprKind::AtLeast {
                    n: *n,
                    items: items.iter().map(|p| self.cond(p, owner)).collect(),
                }
            }
            CondKind::Is(op) => self.bare(op, owner),
            CondKind::Known(op) | CondKind::Unknown(op) => {
                let known = matches!(c.kind, CondKind::Known(_));
                match op {
                    Operand::Name(name) => match self.lookup(name, &[]) {
                        Some(Symbol::Field(f)) => {
                            if known {
                                ExprKind::Known(f)
                            } else {
                                ExprKind::Unknown(f)
                            }
                        }
                        Some(symbol) => {
                            let what = if matches!(symbol, Symbol::Score(_)) {
                                "a score"
                            } else {
                                "a criterion"
                            };
                            self.error(
                                Code::KnownOnNonField,
                                c.span,
                                format!("`{}` is {what}, which always has a value", name.text),
                            )
                            .help("`known` and `unknown` test whether a field's value is present in the lead");
                            ExprKind::Const(known)
                        }
                        None => ExprKind::Const(false),
                    },
                    Operand::Literal(lit) => {
                        self.error(
                            Code::KnownOnNonField,
                            lit.span,
                            "`known` and `unknown` apply to fields",
                        )
                        .help("write the field's name before `known`");
                        ExprKind::Const(known)
                    }
                }
            }
            CondKind::Compare {
                lhs,
                op,
                op_span,
                rhs,
                ignore_case,
            } => self.compare(lhs, *op, *op_span, rhs, *ignore_case, owner),
            CondKind::In {
                lhs,
                negated,
                values,
                ignore_case,
            } => {
                let (term, ty) = self.term(lhs, None, owner);
                let mut converted = Vec::new();
                for v in values {
                    if let Some(value) = self.literal_for(&ty, v) {
                        converted.push(value);
                    }
                }
                if matches!(ty, Ty::Bool | Ty::List) {
                    self.error(
                        Code::OperatorNotForType,
                        c.span,
                        format!(
                            "`in {{…}}` does not apply to {}",
                            ty_words(&ty, &self.policy)
                        ),
                    )
                    .help("use `in` with enum, string, number or date fields");
                }
                let inner = Expr {
                    kind: ExprKind::In {
                        lhs: term,
                        values: converted,
                        ignore_case: *ignore_case,
                    },
                    loc,
                };
                if *negated {
                    ExprKind::Not(Box::new(inner))
                } else {
                    return inner;
                }
            }
            CondKind::Between { lhs, low, high } => {
                let (lt, lty) = self.term(lhs, None, owner);
                if !matches!(lty, Ty::Numeric | Ty::Date | Ty::Error) {
                    self.error(
                        Code::OperatorNotForType,
                        c.span,
                        format!(
                            "`between` needs a number or a date, and this is {}",
                            ty_words(&lty, &self.policy)
                        ),
                    )
                    .help("compare numbers, money, scores or dates with `between`");
                }
                let (low_t, low_ty) = self.term(low, Some(&lty), owner);
                let (high_t, high_ty) = self.term(high, Some(&lty), owner);
                self.expect_same(&lty, &low_ty, low.span());
                self.expect_same(&lty, &high_ty, high.span());
                if let (Term::Const(Value::Num(a)), Term::Const(Value::Num(b))) = (&low_t, &high_t)
                {
                    if a > b {
                        self.error(
                            Code::TypeMismatch,
                            c.span,
                            format!(
                                "`between {} and {}` is empty: the lower bound comes second",
                                format_number(*a),
                                format_number(*b)
                            ),
                        )
                        .help("write the smaller bound first");
                    }
                }
                ExprKind::And(vec![
                    Expr {
                        kind: ExprKind::Cmp {
                            lhs: lt.clone(),
                            op: CmpOp::Ge,
                            rhs: low_t,
                            ignore_case: false,
                        },
                        loc,
                    },
                    Expr {
                        kind: ExprKind::Cmp {
                            lhs: lt,
                            op: CmpOp::Le,
                            rhs: high_t,
                            ignore_case: false,
                        },
                        loc,
                    },
                ])
            }
            CondKind::Text {
                lhs,
                op,
                rhs,
                ignore_case,
            } => {
                let (term, ty) = self.term(lhs, None, owner);
                let field = match (&term, &ty) {
                    (Term::Field(f), Ty::String) => Some(*f),
                    (Term::Field(f), Ty::List) if *op == syntax::TextOp::Contains => Some(*f),
                    (_, Ty::Error) => None,
                    _ => {
                        self.error(
                            Code::OperatorNotForType,
                            c.span,
                            format!(
                                "`{}` does not apply to {}",
                                op.words(),
                                ty_words(&ty, &self.policy)
                            ),
                        )
                        .help("text tests apply to string fields (and `contains` to list fields)");
                        None
                    }
                };
                let value = match rhs {
                    Operand::Literal(syntax::Literal {
                        kind: LiteralKind::String(s),
                        ..
                    }) => Some(s.clone()),
                    other => {
                        self.error(
                            Code::TypeMismatch,
                            other.span(),
                            format!("`{}` needs quoted text to look for", op.words()),
                        )
                        .help(format!("write e.g. `{} \"vp\"`", op.words()));
                        None
                    }
                };
                match (field, value) {
                    (Some(field), Some(value)) => ExprKind::Text {
                        field,
                        op: *op,
                        value,
                        ignore_case: *ignore_case,
                    },
                    _ => ExprKind::Const(false),
                }
            }
            CondKind::Within {
                lhs,
                days,
                direction,
                test_span,
            } => {
                let (term, ty) = self.term(lhs, None, owner);
                match (term, ty) {
                    (Term::Field(field), Ty::Date) => {
                        if *direction == Direction::Either {
                            self.warn_undirected_within(*test_span, *days);
                        }
                        ExprKind::Within {
                            field,
                            days: *days,
                            direction: *direction,
                        }
                    }
                    (_, Ty::Error) => ExprKind::Const(false),
                    (_, ty) => {
                        self.error(
                            Code::OperatorNotForType,
                            c.span,
                            format!(
                                "`within … days` needs a date field, and this is {}",
                                ty_words(&ty, &self.policy)
                            ),
                        )
                        .help("use `within` on a date such as `last activity within the last 30 days`");
                        ExprKind::Const(false)
                    }
                }
            }
        };
        Expr { kind, loc }
    }

    fn bare(&mut self, op: &Operand, owner: Symbol) -> ExprKind {
        match op {
            Operand::Literal(syntax::Literal {
                kind: LiteralKind::Bool(b),
                ..
            }) => ExprKind::Const(*b),
            Operand::Literal(lit) => {
                self.error(
                    Code::NotACondition,
                    lit.span,
                    format!("`{}` is a value, not a condition", lit.text),
                )
                .help("compare it with a field, e.g. `company size > 100`");
                ExprKind::Const(false)
            }
            Operand::Name(name) => match self.lookup(name, &[]) {
                Some(Symbol::Field(f)) => {
                    let field = &self.policy.fields[f];
                    if field.ty == FieldType::Bool {
                        ExprKind::BoolField(f)
                    } else {
                        let ty = field.ty.describe();
                        let example = match &field.ty {
                            FieldType::Enum(values) => format!(
                                "`{} = {}`",
                                name.text,
                                values
                                    .first()
                                    .map(|v| crate::syntax::format::enum_value(v))
                                    .unwrap_or_default()
                            ),
                            FieldType::String | FieldType::List => {
                                format!("`{} contains \"…\"` or `{} known`", name.text, name.text)
                            }
                            FieldType::Date => format!("`{} within the last 30 days`", name.text),
                            _ => format!("`{} > 100` or `{} known`", name.text, name.text),
                        };
                        self.error(
                            Code::NotACondition,
                            name.span,
                            format!("`{}` is {}, not a yes/no condition", name.text, article(ty)),
                        )
                        .label("needs a comparison")
                        .help(format!("compare it, e.g. {example}"));
                        ExprKind::Const(false)
                    }
                }
                Some(Symbol::Criterion(c)) => {
                    self.add_dep(owner, Symbol::Criterion(c), name.span);
                    ExprKind::Criterion(c)
                }
                Some(Symbol::Score(s)) => {
                    self.add_dep(owner, Symbol::Score(s), name.span);
                    self.error(
                        Code::NotACondition,
                        name.span,
                        format!("`{}` is a score, not a yes/no condition", name.text),
                    )
                    .help(format!(
                        "compare it with a threshold, e.g. `{} >= 50`",
                        name.text
                    ));
                    ExprKind::Const(false)
                }
                None => ExprKind::Const(false),
            },
        }
    }

    fn compare(
        &mut self,
        lhs: &Operand,
        op: CmpOp,
        op_span: Span,
        rhs: &Operand,
        ignore_case: bool,
        owner: Symbol,
    ) -> ExprKind {
        let (lt, lty) = self.term(lhs, None, owner);
        let (rt, rty) = self.term(rhs, Some(&lty), owner);
        // A bare word on the left (rare) takes its type from the right.
        let (lt, lty) = if matches!(lty, Ty::Word(_)) {
            self.term(lhs, Some(&rty), owner)
        } else {
            (lt, lty)
        };
        let ordered = !matches!(op, CmpOp::Eq | CmpOp::Ne);
        if ordered {
            for ty in [&lty, &rty] {
                if !matches!(ty, Ty::Numeric | Ty::Date | Ty::Error) {
                    self.error(
                        Code::OperatorNotForType,
                        op_span,
                        format!(
                            "`{}` compares numbers or dates, but this is {}",
                            op.symbol(),
                            ty_words(ty, &self.policy)
                        ),
                    )
                    .help(match ty {
                        Ty::Enum(_) => "use `=` or `in { … }` with enum values",
                        Ty::String => "use `=`, `contains` or `starts with` with text",
                        _ => "use `=` or `!=`",
                    });
                    return ExprKind::Const(false);
                }
            }
        }
        if !self.expect_same(&lty, &rty, rhs.span()) {
            return ExprKind::Const(false);
        }
        ExprKind::Cmp {
            lhs: lt,
            op,
            rhs: rt,
            ignore_case,
        }
    }

    /// Report a type mismatch between two sides; true when they fit.
    fn expect_same(&mut self, left: &Ty, right: &Ty, span: Span) -> bool {
        let fits = match (left, right) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::Enum(a), Ty::Enum(b)) => a == b,
            (a, b) => a == b,
        };
        if !fits {
            let (l, r) = (ty_words(left, &self.policy), ty_words(right, &self.policy));
            let help = match left {
                Ty::Enum(f) => match &self.policy.fields[*f].ty {
                    FieldType::Enum(values) => format!(
                        "`{}` takes one of: {}",
                        self.policy.fields[*f].name,
                        values
                            .iter()
                            .map(|v| crate::syntax::format::enum_value(v))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    _ => String::new(),
                },
                Ty::Numeric => "compare numbers with numbers, e.g. `company size > 500`".into(),
                Ty::Date => "write dates as YYYY-MM-DD, or use `within the last N days`".into(),
                Ty::Bool => "compare with `true` or `false`, or use the field on its own".into(),
                _ => "compare values of the same type".into(),
            };
            self.error(
                Code::TypeMismatch,
                span,
                format!("cannot compare {l} with {r}"),
            )
            .label(format!("this is {r}"))
            .help(help);
        }
        fits
    }

    /// Resolve an operand to a term and its type. `expected` is the type of
    /// the other side, used to read bare words as enum values.
    fn term(&mut self, op: &Operand, expected: Option<&Ty>, owner: Symbol) -> (Term, Ty) {
        match op {
            Operand::Name(name) => {
                if let Some(Ty::Enum(f)) = expected {
                    if !self.symbols.contains_key(&name.text) {
                        let lit = syntax::Literal {
                            kind: LiteralKind::Word(name.text.clone()),
                            text: name.text.clone(),
                            span: name.span,
                        };
                        return match self.enum_value(*f, &lit) {
                            Some(v) => (Term::Const(v), Ty::Enum(*f)),
                            None => (Term::Const(Value::Bool(false)), Ty::Error),
                        };
                    }
                }
                // The other side is already an error (a typo): a bare word
                // here is most likely a value of it, not a second mistake.
                if expected == Some(&Ty::Error) && !self.symbols.contains_key(&name.text) {
                    return (Term::Const(Value::Bool(false)), Ty::Error);
                }
                if expected == Some(&Ty::String) && !self.symbols.contains_key(&name.text) {
                    self.error(
                        Code::UnknownName,
                        name.span,
                        format!("unknown name `{}`", name.text),
                    )
                    .label("not a field, criterion or score")
                    .help(format!(
                        "to compare with the text {0}, quote it: \"{0}\"",
                        name.text
                    ));
                    return (Term::Const(Value::Bool(false)), Ty::Error);
                }
                match self.lookup(name, &[]) {
                    Some(Symbol::Field(f)) => {
                        let ty = match &self.policy.fields[f].ty {
                            FieldType::Bool => Ty::Bool,
                            FieldType::Integer | FieldType::Number | FieldType::Money => {
                                Ty::Numeric
                            }
                            FieldType::String => Ty::String,
                            FieldType::Date => Ty::Date,
                            FieldType::List => Ty::List,
                            FieldType::Enum(_) => Ty::Enum(f),
                        };
                        (Term::Field(f), ty)
                    }
                    Some(Symbol::Score(s)) => {
                        self.add_dep(owner, Symbol::Score(s), name.span);
                        (Term::Score(s), Ty::Numeric)
                    }
                    Some(Symbol::Criterion(c)) => {
                        self.add_dep(owner, Symbol::Criterion(c), name.span);
                        self.error(
                            Code::TypeMismatch,
                            name.span,
                            format!(
                                "`{}` is a criterion: it holds or not, it has no value to compare",
                                name.text
                            ),
                        )
                        .help(format!(
                            "use it on its own (`{}`) or negated (`not {}`)",
                            name.text, name.text
                        ));
                        (Term::Const(Value::Bool(false)), Ty::Error)
                    }
                    None => (Term::Const(Value::Bool(false)), Ty::Error),
                }
            }
            Operand::Literal(lit) => {
                let ty = expected.cloned().unwrap_or(Ty::Error);
                match self.literal_for(&ty, lit) {
                    Some(value) => {
                        let vty = literal_ty(&ty, lit);
                        (Term::Const(value), vty)
                    }
                    None => (Term::Const(Value::Bool(false)), Ty::Error),
                }
            }
        }
    }

    fn enum_value(&mut self, field: FieldId, lit: &syntax::Literal) -> Option<Value> {
        let FieldType::Enum(values) = self.policy.fields[field].ty.clone() else {
            return None;
        };
        let text = match &lit.kind {
            LiteralKind::Word(w) => w.as_str(),
            LiteralKind::String(s) => s.as_str(),
            _ => {
                let field_name = self.policy.fields[field].name.clone();
                self.error(
                    Code::TypeMismatch,
                    lit.span,
                    format!(
                        "`{field_name}` is an enum, and `{}` is not one of its values",
                        lit.text
                    ),
                )
                .help(format!(
                    "`{field_name}` takes one of: {}",
                    values
                        .iter()
                        .map(|v| crate::syntax::format::enum_value(v))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return None;
            }
        };
        if let Some(i) = values.iter().position(|v| v.eq_ignore_ascii_case(text)) {
            return Some(Value::Enum(i as u32));
        }
        let values = values.clone();
        let field_name = self.policy.fields[field].name.clone();
        let suggestion = did_you_mean(text, values.iter().map(|s| s.as_str())).map(str::to_string);
        let mut diag = self.error(
            Code::UnknownEnumValue,
            lit.span,
            format!("`{text}` is not a value of `{field_name}`"),
        );
        diag.label = Some("not in the enum".into());
        match suggestion {
            Some(s) => {
                let replacement = crate::syntax::format::enum_value(&s);
                diag.help = Some(format!("did you mean `{replacement}`?"));
                diag.fix = Some(crate::diagnostic::Fix {
                    span: lit.span,
                    replacement,
                    title: None,
                });
            }
            None => {
                diag.help = Some(format!(
                    "`{field_name}` takes one of: {}",
                    values
                        .iter()
                        .map(|v| crate::syntax::format::enum_value(v))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
        None
    }

    /// Convert a literal to a value of type `ty`, reporting a mismatch.
    fn literal_for(&mut self, ty: &Ty, lit: &syntax::Literal) -> Option<Value> {
        match (ty, &lit.kind) {
            (Ty::Enum(f), _) => self.enum_value(*f, lit),
            (_, LiteralKind::Date(text)) => match date_from_ymd(text) {
                Some(d) => Some(Value::Date(d)),
                None => {
                    self.error(
                        Code::InvalidLiteral,
                        lit.span,
                        format!("`{text}` is not a calendar date"),
                    )
                    .help("write dates as YYYY-MM-DD, e.g. 2026-01-31");
                    None
                }
            },
            (_, LiteralKind::Number(n)) | (_, LiteralKind::Money(n)) => Some(Value::Num(*n)),
            (_, LiteralKind::Bool(b)) => Some(Value::Bool(*b)),
            (_, LiteralKind::String(s)) => Some(Value::Str(s.clone())),
            (Ty::String, LiteralKind::Word(w)) => Some(Value::Str(w.clone())),
            (_, LiteralKind::Word(w)) => {
                self.error(Code::UnknownName, lit.span, format!("unknown name `{w}`"))
                    .help("quote text values: \"…\"; enum values are only bare words next to an enum field");
                None
            }
            (_, LiteralKind::List(items)) => Some(Value::List(items.clone())),
        }
    }

    // ------------------------------------------------------------ tests

    fn lead_value(&mut self, ty: &FieldType, lit: &syntax::Literal) -> Option<Value> {
        match (ty, &lit.kind) {
            (FieldType::Bool, LiteralKind::Bool(b)) => Some(Value::Bool(*b)),
            (FieldType::Integer, LiteralKind::Number(n)) if n.fract() == 0.0 => {
                Some(Value::Num(*n))
            }
            (
                FieldType::Number | FieldType::Money,
                LiteralKind::Number(n) | LiteralKind::Money(n),
            ) => Some(Value::Num(*n)),
            (FieldType::String, LiteralKind::String(s) | LiteralKind::Word(s)) => {
                Some(Value::Str(s.clone()))
            }
            (FieldType::Date, LiteralKind::Date(d)) => date_from_ymd(d).map(Value::Date),
            (FieldType::List, LiteralKind::List(items)) => Some(Value::List(items.clone())),
            (FieldType::List, LiteralKind::String(s)) => Some(Value::List(vec![s.clone()])),
            (FieldType::Enum(values), LiteralKind::Word(s) | LiteralKind::String(s)) => values
                .iter()
                .position(|v| v.eq_ignore_ascii_case(s))
                .map(|i| Value::Enum(i as u32)),
            _ => None,
        }
    }

    fn test(&mut self, decl: &syntax::TestDecl, span: Span) {
        let mut test = Test {
            name: decl.name.value.clone(),
            loc: self.loc(span),
            lead: Vec::new(),
            expect_stage: None,
            expect_scores: Vec::new(),
            expect_rule: None,
            as_of: None,
        };
        let mut has_lead = false;
        for entry in &decl.entries {
            match entry {
                TestEntry::Lead { values, .. } => {
                    has_lead = true;
                    for v in values {
                        let Some(f) = self.policy.field_by_name(&v.field.text) else {
                            let names: Vec<String> =
                                self.policy.fields.iter().map(|f| f.name.clone()).collect();
                            self.error(
                                Code::UnknownTestField,
                                v.field.span,
                                format!("the schema has no field `{}`", v.field.text),
                            )
                            .suggest(
                                &v.field.text,
                                &names,
                                "test leads may only set declared fields",
                            );
                            continue;
                        };
                        let ty = self.policy.fields[f].ty.clone();
                        match self.lead_value(&ty, &v.value) {
                            Some(value) => test.lead.push((f, value)),
                            None => {
                                if let (
                                    FieldType::Enum(_),
                                    LiteralKind::Word(_) | LiteralKind::String(_),
                                ) = (&ty, &v.value.kind)
                                {
                                    self.enum_value(f, &v.value);
                                } else {
                                    let expected = match &ty {
                                        FieldType::Bool => "true or false".to_string(),
                                        FieldType::Integer => "a whole number".to_string(),
                                        FieldType::Number | FieldType::Money => {
                                            "a number".to_string()
                                        }
                                        FieldType::String => "quoted text".to_string(),
                                        FieldType::Date => "a date (YYYY-MM-DD)".to_string(),
                                        FieldType::List => {
                                            "a list such as [\"a\", \"b\"]".to_string()
                                        }
                                        FieldType::Enum(_) => "an enum value".to_string(),
                                    };
                                    let name = self.policy.fields[f].name.clone();
                                    self.error(
                                        Code::TestValueType,
                                        v.value.span,
                                        format!(
                                            "`{name}` is {}, so `{}` does not fit",
                                            article(ty.describe()),
                                            v.value.text
                                        ),
                                    )
                                    .label(format!("expected {expected}"))
                                    .help(format!("give `{name}` {expected}"));
                                }
                            }
                        }
                    }
                }
                TestEntry::ExpectStage(name) => {
                    if let Some(stage) = self.stage(name) {
                        test.expect_stage = Some(Some(stage));
                    }
                }
                TestEntry::ExpectNoStage { .. } => test.expect_stage = Some(None),
                TestEntry::ExpectScore { score, value, .. } => {
                    match self.policy.score_by_name(&score.text) {
                        Some(id) => test.expect_scores.push((id, value.value)),
                        None => {
                            let names: Vec<String> =
                                self.policy.scores.iter().map(|s| s.name.clone()).collect();
                            self.error(
                                Code::UnknownScore,
                                score.span,
                                format!("no score is named `{}`", score.text),
                            )
                            .suggest(
                                &score.text,
                                &names,
                                "declare scores with `score NAME { … }`",
                            );
                        }
                    }
                }
                TestEntry::ExpectRule(name) => {
                    if let Some(id) = self.rule_by_name(name) {
                        test.expect_rule = Some(id);
                    }
                }
                TestEntry::AsOf(lit) => {
                    test.as_of = self.literal_for(&Ty::Date, lit).and_then(|v| match v {
                        Value::Date(d) => Some(d),
                        _ => None,
                    })
                }
                TestEntry::Error { .. } => {}
            }
        }
        let has_expectation = decl.entries.iter().any(|e| {
            matches!(
                e,
                TestEntry::ExpectStage(_)
                    | TestEntry::ExpectNoStage { .. }
                    | TestEntry::ExpectScore { .. }
                    | TestEntry::ExpectRule(_)
            )
        });
        let has_syntax_error = decl
            .entries
            .iter()
            .any(|e| matches!(e, TestEntry::Error { .. }));
        if (!has_lead || !has_expectation) && !has_syntax_error {
            let missing = if !has_lead {
                "`lead { … }`"
            } else {
                "`expect` line"
            };
            self.error(Code::EmptyTest, decl.name.span, format!("test \"{}\" has no {missing}", decl.name.value))
                .help("a test gives a lead and what to expect, e.g. `lead { budget: 5000 }` and `expect SQL`");
        }
        self.policy.tests.push(test);
    }

    // ------------------------------------------------------------ whole-policy checks

    fn check_cycles(&mut self) {
        let nodes: Vec<Symbol> = (0..self.policy.criteria.len())
            .map(Symbol::Criterion)
            .chain((0..self.policy.scores.len()).map(Symbol::Score))
            .collect();
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks: HashMap<Symbol, Mark> = nodes.iter().map(|&n| (n, Mark::New)).collect();
        let mut reported: HashSet<Symbol> = HashSet::new();
        let mut score_order = Vec::new();
        // Iterative DFS: the dependency graph can be deep.
        for &start in &nodes {
            if marks[&start] != Mark::New {
                continue;
            }
            let mut stack: Vec<(Symbol, usize)> = vec![(start, 0)];
            marks.insert(start, Mark::Active);
            while let Some((node, next)) = stack.pop() {
                let deps = self.deps.get(&node).cloned().unwrap_or_default();
                if next < deps.len() {
                    stack.push((node, next + 1));
                    let (dep, at) = deps[next];
                    match marks.get(&dep).copied().unwrap_or(Mark::Done) {
                        Mark::New => {
                            marks.insert(dep, Mark::Active);
                            stack.push((dep, 0));
                        }
                        Mark::Active => {
                            let cycle_start =
                                stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                            let cycle: Vec<Symbol> =
                                stack[cycle_start..].iter().map(|(n, _)| *n).collect();
                            if cycle.iter().any(|n| reported.contains(n)) {
                                continue;
                            }
                            reported.extend(cycle.iter().copied());
                            let names: Vec<String> = cycle
                                .iter()
                                .chain([&dep])
                                .map(|s| self.symbol_name(*s))
                                .collect();
                            let has_score = cycle.iter().any(|s| matches!(s, Symbol::Score(_)));
                            let (code, what) = if has_score {
                                (
                                    Code::CyclicScore,
                                    if cycle.len() == 1 {
                                        "a score cannot use itself"
                                    } else {
                                        "these scores and criteria depend on each other"
                                    },
                                )
                            } else {
                                (
                                    Code::CyclicCriterion,
                                    if cycle.len() == 1 {
                                        "a criterion cannot use itself"
                                    } else {
                                        "these criteria are defined in terms of each other"
                                    },
                                )
                            };
                            let path = self.policy.path(at).to_path_buf();
                            self.diagnostics.push(
                                Diagnostic::new(code, path, at.span, format!("{what}: {}", names.join(" → ")))
                                    .label("the cycle closes here")
                                    .help(if cycle.len() == 1 {
                                        "define it directly in terms of fields, criteria and other scores"
                                    } else {
                                        "break the cycle: define one of them directly in terms of fields"
                                    }),
                            );
                            // Neutralise the edge so evaluation terminates.
                            self.break_edge(node, dep);
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks.insert(node, Mark::Done);
                    if let Symbol::Score(s) = node {
                        score_order.push(s);
                    }
                }
            }
        }
        self.policy.score_order = score_order;
    }

    fn symbol_name(&self, symbol: Symbol) -> String {
        match symbol {
            Symbol::Field(f) => self.policy.fields[f].name.clone(),
            Symbol::Criterion(c) => self.policy.criteria[c].name.clone(),
            Symbol::Score(s) => self.policy.scores[s].name.clone(),
        }
    }

    /// Replace references from `from` to `to` by `false`, so a policy with a
    /// reported cycle can still be evaluated (the editor keeps working).
    fn break_edge(&mut self, from: Symbol, to: Symbol) {
        fn cut(expr: &mut Expr, to: Symbol) {
            let hit = match &expr.kind {
                ExprKind::Criterion(c) => to == Symbol::Criterion(*c),
                ExprKind::Cmp { lhs, rhs, .. } => [lhs, rhs]
                    .iter()
                    .any(|t| matches!(t, Term::Score(s) if to == Symbol::Score(*s))),
                ExprKind::In {
                    lhs: Term::Score(s),
                    ..
                } => to == Symbol::Score(*s),
                _ => false,
            };
            if hit {
                expr.kind = ExprKind::Const(false);
                return;
            }
            match &mut expr.kind {
                ExprKind::And(xs) | ExprKind::Or(xs) | ExprKind::AtLeast { items: xs, .. } => {
                    xs.iter_mut().for_each(|x| cut(x, to))
                }
                ExprKind::Not(x) => cut(x, to),
                _ => {}
            }
        }
        match from {
            Symbol::Criterion(c) => cut(&mut self.policy.criteria[c].expr, to),
            Symbol::Score(s) => {
                for line in &mut self.policy.scores[s].lines {
                    if let Some(w) = &mut line.when {
                        cut(w, to);
                    }
                }
            }
            Symbol::Field(_) => {}
        }
    }

    /// Q0201: the "undefined vs false" trap. Under three-valued logic a
    /// negated test (`not`, `!=`, `not in`) of a missing value is unknown,
    /// not true: `industry != retail` skips every lead without an industry,
    /// where authors usually mean "not retail". This is warned about in
    /// rules and in score lines' `when`. A positive test is not (that missing
    /// never matches `industry = saas` is what authors expect), nor a
    /// negation of a field the condition needs positively anyway, nor one
    /// the condition (or a criterion it uses) already settles with
    /// `known`/`unknown`, nor a field with a `default`.
    fn warn_unchecked_optional(&mut self) {
        let root_file = self.file_of_unit[self.units.len() - 1];
        let policy = &self.policy;
        let mut warnings = Vec::new();
        let mut warn = |expr: &Expr, what: &dyn Fn(&str) -> (String, String)| {
            for (field, at) in unsettled_negations(policy, expr) {
                let name = &policy.fields[field].name;
                let (message, help) = what(name);
                warnings.push(
                    Diagnostic::new(
                        Code::UncheckedOptional,
                        policy.path(at).to_path_buf(),
                        at.span,
                        format!(
                            "`{name}` is optional, and this negated test is not met when it is missing: {message}"
                        ),
                    )
                    .label(format!("not met when `{name}` is missing"))
                    .help(format!(
                        "a test on a missing value is unknown, and `not` keeps it unknown; {help}; \
                         `{name} known and …` says they should not; or give the field a `default`"
                    )),
                );
            }
        };
        for rule in &policy.rules {
            if rule.loc.file != root_file {
                continue;
            }
            let stage = policy
                .stages
                .get(rule.stage)
                .map_or("", |s| s.name.as_str());
            if rule.ceiling {
                warn(&rule.expr, &|name| {
                    (
                        "this ceiling never holds back leads without it".into(),
                        format!(
                            "if leads without `{name}` should be held back too, write `({name} unknown or …)`"
                        ),
                    )
                });
            } else {
                warn(&rule.expr, &|name| {
                    (
                        format!("leads without it never reach {stage} through this rule"),
                        format!(
                            "if leads without `{name}` should pass, write `({name} unknown or …)`"
                        ),
                    )
                });
            }
        }
        for score in &policy.scores {
            if score.loc.file != root_file {
                continue;
            }
            for line in &score.lines {
                let Some(when) = &line.when else { continue };
                let points = format_number(line.points.abs());
                let (get, verb) = if line.points < 0.0 {
                    ("lose", "lose them")
                } else {
                    ("get", "get them")
                };
                warn(when, &|name| {
                    (
                        format!("leads without it never {get} these {points} points"),
                        format!(
                            "if leads without `{name}` should {verb}, write `({name} unknown or …)`"
                        ),
                    )
                });
            }
        }
        self.diagnostics.extend(warnings);
    }

    fn warn_unused(&mut self) {
        let root = self.units.len() - 1;
        let root_file = self.file_of_unit[root];
        if !self.policy.rules.iter().any(|r| r.loc.file == root_file) {
            return; // a definitions file: its criteria are for importers
        }
        let mut used: HashSet<CriterionId> = self.used_by_broken_rules.clone();
        let mut visit = |e: &Expr| {
            walk(e, &mut |x| {
                if let ExprKind::Criterion(c) = x.kind {
                    used.insert(c);
                }
            })
        };
        for r in &self.policy.rules {
            visit(&r.expr);
        }
        for r in &self.policy.requirements {
            visit(&r.expr);
        }
        for c in &self.policy.criteria {
            visit(&c.expr);
        }
        for s in &self.policy.scores {
            for l in &s.lines {
                if let Some(w) = &l.when {
                    visit(w);
                }
            }
        }
        for (i, c) in self.policy.criteria.iter().enumerate() {
            if c.loc.file == root_file && !used.contains(&i) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::UnusedDefinition,
                        self.policy.path(c.loc).to_path_buf(),
                        c.loc.span,
                        format!(
                            "criterion `{}` is not used by any rule, criterion or score",
                            c.name
                        ),
                    )
                    .label("never used")
                    .help("use it in a rule, or remove it"),
                );
            }
        }
    }
}

pub(crate) fn walk(expr: &Expr, f: &mut impl FnMut(&Expr)) {
    f(expr);
    match &expr.kind {
        ExprKind::And(xs) | ExprKind::Or(xs) | ExprKind::AtLeast { items: xs, .. } => {
            xs.iter().for_each(|x| walk(x, f))
        }
        ExprKind::Not(x) => walk(x, f),
        _ => {}
    }
}

/// Criteria are followed this deep at most (cycles were reported already).
const MAX_CRITERION_DEPTH: usize = 32;

/// Fields tested with `known`/`unknown`, through criteria too.
fn mentioned_fields(policy: &Policy, expr: &Expr, out: &mut HashSet<FieldId>, depth: usize) {
    walk(expr, &mut |e| match &e.kind {
        ExprKind::Known(f) | ExprKind::Unknown(f) => {
            out.insert(*f);
        }
        ExprKind::Criterion(c) if depth < MAX_CRITERION_DEPTH => {
            mentioned_fields(policy, &policy.criteria[*c].expr, out, depth + 1)
        }
        _ => {}
    });
}

/// The field a test reads, if it reads one.
fn tested_field(kind: &ExprKind) -> Option<FieldId> {
    match kind {
        ExprKind::BoolField(f)
        | ExprKind::Text { field: f, .. }
        | ExprKind::Within { field: f, .. } => Some(*f),
        ExprKind::Cmp {
            lhs: Term::Field(f),
            ..
        }
        | ExprKind::Cmp {
            rhs: Term::Field(f),
            ..
        } => Some(*f),
        ExprKind::In {
            lhs: Term::Field(f),
            ..
        } => Some(*f),
        _ => None,
    }
}

/// Q0201's findings in one condition: optional fields without a default
/// tested under a negation, that the condition neither tests with
/// `known`/`unknown` nor needs positively; each field once.
fn unsettled_negations(policy: &Policy, expr: &Expr) -> Vec<(FieldId, Loc)> {
    let mut settled = HashSet::new();
    mentioned_fields(policy, expr, &mut settled, 0);
    settled.extend(positively_needed(policy, expr, 0));
    let mut negated = Vec::new();
    negated_uses(policy, expr, false, None, &mut negated, 0);
    negated
        .into_iter()
        .filter(|(f, _)| policy.fields[*f].can_be_missing() && settled.insert(*f))
        .collect()
}

/// Fields a positive test of which `expr` cannot be true without (a
/// conjunct on every path, through criteria): for those, missing never
/// matching is already what the condition says.
fn positively_needed(policy: &Policy, expr: &Expr, depth: usize) -> Vec<FieldId> {
    let positive = !matches!(expr.kind, ExprKind::Cmp { op: CmpOp::Ne, .. });
    if let Some(f) = tested_field(&expr.kind) {
        return if positive { vec![f] } else { Vec::new() };
    }
    match &expr.kind {
        ExprKind::And(items) => items
            .iter()
            .flat_map(|x| positively_needed(policy, x, depth))
            .collect(),
        ExprKind::AtLeast { n, items } if *n as usize >= items.len() => items
            .iter()
            .flat_map(|x| positively_needed(policy, x, depth))
            .collect(),
        ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
            let mut sets = items.iter().map(|x| positively_needed(policy, x, depth));
            let Some(first) = sets.next() else {
                return Vec::new();
            };
            sets.fold(first, |acc, next| {
                acc.into_iter().filter(|f| next.contains(f)).collect()
            })
        }
        ExprKind::Criterion(c) if depth < MAX_CRITERION_DEPTH => {
            positively_needed(policy, &policy.criteria[*c].expr, depth + 1)
        }
        _ => Vec::new(),
    }
}

/// Field tests under a negation (`not`, `!=`; `not in` is `not (… in …)`).
fn negated_uses(
    policy: &Policy,
    expr: &Expr,
    negated: bool,
    at: Option<Loc>,
    out: &mut Vec<(FieldId, Loc)>,
    depth: usize,
) {
    let here = at.unwrap_or(expr.loc);
    let ne = matches!(expr.kind, ExprKind::Cmp { op: CmpOp::Ne, .. });
    if let Some(f) = tested_field(&expr.kind) {
        if negated != ne {
            out.push((f, here));
        }
        return;
    }
    match &expr.kind {
        ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => items
            .iter()
            .for_each(|x| negated_uses(policy, x, negated, at, out, depth)),
        ExprKind::Not(inner) => negated_uses(policy, inner, !negated, at, out, depth),
        ExprKind::Criterion(c) if depth < MAX_CRITERION_DEPTH => negated_uses(
            policy,
            &policy.criteria[*c].expr,
            negated,
            Some(here),
            out,
            depth + 1,
        ),
        _ => {}
    }
}

fn literal_ty(expected: &Ty, lit: &syntax::Literal) -> Ty {
    match &lit.kind {
        LiteralKind::Number(_) | LiteralKind::Money(_) => Ty::Numeric,
        LiteralKind::String(_) => match expected {
            Ty::Enum(f) => Ty::Enum(*f),
            _ => Ty::String,
        },
        LiteralKind::Bool(_) => Ty::Bool,
        LiteralKind::Date(_) => Ty::Date,
        LiteralKind::Word(w) => match expected {
            Ty::Enum(f) => Ty::Enum(*f),
            Ty::String => Ty::String,
            _ => Ty::Word(w.clone()),
        },
        LiteralKind::List(_) => Ty::List,
    }
}

fn ty_words(ty: &Ty, policy: &Policy) -> String {
    match ty {
        Ty::Bool => "a yes/no value".into(),
        Ty::Numeric => "a number".into(),
        Ty::String => "text".into(),
        Ty::Date => "a date".into(),
        Ty::List => "a list".into(),
        Ty::Enum(f) => format!("the enum `{}`", policy.fields[*f].name),
        Ty::Word(w) => format!("the word `{w}`"),
        Ty::Error => "an unknown value".into(),
    }
}

fn article(word: &str) -> String {
    match word.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {word}"),
        _ => format!("a {word}"),
    }
}
