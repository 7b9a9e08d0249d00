//! `parallel { branch ... }` and `join`: branches that run side by side.

use super::{build_step, ident, kids, need, text, unexpected, Built, Pair, Rule};
use crate::ast::{Branch, JoinMode, Span, Stmt};

pub(super) fn build_parallel(s: Pair<Rule>, sp: Span) -> Built<Stmt> {
    let mut branches = Vec::new();
    for b in kids(s) {
        if b.as_rule() != Rule::branch {
            return Err(unexpected(&b, "a branch"));
        }
        branches.push(build_branch(b)?);
    }
    Ok(Stmt::Parallel(branches, sp))
}

fn build_branch(b: Pair<Rule>) -> Built<Branch> {
    let sp = super::span(&b);
    let mut k = kids(b);
    let name = ident(need(k.next(), &sp, "the branch's name")?)?;
    let mut branch = Branch {
        name,
        title: None,
        may_end: false,
        steps: vec![],
        span: sp,
    };
    for x in k {
        match x.as_rule() {
            Rule::string => branch.title = Some(text(x)),
            Rule::may_end => branch.may_end = true,
            Rule::step => branch.steps.push(build_step(x)?),
            _ => return Err(unexpected(&x, "a step of the branch")),
        }
    }
    Ok(branch)
}

pub(super) fn build_join(s: Pair<Rule>, sp: Span) -> Built<Stmt> {
    let how = need(s.into_inner().nth(1), &sp, "how many branches to join")?;
    let mode = match how.as_rule() {
        Rule::kw_all => JoinMode::All,
        Rule::kw_any => JoinMode::Any,
        // The grammar allows digits only; a number too large for u32 is no count any
        // definition could meet, and the checker says so (0 is out of range too).
        Rule::integer => JoinMode::Count(how.as_str().parse().unwrap_or(0)),
        _ => return Err(unexpected(&how, "`all`, `any` or a number")),
    };
    Ok(Stmt::Join(mode, sp))
}
