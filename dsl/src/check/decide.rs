//! Decisions over several fields at once: which cases each rule really decides, which
//! cases no rule covers, which rules are useless, and which overlap another rule that
//! leads elsewhere.
//!
//! A condition becomes a set of *cubes*: a cube gives, for every variable, the values
//! it may take (a union of intervals for a number, a set of names for a choice or a
//! bool), and stands for every combination of them. A set of cubes is their union.
//! The variables are the fields that conditions compare with constants; whatever
//! else a condition says (`a > b`, `(x + y) / 2 >= 80`, `day(today) <= 15`) becomes
//! an *opaque* true/false variable, one per distinct sub-condition.
//!
//! Treating opaque parts as free variables over-approximates the real cases (it
//! admits combinations that cannot happen, such as `a > b` and `a < b` both true).
//! That keeps the two verdicts that matter sound: "every case is covered" and "this
//! rule can never be used" hold for the real cases whenever they hold for the
//! abstract ones. A gap found only among abstract cases may be impossible in reality,
//! so then the checker says which part it could not analyse and asks for `otherwise`.

use super::coverage::{self, constant, Domain, Values};
use crate::model::{BinOp, Expr};
use std::collections::BTreeMap;

/// A variable of the case space.
#[derive(Debug, Clone)]
pub struct Var {
    /// A field's name, or an opaque condition written back as source text.
    pub name: String,
    pub domain: Domain,
    /// Why the analysis could not look inside it (`None` for a field).
    pub opaque: Option<&'static str>,
    /// All its values, as the analysis holds them.
    full: V,
}

/// The values of one variable: for a choice (or a bool, or an opaque condition) a
/// bit per choice, in the order the domain lists them; for a number, intervals. Bits
/// keep the analysis free of allocation where most conditions are.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Bits(u64),
    Num(Vec<coverage::Iv>),
}

/// Every variable's values, by variable index; missing entries are the full domain.
pub type Cube = Vec<V>;

/// The variables discovered while translating a decision's conditions.
pub struct Space<'a> {
    pub domains: &'a BTreeMap<String, Domain>,
    pub vars: Vec<Var>,
    /// A condition names a choice its field does not have: that is reported as such
    /// (E031), and no verdict on the decision would mean anything.
    pub broken: bool,
}

fn bool_domain() -> Domain {
    Domain::Choices(vec!["false".into(), "true".into()])
}

/// A choice domain small enough for bits.
const MAX_CHOICES: usize = 64;

fn full_of(d: &Domain) -> V {
    match d {
        Domain::Number { .. } => match coverage::complement(&Values::Num(vec![]), d) {
            Values::Num(v) => V::Num(v),
            Values::Choices(_) => V::Num(vec![]),
        },
        Domain::Choices(vs) => V::Bits(if vs.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << vs.len()) - 1
        }),
    }
}

impl Var {
    fn to_v(&self, v: &Values) -> V {
        match (v, &self.domain) {
            (Values::Num(x), _) => V::Num(x.clone()),
            (Values::Choices(set), Domain::Choices(all)) => V::Bits(
                all.iter()
                    .enumerate()
                    .filter(|(_, c)| set.contains(*c))
                    .fold(0, |acc, (k, _)| acc | (1 << k)),
            ),
            (Values::Choices(_), Domain::Number { .. }) => V::Num(vec![]),
        }
    }

    fn to_values(&self, v: &V) -> Values {
        match (v, &self.domain) {
            (V::Num(x), _) => Values::Num(x.clone()),
            (V::Bits(b), Domain::Choices(all)) => Values::Choices(
                all.iter()
                    .enumerate()
                    .filter(|(k, _)| b & (1 << k) != 0)
                    .map(|(_, c)| c.clone())
                    .collect(),
            ),
            (V::Bits(_), Domain::Number { .. }) => Values::Num(vec![]),
        }
    }

    fn meet(&self, a: &V, b: &V) -> V {
        match (a, b) {
            (V::Bits(x), V::Bits(y)) => V::Bits(x & y),
            _ => self.to_v(&coverage::intersect(
                &self.to_values(a),
                &self.to_values(b),
                &self.domain,
            )),
        }
    }

    fn not(&self, a: &V) -> V {
        match (a, &self.full) {
            (V::Bits(x), V::Bits(all)) => V::Bits(!x & all),
            _ => self.to_v(&coverage::complement(&self.to_values(a), &self.domain)),
        }
    }

    fn join(&self, a: &V, b: &V) -> V {
        match (a, b) {
            (V::Bits(x), V::Bits(y)) => V::Bits(x | y),
            _ => self.to_v(&coverage::union(
                &self.to_values(a),
                &self.to_values(b),
                &self.domain,
            )),
        }
    }
}

fn v_is_empty(v: &V) -> bool {
    match v {
        V::Bits(b) => *b == 0,
        V::Num(x) => x.is_empty(),
    }
}

fn v_meets(a: &V, b: &V) -> bool {
    match (a, b) {
        (V::Bits(x), V::Bits(y)) => x & y != 0,
        (V::Num(x), V::Num(y)) => coverage::intervals_meet(x, y),
        _ => false,
    }
}

impl<'a> Space<'a> {
    pub fn new(domains: &'a BTreeMap<String, Domain>) -> Self {
        Space {
            domains,
            vars: Vec::new(),
            broken: false,
        }
    }

    fn var(&mut self, name: &str, domain: Domain, opaque: Option<&'static str>) -> usize {
        if let Some(i) = self.vars.iter().position(|v| v.name == name) {
            return i;
        }
        self.vars.push(Var {
            name: name.to_string(),
            full: full_of(&domain),
            domain,
            opaque,
        });
        self.vars.len() - 1
    }

    /// The values of variable `i` in `c`.
    fn get<'c>(&'c self, c: &'c Cube, i: usize) -> &'c V {
        c.get(i).unwrap_or(&self.vars[i].full)
    }

    fn cube_with(&self, i: usize, v: V) -> Cube {
        let mut c: Cube = (0..i).map(|k| self.vars[k].full.clone()).collect();
        c.push(v);
        c
    }

    pub fn universe(&self) -> Vec<Cube> {
        vec![Vec::new()]
    }

    fn cube_is_empty(&self, c: &Cube) -> bool {
        c.iter().any(v_is_empty)
    }

    pub fn is_empty(&self, s: &[Cube]) -> bool {
        s.iter().all(|c| self.cube_is_empty(c))
    }

    /// Whether two cubes share a case, without building their meet.
    fn touches(&self, a: &Cube, b: &Cube) -> bool {
        let n = a.len().max(b.len());
        (0..n).all(|i| v_meets(self.get(a, i), self.get(b, i)))
    }

    /// Whether two sets of cases share one.
    pub fn overlap(&self, a: &[Cube], b: &[Cube]) -> bool {
        a.iter().any(|x| b.iter().any(|y| self.touches(x, y)))
    }

    fn meet(&self, a: &Cube, b: &Cube) -> Cube {
        let n = a.len().max(b.len());
        (0..n)
            .map(|i| self.vars[i].meet(self.get(a, i), self.get(b, i)))
            .collect()
    }

    pub fn intersect(&self, a: &[Cube], b: &[Cube]) -> Vec<Cube> {
        let mut out = Vec::new();
        for x in a {
            for y in b {
                let m = self.meet(x, y);
                if !self.cube_is_empty(&m) {
                    out.push(m);
                }
            }
        }
        self.tidy(out)
    }

    /// `a` without the cases of cube `b`, as disjoint cubes.
    fn subtract_cube(&self, a: &Cube, b: &Cube) -> Vec<Cube> {
        if !self.touches(a, b) {
            return vec![a.clone()];
        }
        let n = a.len().max(b.len());
        let mut acc: Cube = (0..n).map(|i| self.get(a, i).clone()).collect();
        let mut out = Vec::new();
        for i in 0..n {
            let var = &self.vars[i];
            let bi = self.get(b, i);
            let outside = var.meet(&acc[i], &var.not(bi));
            if v_is_empty(&outside) {
                continue;
            }
            let mut piece = acc.clone();
            piece[i] = outside;
            out.push(piece);
            acc[i] = var.meet(&acc[i], bi);
        }
        out
    }

    pub fn subtract(&self, a: &[Cube], b: &[Cube]) -> Vec<Cube> {
        let mut cur: Vec<Cube> = a.to_vec();
        for y in b {
            cur = cur.iter().flat_map(|x| self.subtract_cube(x, y)).collect();
            if cur.is_empty() {
                break;
            }
        }
        // Merging keeps sets small, but it is quadratic: only small sets are merged
        // on the way; `describe` merges what it shows.
        if cur.len() <= 32 {
            self.tidy(cur)
        } else {
            cur.retain(|c| !self.cube_is_empty(c));
            cur
        }
    }

    /// The cases of `s` with variables `vars` free to take any value: what `s` still
    /// requires of the other variables when someone may choose those.
    pub fn forget(&self, s: &[Cube], vars: &[usize]) -> Vec<Cube> {
        let freed = s
            .iter()
            .map(|c| {
                let mut c = c.clone();
                for &i in vars {
                    if let Some(v) = c.get_mut(i) {
                        *v = self.vars[i].full.clone();
                    }
                }
                c
            })
            .collect();
        self.tidy(freed)
    }

    pub fn complement(&self, a: &[Cube]) -> Vec<Cube> {
        self.subtract(&self.universe(), a)
    }

    /// Drop empty cubes and merge cubes that differ in one variable only, so that
    /// sets stay small and read well when described.
    fn tidy(&self, mut s: Vec<Cube>) -> Vec<Cube> {
        s.retain(|c| !self.cube_is_empty(c));
        let n = self.vars.len();
        for c in &mut s {
            while c.len() < n {
                c.push(self.vars[c.len()].full.clone());
            }
        }
        // Merging is quadratic; past a few hundred cubes the sets are only computed
        // with, not read, so leave them as they are.
        if s.len() > 400 {
            return s;
        }
        let mut changed = true;
        while changed {
            changed = false;
            'outer: for i in 0..s.len() {
                for j in i + 1..s.len() {
                    let mut diff = (0..n).filter(|&k| s[i][k] != s[j][k]);
                    let first = diff.next();
                    if diff.next().is_none() {
                        if let Some(k) = first {
                            s[i][k] = self.vars[k].join(&s[i][k], &s[j][k]);
                        }
                        s.swap_remove(j);
                        changed = true;
                        break 'outer;
                    }
                }
            }
        }
        s
    }

    /// The cases in which a condition holds.
    pub fn cases(&mut self, e: &Expr) -> Vec<Cube> {
        match e {
            Expr::Bool(true) => self.universe(),
            Expr::Bool(false) => Vec::new(),
            Expr::Not(x) => {
                let s = self.cases(x);
                self.complement(&s)
            }
            Expr::Bin(BinOp::And, a, b) => {
                let (x, y) = (self.cases(a), self.cases(b));
                self.intersect(&x, &y)
            }
            Expr::Bin(BinOp::Or, a, b) => {
                let (mut x, y) = (self.cases(a), self.cases(b));
                x.extend(y);
                self.tidy(x)
            }
            _ => match self.atom(e) {
                Some((i, v)) => vec![self.cube_with(i, v)],
                None => {
                    let why = why_opaque(e);
                    let i = self.var(&e.to_string(), bool_domain(), Some(why));
                    // `true` is the second of the bool domain's two choices.
                    vec![self.cube_with(i, V::Bits(0b10))]
                }
            },
        }
    }

    /// A comparison of one field with constants, as that field's values.
    fn atom(&mut self, e: &Expr) -> Option<(usize, V)> {
        let c = coverage::Analyzer {
            domains: self.domains,
        }
        .constraint(e)?;
        let dom = self.domains.get(&c.field)?.clone();
        if matches!(&dom, Domain::Choices(vs) if vs.len() > MAX_CHOICES) {
            return None;
        }
        if let (Values::Choices(named), Domain::Choices(all)) = (&c.values, &dom) {
            if named.iter().any(|n| !all.contains(n)) {
                self.broken = true;
            }
        }
        let i = self.var(&c.field, dom, None);
        Some((i, self.vars[i].to_v(&c.values)))
    }

    /// "severity is major and channel is hotline or onsite"
    pub fn describe_cube(&self, c: &Cube) -> String {
        let mut parts = Vec::new();
        for (i, v) in self.vars.iter().enumerate() {
            let vals = self.get(c, i);
            if *vals == v.full {
                continue;
            }
            if v.opaque.is_some() {
                let truth = matches!(vals, V::Bits(b) if b & 0b10 != 0);
                parts.push(format!("`{}` is {}", v.name, truth));
            } else {
                parts.push(coverage::describe(&v.name, &v.to_values(vals), &v.domain));
            }
        }
        if parts.is_empty() {
            "every case".into()
        } else {
            parts.join(" and ")
        }
    }

    /// A few readable lines for a set of cases.
    pub fn describe(&self, s: &[Cube]) -> String {
        const SHOWN: usize = 4;
        let s = &self.tidy(s.to_vec());
        let mut lines: Vec<String> = s
            .iter()
            .take(SHOWN)
            .map(|c| self.describe_cube(c))
            .collect();
        if s.len() > SHOWN {
            lines.push(format!("and {} more case(s)", s.len() - SHOWN));
        }
        lines.join("; ")
    }

    /// The opaque variables a set of cases depends on (where it is not full).
    pub fn opaque_in(&self, s: &[Cube]) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = Vec::new();
        for (i, v) in self.vars.iter().enumerate() {
            let Some(why) = v.opaque else { continue };
            if s.iter().any(|c| *self.get(c, i) != v.full) && !out.iter().any(|(n, _)| n == &v.name)
            {
                out.push((v.name.clone(), why));
            }
        }
        out
    }
}

/// Why a condition could not be analysed, in the author's terms.
fn why_opaque(e: &Expr) -> &'static str {
    let mut fields = Vec::new();
    super::fields_in(e, &mut fields);
    fields.sort();
    fields.dedup();
    match e {
        Expr::Bin(BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) => {
            let field_like = |x: &Expr| matches!(x, Expr::Field(_));
            if field_like(a) && field_like(b) {
                "it compares two fields"
            } else if fields.len() > 1 {
                "it computes over several fields"
            } else if fields.is_empty() {
                "it depends on the date or the time, not on data"
            } else if constant(a).is_none()
                && constant(b).is_none()
                && !field_like(a)
                && !field_like(b)
            {
                "it computes with a field before comparing"
            } else {
                "the field's values are not a range or a list of choices"
            }
        }
        _ if fields.is_empty() => "it depends on the date or the time, not on data",
        _ => "it is not a comparison of a field with constants",
    }
}

/// One decision: conditions tried in order (`None` always holds), with where each
/// leads. The verdicts, by rule.
pub struct Verdicts {
    /// Per rule: `Some(reason)` when the rule can never be taken.
    pub dead: Vec<Option<Dead>>,
    /// Per rule: earlier rules (index) it overlaps while leading elsewhere, with the
    /// cases described.
    pub overlaps: Vec<Vec<(usize, String)>>,
    /// Cases no rule covers, described; `None` when every case is covered.
    pub gaps: Option<Gaps>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Dead {
    /// The condition holds for no value at all.
    NeverHolds,
    /// Earlier rules already take every case it could.
    Shadowed,
}

pub struct Gaps {
    pub described: String,
    /// Parts of conditions the analysis could not look into, with why; when not
    /// empty, the gap may not be real.
    pub unanalysed: Vec<(String, &'static str)>,
}

pub fn analyse(domains: &BTreeMap<String, Domain>, rules: &[(Option<&Expr>, &str)]) -> Verdicts {
    let mut space = Space::new(domains);
    let sets: Vec<Vec<Cube>> = rules
        .iter()
        .map(|(c, _)| match c {
            Some(e) => space.cases(e),
            None => space.universe(),
        })
        .collect();
    if space.broken {
        return Verdicts {
            dead: vec![None; rules.len()],
            overlaps: vec![Vec::new(); rules.len()],
            gaps: None,
        };
    }
    let mut covered: Vec<Cube> = Vec::new();
    let mut fresh_by_rule: Vec<Vec<Cube>> = Vec::new();
    let mut dead = Vec::new();
    let mut overlaps = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        let mut mine = Vec::new();
        let fresh = space.subtract(set, &covered);
        if space.is_empty(set) {
            dead.push(Some(Dead::NeverHolds));
        } else if space.is_empty(&fresh) {
            dead.push(Some(Dead::Shadowed));
        } else {
            dead.push(None);
            // An unconditional last rule is the fallback: overlapping is its job.
            // One warning per rule, for the first earlier rule it overlaps: the
            // author reorders or narrows it, and the next check shows the rest.
            if rules[i].0.is_some() {
                for (j, earlier) in fresh_by_rule.iter().enumerate() {
                    if rules[j].1 == rules[i].1 || dead[j].is_some() {
                        continue;
                    }
                    if space.overlap(set, earlier) {
                        let both = space.intersect(set, earlier);
                        mine.push((j, space.describe(&both)));
                        break;
                    }
                }
            }
        }
        overlaps.push(mine);
        covered.extend(fresh.iter().cloned());
        fresh_by_rule.push(fresh);
    }
    let gaps = space.complement(&covered);
    let gaps = (!space.is_empty(&gaps)).then(|| Gaps {
        described: space.describe(&gaps),
        unanalysed: space.opaque_in(&gaps),
    });
    Verdicts {
        dead,
        overlaps,
        gaps,
    }
}
