//! Expressions: pest pairs -> `ast::Expr`, with the depth of the tree counted so
//! that no later pass meets one deeper than `MAX_EXPR_DEPTH`.

use super::depth::MAX_EXPR_DEPTH;
use super::*;

// ---- expressions -----------------------------------------------------------------------

/// Build the expression `p`, whose node sits `depth` levels below the top of its
/// expression. Deeper than [`MAX_EXPR_DEPTH`] is E013: every later pass recurses over
/// the tree, and `a + b + c ...` is a left-deep tree as deep as it is long.
pub(super) fn build_expr(p: Pair<Rule>, depth: usize) -> Built<Expr> {
    let sp = span(&p);
    if depth > MAX_EXPR_DEPTH {
        return Err(depth::too_deep(sp, depth, MAX_EXPR_DEPTH));
    }
    let expr = |kind| Expr {
        kind,
        span: sp.clone(),
    };
    Ok(match p.as_rule() {
        Rule::expr => build_expr(need(p.into_inner().next(), &sp, "an expression")?, depth)?,
        Rule::or_expr | Rule::and_expr | Rule::sum | Rule::product => {
            let parts: Vec<_> = p.into_inner().collect();
            // The first operand is the deepest node of the left-deep chain.
            let ops = parts.len() / 2;
            if depth + ops > MAX_EXPR_DEPTH {
                return Err(depth::too_deep(sp, depth + ops + 1, MAX_EXPR_DEPTH));
            }
            let mut it = parts.into_iter();
            let mut acc = build_expr(need(it.next(), &sp, "an operand")?, depth + ops)?;
            let mut level = depth + ops;
            while let Some(op) = it.next() {
                let rhs = build_expr(need(it.next(), &sp, "a right operand")?, level)?;
                level = level.saturating_sub(1);
                let op = match (op.as_rule(), op.as_str()) {
                    (Rule::kw_or, _) => BinOp::Or,
                    (Rule::kw_and, _) => BinOp::And,
                    (Rule::add_op, "+") => BinOp::Add,
                    (Rule::add_op, "-") => BinOp::Sub,
                    (Rule::mul_op, "*") => BinOp::Mul,
                    (Rule::mul_op, "/") => BinOp::Div,
                    _ => return Err(unexpected(&op, "an operator")),
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
            let first = need(it.next(), &sp, "an expression")?;
            match first.as_rule() {
                Rule::kw_not => {
                    let inner = build_expr(need(it.next(), &sp, "what `not` negates")?, depth + 1)?;
                    expr(ExprKind::Not(Box::new(inner)))
                }
                _ => build_expr(first, depth)?,
            }
        }
        Rule::cmp_expr => {
            let mut it = kids(p);
            let lhs = need(it.next(), &sp, "a comparison")?;
            let Some(op) = it.next() else {
                return build_expr(lhs, depth);
            };
            let lhs = build_expr(lhs, depth + 1)?;
            match op.as_rule() {
                Rule::cmp_op => {
                    let rhs = build_expr(need(it.next(), &sp, "a right side")?, depth + 1)?;
                    let op = match op.as_str() {
                        "==" => BinOp::Eq,
                        "!=" => BinOp::Ne,
                        "<=" => BinOp::Le,
                        ">=" => BinOp::Ge,
                        "<" => BinOp::Lt,
                        ">" => BinOp::Gt,
                        _ => return Err(unexpected(&op, "a comparison")),
                    };
                    expr(ExprKind::Bin(op, Box::new(lhs), Box::new(rhs)))
                }
                Rule::range_expr => {
                    let mut r = op.into_inner();
                    let lo = build_expr(need(r.next(), &sp, "a range's start")?, depth + 1)?;
                    let range_op = need(r.next(), &sp, "`..` or `..<`")?;
                    let inclusive_hi = match range_op.as_str() {
                        ".." => true,
                        "..<" => false,
                        _ => return Err(unexpected(&range_op, "`..` or `..<`")),
                    };
                    let hi = build_expr(need(r.next(), &sp, "a range's end")?, depth + 1)?;
                    expr(ExprKind::InRange {
                        value: Box::new(lhs),
                        lo: Box::new(lo),
                        hi: Box::new(hi),
                        inclusive_hi,
                    })
                }
                Rule::set_expr => {
                    let mut items = vec![];
                    for x in op.into_inner() {
                        items.push(build_expr(x, depth + 1)?);
                    }
                    expr(ExprKind::InSet(Box::new(lhs), items))
                }
                Rule::in_department => {
                    let d = need(kids(op).next(), &sp, "a department")?;
                    let d = build_expr(d, depth + 1)?;
                    expr(ExprKind::InDepartment(Box::new(lhs), Box::new(d)))
                }
                Rule::has_role => {
                    let r = need(kids(op).next(), &sp, "a role")?;
                    expr(ExprKind::HasRole(Box::new(lhs), ident(r)?))
                }
                _ => return Err(unexpected(&op, "a comparison")),
            }
        }
        Rule::at_expr => {
            let mut it = kids(p);
            let base = need(it.next(), &sp, "a date")?;
            match it.next() {
                Some(t) if t.as_rule() == Rule::time_of_day => {
                    let base = build_expr(base, depth + 1)?;
                    expr(ExprKind::At(Box::new(base), time_of_day(&t)))
                }
                Some(t) => return Err(unexpected(&t, "a time of day")),
                None => build_expr(base, depth)?,
            }
        }
        Rule::unary => {
            let parts: Vec<_> = p.into_inner().collect();
            let negs = parts.iter().filter(|x| x.as_rule() == Rule::neg).count();
            if depth + negs > MAX_EXPR_DEPTH {
                return Err(depth::too_deep(sp, depth + negs + 1, MAX_EXPR_DEPTH));
            }
            let primary = need(
                parts.into_iter().find(|x| x.as_rule() != Rule::neg),
                &sp,
                "an operand",
            )?;
            let mut e = build_expr(primary, depth + negs)?;
            for _ in 0..negs {
                e = expr(ExprKind::Neg(Box::new(e)));
            }
            e
        }
        Rule::call => {
            let mut it = p.into_inner();
            let f = need(it.next(), &sp, "a function's name")?
                .as_str()
                .to_string();
            let mut args = vec![];
            for a in it {
                args.push(build_expr(a, depth + 1)?);
            }
            expr(ExprKind::Call(f, args))
        }
        Rule::duration => {
            let mut n = 0i64;
            let mut working = false;
            let mut unit = None;
            for k in p.clone().into_inner() {
                match k.as_rule() {
                    Rule::integer => n = k.as_str().parse().unwrap_or(i64::MAX),
                    Rule::working => working = true,
                    Rule::short_unit | Rule::long_unit => unit = Some(k),
                    _ => return Err(unexpected(&k, "a duration")),
                }
            }
            let unit = need(unit, &sp, "a unit")?;
            let lit = match (unit.as_str(), working) {
                ("months" | "month", _) => DurLit::Months(n),
                ("m" | "min" | "minute" | "minutes", true) => DurLit::WorkingMinutes(n),
                ("h" | "hour" | "hours", true) => DurLit::WorkingMinutes(n.saturating_mul(60)),
                ("d" | "day" | "days", true) => DurLit::WorkingDays(n),
                ("w" | "week" | "weeks", true) => DurLit::WorkingDays(n.saturating_mul(5)),
                ("m" | "min" | "minute" | "minutes", false) => DurLit::Minutes(n),
                ("h" | "hour" | "hours", false) => DurLit::Minutes(n.saturating_mul(60)),
                ("d" | "day" | "days", false) => DurLit::Minutes(n.saturating_mul(60 * 24)),
                ("w" | "week" | "weeks", false) => DurLit::Minutes(n.saturating_mul(60 * 24 * 7)),
                _ => return Err(unexpected(&unit, "a unit of time")),
            };
            expr(ExprKind::Duration(lit))
        }
        Rule::date_lit => expr(ExprKind::Date(p.as_str().to_string())),
        Rule::decimal => expr(ExprKind::Dec(p.as_str().parse().unwrap_or(0.0))),
        // An integer too large for i64 becomes i64::MAX; the checker reports it.
        Rule::integer => expr(ExprKind::Int(p.as_str().parse().unwrap_or(i64::MAX))),
        Rule::string => expr(ExprKind::Str(text(p).value)),
        Rule::boolean => expr(ExprKind::Bool(p.as_str() == "true")),
        Rule::today => expr(ExprKind::Today),
        Rule::starter_value => expr(ExprKind::Starter),
        Rule::supervisor_value => {
            let whose = need(kids(p).next(), &sp, "whose supervisor")?;
            expr(ExprKind::SupervisorOf(Box::new(build_expr(
                whose,
                depth + 1,
            )?)))
        }
        Rule::department_value => {
            let whose = need(kids(p).next(), &sp, "whose department")?;
            expr(ExprKind::DepartmentOf(Box::new(build_expr(
                whose,
                depth + 1,
            )?)))
        }
        Rule::head_value => {
            let dept = need(kids(p).next(), &sp, "a department")?;
            expr(ExprKind::HeadOf(Box::new(build_expr(dept, depth + 1)?)))
        }
        // The head of X's department: the head of (the department of X).
        Rule::head_dept_value => {
            if depth + 1 > MAX_EXPR_DEPTH {
                return Err(depth::too_deep(sp, depth + 2, MAX_EXPR_DEPTH));
            }
            let whose = need(kids(p).next(), &sp, "whose department")?;
            let x = build_expr(whose, depth + 2)?;
            let dept = Expr {
                span: sp.clone(),
                kind: ExprKind::DepartmentOf(Box::new(x)),
            };
            expr(ExprKind::HeadOf(Box::new(dept)))
        }
        Rule::person_value => {
            let id = need(kids(p).next(), &sp, "a person")?;
            expr(ExprKind::PersonRef(ident(id)?))
        }
        Rule::now => expr(ExprKind::Now),
        Rule::member => expr(ExprKind::Member(super::list::member(p, &sp)?)),
        Rule::quantified => super::list::build_quantified(p, sp, depth)?,
        Rule::ident => expr(ExprKind::Ident(p.as_str().to_string())),
        _ => return Err(unexpected(&p, "an expression")),
    })
}
