//! Lists: the `list ... of { ... }` type, `X.field`, `any`/`all`, and `for each`.

use super::expr::build_expr;
use super::*;

/// `list MIN..MAX of { FIELDS }`.
pub(super) fn build_list_type(p: Pair<Rule>) -> Built<TypeSpec> {
    let sp = span(&p);
    let (mut min, mut max) = (0, None);
    let mut elems = vec![];
    for k in kids(p) {
        match k.as_rule() {
            Rule::list_len => {
                let mut n = k.into_inner();
                min = length(need(n.next(), &sp, "the least length")?);
                max = n.next().map(length);
            }
            Rule::list_elem => elems.push(build_elem(k)?),
            _ => return Err(unexpected(&k, "a part of a list type")),
        }
    }
    Ok(TypeSpec::List {
        min,
        max,
        elems,
        span: sp,
    })
}

/// A length too large for a u64 is no length anyone can fill: the largest stands in.
fn length(x: Pair<Rule>) -> u64 {
    x.as_str().parse::<u64>().unwrap_or(u64::MAX)
}

/// One field of a list's element: a field without a default.
fn build_elem(p: Pair<Rule>) -> Built<FieldDecl> {
    let sp = span(&p);
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
            Rule::string => f.label = Some(text(x)),
            _ => return Err(unexpected(&x, "a part of a field")),
        }
    }
    Ok(f)
}

/// `X.field`: the element's name and the field's.
pub(super) fn member(p: Pair<Rule>, sp: &Span) -> Built<Box<Member>> {
    let mut k = p.into_inner();
    let var = ident(need(k.next(), sp, "an element's name")?)?;
    let field = ident(need(k.next(), sp, "a field's name")?)?;
    Ok(Box::new(Member { var, field }))
}

/// `any X in LIST where COND`, `all X in LIST where COND`.
pub(super) fn build_quantified(p: Pair<Rule>, sp: Span, depth: usize) -> Built<Expr> {
    let mut all = false;
    let mut names = vec![];
    let mut cond = None;
    for k in p.into_inner() {
        match k.as_rule() {
            Rule::kw_all => all = true,
            Rule::kw_any | Rule::kw_in | Rule::kw_where => {}
            Rule::ident => names.push(name(k)),
            Rule::expr => cond = Some(build_expr(k, depth + 1)?),
            _ => return Err(unexpected(&k, "a part of `any` or `all`")),
        }
    }
    let mut names = names.into_iter();
    let var = need_name(names.next(), &sp, "the element's name")?;
    let list = need_name(names.next(), &sp, "the list")?;
    let cond = cond.ok_or_else(|| internal(sp.clone(), "the condition"))?;
    Ok(Expr {
        kind: ExprKind::Quantified(Box::new(Quantified {
            all,
            var,
            list,
            cond,
        })),
        span: sp,
    })
}

fn need_name(n: Option<Name>, sp: &Span, what: &str) -> Built<Name> {
    n.ok_or_else(|| internal(sp.clone(), what))
}

/// `for each X in LIST`.
pub(super) fn build_for_each(p: Pair<Rule>, sp: Span) -> Built<Stmt> {
    let mut k = kids(p);
    let var = ident(need(k.next(), &sp, "the element's name")?)?;
    let list = ident(need(k.next(), &sp, "the list")?)?;
    Ok(Stmt::ForEach {
        var,
        list,
        span: sp,
    })
}
