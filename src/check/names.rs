//! Every place a name is written, with what it names: the index behind go to
//! definition, find references, rename, hover and semantic highlighting.
//!
//! Built from the syntax trees and the checked policy's tables, after
//! checking, so it agrees with the checker on what each name means; a name
//! the checker could not resolve is simply absent.

use super::policy::*;
use crate::syntax::{self, CondKind, ItemKind, Module, Operand, PointKind, ScoreEntry, TestEntry};

/// What a name refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Field(FieldId),
    Criterion(CriterionId),
    Score(ScoreId),
    Stage(StageId),
    Rule(RuleId),
}

impl Target {
    pub fn kind(self) -> &'static str {
        match self {
            Target::Field(_) => "field",
            Target::Criterion(_) => "criterion",
            Target::Score(_) => "score",
            Target::Stage(_) => "stage",
            Target::Rule(_) => "rule",
        }
    }
}

/// One written occurrence of a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameRef {
    /// Index into `Policy::files`.
    pub file: u32,
    pub span: Span,
    pub target: Target,
    /// The declaration itself rather than a use.
    pub is_definition: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameIndex {
    /// Sorted by file, then position.
    pub refs: Vec<NameRef>,
}

impl NameIndex {
    /// The occurrence under `offset` in `file`, if any.
    pub fn at(&self, file: u32, offset: usize) -> Option<&NameRef> {
        self.refs
            .iter()
            .find(|r| r.file == file && r.span.contains(offset))
    }

    pub fn definition(&self, target: Target) -> Option<&NameRef> {
        self.refs
            .iter()
            .find(|r| r.target == target && r.is_definition)
    }

    pub fn uses(&self, target: Target) -> impl Iterator<Item = &NameRef> {
        self.refs.iter().filter(move |r| r.target == target)
    }
}

/// Index the names of `modules`: `(file index in policy.files, module)`.
pub fn index(policy: &Policy, modules: &[(u32, &Module)]) -> NameIndex {
    let mut indexer = Indexer {
        policy,
        file: 0,
        refs: Vec::new(),
        rule_ordinal: 0,
    };
    // Rules are numbered in policy order: imported files first, the policy
    // file (index 0) last, exactly as the checker numbers them.
    let mut ordered: Vec<(u32, &Module)> = modules.to_vec();
    ordered.sort_by_key(|(file, _)| if *file == 0 { u32::MAX } else { *file });
    for (file, module) in ordered {
        indexer.file = file;
        indexer.module(module);
    }
    let mut refs = indexer.refs;
    refs.sort_by_key(|r| (r.file, r.span.start));
    refs.dedup();
    NameIndex { refs }
}

struct Indexer<'a> {
    policy: &'a Policy,
    file: u32,
    refs: Vec<NameRef>,
    rule_ordinal: usize,
}

impl Indexer<'_> {
    fn push(&mut self, name: &syntax::Name, target: Target, is_definition: bool) {
        self.refs.push(NameRef {
            file: self.file,
            span: name.span,
            target,
            is_definition,
        });
    }

    fn value_name(&self, text: &str) -> Option<Target> {
        if let Some(f) = self.policy.field_by_name(text) {
            return Some(Target::Field(f));
        }
        if let Some(c) = self.policy.criteria.iter().position(|c| c.name == text) {
            return Some(Target::Criterion(c));
        }
        self.policy.score_by_name(text).map(Target::Score)
    }

    fn rule_by_label(&self, text: &str) -> Option<RuleId> {
        self.policy
            .rules
            .iter()
            .position(|r| r.label.as_deref() == Some(text))
    }

    fn module(&mut self, module: &Module) {
        for item in &module.items {
            match &item.kind {
                ItemKind::Field(f) => {
                    if let Some(id) = self.policy.field_by_name(&f.name.text) {
                        self.push(&f.name, Target::Field(id), true);
                    }
                }
                ItemKind::Stages(names) => {
                    for name in names {
                        if let Some(id) = self.policy.stage_by_name(&name.text) {
                            self.push(name, Target::Stage(id), true);
                        }
                    }
                }
                ItemKind::Otherwise(name) => self.stage(name),
                ItemKind::Criterion(c) => {
                    if let Some(t @ Target::Criterion(_)) = self.value_name(&c.name.text) {
                        self.push(&c.name, t, true);
                    }
                    self.cond(&c.condition);
                }
                ItemKind::Require(r) => {
                    self.stage(&r.stage);
                    self.cond(&r.condition);
                }
                ItemKind::Score(s) => {
                    if let Some(t @ Target::Score(_)) = self.value_name(&s.name.text) {
                        self.push(&s.name, t, true);
                    }
                    for entry in &s.entries {
                        let ScoreEntry::Points(line) = entry else {
                            continue;
                        };
                        match &line.kind {
                            PointKind::When(c) => self.cond(c),
                            PointKind::Per { field, when, .. } => {
                                self.value(field);
                                if let Some(c) = when {
                                    self.cond(c);
                                }
                            }
                        }
                    }
                }
                ItemKind::Rule(rule) => {
                    let ordinal = self.rule_ordinal;
                    self.rule_ordinal += 1;
                    if let Some(label) = &rule.label {
                        // A duplicate label belongs to its first rule only.
                        if self.rule_by_label(&label.text) == Some(ordinal) {
                            self.push(label, Target::Rule(ordinal), true);
                        }
                    }
                    self.cond(&rule.condition);
                    self.stage(&rule.stage);
                }
                ItemKind::Test(test) => {
                    for entry in &test.entries {
                        match entry {
                            TestEntry::Lead { values, .. } => {
                                for v in values {
                                    if let Some(f) = self.policy.field_by_name(&v.field.text) {
                                        self.push(&v.field, Target::Field(f), false);
                                    }
                                }
                            }
                            TestEntry::ExpectStage(name) => self.stage(name),
                            TestEntry::ExpectScore { score, .. } => {
                                if let Some(s) = self.policy.score_by_name(&score.text) {
                                    self.push(score, Target::Score(s), false);
                                }
                            }
                            TestEntry::ExpectRule(name) => {
                                if let Some(r) = self.rule_by_label(&name.text) {
                                    self.push(name, Target::Rule(r), false);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                ItemKind::Import(_) | ItemKind::Error => {}
            }
        }
    }

    fn stage(&mut self, name: &syntax::Name) {
        if let Some(id) = self.policy.stage_by_name(&name.text) {
            self.push(name, Target::Stage(id), false);
        }
    }

    fn value(&mut self, name: &syntax::Name) {
        if let Some(t) = self.value_name(&name.text) {
            self.push(name, t, false);
        }
    }

    fn operand(&mut self, op: &Operand) {
        if let Operand::Name(n) = op {
            self.value(n);
        }
    }

    fn cond(&mut self, c: &syntax::Cond) {
        match &c.kind {
            CondKind::And(items) | CondKind::Or(items) | CondKind::AtLeast { items, .. } => {
                for i in items {
                    self.cond(i);
                }
            }
            CondKind::Not(inner) | CondKind::Paren(inner) => self.cond(inner),
            CondKind::Is(op) | CondKind::Known(op) | CondKind::Unknown(op) => self.operand(op),
            CondKind::Compare { lhs, rhs, .. } | CondKind::Text { lhs, rhs, .. } => {
                self.operand(lhs);
                self.operand(rhs);
            }
            CondKind::In { lhs, .. } | CondKind::Within { lhs, .. } => self.operand(lhs),
            CondKind::Between { lhs, low, high } => {
                self.operand(lhs);
                self.operand(low);
                self.operand(high);
            }
        }
    }
}
