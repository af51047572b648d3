//! Policy analysis: conflicting, unreachable and overly strict criteria,
//! found by reasoning over every possible lead (see `model` and `solver`),
//! each finding a diagnostic and, where one exists, a witness lead.
//!
//! Depends on `check` (the checked policy) and `eval` (to confirm witnesses);
//! never on the syntax tree. Findings are reported for the policy file itself,
//! not for the files it imports (each is analysed when checked on its own),
//! except where a pair of rules spans both.

mod model;
pub mod sample;
mod solver;

use std::path::Path;

use crate::check::{
    Expr, ExprKind, FieldType, Loc, Policy, RuleId, Term, Value, date_to_string, format_number,
};
use crate::diagnostic::{Code, Diagnostic};
use crate::eval::Lead;
use model::Model;
pub use model::{F, NOT_TRUE, T, TSet, U};
use solver::{Answer, Goal, Solver};

/// What a finding is about, for tests that check its witness.
#[derive(Clone, Debug, PartialEq)]
pub enum Subject {
    /// A rule (or, with `None`, a criterion) no lead meets.
    Contradiction {
        rule: Option<RuleId>,
    },
    /// An ordinary rule that never decides: `by` take or lower every lead
    /// it matches.
    Shadowed {
        rule: RuleId,
        by: Vec<RuleId>,
    },
    /// A rule at or below `otherwise` whose witness lead `by` decides.
    Toothless {
        rule: RuleId,
        by: RuleId,
    },
    /// A ceiling that matches every lead, or never lowers a stage.
    Ceiling {
        rule: RuleId,
        every_lead: bool,
    },
    Threshold,
    Redundant,
    Gap,
    /// A rule (or, with `None`, `otherwise`) puts a lead at a stage whose
    /// requirement it fails.
    Inversion {
        rule: Option<RuleId>,
        requirement: usize,
    },
    Undecided,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub subject: Subject,
    pub witness: Option<Lead>,
    pub diagnostic: Diagnostic,
}

/// Analyse a policy that checked without errors. `sources` holds the text of
/// each of `policy.files`, for quoting clauses; `as_of` is the date `within`
/// is judged against.
pub fn analyze(policy: &Policy, sources: &[&str], as_of: i32) -> Vec<Finding> {
    analyze_interruptible(policy, sources, as_of, &|| {})
}

/// `analyze`, calling `interrupt` now and then; it may unwind to abandon
/// the work (the language server does when the text changes).
pub fn analyze_interruptible(
    policy: &Policy,
    sources: &[&str],
    as_of: i32,
    interrupt: &dyn Fn(),
) -> Vec<Finding> {
    let model = Model::new(policy, as_of);
    let mut analysis = Analysis {
        policy,
        sources,
        solver: Solver::interruptible(&model, interrupt),
        findings: Vec::new(),
        never_rule: vec![false; policy.rules.len()],
        never_criterion: vec![false; policy.criteria.len()],
        shadowed: vec![false; policy.rules.len()],
        taken_by_rules: vec![false; policy.rules.len()],
        projections: Vec::new(),
        ceilings: policy.ceilings_by_precedence(),
    };
    analysis.contradictions();
    analysis.thresholds();
    analysis.redundant_clauses();
    analysis.projections();
    analysis.never_decides();
    analysis.toothless();
    analysis.ceilings();
    analysis.gap();
    analysis.inversions();
    let mut findings = analysis.findings;
    findings.sort_by_key(|f| (f.diagnostic.span.start, f.diagnostic.code));
    findings
}

struct Analysis<'m, 'p> {
    policy: &'p Policy,
    sources: &'m [&'m str],
    solver: Solver<'m, 'p>,
    findings: Vec<Finding>,
    never_rule: Vec<bool>,
    never_criterion: Vec<bool>,
    /// Rules reported as never deciding (not also reported as toothless).
    shadowed: Vec<bool>,
    /// Of those, the ones whose leads other ordinary rules take (no ceiling
    /// needed).
    taken_by_rules: Vec<bool>,
    /// Per rule, sorted by field: the regions (as bits) where the rule can
    /// be true.
    projections: Vec<Vec<(usize, Vec<u64>)>>,
    /// `Policy::ceilings_by_precedence`.
    ceilings: Vec<RuleId>,
}

pub(crate) const ROOT: u32 = 0;

impl<'m, 'p> Analysis<'m, 'p> {
    fn path(&self, loc: Loc) -> &'p Path {
        self.policy.path(loc)
    }

    /// The source text of a clause, on one line.
    fn quote(&self, expr: &Expr) -> String {
        let text = self
            .sources
            .get(expr.loc.file as usize)
            .and_then(|s| s.get(expr.loc.span.range()))
            .unwrap_or("");
        let one_line: Vec<&str> = text.split_whitespace().collect();
        let mut out = one_line.join(" ");
        if out.chars().count() > 80 {
            out = out.chars().take(77).collect::<String>() + "…";
        }
        out
    }

    fn rule_name(&self, r: RuleId) -> String {
        format!("`{}`", self.policy.rules[r].display_name())
    }

    fn stage_name(&self, r: RuleId) -> &str {
        &self.policy.stages[self.policy.rules[r].stage].name
    }

    fn push(&mut self, subject: Subject, witness: Option<Lead>, mut diagnostic: Diagnostic) {
        if let Some(lead) = &witness {
            diagnostic = diagnostic
                .witness(witness_json(self.policy, lead))
                .witness_as_of(date_to_string(self.solver.model.as_of));
        }
        self.findings.push(Finding {
            subject,
            witness,
            diagnostic,
        });
    }

    fn undecided(&mut self, loc: Loc, question: String) {
        let diagnostic = Diagnostic::new(
            Code::Undecided,
            self.path(loc),
            loc.span,
            format!("could not decide {question}"),
        )
        .help(
            "the analysis is exact for numbers, dates, enums, yes/no, presence and text equality; \
             text tests (`contains`, `starts with`), comparisons between two fields and `per` lines \
             can leave it undecided (see docs/analysis.md)",
        );
        self.push(Subject::Undecided, None, diagnostic);
    }

    /// A smallest part of `items` for which `goals` still has no lead:
    /// drop each item in turn and keep it out if there is still none.
    fn smallest<X: Copy>(
        &mut self,
        mut items: Vec<X>,
        goals: impl Fn(&Self, &[X]) -> Vec<Goal<'p>>,
    ) -> Vec<X> {
        let mut i = 0;
        while items.len() > 1 && i < items.len() {
            let mut trial = items.clone();
            trial.remove(i);
            let question = goals(self, &trial);
            if matches!(self.solver.solve(&question), Answer::Unsat) {
                items = trial;
            } else {
                i += 1;
            }
        }
        items
    }

    fn all_true(&self, exprs: &[&'p Expr]) -> Vec<Goal<'p>> {
        exprs.iter().map(|e| self.solver.goal(e, T)).collect()
    }

    // ------------------------------------------------------------ 1. contradiction

    fn contradictions(&mut self) {
        let policy = self.policy;
        for (c, criterion) in policy.criteria.iter().enumerate() {
            if criterion.loc.file != ROOT {
                // An imported criterion that can never hold still makes
                // this file's rules that use it contradictory.
                self.never_criterion[c] = matches!(
                    self.solver.solve(&[self.solver.goal(&criterion.expr, T)]),
                    Answer::Unsat
                );
                continue;
            }
            let what = format!("criterion `{}`", criterion.name);
            if self.never(&criterion.expr, criterion.loc, &what, None) {
                self.never_criterion[c] = true;
            }
        }
        for (r, rule) in policy.rules.iter().enumerate() {
            if rule.loc.file != ROOT {
                self.never_rule[r] = matches!(
                    self.solver.solve(&[self.solver.goal(&rule.expr, T)]),
                    Answer::Unsat
                );
                continue;
            }
            let what = format!("rule {}", self.rule_name(r));
            if self.never(&rule.expr, rule.loc, &what, Some(r)) {
                self.never_rule[r] = true;
            }
        }
    }

    /// Report `expr` if no lead makes it true; whether it was reported.
    fn never(&mut self, expr: &'p Expr, loc: Loc, what: &str, rule: Option<RuleId>) -> bool {
        match self.solver.solve(&[self.solver.goal(expr, T)]) {
            Answer::Sat(_) => false,
            Answer::Undecided => {
                self.undecided(loc, format!("whether any lead meets {what}"));
                false
            }
            Answer::Unsat => {
                if let Some(diagnostic) = self.contradiction(expr, loc, what) {
                    self.push(Subject::Contradiction { rule }, None, diagnostic);
                }
                true
            }
        }
    }

    fn contradiction(&mut self, expr: &'p Expr, loc: Loc, what: &str) -> Option<Diagnostic> {
        let path = self.path(loc);
        if let ExprKind::AtLeast { n, items } = &expr.kind {
            let mut pairs = Vec::new();
            for i in 0..items.len() {
                for j in i + 1..items.len() {
                    let goals = self.all_true(&[&items[i], &items[j]]);
                    if matches!(self.solver.solve(&goals), Answer::Unsat) {
                        pairs.push((i, j));
                    }
                }
            }
            let mut diag = Diagnostic::new(
                Code::Contradiction,
                path,
                expr.loc.span,
                format!(
                    "{what} can never hold: no lead meets {n} of its {} clauses at once",
                    items.len()
                ),
            )
            .label("never true");
            for (i, j) in &pairs {
                diag = diag.related(
                    path,
                    items[*j].loc.span,
                    format!("excludes `{}`", self.quote(&items[*i])),
                );
            }
            return Some(diag.help(format!(
                "lower the number in `at least {n} of`, or fix the clauses that exclude each other"
            )));
        }
        // A smallest set of clauses that still clash: drop each clause in
        // turn and keep it out if the rest still clash.
        let core = self.smallest(conjuncts(expr), |this, trial| this.all_true(trial));
        let quoted: Vec<String> = core
            .iter()
            .map(|e| format!("`{}`", self.quote(e)))
            .collect();
        let message = match quoted.len() {
            1 => format!("{what} can never hold: no lead meets {}", quoted[0]),
            _ => format!(
                "{what} can never hold: {} cannot all be true for one lead",
                join_and(&quoted)
            ),
        };
        let mut diag = Diagnostic::new(Code::Contradiction, path, loc.span, message)
            .label("no lead meets this");
        if core.len() > 1 {
            for e in &core {
                diag = diag.related(path, e.loc.span, "one of the clashing clauses");
            }
        }
        Some(diag.help("fix the clauses so that some lead can meet them all, or remove it"))
    }

    // ------------------------------------------------------------ 4. thresholds

    fn thresholds(&mut self) {
        let policy = self.policy;
        let mut tests: Vec<&'p Expr> = Vec::new();
        let roots = policy
            .rules
            .iter()
            .map(|r| &r.expr)
            .chain(policy.criteria.iter().map(|c| &c.expr))
            .chain(policy.requirements.iter().map(|r| &r.expr))
            .chain(
                policy
                    .scores
                    .iter()
                    .flat_map(|s| s.lines.iter().filter_map(|l| l.when.as_ref())),
            );
        for root in roots {
            if root.loc.file == ROOT {
                score_tests(root, &mut tests);
            }
        }
        for expr in tests {
            let Some(score) = tested_score(expr) else {
                continue;
            };
            let name = &policy.scores[score].name;
            let (lo, hi) = self.solver.score_bounds(score);
            let range = format!(
                "{name} ranges from {} to {}",
                show_bound(lo),
                show_bound(hi)
            );
            let path = self.path(expr.loc);
            match self.solver.solve(&[self.solver.goal(expr, T)]) {
                Answer::Unsat => {
                    let diag = Diagnostic::new(
                        Code::UnreachableThreshold,
                        path,
                        expr.loc.span,
                        format!("`{}` can never hold: {range}", self.quote(expr)),
                    )
                    .label("no lead reaches this")
                    .help(format!(
                        "lower the threshold, or give `{name}` point lines that can reach it"
                    ));
                    self.push(Subject::Threshold, None, diag);
                    continue;
                }
                Answer::Undecided => {
                    let q = format!("whether any lead meets `{}`", self.quote(expr));
                    self.undecided(expr.loc, q);
                    continue;
                }
                Answer::Sat(_) => {}
            }
            if let Answer::Unsat = self.solver.solve(&[self.solver.goal(expr, NOT_TRUE)]) {
                let diag = Diagnostic::new(
                    Code::TrivialThreshold,
                    path,
                    expr.loc.span,
                    format!("`{}` always holds: {range}", self.quote(expr)),
                )
                .label("every lead meets this")
                .help("raise the threshold, or drop the clause if it is not meant to filter");
                self.push(Subject::Threshold, None, diag);
            }
        }
    }

    // ------------------------------------------------------------ 5. redundant clauses

    fn redundant_clauses(&mut self) {
        let policy = self.policy;
        let mut subjects: Vec<(&'p Expr, String)> = Vec::new();
        for (c, criterion) in policy.criteria.iter().enumerate() {
            if criterion.loc.file == ROOT && !self.never_criterion[c] {
                subjects.push((&criterion.expr, format!("criterion `{}`", criterion.name)));
            }
        }
        for (r, rule) in policy.rules.iter().enumerate() {
            if rule.loc.file == ROOT && !self.never_rule[r] {
                subjects.push((&rule.expr, format!("rule {}", self.rule_name(r))));
            }
        }
        for (expr, what) in subjects {
            let mut kept: Vec<&'p Expr> = conjuncts(expr);
            if kept.len() < 2 {
                continue;
            }
            let clauses = kept.clone();
            for clause in clauses {
                // `X known` beside a test of X says how missing values are
                // meant (and answers Q0201), so it is never called redundant.
                if matches!(clause.kind, ExprKind::Known(_)) {
                    continue;
                }
                let rest: Vec<&'p Expr> = kept
                    .iter()
                    .copied()
                    .filter(|e| !std::ptr::eq(*e, clause))
                    .collect();
                let path = self.path(clause.loc);
                if let Answer::Unsat = self.solver.solve(&[self.solver.goal(clause, NOT_TRUE)]) {
                    kept = rest;
                    // Thresholds that always hold are reported as Q0305.
                    if !is_score_test(clause) {
                        let diag = Diagnostic::new(
                            Code::RedundantClause,
                            path,
                            clause.loc.span,
                            format!(
                                "`{}` always holds, so it adds nothing to {what}",
                                self.quote(clause)
                            ),
                        )
                        .label("true for every lead")
                        .help("remove the clause, or fix it if it was meant to filter");
                        self.push(Subject::Redundant, None, diag);
                    }
                    continue;
                }
                let mut goals = self.all_true(&rest);
                goals.push(self.solver.goal(clause, NOT_TRUE));
                match self.solver.solve(&goals) {
                    Answer::Unsat => {}
                    Answer::Sat(_) => continue,
                    Answer::Undecided => {
                        let q = format!("whether `{}` adds anything to {what}", self.quote(clause));
                        self.undecided(clause.loc, q);
                        continue;
                    }
                }
                kept = rest.clone();
                // The fewest other clauses that already imply it.
                let core = self.smallest(rest, |this, trial| {
                    let mut goals = this.all_true(trial);
                    goals.push(this.solver.goal(clause, NOT_TRUE));
                    goals
                });
                let implied_by: Vec<String> = core
                    .iter()
                    .map(|e| format!("`{}`", self.quote(e)))
                    .collect();
                let mut diag = Diagnostic::new(
                    Code::RedundantClause,
                    path,
                    clause.loc.span,
                    format!(
                        "`{}` adds nothing to {what}: {} already implies it",
                        self.quote(clause),
                        join_and(&implied_by)
                    ),
                )
                .label("implied by the other clauses")
                .help("remove the clause, or tighten it if it was meant to filter more");
                for e in &core {
                    diag = diag.related(path, e.loc.span, "implies it");
                }
                self.push(Subject::Redundant, None, diag);
            }
        }
    }

    // ------------------------------------------------------------ 2. rules that never decide

    /// Per rule and field, the regions where the rule can still be true.
    fn projections(&mut self) {
        let model = self.solver.model;
        let mut projections = Vec::with_capacity(self.policy.rules.len());
        for rule in &self.policy.rules {
            let node = model.node(&rule.expr);
            let mut fields = model.fields_of(node);
            fields.sort_unstable();
            fields.dedup();
            let mut per_field = Vec::with_capacity(fields.len());
            for f in fields {
                let regions = model.regions[f].len();
                let mut allowed = vec![0u64; regions.div_ceil(64)];
                for r in 0..regions {
                    if self.solver.possible_with(node, f, r) & T != 0 {
                        allowed[r / 64] |= 1 << (r % 64);
                    }
                }
                per_field.push((f, allowed));
            }
            projections.push(per_field);
        }
        self.projections = projections;
    }

    /// False only when no lead can match both rules: they allow disjoint
    /// regions of some field. A cheap filter before asking the solver.
    fn may_overlap(&self, a: RuleId, b: RuleId) -> bool {
        if self.never_rule[a] || self.never_rule[b] {
            return false;
        }
        // Both lists are sorted by field: walk them together.
        let (pa, pb) = (&self.projections[a], &self.projections[b]);
        let (mut i, mut j) = (0, 0);
        while i < pa.len() && j < pb.len() {
            match pa[i].0.cmp(&pb[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    if !pa[i].1.iter().zip(&pb[j].1).any(|(x, y)| x & y != 0) {
                        return false;
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        true
    }

    /// The ceilings below `stage` that can match a lead of rule `r`: when one
    /// does, it lowers the lead and decides it.
    fn ceilings_below(&self, r: RuleId, stage: usize) -> Vec<RuleId> {
        self.ceilings
            .iter()
            .copied()
            .filter(|&c| self.policy.rules[c].stage < stage && self.may_overlap(r, c))
            .collect()
    }

    /// How a rule is named in a finding: `name` (SQL), or `name` (at most MQL).
    fn rule_and_stage(&self, r: RuleId) -> String {
        let rule = &self.policy.rules[r];
        let at_most = if rule.ceiling { "at most " } else { "" };
        format!("{} ({at_most}{})", self.rule_name(r), self.stage_name(r))
    }

    /// Ordinary rules that never decide a lead: every lead they match is
    /// taken by a rule tried before them or lowered by a ceiling.
    fn never_decides(&mut self) {
        let policy = self.policy;
        let order = policy.rules_by_precedence();
        for (position, &r) in order.iter().enumerate() {
            let rule = &policy.rules[r];
            if rule.loc.file != ROOT || self.never_rule[r] {
                continue;
            }
            // A rule that never decides because rules tried before it take
            // its leads is no answer: those rules are tried before `r` too.
            let mut takers: Vec<RuleId> = order[..position]
                .iter()
                .copied()
                .filter(|&h| !self.taken_by_rules[h] && self.may_overlap(h, r))
                .collect();
            takers.extend(self.ceilings_below(r, rule.stage));
            if takers.is_empty() {
                continue;
            }
            let base = vec![self.solver.goal(&rule.expr, T)];
            let core = match self.avoiding(&base, &takers) {
                (Answer::Unsat, core) => core,
                (Answer::Undecided, _) => {
                    let q = format!("whether rule {} ever decides a lead", self.rule_name(r));
                    self.undecided(rule.loc, q);
                    continue;
                }
                (Answer::Sat(_), _) => continue,
            };
            // The fewest of those rules that still take every lead of `r`.
            let core = self.smallest(core, |this, trial| {
                let mut goals = base.clone();
                goals.extend(
                    trial
                        .iter()
                        .map(|&h| this.solver.goal(&policy.rules[h].expr, NOT_TRUE)),
                );
                goals
            });
            self.shadowed[r] = true;
            self.taken_by_rules[r] = !core.iter().any(|&h| policy.rules[h].ceiling);
            let names: Vec<String> = core.iter().map(|&h| self.rule_and_stage(h)).collect();
            let lowered = core.iter().any(|&h| policy.rules[h].ceiling);
            let path = self.path(rule.loc);
            let mut diag = Diagnostic::new(
                Code::ShadowedRule,
                path,
                rule.loc.span,
                format!(
                    "rule {} never decides: every lead it matches is {} {}",
                    self.rule_name(r),
                    if lowered {
                        "taken or lowered by"
                    } else {
                        "already decided by"
                    },
                    join_and(&names)
                ),
            )
            .label("never decides");
            diag = if lowered {
                // Removing the rule would leave its leads lower still: the
                // rule lifts them, the ceiling caps them.
                diag.help(
                    "a ceiling (`=> at most …`) lowers every lead this rule lifts; if that is \
                     meant, conclude the ceiling's stage here, otherwise narrow the ceiling",
                )
            } else if policy.otherwise.is_some_and(|o| rule.stage <= o) {
                // At or below `otherwise`, a rule that never decides was
                // most likely meant to hold its leads back.
                diag.help(format!(
                    "the highest stage wins, so this rule changes nothing; if its leads must end at \
                     {0} or lower whatever other rules say, write it as a ceiling: `=> at most {0}`; \
                     otherwise remove it",
                    self.stage_name(r)
                ))
            } else {
                diag.help(
                    "the highest stage wins, and within a stage the earlier rule; narrow those \
                     rules, or remove this one",
                )
            };
            for &h in &core {
                let other = &policy.rules[h];
                let why = if other.ceiling {
                    "lowers its leads"
                } else {
                    "takes precedence"
                };
                diag = diag.related(self.path(other.loc), other.loc.span, why);
            }
            self.push(Subject::Shadowed { rule: r, by: core }, None, diag);
        }
    }

    // ------------------------------------------------------------ 3. disqualifiers without teeth

    /// An ordinary rule whose stage is at or below `otherwise` changes
    /// nothing for a lead unless no higher rule matches it: if a higher rule
    /// can match one of its leads, that lead slips through. Such a rule is
    /// almost always meant as a disqualifier, which is a ceiling. Higher
    /// rules that match only its leads are exceptions to it, not leaks.
    fn toothless(&mut self) {
        let policy = self.policy;
        let Some(otherwise) = policy.otherwise else {
            return;
        };
        let order = policy.rules_by_precedence();
        for &r in order.iter().rev() {
            let rule = &policy.rules[r];
            if rule.loc.file != ROOT
                || rule.stage > otherwise
                || self.never_rule[r]
                || self.shadowed[r]
            {
                continue;
            }
            // Ceilings at or below this stage keep the lead where the rule
            // meant it to be.
            let holding: Vec<RuleId> = self.ceilings_below(r, rule.stage + 1);
            let mut found = None;
            for &h in &order {
                let higher = &policy.rules[h];
                if higher.stage <= rule.stage {
                    break;
                }
                if !self.may_overlap(r, h) {
                    continue;
                }
                // A higher rule that only matches leads of this one is an
                // exception written on purpose (`customer and expansion
                // request => SQL` beside `customer => unqualified`).
                let exception = [
                    self.solver.goal(&higher.expr, T),
                    self.solver.goal(&rule.expr, NOT_TRUE),
                ];
                if matches!(self.solver.solve(&exception), Answer::Unsat) {
                    continue;
                }
                let base = [
                    self.solver.goal(&rule.expr, T),
                    self.solver.goal(&higher.expr, T),
                ];
                match self.avoiding(&base, &holding).0 {
                    Answer::Sat(lead) => {
                        found = Some((h, lead));
                        break;
                    }
                    Answer::Unsat => {}
                    Answer::Undecided => {
                        let q = format!(
                            "whether rule {} can match a lead that rule {} takes",
                            self.rule_name(r),
                            self.rule_name(h)
                        );
                        self.undecided(rule.loc, q);
                    }
                }
            }
            let Some((_, lead)) = found else { continue };
            // What the lead actually gets, for the message.
            let outcome = crate::eval::evaluate(policy, &lead, self.solver.model.as_of);
            let (Some(stage), Some(decider)) = (outcome.stage, outcome.rule) else {
                continue;
            };
            let stage_name = &policy.stages[stage].name;
            let own = self.stage_name(r);
            let path = self.path(rule.loc);
            let mut diag = Diagnostic::new(
                Code::ToothlessDisqualifier,
                path,
                rule.loc.span,
                if rule.stage == otherwise {
                    format!(
                        "rule {} does not hold leads back: `otherwise` is already {}, so it never changes a lead's stage, and a lead it matches still reaches {stage_name} through rule {}",
                        self.rule_name(r),
                        policy.stages[otherwise].name,
                        self.rule_name(decider),
                    )
                } else {
                    format!(
                        "rule {} holds back only the leads no higher rule matches: a lead it matches still reaches {stage_name} through rule {}",
                        self.rule_name(r),
                        self.rule_name(decider),
                    )
                },
            )
            .label(format!("does not keep its leads at {own}"))
            .related(
                self.path(policy.rules[decider].loc),
                policy.rules[decider].loc.span,
                format!("takes the lead to {stage_name}"),
            )
            .help(if rule.stage == otherwise {
                format!(
                    "the highest stage wins, so this rule changes no lead's stage; if its leads \
                     must end at {own} or lower whatever other rules say, write it as a ceiling: \
                     `=> at most {own}`; if it only names such leads, remove it"
                )
            } else {
                format!(
                    "the highest stage wins; if every lead this rule matches must end at {own} or \
                     lower whatever other rules say, write it as a ceiling: `=> at most {own}`"
                )
            });
            if rule.stage_loc.file == ROOT {
                let start = rule.stage_loc.span.start as usize;
                diag = diag.titled_fix(
                    crate::syntax::Span::new(start, start),
                    "at most ",
                    format!("Make it a ceiling: `=> at most {own}`"),
                );
            }
            self.push(
                Subject::Toothless {
                    rule: r,
                    by: decider,
                },
                Some(lead),
                diag,
            );
        }
    }

    // ------------------------------------------------------------ 4. ceilings that do nothing

    /// A ceiling that matches every lead caps the whole policy; one that
    /// never meets a lead above its stage (or only ones a lower ceiling
    /// already holds) never lowers anything.
    fn ceilings(&mut self) {
        let policy = self.policy;
        let ceilings = self.ceilings.clone();
        let order = policy.rules_by_precedence();
        for (position, &c) in ceilings.iter().enumerate() {
            let ceiling = &policy.rules[c];
            if ceiling.loc.file != ROOT || self.never_rule[c] {
                continue;
            }
            let cap = ceiling.stage;
            let cap_name = self.stage_name(c).to_string();
            let path = self.path(ceiling.loc);
            if let Answer::Unsat = self
                .solver
                .solve(&[self.solver.goal(&ceiling.expr, NOT_TRUE)])
            {
                let diag = Diagnostic::new(
                    Code::IneffectiveCeiling,
                    path,
                    ceiling.loc.span,
                    format!(
                        "ceiling {} matches every lead, so no lead ever gets above {cap_name}",
                        self.rule_name(c)
                    ),
                )
                .label("holds every lead down")
                .help("narrow its condition to the leads it is meant for, or remove the stages above it");
                self.push(
                    Subject::Ceiling {
                        rule: c,
                        every_lead: true,
                    },
                    None,
                    diag,
                );
                continue;
            }
            // Ceilings tried before this one (lower, or as low and earlier).
            let lower: Vec<RuleId> = ceilings[..position]
                .iter()
                .copied()
                .filter(|&l| self.may_overlap(c, l))
                .collect();
            let mut lowers = false;
            let mut unsure = false;
            let settle = |answer: Answer, lowers: &mut bool, unsure: &mut bool| match answer {
                Answer::Sat(_) => *lowers = true,
                Answer::Undecided => *unsure = true,
                Answer::Unsat => {}
            };
            if policy.otherwise.is_some_and(|o| o > cap) {
                let mut avoid = order.clone();
                avoid.extend(&lower);
                let answer = self
                    .avoiding(&[self.solver.goal(&ceiling.expr, T)], &avoid)
                    .0;
                settle(answer, &mut lowers, &mut unsure);
            }
            for &h in &order {
                if lowers || policy.rules[h].stage <= cap {
                    break;
                }
                if !self.may_overlap(c, h) {
                    continue;
                }
                let base = [
                    self.solver.goal(&ceiling.expr, T),
                    self.solver.goal(&policy.rules[h].expr, T),
                ];
                let answer = self.avoiding(&base, &lower).0;
                settle(answer, &mut lowers, &mut unsure);
            }
            if lowers {
                continue;
            }
            if unsure {
                let q = format!("whether ceiling {} ever lowers a stage", self.rule_name(c));
                self.undecided(ceiling.loc, q);
                continue;
            }
            // Say whether the ceilings tried first are the reason: without
            // them, would this one lower some lead?
            let held_by_others = !lower.is_empty() && {
                let mut without = false;
                let mut unsure_without = false;
                if policy.otherwise.is_some_and(|o| o > cap) {
                    let answer = self
                        .avoiding(&[self.solver.goal(&ceiling.expr, T)], &order)
                        .0;
                    settle(answer, &mut without, &mut unsure_without);
                }
                for &h in &order {
                    if without || policy.rules[h].stage <= cap {
                        break;
                    }
                    let goals = [
                        self.solver.goal(&ceiling.expr, T),
                        self.solver.goal(&policy.rules[h].expr, T),
                    ];
                    settle(self.solver.solve(&goals), &mut without, &mut unsure_without);
                }
                without
            };
            let held = if held_by_others {
                let names: Vec<String> = lower.iter().map(|&l| self.rule_and_stage(l)).collect();
                format!(
                    "; the leads it would lower are held at least as low by {}",
                    join_and(&names)
                )
            } else {
                String::new()
            };
            let diag = Diagnostic::new(
                Code::IneffectiveCeiling,
                path,
                ceiling.loc.span,
                if held_by_others {
                    format!("ceiling {} never decides a lead{held}", self.rule_name(c))
                } else {
                    format!(
                        "ceiling {} never lowers a stage: no lead it matches would get above {cap_name}",
                        self.rule_name(c)
                    )
                },
            )
            .label("never lowers a lead")
            .help(if held_by_others {
                "the ceilings tried first hold every lead this one would lower; remove it, or \
                 narrow them"
                    .to_string()
            } else {
                format!(
                    "a ceiling only acts on leads that other rules (or `otherwise`) put above \
                     {cap_name}; lower its stage, or remove it"
                )
            });
            self.push(
                Subject::Ceiling {
                    rule: c,
                    every_lead: false,
                },
                None,
                diag,
            );
        }
    }

    /// A lead that meets `base` while none of the rules in `avoid` is true,
    /// found by asking first without those rules and adding, each round, a
    /// rule the last candidate lead made true. With many rules this asks a
    /// few small questions instead of one large one. On `Unsat`, also the
    /// rules that were needed to rule every lead out.
    fn avoiding(&mut self, base: &[Goal<'p>], avoid: &[RuleId]) -> (Answer, Vec<RuleId>) {
        let policy = self.policy;
        let exprs: Vec<&Expr> = avoid.iter().map(|&h| &policy.rules[h].expr).collect();
        let mut core: Vec<RuleId> = Vec::new();
        let mut goals = base.to_vec();
        loop {
            match self.solver.solve(&goals) {
                Answer::Sat(lead) => {
                    let truths = crate::eval::reference::truths_of(
                        policy,
                        &lead,
                        self.solver.model.as_of,
                        &exprs,
                    );
                    // One rule a round keeps the questions small: most
                    // rules are ruled out by a few others.
                    let met = truths.iter().position(|t| *t == crate::eval::Truth::True);
                    let Some(i) = met else {
                        return (Answer::Sat(lead), core);
                    };
                    goals.push(self.solver.goal(&policy.rules[avoid[i]].expr, NOT_TRUE));
                    core.push(avoid[i]);
                }
                other => return (other, core),
            }
        }
    }

    // ------------------------------------------------------------ 6. gaps

    fn gap(&mut self) {
        let policy = self.policy;
        let ordinary = policy.rules_by_precedence();
        if policy.otherwise.is_some()
            || policy.rules.is_empty()
            || !policy.rules.iter().any(|r| r.loc.file == ROOT)
        {
            return;
        }
        let Some(first) = policy.stages.first() else {
            return;
        };
        let loc = first.loc;
        match self.avoiding(&[], &ordinary).0 {
            Answer::Sat(lead) => {
                let diag = Diagnostic::new(
                    Code::NoStageGap,
                    self.path(loc),
                    loc.span,
                    "some leads match no rule and get no stage; the policy has no `otherwise`",
                )
                .label("no stage for leads that match no rule")
                .help(format!(
                    "add `otherwise {}` (or the stage such leads should get), or a rule that covers them",
                    first.name
                ));
                self.push(Subject::Gap, Some(lead), diag);
            }
            Answer::Unsat => {}
            Answer::Undecided => {
                self.undecided(loc, "whether every lead matches some rule".into());
            }
        }
    }

    // ------------------------------------------------------------ 7. stage inversion

    fn inversions(&mut self) {
        let policy = self.policy;
        let order = policy.rules_by_precedence();
        for (q, requirement) in policy.requirements.iter().enumerate() {
            let required = policy.stages[requirement.stage].name.clone();
            let condition = self.quote(&requirement.expr);
            let fails = self.solver.goal(&requirement.expr, NOT_TRUE);
            // Ceilings below the required stage take a lead out of it.
            let below: Vec<RuleId> = self
                .ceilings
                .iter()
                .copied()
                .filter(|&c| policy.rules[c].stage < requirement.stage && !self.never_rule[c])
                .collect();
            for (position, &r) in order.iter().enumerate() {
                let rule = &policy.rules[r];
                if rule.stage < requirement.stage
                    || self.never_rule[r]
                    || (rule.loc.file != ROOT && requirement.loc.file != ROOT)
                {
                    continue;
                }
                let mut before: Vec<RuleId> = order[..position]
                    .iter()
                    .copied()
                    .filter(|&h| self.may_overlap(h, r))
                    .collect();
                before.extend(below.iter().copied().filter(|&c| self.may_overlap(c, r)));
                let base = [self.solver.goal(&rule.expr, T), fails];
                let at = if rule.loc.file == ROOT {
                    rule.loc
                } else {
                    requirement.loc
                };
                match self.avoiding(&base, &before).0 {
                    Answer::Unsat => {}
                    Answer::Undecided => self.undecided(
                        at,
                        format!(
                            "whether rule {} lets in leads that fail `require {required}: {condition}`",
                            self.rule_name(r)
                        ),
                    ),
                    Answer::Sat(lead) => {
                        let stage = self.stage_name(r);
                        let message = if rule.stage > requirement.stage {
                            format!(
                                "stage inversion: rule {} puts leads in {stage} that do not meet what {required} requires (`{condition}`)",
                                self.rule_name(r)
                            )
                        } else {
                            format!(
                                "rule {} puts leads in {stage} that do not meet its requirement `{condition}`",
                                self.rule_name(r)
                            )
                        };
                        let diag = Diagnostic::new(Code::StageInversion, self.path(at), at.span, message)
                            .label("lets such leads in")
                            .related(self.path(requirement.loc), requirement.loc.span, "the requirement")
                            .help(format!(
                                "add the requirement's condition to the rule, e.g. `… and {condition}`"
                            ));
                        let subject = Subject::Inversion { rule: Some(r), requirement: q };
                        self.push(subject, Some(lead), diag);
                    }
                }
            }
            // Leads no rule matches get the `otherwise` stage.
            let Some(otherwise) = policy.otherwise else {
                continue;
            };
            if otherwise < requirement.stage || requirement.loc.file != ROOT {
                continue;
            }
            let mut avoid = order.clone();
            avoid.extend(&below);
            let at = requirement.loc;
            match self.avoiding(&[fails], &avoid).0 {
                Answer::Unsat => {}
                Answer::Undecided => self.undecided(
                    at,
                    format!(
                        "whether leads that no rule matches meet `require {required}: {condition}`"
                    ),
                ),
                Answer::Sat(lead) => {
                    let stage = &policy.stages[otherwise].name;
                    let diag = Diagnostic::new(
                        Code::StageInversion,
                        self.path(at),
                        at.span,
                        format!(
                            "leads that no rule matches get `otherwise {stage}` without meeting `{condition}`"
                        ),
                    )
                    .label("not met by every lead of this stage")
                    .help("make `otherwise` a stage below the requirement's, or add rules that catch those leads");
                    let subject = Subject::Inversion {
                        rule: None,
                        requirement: q,
                    };
                    self.push(subject, Some(lead), diag);
                }
            }
        }
    }
}

/// The clauses of a condition's top-level `and` (nested ones flattened;
/// a `between`, which the checker turns into two comparisons, stays one).
pub(crate) fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match &expr.kind {
        ExprKind::And(items) if !is_between(expr) => items.iter().flat_map(conjuncts).collect(),
        _ => vec![expr],
    }
}

/// `x between a and b`: an `and` of two comparisons written as one clause.
fn is_between(expr: &Expr) -> bool {
    matches!(&expr.kind, ExprKind::And(items)
        if items.len() == 2 && items.iter().all(|i| i.loc == expr.loc && matches!(i.kind, ExprKind::Cmp { .. })))
}

/// A comparison of a score with constants (a threshold).
fn is_score_test(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Cmp { lhs, rhs, .. } => matches!(
            (lhs, rhs),
            (Term::Score(_), Term::Const(_)) | (Term::Const(_), Term::Score(_))
        ),
        ExprKind::In { lhs, .. } => matches!(lhs, Term::Score(_)),
        ExprKind::And(items) => is_between(expr) && items.iter().all(is_score_test),
        _ => false,
    }
}

/// The score a threshold tests.
fn tested_score(expr: &Expr) -> Option<usize> {
    match &expr.kind {
        ExprKind::Cmp {
            lhs: Term::Score(s),
            ..
        }
        | ExprKind::Cmp {
            rhs: Term::Score(s),
            ..
        }
        | ExprKind::In {
            lhs: Term::Score(s),
            ..
        } => Some(*s),
        ExprKind::And(items) => items.first().and_then(tested_score),
        _ => None,
    }
}

/// Every threshold in a condition, `between`s whole.
fn score_tests<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    if is_score_test(expr) {
        out.push(expr);
        return;
    }
    match &expr.kind {
        ExprKind::And(items) | ExprKind::Or(items) | ExprKind::AtLeast { items, .. } => {
            items.iter().for_each(|i| score_tests(i, out))
        }
        ExprKind::Not(inner) => score_tests(inner, out),
        _ => {}
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn show_bound(n: f64) -> String {
    if n == f64::INFINITY {
        "unbounded".into()
    } else if n == f64::NEG_INFINITY {
        "-unbounded".into()
    } else {
        format_number(n)
    }
}

/// A lead as a JSON object keyed by field name, as `qualify explain --lead`
/// takes it: fields at their default, or missing, are left out.
pub fn witness_json(policy: &Policy, lead: &Lead) -> String {
    let mut object = serde_json::Map::new();
    for (f, field) in policy.fields.iter().enumerate() {
        let Some(value) = &lead[f] else { continue };
        if field.default.as_ref() == Some(value) {
            continue;
        }
        let json = match value {
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Num(n) => serde_json::Number::from_f64(*n)
                .map(|n| {
                    if let Some(i) = n.as_f64().filter(|x| x.fract() == 0.0 && x.abs() < 1e15) {
                        serde_json::Value::from(i as i64)
                    } else {
                        serde_json::Value::Number(n)
                    }
                })
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Enum(i) => match &field.ty {
                FieldType::Enum(values) => serde_json::Value::String(values[*i as usize].clone()),
                _ => serde_json::Value::Null,
            },
            Value::Date(d) => serde_json::Value::String(date_to_string(*d)),
            Value::List(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|s| serde_json::Value::String(s.clone()))
                    .collect(),
            ),
        };
        object.insert(field.name.clone(), json);
    }
    serde_json::Value::Object(object).to_string()
}

/// The lowest and highest total each score can reach over all leads.
pub fn score_ranges(policy: &Policy, as_of: i32) -> Vec<(f64, f64)> {
    let model = Model::new(policy, as_of);
    let mut solver = Solver::new(&model);
    (0..policy.scores.len())
        .map(|s| solver.score_bounds(s))
        .collect()
}
