//! pest pairs -> syntax tree. `pest::Pair` never leaves this module.
//!
//! pest stops at the first syntax error. To report every syntax error of a file in one
//! run, the parser blanks out the item (step, limit, data block ...) that failed,
//! keeping its newlines so positions stay true, and parses again.

use crate::ast::*;
use crate::catalogue::Code;
use crate::diagnostic::Diagnostic;
use depth::MAX_NESTING;
use pest::error::InputLocation;
use recover::{blank_item_at, syntax_diagnostic};

mod depth;
mod expr;
mod list;
mod parallel;
mod recover;
use expr::build_expr;
use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "baton.pest"]
struct Grammar;

/// Parse a whole file. On syntax errors, returns every one found (at most one per
/// top-level item) and no tree.
pub fn parse(src: &str) -> Result<Process, Vec<Diagnostic>> {
    // pest descends several calls per parenthesis, and an unoptimised build uses a
    // large frame for each (a 2 MiB thread holds 8 parentheses). The nesting limit
    // bounds the depth; beyond what any thread's stack holds, the parse gets a thread
    // of its own with a stack of known size, whatever thread (a test's, a server
    // worker's) asks for it. Ordinary files, a few levels deep, parse where they are:
    // a thread per parse would cost more than the parse.
    if depth::deepest(src) <= INLINE_NESTING {
        if let Some(done) = parse_here(src, true) {
            return done;
        }
    }
    let on_own_stack = std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("baton-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || parse_here(src, false))
            .ok()?;
        let stopped = || internal(0..src.len(), "this file (the parser stopped)");
        handle.join().unwrap_or_else(|_| Some(Err(vec![stopped()])))
    });
    // Without a thread to spare, parse here: the limits still hold, on a smaller stack.
    on_own_stack
        .or_else(|| parse_here(src, false))
        .unwrap_or_else(|| Err(vec![internal(0..src.len(), "this file")]))
}

/// Nesting parsed on the caller's stack (braces of steps and blocks count too).
const INLINE_NESTING: usize = 6;

/// Stack for parsing: room for [`MAX_NESTING`] levels of the deepest-recursing rule in
/// an unoptimised build, with a wide margin. Reserved, not committed, until used.
const PARSE_STACK: usize = 64 << 20;

/// The parse, with recovery. `inline`: on the caller's stack, so `None` as soon as a
/// round's text nests deeper than [`INLINE_NESTING`] (blanking a broken item can turn
/// what was inside a string into text).
fn parse_here(src: &str, inline: bool) -> Option<Result<Process, Vec<Diagnostic>>> {
    let mut text = src.to_string();
    let mut errors: Vec<Diagnostic> = Vec::new();
    // Each round blanks at least one line, so this ends; the bound keeps a pathological
    // file from taking quadratic time.
    for _ in 0..50 {
        // Before pest descends into the text: nesting it could not survive. Blanking an
        // item may turn the rest of a string into text, so every round scans again.
        if let Some(d) = depth::scan(&text) {
            let pos = d.span.start;
            errors.push(d);
            match blank_item_at(&text, pos) {
                Some(t) => {
                    text = t;
                    continue;
                }
                None => return Some(Err(errors)),
            }
        }
        if inline && depth::deepest(&text) > INLINE_NESTING {
            return None;
        }
        match Grammar::parse(Rule::file, &text) {
            Ok(mut pairs) => {
                if !errors.is_empty() {
                    return Some(Err(errors));
                }
                let whole = 0..text.len();
                let Some(process) = pairs.next().and_then(|file| file.into_inner().next()) else {
                    return Some(Err(vec![internal(whole, "the process")]));
                };
                return Some(build_process(process));
            }
            Err(e) => {
                let pos = match e.location {
                    InputLocation::Pos(p) => p,
                    InputLocation::Span((s, _)) => s,
                };
                errors.push(syntax_diagnostic(&text, pos, &e.variant));
                match blank_item_at(&text, pos) {
                    Some(t) => text = t,
                    None => return Some(Err(errors)),
                }
            }
        }
    }
    Some(Err(errors))
}

// ---- building the tree -----------------------------------------------------------------

fn span(p: &Pair<Rule>) -> Span {
    p.as_span().start()..p.as_span().end()
}

/// A pair's span up to the end of its last token. pest skips whitespace and
/// comments before trying an optional or repeated tail (`task for X` may go on with
/// `except Y`), and keeps what it skipped in the span even when the tail is absent.
fn tight(p: &Pair<Rule>) -> Span {
    let text = p.as_str();
    let start = p.as_span().start();
    let trimmed = text.trim_end();
    // Most statements end on their last token already.
    if trimmed.len() == text.len() {
        return start..start + text.len();
    }
    // No token ends in whitespace, so without a comment after the last token the
    // trimmed text ends where that token does. Such a comment would be on the trimmed
    // text's last line.
    let last_line = &trimmed[trimmed.rfind('\n').map_or(0, |i| i + 1)..];
    if !last_line.contains('#') {
        return start..start + trimmed.len();
    }
    // Pairs are in order and a pair ends where its last child does, give or take the
    // whitespace, so the last token is found by going down the last children (a
    // string counts as one token).
    let mut last = p.clone();
    while let Some(c) = last.clone().into_inner().next_back() {
        last = c;
        if last.as_rule() == Rule::string {
            break;
        }
    }
    start..last.as_span().end()
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
            | Rule::kw_check
            | Rule::kw_except
            | Rule::kw_has
            | Rule::kw_parallel
            | Rule::kw_branch
            | Rule::kw_may
            | Rule::kw_join
            | Rule::kw_outputs
            | Rule::kw_receive
            | Rule::kw_as
            | Rule::kw_outcome
            | Rule::kw_list
            | Rule::kw_where
            | Rule::kw_counted
    )
}

/// What a builder returns: the node, or an internal error when the pairs do not have
/// the shape the grammar promises, or E013 when an expression is too deep.
type Built<T> = Result<T, Diagnostic>;

/// The grammar and this builder disagree: a bug in Baton, not in the definition. It
/// is still reported as a diagnostic so that no input can crash a command.
fn internal(at: Span, what: &str) -> Diagnostic {
    Diagnostic::new(Code::Internal, at, &[&what])
}

fn unexpected(p: &Pair<Rule>, what: &str) -> Diagnostic {
    internal(
        span(p),
        &format!("{what} (it found the grammar rule `{:?}`)", p.as_rule()),
    )
}

/// The next child, which the grammar says is there.
fn need<'a>(next: Option<Pair<'a, Rule>>, at: &Span, what: &str) -> Built<Pair<'a, Rule>> {
    next.ok_or_else(|| internal(at.clone(), what))
}

fn name(p: Pair<Rule>) -> Name {
    Name {
        text: p.as_str().to_string(),
        span: span(&p),
    }
}

/// A name, which must come from an `ident` pair.
fn ident(p: Pair<Rule>) -> Built<Name> {
    match p.as_rule() {
        Rule::ident => Ok(name(p)),
        _ => Err(unexpected(&p, "a name")),
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

/// A quoted text, which must come from a `string` pair.
fn string(p: Pair<Rule>) -> Built<Text> {
    match p.as_rule() {
        Rule::string => Ok(text(p)),
        _ => Err(unexpected(&p, "a quoted text")),
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

/// The process. An item that cannot be built (too deep, or an internal error) is
/// reported and the others are still built, so every such problem shows in one run.
fn build_process(p: Pair<Rule>) -> Result<Process, Vec<Diagnostic>> {
    let sp = span(&p);
    let mut it = kids(p);
    let first = need(it.next(), &sp, "the process name").map_err(|d| vec![d])?;
    let mut proc = Process {
        name: ident(first).map_err(|d| vec![d])?,
        title: None,
        description: None,
        started_by: vec![],
        schedules: vec![],
        requires: vec![],
        data: vec![],
        limits: vec![],
        steps: vec![],
        ends: vec![],
        outputs: vec![],
        counted_by: vec![],
    };
    let mut errors = Vec::new();
    for item in it {
        if let Err(d) = build_item(&mut proc, item) {
            errors.push(d);
        }
    }
    if errors.is_empty() {
        Ok(proc)
    } else {
        Err(errors)
    }
}

fn build_item(proc: &mut Process, item: Pair<Rule>) -> Built<()> {
    let sp = span(&item);
    match item.as_rule() {
        Rule::string => proc.title = Some(text(item)),
        Rule::description => {
            proc.description = Some(string(need(kids(item).next(), &sp, "a description")?)?)
        }
        Rule::started_by => {
            for n in kids(item) {
                proc.started_by.push(ident(n)?);
            }
        }
        Rule::schedule => proc.schedules.push(build_schedule(item)?),
        Rule::require => {
            let mut k = kids(item);
            let cond = build_expr(need(k.next(), &sp, "a condition")?, 0)?;
            let message = string(need(k.next(), &sp, "a message")?)?;
            proc.requires.push(Require { cond, message });
        }
        Rule::data_block => {
            for f in kids(item) {
                proc.data.push(build_field(f)?);
            }
        }
        Rule::limit => proc.limits.push(build_limit(item)?),
        Rule::step => proc.steps.push(build_step(item)?),
        Rule::end_step => {
            let mut k = kids(item);
            let n = ident(need(k.next(), &sp, "the end's name")?)?;
            let mut end = End {
                name: n,
                title: None,
                notices: vec![],
            };
            for part in k {
                match part.as_rule() {
                    Rule::string => end.title = Some(text(part)),
                    Rule::end_body => {
                        for s in kids(part) {
                            end.notices.push(build_stmt(s)?);
                        }
                    }
                    _ => return Err(unexpected(&part, "a part of an end")),
                }
            }
            proc.ends.push(end);
        }
        Rule::counted_by => proc.counted_by.push(ident(need(
            kids(item).next(),
            &sp,
            "the field counted by",
        )?)?),
        Rule::outputs => {
            for o in kids(item) {
                let mut k = o.into_inner();
                let n = ident(need(k.next(), &sp, "an output")?)?;
                proc.outputs.push((n, k.next().is_some()));
            }
        }
        _ => return Err(unexpected(&item, "an item of the process")),
    }
    Ok(())
}

fn build_schedule(p: Pair<Rule>) -> Built<Schedule> {
    let sp = span(&p);
    let mut when = None;
    let (mut zone, mut for_each_role, mut catch_up) = (None, None, None);
    for k in kids(p) {
        let ks = span(&k);
        match k.as_rule() {
            Rule::cron_spec => {
                when = Some(When::Cron(string(need(
                    kids(k).next(),
                    &ks,
                    "a cron text",
                )?)?))
            }
            Rule::every_spec => {
                // `every day` and `every weekday` are keywords, which `kids` drops.
                let mut at = (0, 0);
                let mut what = None;
                for x in k.into_inner() {
                    match x.as_rule() {
                        Rule::kw_every | Rule::kw_at => {}
                        Rule::kw_day | Rule::kw_weekday | Rule::weekday_name => what = Some(x),
                        Rule::time_of_day => at = time_of_day(&x),
                        _ => return Err(unexpected(&x, "a day or a time of day")),
                    }
                }
                let what = need(what, &ks, "the days of the schedule")?;
                when = Some(match what.as_rule() {
                    Rule::kw_day => When::Daily { at, span: ks },
                    Rule::kw_weekday => When::Weekdays { at, span: ks },
                    Rule::weekday_name => When::Weekly {
                        weekday: what.as_str().to_string(),
                        at,
                        span: ks,
                    },
                    _ => return Err(unexpected(&what, "the days of the schedule")),
                });
            }
            Rule::monthly_spec => {
                let mut inner = kids(k);
                let day = need(inner.next(), &ks, "a day of the month")?;
                if day.as_rule() != Rule::ordinal {
                    return Err(unexpected(&day, "a day of the month"));
                }
                let day = day
                    .as_str()
                    .trim_end_matches(char::is_alphabetic)
                    .parse()
                    .unwrap_or(0);
                let at = inner.next().map(|t| time_of_day(&t)).unwrap_or((0, 0));
                when = Some(When::Monthly { day, at, span: ks });
            }
            Rule::sched_zone => zone = Some(string(need(kids(k).next(), &ks, "a zone")?)?),
            Rule::sched_fanout => {
                for_each_role = Some(ident(need(kids(k).next(), &ks, "a role")?)?)
            }
            Rule::sched_catchup => {
                let policy = need(kids(k).next(), &ks, "a catch-up policy")?;
                catch_up = Some(name(policy));
            }
            _ => return Err(unexpected(&k, "a part of a schedule")),
        }
    }
    Ok(Schedule {
        when: when.ok_or_else(|| internal(sp.clone(), "when the schedule starts"))?,
        zone,
        for_each_role,
        catch_up,
        span: sp,
    })
}

fn build_type(p: Pair<Rule>) -> Built<TypeSpec> {
    let sp = span(&p);
    let inner = need(p.into_inner().next(), &sp, "a type")?;
    match inner.as_rule() {
        Rule::base_type => Ok(TypeSpec::Base(name(inner))),
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
                    _ => return Err(unexpected(&k, "a range")),
                }
            }
            Ok(TypeSpec::Range {
                decimal,
                lo: nums.first().copied().unwrap_or(0.0),
                hi: nums.get(1).copied().unwrap_or(0.0),
                span: sp,
            })
        }
        Rule::choice_type => {
            let mut variants = vec![];
            for v in inner.into_inner() {
                let vs = span(&v);
                if v.as_rule() != Rule::variant {
                    return Err(unexpected(&v, "a choice"));
                }
                let mut k = v.into_inner();
                let n = ident(need(k.next(), &vs, "a choice's name")?)?;
                variants.push((n, k.next().map(string).transpose()?));
            }
            Ok(TypeSpec::Choice(variants))
        }
        Rule::list_type => list::build_list_type(inner),
        _ => Err(unexpected(&inner, "a type")),
    }
}

fn build_field(p: Pair<Rule>) -> Built<FieldDecl> {
    let sp = span(&p);
    if p.as_rule() != Rule::field {
        return Err(unexpected(&p, "a field"));
    }
    let mut k = p.into_inner();
    let n = ident(need(k.next(), &sp, "the field's name")?)?;
    let ty = build_type(need(k.next(), &sp, "the field's type")?)?;
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
            Rule::default => {
                let xs = span(&x);
                f.default = Some(build_expr(
                    need(x.into_inner().next(), &xs, "a default")?,
                    0,
                )?)
            }
            Rule::string => f.label = Some(text(x)),
            _ => return Err(unexpected(&x, "a part of a field")),
        }
    }
    Ok(f)
}

fn build_when(p: Pair<Rule>) -> Built<Expr> {
    let sp = span(&p);
    if p.as_rule() != Rule::when_clause {
        return Err(unexpected(&p, "a `when` condition"));
    }
    build_expr(need(kids(p).next(), &sp, "a `when` condition")?, 0)
}

fn build_remind(p: Pair<Rule>) -> Built<RemindLine> {
    let sp = span(&p);
    let mut k = kids(p);
    let inner = need(k.next(), &sp, "a reminder")?;
    let rule = inner.as_rule();
    let e = build_expr(need(kids(inner.clone()).next(), &sp, "a duration")?, 0)?;
    let at = match rule {
        Rule::remind_every => Remind::Every(e),
        Rule::remind_before => Remind::Before(e),
        _ => return Err(unexpected(&inner, "a reminder")),
    };
    let mut line = RemindLine {
        at,
        to: None,
        message: None,
    };
    for part in k {
        match part.as_rule() {
            Rule::remind_to => {
                let psp = span(&part);
                line.to = Some(build_who(
                    need(kids(part).next(), &psp, "whom to remind")?,
                    0,
                )?);
            }
            Rule::string => line.message = Some(string(part)?),
            _ => return Err(unexpected(&part, "a reminder")),
        }
    }
    Ok(line)
}

fn build_extend(p: Pair<Rule>) -> Built<Extend> {
    let sp = span(&p);
    let mut k = kids(p);
    let up_to = build_expr(need(k.next(), &sp, "an extension")?, 0)?;
    Ok(Extend {
        up_to,
        when: k.next().map(build_when).transpose()?,
        span: sp,
    })
}

fn build_action(p: Pair<Rule>) -> Built<Action> {
    let sp = span(&p);
    let a = need(kids(p).next(), &sp, "an action")?;
    let rule = a.as_rule();
    let mut k = kids(a.clone());
    let first = need(k.next(), &sp, "the action's target")?;
    match rule {
        Rule::act_notify => Ok(Action::Notify(
            build_who(first, 0)?,
            k.next().map(string).transpose()?,
        )),
        Rule::act_escalate => Ok(Action::Escalate(build_who(first, 0)?)),
        Rule::act_goto => Ok(Action::Goto(ident(first)?)),
        _ => Err(unexpected(&a, "an action")),
    }
}

fn build_limit(p: Pair<Rule>) -> Built<Limit> {
    let sp = span(&p);
    let mut k = kids(p);
    let mut l = Limit {
        name: ident(need(k.next(), &sp, "the limit's name")?)?,
        from: ident(need(k.next(), &sp, "the limit's first step")?)?,
        to: ident(need(k.next(), &sp, "the limit's last step")?)?,
        within: vec![],
        reminders: vec![],
        on_breach: vec![],
        extend: None,
        span: sp.clone(),
    };
    for item in k {
        match item.as_rule() {
            Rule::within => {
                let mut w = kids(item);
                let d = build_expr(need(w.next(), &sp, "a duration")?, 0)?;
                l.within.push((d, w.next().map(build_when).transpose()?));
            }
            Rule::remind => l.reminders.push(build_remind(item)?),
            Rule::on_breach => l.on_breach.push(build_action(need(
                kids(item).next(),
                &sp,
                "a breach action",
            )?)?),
            Rule::extend => l.extend = Some(build_extend(item)?),
            _ => return Err(unexpected(&item, "a part of a limit")),
        }
    }
    Ok(l)
}

fn build_who(p: Pair<Rule>, depth: usize) -> Built<Who> {
    let sp = tight(&p);
    if p.as_rule() != Rule::assignee {
        return Err(unexpected(&p, "who"));
    }
    let mut parts = p.into_inner();
    let base = build_who_one(need(parts.next(), &sp, "who")?, depth)?;
    let mut except = Vec::new();
    for x in parts {
        let xs = span(&x);
        if x.as_rule() != Rule::except_clause {
            return Err(unexpected(&x, "`except`"));
        }
        except.push(build_who_one(
            need(kids(x).next(), &xs, "whom to leave out")?,
            depth,
        )?);
    }
    if except.is_empty() {
        Ok(base)
    } else {
        Ok(Who::Except(Box::new(base), except, sp))
    }
}

fn build_who_one(p: Pair<Rule>, depth: usize) -> Built<Who> {
    let sp = span(&p);
    if depth > MAX_NESTING {
        return Err(depth::too_deep(sp, depth, MAX_NESTING));
    }
    if p.as_rule() != Rule::who_one {
        return Err(unexpected(&p, "who"));
    }
    let inner = need(p.into_inner().next(), &sp, "who")?;
    let rule = inner.as_rule();
    let mut k = kids(inner.clone());
    match rule {
        Rule::fanout => Ok(Who::EachWithRole(ident(need(k.next(), &sp, "a role")?)?)),
        Rule::supervisor_of => Ok(Who::SupervisorOf(
            Box::new(build_who_one(
                need(k.next(), &sp, "whose supervisor")?,
                depth + 1,
            )?),
            sp,
        )),
        Rule::dept_head_of => Ok(Who::DeptHeadOf(
            Box::new(build_who_one(
                need(k.next(), &sp, "whose department")?,
                depth + 1,
            )?),
            sp,
        )),
        Rule::head_of => {
            let d = need(k.next(), &sp, "a department")?;
            if d.as_rule() == Rule::member {
                return Ok(Who::HeadOfMember(list::member(d, &sp)?, sp));
            }
            Ok(Who::HeadOf(ident(d)?))
        }
        Rule::starter => Ok(Who::Starter(sp)),
        Rule::person_ref => Ok(Who::Person(ident(need(k.next(), &sp, "a person")?)?)),
        Rule::name_ref => Ok(Who::Name(ident(need(k.next(), &sp, "a name")?)?)),
        Rule::member => Ok(Who::Member(list::member(inner, &sp)?, sp)),
        _ => Err(unexpected(&inner, "who")),
    }
}

fn build_assign(p: Pair<Rule>) -> Built<Assign> {
    let sp = span(&p);
    if p.as_rule() != Rule::assignment {
        return Err(unexpected(&p, "an assignment"));
    }
    let mut k = p.into_inner();
    Ok(Assign {
        field: ident(need(k.next(), &sp, "the field to set")?)?,
        value: build_expr(need(k.next(), &sp, "the value to set")?, 0)?,
    })
}

fn build_step(p: Pair<Rule>) -> Built<Step> {
    let sp = span(&p);
    let mut k = kids(p);
    let n = ident(need(k.next(), &sp, "the step's name")?)?;
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
        step.body.push(build_stmt(s)?);
    }
    Ok(step)
}

fn build_stmt(s: Pair<Rule>) -> Built<Stmt> {
    let sp = tight(&s);
    let rule = s.as_rule();
    Ok(match rule {
        Rule::task => Stmt::Task(build_who(need(kids(s).next(), &sp, "who")?, 0)?, sp),
        Rule::wait => {
            let until = s
                .clone()
                .into_inner()
                .any(|c| c.as_rule() == Rule::kw_until);
            let e = build_expr(need(kids(s).next(), &sp, "what to wait for")?, 0)?;
            if until {
                Stmt::WaitUntil(e, sp)
            } else {
                Stmt::WaitFor(e, sp)
            }
        }
        Rule::notify => {
            let mut to = None;
            let mut via = None;
            let mut message = None;
            for part in kids(s) {
                match part.as_rule() {
                    Rule::assignee => to = Some(build_who(part, 0)?),
                    Rule::ident => via = Some(name(part)),
                    Rule::string => message = Some(text(part)),
                    _ => return Err(unexpected(&part, "a part of `notify`")),
                }
            }
            Stmt::Notify {
                to: to.ok_or_else(|| internal(sp.clone(), "whom to notify"))?,
                via,
                message: message.ok_or_else(|| internal(sp.clone(), "the message"))?,
                span: sp,
            }
        }
        Rule::set => Stmt::Set(
            build_assign(need(kids(s).next(), &sp, "an assignment")?)?,
            sp,
        ),
        Rule::start => {
            let mut k = kids(s);
            let process = ident(need(k.next(), &sp, "the process to start")?)?;
            let mut with = vec![];
            let mut wait = false;
            for x in k {
                match x.as_rule() {
                    Rule::assignment => with.push(build_assign(x)?),
                    Rule::and_wait => wait = true,
                    _ => return Err(unexpected(&x, "a part of `start`")),
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
            let inner = need(kids(s).next(), &sp, "how to sign")?;
            let mode = match inner.as_rule() {
                Rule::sign_in_order => SignMode::InOrder,
                Rule::sign_quorum => {
                    let first = need(inner.clone().into_inner().next(), &sp, "a quorum")?;
                    match first.as_rule() {
                        Rule::kw_all => SignMode::All,
                        Rule::kw_any => SignMode::Any,
                        Rule::integer => SignMode::Count(first.as_str().parse().unwrap_or(0)),
                        _ => return Err(unexpected(&first, "a quorum")),
                    }
                }
                _ => return Err(unexpected(&inner, "how to sign")),
            };
            let mut signers = vec![];
            for x in kids(inner) {
                match x.as_rule() {
                    Rule::assignee => signers.push(build_who(x, 0)?),
                    Rule::integer => {}
                    _ => return Err(unexpected(&x, "a signer")),
                }
            }
            Stmt::Sign {
                mode,
                signers,
                span: sp,
            }
        }
        Rule::fill => {
            let mut items = vec![];
            for item in kids(s) {
                let is = span(&item);
                if item.as_rule() != Rule::fill_item {
                    return Err(unexpected(&item, "a field to fill"));
                }
                let mut k = item.into_inner();
                let n = ident(need(k.next(), &is, "a field to fill")?)?;
                let mut fi = FillItem {
                    name: n,
                    optional: false,
                    ty: None,
                    label: None,
                };
                for x in k {
                    match x.as_rule() {
                        Rule::optional => fi.optional = true,
                        Rule::type_spec => fi.ty = Some(build_type(x)?),
                        Rule::string => fi.label = Some(string(x)?),
                        _ => return Err(unexpected(&x, "a field to fill")),
                    }
                }
                items.push(fi);
            }
            Stmt::Fill(items, sp)
        }
        Rule::choose => {
            let mut arms = vec![];
            for arm in kids(s) {
                let asp = span(&arm);
                if arm.as_rule() != Rule::choice_arm {
                    return Err(unexpected(&arm, "a choice"));
                }
                let mut k = kids(arm);
                let n = ident(need(k.next(), &asp, "a choice's name")?)?;
                let second = need(k.next(), &asp, "a choice's step")?;
                let (label, target) = if second.as_rule() == Rule::string {
                    (
                        Some(text(second)),
                        ident(need(k.next(), &asp, "a choice's step")?)?,
                    )
                } else {
                    (None, ident(second)?)
                };
                arms.push(ChoiceArm {
                    name: n,
                    label,
                    target,
                });
            }
            Stmt::Choose(arms, sp)
        }
        Rule::next => {
            let mut k = kids(s);
            let target = ident(need(k.next(), &sp, "the next step")?)?;
            Stmt::Next {
                target,
                when: k.next().map(build_when).transpose()?,
                span: sp,
            }
        }
        Rule::rules => {
            let mut arms = vec![];
            for arm in kids(s) {
                let asp = span(&arm);
                if arm.as_rule() != Rule::rule_arm {
                    return Err(unexpected(&arm, "a rule"));
                }
                let mut cond = None;
                let mut target = None;
                let mut sets = vec![];
                for x in arm.into_inner() {
                    match x.as_rule() {
                        Rule::expr => cond = Some(build_expr(x, 0)?),
                        Rule::ident => target = Some(name(x)),
                        Rule::assignment => sets.push(build_assign(x)?),
                        Rule::kw_otherwise | Rule::kw_arrow | Rule::kw_with => {}
                        _ => return Err(unexpected(&x, "a part of a rule")),
                    }
                }
                arms.push(RuleArm {
                    cond,
                    target: target.ok_or_else(|| internal(asp.clone(), "the rule's step"))?,
                    sets,
                    span: asp,
                });
            }
            Stmt::Rules(arms, sp)
        }
        Rule::due => {
            let mut k = kids(s);
            let at = build_expr(need(k.next(), &sp, "when it is due")?, 0)?;
            Stmt::Due {
                at,
                when: k.next().map(build_when).transpose()?,
                span: sp,
            }
        }
        Rule::remind => Stmt::Remind(build_remind(s)?, sp),
        Rule::on_overdue => Stmt::OnOverdue(
            build_action(need(kids(s).next(), &sp, "an overdue action")?)?,
            sp,
        ),
        Rule::on_refuse => Stmt::OnRefuse(ident(need(kids(s).next(), &sp, "a step")?)?, sp),
        Rule::extend => Stmt::Extend(build_extend(s)?),
        Rule::self_approval => Stmt::SelfApproval(sp),
        Rule::for_each => list::build_for_each(s, sp)?,
        Rule::check => {
            let mut k = kids(s);
            let cond = build_expr(need(k.next(), &sp, "a condition")?, 0)?;
            let message = string(need(k.next(), &sp, "a message")?)?;
            Stmt::Check {
                cond,
                message,
                span: sp,
            }
        }
        Rule::parallel => parallel::build_parallel(s, sp)?,
        Rule::join => parallel::build_join(s, sp)?,
        Rule::receive => {
            let mut items = vec![];
            for it in kids(s) {
                let is = span(&it);
                let mut k = kids(it);
                let output = ident(need(k.next(), &is, "an output")?)?;
                items.push((output, k.next().map(ident).transpose()?));
            }
            Stmt::Receive(items, sp)
        }
        Rule::on_outcome => {
            let mut arms = vec![];
            for arm in kids(s) {
                let asp = span(&arm);
                let otherwise = arm
                    .clone()
                    .into_inner()
                    .any(|x| x.as_rule() == Rule::kw_otherwise);
                let mut names = kids(arm).map(ident).collect::<Built<Vec<Name>>>()?;
                let target = names
                    .pop()
                    .ok_or_else(|| internal(asp.clone(), "the outcome's step"))?;
                let end = if otherwise { None } else { names.pop() };
                if !otherwise && end.is_none() {
                    return Err(internal(asp, "the outcome's end"));
                }
                arms.push((end, target));
            }
            Stmt::OnOutcome(arms, sp)
        }
        _ => return Err(unexpected(&s, "a statement")),
    })
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
