//! pest pairs -> syntax tree. `pest::Pair` never leaves this module.
//!
//! pest stops at the first syntax error. To report every syntax error of a file in one
//! run, the parser blanks out the item (step, limit, data block ...) that failed,
//! keeping its newlines so positions stay true, and parses again.

use crate::ast::*;
use crate::diagnostic::Diagnostic;
use pest::error::InputLocation;
use recover::{blank_item_at, syntax_diagnostic};

mod recover;
use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "baton.pest"]
struct Grammar;

/// Parse a whole file. On syntax errors, returns every one found (at most one per
/// top-level item) and no tree.
pub fn parse(src: &str) -> Result<Process, Vec<Diagnostic>> {
    let mut text = src.to_string();
    let mut errors: Vec<Diagnostic> = Vec::new();
    // Each round blanks at least one line, so this ends; the bound keeps a pathological
    // file from taking quadratic time.
    for _ in 0..50 {
        match Grammar::parse(Rule::file, &text) {
            Ok(mut pairs) => {
                if !errors.is_empty() {
                    return Err(errors);
                }
                let file = pairs.next().expect("file rule always yields one pair");
                let process = file.into_inner().next().expect("grammar: file = process");
                return Ok(build_process(process));
            }
            Err(e) => {
                let pos = match e.location {
                    InputLocation::Pos(p) => p,
                    InputLocation::Span((s, _)) => s,
                };
                errors.push(syntax_diagnostic(&text, pos, &e.variant));
                match blank_item_at(&text, pos) {
                    Some(t) => text = t,
                    None => return Err(errors),
                }
            }
        }
    }
    Err(errors)
}

// ---- building the tree -----------------------------------------------------------------

fn span(p: &Pair<Rule>) -> Span {
    p.as_span().start()..p.as_span().end()
}

/// The children that carry meaning: keyword tokens are dropped.
fn kids<'a>(p: Pair<'a, Rule>) -> impl Iterator<Item = Pair<'a, Rule>> {
    p.into_inner().filter(|c| !is_keyword(c.as_rule()))
}

fn is_keyword(r: Rule) -> bool {
    matches!(
        r,
        Rule::kw_arrow
            | Rule::kw_process
            | Rule::kw_description
            | Rule::kw_started
            | Rule::kw_starts
            | Rule::kw_by
            | Rule::kw_require
            | Rule::kw_cron
            | Rule::kw_every
            | Rule::kw_day
            | Rule::kw_weekday
            | Rule::kw_at
            | Rule::kw_on
            | Rule::kw_the
            | Rule::kw_of
            | Rule::kw_month
            | Rule::kw_in
            | Rule::kw_for
            | Rule::kw_each
            | Rule::kw_person
            | Rule::kw_with
            | Rule::kw_role
            | Rule::kw_catch
            | Rule::kw_up
            | Rule::kw_data
            | Rule::kw_limit
            | Rule::kw_from
            | Rule::kw_to
            | Rule::kw_within
            | Rule::kw_breach
            | Rule::kw_step
            | Rule::kw_end
            | Rule::kw_task
            | Rule::kw_wait
            | Rule::kw_until
            | Rule::kw_notify
            | Rule::kw_via
            | Rule::kw_set
            | Rule::kw_start
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_sign
            | Rule::kw_order
            | Rule::kw_all
            | Rule::kw_any
            | Rule::kw_refuse
            | Rule::kw_allow
            | Rule::kw_self
            | Rule::kw_approval
            | Rule::kw_fill
            | Rule::kw_choose
            | Rule::kw_next
            | Rule::kw_when
            | Rule::kw_rule
            | Rule::kw_otherwise
            | Rule::kw_due
            | Rule::kw_remind
            | Rule::kw_before
            | Rule::kw_after
            | Rule::kw_overdue
            | Rule::kw_escalate
            | Rule::kw_extend
            | Rule::kw_supervisor
            | Rule::kw_head
            | Rule::kw_department
            | Rule::kw_starter
    )
}

fn name(p: Pair<Rule>) -> Name {
    Name {
        text: p.as_str().to_string(),
        span: span(&p),
    }
}

fn text(p: Pair<Rule>) -> Text {
    let sp = span(&p);
    let inner = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
    Text {
        value: unescape(inner),
        span: sp,
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
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

fn time_of_day(p: &Pair<Rule>) -> (u32, u32) {
    let (h, m) = p.as_str().split_once(':').unwrap_or(("0", "0"));
    (h.parse().unwrap_or(99), m.parse().unwrap_or(99))
}

fn build_process(p: Pair<Rule>) -> Process {
    let mut it = kids(p);
    let mut proc = Process {
        name: name(it.next().expect("grammar: process name")),
        title: None,
        description: None,
        started_by: vec![],
        schedules: vec![],
        requires: vec![],
        data: vec![],
        limits: vec![],
        steps: vec![],
        ends: vec![],
    };
    for item in it {
        match item.as_rule() {
            Rule::string => proc.title = Some(text(item)),
            Rule::description => proc.description = kids(item).next().map(text),
            Rule::started_by => proc.started_by.extend(kids(item).map(name)),
            Rule::schedule => proc.schedules.push(build_schedule(item)),
            Rule::require => {
                let mut k = kids(item);
                let cond = build_expr(k.next().expect("grammar: require expr"));
                let message = text(k.next().expect("grammar: require message"));
                proc.requires.push(Require { cond, message });
            }
            Rule::data_block => proc.data.extend(kids(item).map(build_field)),
            Rule::limit => proc.limits.push(build_limit(item)),
            Rule::step => proc.steps.push(build_step(item)),
            Rule::end_step => {
                let mut k = kids(item);
                let n = name(k.next().expect("grammar: end name"));
                proc.ends.push(End {
                    name: n,
                    title: k.next().map(text),
                });
            }
            _ => {}
        }
    }
    proc
}

fn build_schedule(p: Pair<Rule>) -> Schedule {
    let sp = span(&p);
    let mut when = When::Cron(Text {
        value: String::new(),
        span: sp.clone(),
    });
    let (mut zone, mut for_each_role, mut catch_up) = (None, None, None);
    for k in kids(p) {
        let ks = span(&k);
        match k.as_rule() {
            Rule::cron_spec => when = When::Cron(text(kids(k).next().expect("grammar: cron"))),
            Rule::every_spec => {
                // The keyword pairs are dropped by `kids`, so look at the raw ones.
                let inner: Vec<_> = k.into_inner().collect();
                let at = inner
                    .iter()
                    .find(|x| x.as_rule() == Rule::time_of_day)
                    .map(time_of_day)
                    .unwrap_or((0, 0));
                let what = &inner[1];
                when = match what.as_rule() {
                    Rule::kw_day => When::Daily { at, span: ks },
                    Rule::kw_weekday => When::Weekdays { at, span: ks },
                    _ => When::Weekly {
                        weekday: what.as_str().to_string(),
                        at,
                        span: ks,
                    },
                };
            }
            Rule::monthly_spec => {
                let inner: Vec<_> = kids(k).collect();
                let day = inner[0]
                    .as_str()
                    .trim_end_matches(char::is_alphabetic)
                    .parse()
                    .unwrap_or(0);
                let at = inner.get(1).map(time_of_day).unwrap_or((0, 0));
                when = When::Monthly { day, at, span: ks };
            }
            Rule::sched_zone => zone = kids(k).next().map(text),
            Rule::sched_fanout => for_each_role = kids(k).next().map(name),
            Rule::sched_catchup => catch_up = kids(k).next().map(name),
            _ => {}
        }
    }
    Schedule {
        when,
        zone,
        for_each_role,
        catch_up,
        span: sp,
    }
}

fn build_type(p: Pair<Rule>) -> TypeSpec {
    let inner = p
        .into_inner()
        .next()
        .expect("grammar: type_spec has one child");
    match inner.as_rule() {
        Rule::base_type => TypeSpec::Base(name(inner)),
        Rule::range_type => {
            let sp = span(&inner);
            let mut decimal = false;
            // `integer 1.5..3` stays an integer range, so the checker can say it needs
            // whole numbers; only a range without a keyword becomes decimal by its ends.
            let mut integer = false;
            let mut nums = vec![];
            for k in inner.into_inner() {
                match k.as_rule() {
                    Rule::dec_kw => decimal = true,
                    Rule::int_kw => integer = true,
                    Rule::signed_number => {
                        if k.as_str().contains('.') && !integer {
                            decimal = true;
                        }
                        nums.push(k.as_str().parse::<f64>().unwrap_or(0.0));
                    }
                    _ => {}
                }
            }
            TypeSpec::Range {
                decimal,
                lo: nums.first().copied().unwrap_or(0.0),
                hi: nums.get(1).copied().unwrap_or(0.0),
                span: sp,
            }
        }
        _ => TypeSpec::Choice(
            inner
                .into_inner()
                .map(|v| {
                    let mut k = v.into_inner();
                    let n = name(k.next().expect("grammar: variant name"));
                    (n, k.next().map(text))
                })
                .collect(),
        ),
    }
}

fn build_field(p: Pair<Rule>) -> FieldDecl {
    let mut k = p.into_inner();
    let n = name(k.next().expect("grammar: field name"));
    let ty = build_type(k.next().expect("grammar: field type"));
    let mut f = FieldDecl {
        name: n,
        ty,
        optional: false,
        default: None,
        label: None,
    };
    for x in k {
        match x.as_rule() {
            Rule::optional => f.optional = true,
            Rule::default => f.default = x.into_inner().next().map(build_expr),
            Rule::string => f.label = Some(text(x)),
            _ => {}
        }
    }
    f
}

fn build_when(p: Pair<Rule>) -> Expr {
    build_expr(kids(p).next().expect("grammar: when expr"))
}

fn build_remind(p: Pair<Rule>) -> Remind {
    let inner = kids(p).next().expect("grammar: remind kind");
    let rule = inner.as_rule();
    let e = build_expr(kids(inner).next().expect("grammar: remind duration"));
    if rule == Rule::remind_every {
        Remind::Every(e)
    } else {
        Remind::Before(e)
    }
}

fn build_extend(p: Pair<Rule>) -> Extend {
    let sp = span(&p);
    let mut k = kids(p);
    let up_to = build_expr(k.next().expect("grammar: extend amount"));
    Extend {
        up_to,
        when: k.next().map(build_when),
        span: sp,
    }
}

fn build_action(p: Pair<Rule>) -> Action {
    let a = kids(p).next().expect("grammar: action");
    let rule = a.as_rule();
    let mut k = kids(a);
    let first = k.next().expect("grammar: action target");
    match rule {
        Rule::act_notify => Action::Notify(build_who(first), k.next().map(text)),
        Rule::act_escalate => Action::Escalate(build_who(first)),
        _ => Action::Goto(name(first)),
    }
}

fn build_limit(p: Pair<Rule>) -> Limit {
    let sp = span(&p);
    let mut k = kids(p);
    let mut l = Limit {
        name: name(k.next().expect("grammar: limit name")),
        from: name(k.next().expect("grammar: limit from")),
        to: name(k.next().expect("grammar: limit to")),
        within: vec![],
        reminders: vec![],
        on_breach: vec![],
        extend: None,
        span: sp,
    };
    for item in k {
        match item.as_rule() {
            Rule::within => {
                let mut w = kids(item);
                let d = build_expr(w.next().expect("grammar: within duration"));
                l.within.push((d, w.next().map(build_when)));
            }
            Rule::remind => l.reminders.push(build_remind(item)),
            Rule::on_breach => l.on_breach.push(build_action(
                kids(item).next().expect("grammar: breach action"),
            )),
            Rule::extend => l.extend = Some(build_extend(item)),
            _ => {}
        }
    }
    l
}

fn build_who(p: Pair<Rule>) -> Who {
    let sp = span(&p);
    let inner = if p.as_rule() == Rule::assignee {
        p.into_inner()
            .next()
            .expect("grammar: assignee has one child")
    } else {
        p
    };
    let rule = inner.as_rule();
    let mut k = kids(inner);
    match rule {
        Rule::fanout => Who::EachWithRole(name(k.next().expect("grammar: fanout role"))),
        Rule::supervisor_of => Who::SupervisorOf(
            Box::new(build_who(k.next().expect("grammar: supervisor of"))),
            sp,
        ),
        Rule::dept_head_of => Who::DeptHeadOf(
            Box::new(build_who(k.next().expect("grammar: head of department of"))),
            sp,
        ),
        Rule::head_of => Who::HeadOf(name(k.next().expect("grammar: head of"))),
        Rule::starter => Who::Starter(sp),
        Rule::person_ref => Who::Person(name(k.next().expect("grammar: person id"))),
        _ => Who::Name(name(k.next().expect("grammar: name"))),
    }
}

fn build_assign(p: Pair<Rule>) -> Assign {
    let mut k = p.into_inner();
    Assign {
        field: name(k.next().expect("grammar: assignment field")),
        value: build_expr(k.next().expect("grammar: assignment value")),
    }
}

fn build_step(p: Pair<Rule>) -> Step {
    let sp = span(&p);
    let mut k = kids(p);
    let n = name(k.next().expect("grammar: step name"));
    let mut step = Step {
        name: n,
        title: None,
        body: vec![],
        span: sp,
    };
    for s in k {
        if s.as_rule() == Rule::string {
            step.title = Some(text(s));
            continue;
        }
        step.body.push(build_stmt(s));
    }
    step
}

fn build_stmt(s: Pair<Rule>) -> Stmt {
    let sp = span(&s);
    let rule = s.as_rule();
    match rule {
        Rule::task => Stmt::Task(build_who(kids(s).next().expect("grammar: task who")), sp),
        Rule::wait => {
            let until = s
                .clone()
                .into_inner()
                .any(|c| c.as_rule() == Rule::kw_until);
            let e = build_expr(kids(s).next().expect("grammar: wait expr"));
            if until {
                Stmt::WaitUntil(e, sp)
            } else {
                Stmt::WaitFor(e, sp)
            }
        }
        Rule::notify => {
            let parts: Vec<_> = kids(s).collect();
            let mut to = None;
            let mut via = None;
            let mut message = None;
            for part in parts {
                match part.as_rule() {
                    Rule::assignee => to = Some(build_who(part)),
                    Rule::ident => via = Some(name(part)),
                    _ => message = Some(text(part)),
                }
            }
            Stmt::Notify {
                to: to.expect("grammar: notify target"),
                via,
                message: message.expect("grammar: notify message"),
                span: sp,
            }
        }
        Rule::set => Stmt::Set(build_assign(kids(s).next().expect("grammar: set")), sp),
        Rule::start => {
            let mut k = kids(s);
            let process = name(k.next().expect("grammar: start process"));
            let mut with = vec![];
            let mut wait = false;
            for x in k {
                match x.as_rule() {
                    Rule::assignment => with.push(build_assign(x)),
                    _ => wait = true,
                }
            }
            Stmt::Start {
                process,
                with,
                wait,
                span: sp,
            }
        }
        Rule::sign => {
            let inner = kids(s).next().expect("grammar: sign mode");
            let in_order = inner.as_rule() == Rule::sign_in_order;
            let mut mode = SignMode::InOrder;
            if !in_order {
                let first = inner.clone().into_inner().next().expect("grammar: quorum");
                mode = match first.as_rule() {
                    Rule::kw_all => SignMode::All,
                    Rule::kw_any => SignMode::Any,
                    _ => SignMode::Count(first.as_str().parse().unwrap_or(0)),
                };
            }
            let signers = kids(inner)
                .filter(|x| x.as_rule() == Rule::assignee)
                .map(build_who)
                .collect();
            Stmt::Sign {
                mode,
                signers,
                span: sp,
            }
        }
        Rule::fill => Stmt::Fill(
            kids(s)
                .map(|item| {
                    let mut k = item.into_inner();
                    let n = name(k.next().expect("grammar: fill name"));
                    let mut fi = FillItem {
                        name: n,
                        optional: false,
                        ty: None,
                    };
                    for x in k {
                        match x.as_rule() {
                            Rule::optional => fi.optional = true,
                            _ => fi.ty = Some(build_type(x)),
                        }
                    }
                    fi
                })
                .collect(),
            sp,
        ),
        Rule::choose => Stmt::Choose(
            kids(s)
                .map(|arm| {
                    let mut k = kids(arm);
                    let n = name(k.next().expect("grammar: choice name"));
                    let second = k.next().expect("grammar: choice target");
                    let (label, target) = if second.as_rule() == Rule::string {
                        (
                            Some(text(second)),
                            name(k.next().expect("grammar: choice target")),
                        )
                    } else {
                        (None, name(second))
                    };
                    ChoiceArm {
                        name: n,
                        label,
                        target,
                    }
                })
                .collect(),
            sp,
        ),
        Rule::next => {
            let mut k = kids(s);
            let target = name(k.next().expect("grammar: next target"));
            Stmt::Next {
                target,
                when: k.next().map(build_when),
                span: sp,
            }
        }
        Rule::rules => Stmt::Rules(
            kids(s)
                .map(|arm| {
                    let asp = span(&arm);
                    let mut cond = None;
                    let mut target = None;
                    let mut sets = vec![];
                    for x in arm.into_inner() {
                        match x.as_rule() {
                            Rule::expr => cond = Some(build_expr(x)),
                            Rule::ident => target = Some(name(x)),
                            Rule::assignment => sets.push(build_assign(x)),
                            _ => {}
                        }
                    }
                    RuleArm {
                        cond,
                        target: target.expect("grammar: rule target"),
                        sets,
                        span: asp,
                    }
                })
                .collect(),
            sp,
        ),
        Rule::due => {
            let mut k = kids(s);
            let at = build_expr(k.next().expect("grammar: due expr"));
            Stmt::Due {
                at,
                when: k.next().map(build_when),
                span: sp,
            }
        }
        Rule::remind => Stmt::Remind(build_remind(s), sp),
        Rule::on_overdue => Stmt::OnOverdue(
            build_action(kids(s).next().expect("grammar: overdue action")),
            sp,
        ),
        Rule::on_refuse => Stmt::OnRefuse(name(kids(s).next().expect("grammar: refuse")), sp),
        Rule::extend => Stmt::Extend(build_extend(s)),
        _ => Stmt::SelfApproval(sp),
    }
}

// ---- expressions -----------------------------------------------------------------------

fn build_expr(p: Pair<Rule>) -> Expr {
    let sp = span(&p);
    match p.as_rule() {
        Rule::expr => build_expr(p.into_inner().next().expect("grammar: expr")),
        Rule::or_expr | Rule::and_expr | Rule::sum | Rule::product => {
            let mut it = p.into_inner();
            let mut acc = build_expr(it.next().expect("grammar: operand"));
            while let Some(op) = it.next() {
                let rhs = build_expr(it.next().expect("grammar: right operand"));
                let op = match (op.as_rule(), op.as_str()) {
                    (Rule::kw_or, _) => BinOp::Or,
                    (Rule::kw_and, _) => BinOp::And,
                    (_, "+") => BinOp::Add,
                    (_, "-") => BinOp::Sub,
                    (_, "*") => BinOp::Mul,
                    _ => BinOp::Div,
                };
                let s = acc.span.start..rhs.span.end;
                acc = Expr {
                    kind: ExprKind::Bin(op, Box::new(acc), Box::new(rhs)),
                    span: s,
                };
            }
            acc
        }
        Rule::not_expr => {
            let mut it = p.into_inner();
            let first = it.next().expect("grammar: not_expr");
            if first.as_rule() == Rule::kw_not {
                let inner = build_expr(it.next().expect("grammar: not operand"));
                Expr {
                    kind: ExprKind::Not(Box::new(inner)),
                    span: sp,
                }
            } else {
                build_expr(first)
            }
        }
        Rule::cmp_expr => {
            let mut it = kids(p);
            let lhs = build_expr(it.next().expect("grammar: comparison"));
            let Some(op) = it.next() else { return lhs };
            match op.as_rule() {
                Rule::cmp_op => {
                    let rhs = build_expr(it.next().expect("grammar: comparison rhs"));
                    let op = match op.as_str() {
                        "==" => BinOp::Eq,
                        "!=" => BinOp::Ne,
                        "<=" => BinOp::Le,
                        ">=" => BinOp::Ge,
                        "<" => BinOp::Lt,
                        _ => BinOp::Gt,
                    };
                    Expr {
                        kind: ExprKind::Bin(op, Box::new(lhs), Box::new(rhs)),
                        span: sp,
                    }
                }
                Rule::range_expr => {
                    let mut r = op.into_inner();
                    let lo = build_expr(r.next().expect("grammar: range lo"));
                    let inclusive_hi = r.next().expect("grammar: range op").as_str() == "..";
                    let hi = build_expr(r.next().expect("grammar: range hi"));
                    Expr {
                        kind: ExprKind::InRange {
                            value: Box::new(lhs),
                            lo: Box::new(lo),
                            hi: Box::new(hi),
                            inclusive_hi,
                        },
                        span: sp,
                    }
                }
                _ => Expr {
                    kind: ExprKind::InSet(Box::new(lhs), op.into_inner().map(build_expr).collect()),
                    span: sp,
                },
            }
        }
        Rule::at_expr => {
            let mut it = kids(p);
            let base = build_expr(it.next().expect("grammar: at base"));
            match it.next() {
                Some(t) => Expr {
                    kind: ExprKind::At(Box::new(base), time_of_day(&t)),
                    span: sp,
                },
                None => base,
            }
        }
        Rule::unary => {
            let parts: Vec<_> = p.into_inner().collect();
            let negs = parts.iter().filter(|x| x.as_rule() == Rule::neg).count();
            let primary = parts
                .into_iter()
                .find(|x| x.as_rule() != Rule::neg)
                .expect("grammar: unary operand");
            let mut e = build_expr(primary);
            for _ in 0..negs {
                e = Expr {
                    kind: ExprKind::Neg(Box::new(e)),
                    span: sp.clone(),
                };
            }
            e
        }
        Rule::call => {
            let mut it = p.into_inner();
            let f = it.next().expect("grammar: call name").as_str().to_string();
            Expr {
                kind: ExprKind::Call(f, it.map(build_expr).collect()),
                span: sp,
            }
        }
        Rule::duration => {
            let mut n = 0i64;
            let mut working = false;
            let mut unit = "m";
            for k in p.clone().into_inner() {
                match k.as_rule() {
                    Rule::integer => n = k.as_str().parse().unwrap_or(i64::MAX),
                    Rule::working => working = true,
                    _ => unit = k.as_str(),
                }
            }
            let lit = match (unit.chars().next(), unit, working) {
                (_, "months" | "month", _) => DurLit::Months(n),
                (Some('m'), _, true) => DurLit::WorkingMinutes(n),
                (Some('h'), _, true) => DurLit::WorkingMinutes(n.saturating_mul(60)),
                (Some('d'), _, true) => DurLit::WorkingDays(n),
                (Some('w'), _, true) => DurLit::WorkingDays(n.saturating_mul(5)),
                (Some('m'), _, false) => DurLit::Minutes(n),
                (Some('h'), _, false) => DurLit::Minutes(n.saturating_mul(60)),
                (Some('d'), _, false) => DurLit::Minutes(n.saturating_mul(60 * 24)),
                _ => DurLit::Minutes(n.saturating_mul(60 * 24 * 7)),
            };
            Expr {
                kind: ExprKind::Duration(lit),
                span: sp,
            }
        }
        Rule::date_lit => Expr {
            kind: ExprKind::Date(p.as_str().to_string()),
            span: sp,
        },
        Rule::decimal => Expr {
            kind: ExprKind::Dec(p.as_str().parse().unwrap_or(0.0)),
            span: sp,
        },
        Rule::integer => Expr {
            // An integer too large for i64 becomes i64::MAX; the checker reports it.
            kind: ExprKind::Int(p.as_str().parse().unwrap_or(i64::MAX)),
            span: sp,
        },
        Rule::string => {
            let t = text(p);
            Expr {
                kind: ExprKind::Str(t.value),
                span: sp,
            }
        }
        Rule::boolean => Expr {
            kind: ExprKind::Bool(p.as_str() == "true"),
            span: sp,
        },
        Rule::today => Expr {
            kind: ExprKind::Today,
            span: sp,
        },
        Rule::now => Expr {
            kind: ExprKind::Now,
            span: sp,
        },
        _ => Expr {
            kind: ExprKind::Ident(p.as_str().to_string()),
            span: sp,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_small_process_with_spans() {
        let src = "process p \"標題\" {\n  step a { task for starter  next done }\n  end done\n}\n";
        let p = parse(src).expect("parses");
        assert_eq!(p.name.text, "p");
        assert_eq!(p.title.as_ref().map(|t| t.value.as_str()), Some("標題"));
        assert_eq!(&src[p.steps[0].name.span.clone()], "a");
        assert_eq!(p.ends[0].name.text, "done");
    }

    #[test]
    fn reports_every_broken_item() {
        let src = "process p {\n  step a { task for }\n  step b { next done }\n  step c { due }\n  end done\n}\n";
        let errs = parse(src).expect_err("two syntax errors");
        assert_eq!(errs.len(), 2, "{errs:?}");
        let lines: Vec<_> = errs
            .iter()
            .map(|d| crate::diagnostic::line_col(src, d.span.start).0)
            .collect();
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn operator_precedence_and_ranges() {
        let src =
            "process p { require 1 + 2 * 3 in 5..<8 and not false \"m\" step a { next e } end e }";
        let p = parse(src).expect("parses");
        let ExprKind::Bin(BinOp::And, lhs, _) = &p.requires[0].cond.kind else {
            panic!("and at the top: {:?}", p.requires[0].cond)
        };
        let ExprKind::InRange {
            value,
            inclusive_hi,
            ..
        } = &lhs.kind
        else {
            panic!("range test: {lhs:?}")
        };
        assert!(!inclusive_hi);
        assert!(matches!(value.kind, ExprKind::Bin(BinOp::Add, _, _)));
    }
}
