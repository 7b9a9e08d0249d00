//! A grammar-aware generator of definition source text.
//!
//! The strategies produce small numeric "seeds" (a `Spec`), and `render` turns them
//! into source text that follows the grammar and, as far as the generator can tell,
//! the types: conditions compare a field with constants of its own type and range,
//! decisions either end in `otherwise` / an unconditional `next` or partition one
//! (sometimes two) fields' domains. Seeds shrink towards 0, which renders as the
//! simplest choice, so proptest's shrinking gives small definitions.

use proptest::prelude::*;

/// The staff directory's names, as the test's directory defines them.
pub const ROLES: [&str; 4] = ["agent", "cs_manager", "hr_officer", "general_manager"];
pub const PEOPLE: [&str; 6] = ["gm", "cs_mgr", "agent_a", "agent_b", "hr_head", "hr_clerk"];
pub const DEPTS: [&str; 3] = ["office", "cs", "hr"];

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub ty: u8,
    pub a: i8,
    pub b: u8,
    pub optional: bool,
    pub default: bool,
}

#[derive(Debug, Clone)]
pub struct WhoSpec {
    pub kind: u8,
    pub i: u8,
}

#[derive(Debug, Clone)]
pub struct CondSpec {
    pub shape: u8,
    pub f1: u8,
    pub o1: u8,
    pub f2: u8,
    pub o2: u8,
}

#[derive(Debug, Clone)]
pub struct PartSpec {
    pub f1: u8,
    pub o: u8,
    pub f2: u8,
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub kind: u8,
    pub lines: Vec<(CondSpec, u8)>,
    pub last: u8,
    pub part: PartSpec,
    pub targets: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct FillSpec {
    pub inplace: bool,
    pub field: FieldSpec,
    pub pick: u8,
}

#[derive(Debug, Clone)]
pub struct TimeSpec {
    pub wait: u8,
    pub due: u8,
    pub overdue: u8,
    pub overdue_target: u8,
    pub overdue_who: WhoSpec,
    pub remind: u8,
    pub cond: CondSpec,
}

#[derive(Debug, Clone)]
pub struct StepSpec {
    pub action: u8,
    pub who: WhoSpec,
    pub signers: Vec<WhoSpec>,
    pub sign_mode: u8,
    pub on_refuse: Option<u8>,
    pub allow_self: bool,
    pub fills: Vec<FillSpec>,
    pub choose: Vec<u8>,
    pub route: RouteSpec,
    pub set: Option<(u8, u8, u8)>,
    pub notify: Option<(WhoSpec, u8)>,
    pub time: TimeSpec,
    pub with_first: bool,
    /// A `check` on a task's completion: its shape, and a seed for its parts.
    pub check: Option<(u8, u8)>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub started_by: u8,
    pub fields: Vec<FieldSpec>,
    pub steps: Vec<StepSpec>,
}

fn field_s() -> impl Strategy<Value = FieldSpec> {
    (
        0u8..8,
        any::<i8>(),
        any::<u8>(),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(ty, a, b, optional, default)| FieldSpec {
            ty,
            a,
            b,
            optional,
            default,
        })
}

fn who_s() -> impl Strategy<Value = WhoSpec> {
    (0u8..14, any::<u8>()).prop_map(|(kind, i)| WhoSpec { kind, i })
}

fn cond_s() -> impl Strategy<Value = CondSpec> {
    (0u8..4, any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(
        |(shape, f1, o1, f2, o2)| CondSpec {
            shape,
            f1,
            o1,
            f2,
            o2,
        },
    )
}

fn route_s() -> impl Strategy<Value = RouteSpec> {
    (
        0u8..4,
        prop::collection::vec((cond_s(), any::<u8>()), 1..3),
        any::<u8>(),
        (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(f1, o, f2)| PartSpec { f1, o, f2 }),
        prop::collection::vec(any::<u8>(), 4),
    )
        .prop_map(|(kind, lines, last, part, targets)| RouteSpec {
            kind,
            lines,
            last,
            part,
            targets,
        })
}

fn time_s() -> impl Strategy<Value = TimeSpec> {
    (
        0u8..6,
        0u8..7,
        0u8..4,
        any::<u8>(),
        who_s(),
        0u8..3,
        cond_s(),
    )
        .prop_map(
            |(wait, due, overdue, overdue_target, overdue_who, remind, cond)| TimeSpec {
                wait,
                due,
                overdue,
                overdue_target,
                overdue_who,
                remind,
                cond,
            },
        )
}

fn step_s() -> impl Strategy<Value = StepSpec> {
    (
        (
            0u8..5,
            who_s(),
            prop::collection::vec(who_s(), 1..4),
            0u8..4,
            prop::option::weighted(0.7, any::<u8>()),
            prop::bool::weighted(0.15),
        ),
        (
            prop::collection::vec(
                (any::<bool>(), field_s(), any::<u8>()).prop_map(|(inplace, field, pick)| {
                    FillSpec {
                        inplace,
                        field,
                        pick,
                    }
                }),
                0..3,
            ),
            prop::collection::vec(any::<u8>(), 0..4),
            route_s(),
            prop::option::weighted(0.3, (0u8..5, any::<u8>(), any::<u8>())),
            prop::option::weighted(0.3, (who_s(), any::<u8>())),
            time_s(),
            prop::bool::weighted(0.3),
            prop::option::weighted(0.35, (0u8..6, any::<u8>())),
        ),
    )
        .prop_map(
            |(
                (action, who, signers, sign_mode, on_refuse, allow_self),
                (fills, choose, route, set, notify, time, with_first, check),
            )| StepSpec {
                action,
                who,
                signers,
                sign_mode,
                on_refuse,
                allow_self,
                fills,
                choose,
                route,
                set,
                notify,
                time,
                with_first,
                check,
            },
        )
}

pub fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..4,
        prop::collection::vec(field_s(), 0..6),
        prop::collection::vec(step_s(), 1..6),
    )
        .prop_map(|(started_by, fields, steps)| Spec {
            started_by,
            fields,
            steps,
        })
}

// ---- rendering ------------------------------------------------------------------------

/// A field's type as the generator knows it, to write conditions over it.
#[derive(Debug, Clone)]
enum Ty {
    Bool,
    Int(i64, i64),
    Choice(Vec<String>),
    /// In tenths, so that constants print exactly.
    Dec(i64, i64),
    Text,
    Date,
    Person,
    Dept,
}

fn ty_of(f: &FieldSpec, name: &str) -> Ty {
    match f.ty {
        0 => Ty::Bool,
        1 => {
            let lo = i64::from(f.a % 10);
            Ty::Int(lo, lo + i64::from(f.b % 12))
        }
        2 => Ty::Choice((0..2 + f.b % 3).map(|j| format!("{name}_v{j}")).collect()),
        3 => {
            let lo = i64::from(f.a / 2) * 5;
            Ty::Dec(lo, lo + 5 + i64::from(f.b % 10) * 5)
        }
        4 => Ty::Text,
        5 => Ty::Date,
        6 => Ty::Person,
        _ => Ty::Dept,
    }
}

fn dec(tenths: i64) -> String {
    format!("{:.1}", tenths as f64 / 10.0)
}

fn type_text(t: &Ty) -> String {
    match t {
        Ty::Bool => "bool".into(),
        Ty::Int(lo, hi) => format!("integer {lo}..{hi}"),
        Ty::Choice(vs) => vs.join(" | "),
        Ty::Dec(lo, hi) => format!("decimal {}..{}", dec(*lo), dec(*hi)),
        Ty::Text => "text".into(),
        Ty::Date => "date".into(),
        Ty::Person => "person".into(),
        Ty::Dept => "department".into(),
    }
}

fn default_text(t: &Ty) -> Option<String> {
    match t {
        Ty::Bool => Some("false".into()),
        Ty::Int(lo, _) => Some(lo.to_string()),
        Ty::Choice(vs) => Some(vs[0].clone()),
        Ty::Dec(lo, _) => Some(dec(*lo)),
        Ty::Text => Some("\"x\"".into()),
        Ty::Date => Some("2026-03-20".into()),
        Ty::Person | Ty::Dept => None,
    }
}

struct Names {
    /// Every field of the process, wherever it is declared: conditions may read any.
    fields: Vec<(String, Ty)>,
    steps: usize,
}

impl Names {
    fn target(&self, t: u8) -> String {
        // Ends weigh a little more than steps, so that most definitions can finish.
        let i = usize::from(t) % (self.steps + 3);
        match i.checked_sub(self.steps) {
            None => format!("s{i}"),
            Some(1) => "rejected".into(),
            Some(_) => "done".into(),
        }
    }
    fn of(&self, keep: impl Fn(&Ty) -> bool) -> Vec<&(String, Ty)> {
        self.fields.iter().filter(|(_, t)| keep(t)).collect()
    }
    fn pick(&self, keep: impl Fn(&Ty) -> bool, i: u8) -> Option<&(String, Ty)> {
        let v = self.of(keep);
        (!v.is_empty()).then(|| v[usize::from(i) % v.len()])
    }
    fn condable(&self, i: u8) -> Option<&(String, Ty)> {
        self.pick(|t| !matches!(t, Ty::Person | Ty::Dept), i)
    }
    /// Fields whose every value the checker can account for: numbers, bools, choices.
    fn coverable(&self, i: u8) -> Option<&(String, Ty)> {
        self.pick(
            |t| matches!(t, Ty::Bool | Ty::Int(..) | Ty::Dec(..) | Ty::Choice(_)),
            i,
        )
    }
}

/// A condition over one field, of its type and within its range.
fn atom(name: &str, t: &Ty, o: u8) -> String {
    let o = i64::from(o);
    match t {
        Ty::Bool => match o % 3 {
            0 => name.to_string(),
            1 => format!("not {name}"),
            _ => format!("{name} == true"),
        },
        Ty::Int(lo, hi) => {
            let v = lo + (o / 6) % (hi - lo + 1);
            match o % 6 {
                0 => format!("{name} < {v}"),
                1 => format!("{name} >= {v}"),
                2 => format!("{name} == {v}"),
                3 => format!("{name} != {v}"),
                4 => format!("{name} in {lo}..{v}"),
                _ => format!("{name} in {{{lo}, {hi}}}"),
            }
        }
        Ty::Dec(lo, hi) => {
            let v = dec(lo + (hi - lo) * ((o / 4) % 5) / 4);
            match o % 4 {
                0 => format!("{name} < {v}"),
                1 => format!("{name} >= {v}"),
                2 => format!("{name} <= {v}"),
                _ => format!("{name} in {}..<{v}", dec(*lo)),
            }
        }
        Ty::Choice(vs) => {
            let v = &vs[(o as usize / 3) % vs.len()];
            match o % 3 {
                0 => format!("{name} == {v}"),
                1 => format!("{name} != {v}"),
                _ => format!("{name} in {{{}, {v}}}", vs[0]),
            }
        }
        Ty::Text => match o % 2 {
            0 => format!("{name} == \"a\""),
            _ => format!("{name} != \"a\""),
        },
        Ty::Date => match o % 2 {
            0 => format!("{name} < 2026-06-01"),
            _ => format!("{name} >= 2026-03-15"),
        },
        Ty::Person | Ty::Dept => "true".into(),
    }
}

fn cond(n: &Names, c: &CondSpec) -> Option<String> {
    let (a, ta) = n.condable(c.f1)?;
    let first = atom(a, ta, c.o1);
    let (b, tb) = n.condable(c.f2)?;
    let second = atom(b, tb, c.o2);
    Some(match c.shape % 4 {
        0 => first,
        1 => format!("{first} and {second}"),
        2 => format!("{first} or {second}"),
        _ => format!("not ({first})"),
    })
}

/// Conditions that together cover every value of one field.
fn cover(name: &str, t: &Ty, o: u8) -> Vec<String> {
    let o = i64::from(o);
    match t {
        Ty::Bool => vec![name.to_string(), format!("not {name}")],
        Ty::Int(lo, hi) if hi > lo => {
            let v = lo + 1 + o % (hi - lo);
            if o % 2 == 1 && hi - lo >= 2 && v < *hi {
                vec![
                    format!("{name} < {v}"),
                    format!("{name} == {v}"),
                    format!("{name} > {v}"),
                ]
            } else {
                vec![format!("{name} < {v}"), format!("{name} >= {v}")]
            }
        }
        Ty::Int(lo, _) => vec![format!("{name} == {lo}")],
        Ty::Dec(lo, hi) => {
            let v = dec(lo + (hi - lo) * (1 + o % 3) / 4);
            vec![format!("{name} < {v}"), format!("{name} >= {v}")]
        }
        Ty::Choice(vs) => vs.iter().map(|v| format!("{name} == {v}")).collect(),
        Ty::Text => vec![format!("{name} == \"a\""), format!("{name} != \"a\"")],
        Ty::Date => vec![
            format!("{name} < 2026-04-01"),
            format!("{name} >= 2026-04-01"),
        ],
        Ty::Person | Ty::Dept => vec![],
    }
}

/// A partition of one field's values, or (one time in four) of two fields' at once;
/// now and then of a text or date field, which the checker cannot analyse.
fn partition(n: &Names, p: &PartSpec) -> Option<Vec<String>> {
    let (a, ta) = match p.o % 8 {
        7 => n.condable(p.f1)?,
        _ => n.coverable(p.f1)?,
    };
    let first = cover(a, ta, p.o / 4);
    if p.o % 4 != 1 {
        return Some(first);
    }
    let (b, tb) = n.coverable(p.f2)?;
    if a == b {
        return Some(first);
    }
    let second = cover(b, tb, p.o / 3);
    let mut out = Vec::new();
    for x in &first {
        for y in &second {
            out.push(format!("{x} and {y}"));
        }
    }
    Some(out)
}

fn who(n: &Names, w: &WhoSpec, each: bool) -> String {
    let i = usize::from(w.i);
    let person_field = n.pick(|t| matches!(t, Ty::Person), w.i).map(|(f, _)| f);
    let dept_field = n.pick(|t| matches!(t, Ty::Dept), w.i).map(|(f, _)| f);
    match w.kind % 14 {
        // `except`: of the starter, of someone named, of the starter's supervisor.
        10 => "head of department of starter except starter".into(),
        11 => format!("{} except starter", ROLES[i % ROLES.len()]),
        12 if each => format!(
            "each person with role {} except person {}",
            ROLES[i % ROLES.len()],
            PEOPLE[(i / 4) % PEOPLE.len()]
        ),
        12 => format!(
            "{} except person {}",
            ROLES[i % ROLES.len()],
            PEOPLE[(i / 4) % PEOPLE.len()]
        ),
        13 => format!("{} except supervisor of starter", ROLES[i % ROLES.len()]),
        0 => "starter".into(),
        1 => ROLES[i % ROLES.len()].into(),
        2 => person_field.cloned().unwrap_or_else(|| "starter".into()),
        3 => "supervisor of starter".into(),
        4 => "head of department of starter".into(),
        5 => format!("person {}", PEOPLE[i % PEOPLE.len()]),
        6 => match dept_field {
            Some(d) => format!("head of {d}"),
            None => format!("head of {}", DEPTS[i % DEPTS.len()]),
        },
        7 => match person_field {
            Some(p) => format!("supervisor of {p}"),
            None => format!("supervisor of person {}", PEOPLE[i % PEOPLE.len()]),
        },
        8 if each => format!("each person with role {}", ROLES[i % ROLES.len()]),
        8 => ROLES[i % ROLES.len()].into(),
        _ => "supervisor of supervisor of starter".into(),
    }
}

/// The fields declared outside `data`: in-place fills, `set` results, rule `with`s.
fn declared_in_steps(spec: &Spec, out: &mut Vec<(String, Ty)>) {
    for (i, s) in spec.steps.iter().enumerate() {
        if s.action % 5 <= 1 {
            for (k, f) in s.fills.iter().enumerate() {
                if f.inplace {
                    let name = format!("s{i}_f{k}");
                    let t = ty_of(&f.field, &name);
                    out.push((name, t));
                }
            }
        }
    }
    // Computed fields' types depend on the data and in-place fields they read.
    let ints: Vec<(String, Ty)> = out
        .iter()
        .filter(|(_, t)| matches!(t, Ty::Int(..)))
        .cloned()
        .collect();
    for (i, s) in spec.steps.iter().enumerate() {
        if let Some((kind, a, b)) = s.set {
            let name = format!("s{i}_c");
            let t = match (kind % 5, ints.is_empty()) {
                (0, false) => {
                    let (Ty::Int(l1, h1), Ty::Int(l2, h2)) = (
                        &ints[usize::from(a) % ints.len()].1,
                        &ints[usize::from(b) % ints.len()].1,
                    ) else {
                        unreachable!()
                    };
                    Ty::Int(l1 + l2, h1 + h2)
                }
                (2, _) => Ty::Bool,
                (3, false) => {
                    let Ty::Int(l, h) = &ints[usize::from(a) % ints.len()].1 else {
                        unreachable!()
                    };
                    Ty::Int(l * 2, h * 2)
                }
                (4, false) => Ty::Dec(-1000, 1000),
                _ => Ty::Int(1, 1),
            };
            out.push((name, t));
        }
        if s.action % 5 == 3 && s.with_first {
            out.push((format!("s{i}_r"), Ty::Int(1, 1)));
        }
    }
}

fn set_line(n: &Names, i: usize, kind: u8, a: u8, b: u8) -> String {
    let name = format!("s{i}_c");
    let ints: Vec<&String> = n
        .fields
        .iter()
        .filter(|(f, t)| matches!(t, Ty::Int(..)) && !f.ends_with("_c") && !f.ends_with("_r"))
        .map(|(f, _)| f)
        .collect();
    let bools: Vec<&String> = n
        .of(|t| matches!(t, Ty::Bool))
        .into_iter()
        .map(|(f, _)| f)
        .filter(|f| !f.ends_with("_c"))
        .collect();
    let int = |k: u8| ints[usize::from(k) % ints.len()];
    match (kind % 5, ints.is_empty()) {
        (0, false) => format!("set {name} = {} + {}", int(a), int(b)),
        (2, _) if !bools.is_empty() => {
            format!("set {name} = not {}", bools[usize::from(a) % bools.len()])
        }
        (2, _) => format!("set {name} = true"),
        (3, false) => format!("set {name} = {} * 2", int(a)),
        (4, false) => format!("set {name} = {} / {}", int(a), int(b)),
        _ => format!("set {name} = 1"),
    }
}

/// The whole definition's source text.
pub fn render(spec: &Spec) -> String {
    let mut fields: Vec<(String, Ty)> = spec
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = format!("d{i}");
            let t = ty_of(f, &name);
            (name, t)
        })
        .collect();
    declared_in_steps(spec, &mut fields);
    // Computed ones (set/with) must match what `declared_in_steps` assumed: ints
    // read by `set` are data or in-place fields only.
    let n = Names {
        fields,
        steps: spec.steps.len(),
    };
    let mut out = String::from("process gen {\n");
    match spec.started_by % 4 {
        0 => {}
        1 => out.push_str("  started by agent\n"),
        2 => out.push_str("  started by agent, hr_officer\n"),
        _ => out.push_str("  started by agent, general_manager\n"),
    }
    if !spec.fields.is_empty() {
        out.push_str("  data {\n");
        for (i, f) in spec.fields.iter().enumerate() {
            let (name, t) = &n.fields[i];
            let mut line = format!("    {name} {}", type_text(t));
            if f.optional {
                line.push('?');
            }
            if f.default {
                if let Some(d) = default_text(t) {
                    line.push_str(&format!(" = {d}"));
                }
            }
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str("  }\n");
    }
    for (i, s) in spec.steps.iter().enumerate() {
        out.push_str(&format!("  step s{i} {{\n"));
        let mut body: Vec<String> = Vec::new();
        let action = s.action % 5;
        // wait
        match s.time.wait {
            3 => body.push("wait 1h".into()),
            4 => match n.pick(|t| matches!(t, Ty::Date), s.time.overdue_target) {
                Some((d, _)) => body.push(format!("wait until {d} at 09:00")),
                None => body.push("wait 30m".into()),
            },
            _ => {}
        }
        if let Some((kind, a, b)) = s.set {
            body.push(set_line(&n, i, kind, a, b));
        }
        if let Some((w, f)) = &s.notify {
            let placeholder = match n.fields.len() {
                0 => "{title}".to_string(),
                len => format!("{{{}}}", n.fields[usize::from(*f) % len].0),
            };
            body.push(format!(
                "notify {} \"about {placeholder}\"",
                who(&n, w, true)
            ));
        }
        let each = s.choose.len() < 2 || s.route.kind % 2 == 1;
        let mut timed = false;
        match action {
            0 | 1 => {
                let w = who(&n, &s.who, each);
                let is_each = w.starts_with("each");
                body.push(format!("task for {w}"));
                let mut items = Vec::new();
                // Fields the task must fill, which a check may be about.
                let mut filled: Vec<(String, Ty)> = Vec::new();
                for (k, f) in s.fills.iter().enumerate() {
                    if f.inplace {
                        let name = format!("s{i}_f{k}");
                        let t = ty_of(&f.field, &name);
                        let q = if f.field.optional { "?" } else { "" };
                        items.push(format!("{name}{q}: {}", type_text(&t)));
                        if !f.field.optional {
                            filled.push((name, t));
                        }
                    } else if !spec.fields.is_empty() {
                        let k = usize::from(f.pick) % spec.fields.len();
                        let d = format!("d{k}");
                        if !items.contains(&d) {
                            items.push(d.clone());
                            filled.push((d, n.fields[k].1.clone()));
                        }
                    }
                }
                if !items.is_empty() {
                    body.push(format!("fill {}", items.join(", ")));
                }
                if let Some((kind, o)) = s.check {
                    if let Some(c) = check_line(&n, &filled, kind, o) {
                        body.push(c);
                    }
                }
                timed = true;
                if !is_each && s.choose.len() >= 2 && s.route.kind % 2 == 0 {
                    if s.allow_self {
                        body.push("allow self approval".into());
                    }
                    let arms: Vec<String> = s
                        .choose
                        .iter()
                        .enumerate()
                        .map(|(k, t)| format!("    c{k} -> {}", n.target(*t)))
                        .collect();
                    body.push(format!("choose {{\n{}\n    }}", arms.join("\n")));
                } else {
                    body.extend(next_lines(&n, &s.route));
                }
            }
            2 => {
                let signers: Vec<String> = s.signers.iter().map(|w| who(&n, w, true)).collect();
                let list = signers.join(", ");
                body.push(match s.sign_mode {
                    0 => format!("sign all of {list}"),
                    1 => format!("sign any of {list}"),
                    2 if signers.len() >= 2 => format!("sign 2 of {list}"),
                    2 => format!("sign any of {list}"),
                    _ => format!("sign in order by {list}"),
                });
                if s.allow_self {
                    body.push("allow self approval".into());
                }
                if let Some(t) = s.on_refuse {
                    body.push(format!("on refuse -> {}", n.target(t)));
                }
                timed = true;
                body.extend(next_lines(&n, &s.route));
            }
            3 => {
                let mut arms: Vec<String> = Vec::new();
                let conds: Vec<String> = match s.route.kind {
                    1 | 3 => partition(&n, &s.route.part).unwrap_or_default(),
                    _ => s
                        .route
                        .lines
                        .iter()
                        .filter_map(|(c, _)| cond(&n, c))
                        .collect(),
                };
                for (k, c) in conds.iter().enumerate() {
                    let t = s.route.targets[k % s.route.targets.len()]
                        .wrapping_add((k / s.route.targets.len()) as u8);
                    let with = if k == 0 && s.with_first {
                        format!(" with s{i}_r = 1")
                    } else {
                        String::new()
                    };
                    arms.push(format!("    {c} -> {}{with}", n.target(t)));
                }
                if arms.is_empty() || matches!(s.route.kind, 0 | 2) {
                    let with = if arms.is_empty() && s.with_first {
                        format!(" with s{i}_r = 1")
                    } else {
                        String::new()
                    };
                    arms.push(format!("    otherwise -> {}{with}", n.target(s.route.last)));
                }
                body.push(format!("rule {{\n{}\n    }}", arms.join("\n")));
            }
            _ => body.extend(next_lines(&n, &s.route)),
        }
        if timed {
            let t = &s.time;
            let has_due = match t.due {
                3 | 5 | 6 => {
                    body.push("due 2h".into());
                    true
                }
                4 => {
                    match cond(&n, &t.cond) {
                        Some(c) => {
                            body.push(format!("due 1h when {c}"));
                            body.push("due 4h".into());
                        }
                        None => body.push("due 2h".into()),
                    }
                    true
                }
                _ => false,
            };
            if has_due {
                match t.overdue {
                    1 => body.push(format!("on overdue -> {}", n.target(t.overdue_target))),
                    2 => body.push("on overdue notify starter \"late: {step}\"".into()),
                    3 => body.push(format!(
                        "on overdue escalate to {}",
                        who(&n, &t.overdue_who, false)
                    )),
                    _ => {}
                }
                match t.remind {
                    1 => body.push("remind 30m before due".into()),
                    2 => body.push("remind every 1h after due".into()),
                    _ => {}
                }
            }
        }
        for line in body {
            out.push_str("    ");
            out.push_str(&line);
            out.push('\n');
        }
        out.push_str("  }\n");
    }
    out.push_str("  end done\n  end rejected\n}\n");
    out
}

/// A `check` on completing a task: about a field it fills (alone, with data, or a
/// person's attributes), or now and then about data alone, which the checker must
/// refuse.
fn check_line(n: &Names, filled: &[(String, Ty)], kind: u8, o: u8) -> Option<String> {
    let pick = |v: &[(String, Ty)]| -> Option<(String, Ty)> {
        (!v.is_empty()).then(|| v[usize::from(o) % v.len()].clone())
    };
    let condable: Vec<(String, Ty)> = filled
        .iter()
        .filter(|(_, t)| !matches!(t, Ty::Person | Ty::Dept))
        .cloned()
        .collect();
    let people: Vec<(String, Ty)> = filled
        .iter()
        .filter(|(_, t)| matches!(t, Ty::Person))
        .cloned()
        .collect();
    let cond = match kind % 6 {
        0 => {
            let (f, t) = pick(&condable)?;
            atom(&f, &t, o)
        }
        1 => {
            let (f, t) = pick(&condable)?;
            let (d, td) = n.condable(o / 3)?;
            format!("{} or {}", atom(&f, &t, o), atom(d, td, o / 5))
        }
        2 => {
            let (f, t) = pick(&condable)?;
            format!("not ({})", atom(&f, &t, o))
        }
        3 => {
            let (f, _) = pick(&people)?;
            match o % 4 {
                0 => format!("{f} != starter"),
                1 => format!("{f} in department {}", ["cs", "hr"][usize::from(o / 4) % 2]),
                2 => format!("{f} has role agent"),
                // (`==` the starter's department would be met by the general manager
                // alone when he starts it, and the walker never puts him, who has no
                // supervisor, in a person field.)
                _ => format!("department of {f} != department of starter"),
            }
        }
        4 => {
            let (f, t) = pick(&condable)?;
            let Ty::Int(..) = t else {
                return Some(format!("check {} \"c\"", atom(&f, &t, o)));
            };
            let (d, _) = n.pick(|t| matches!(t, Ty::Int(..)), o / 7)?;
            if *d == f {
                return None;
            }
            let op = ["<", "<=", ">", ">="][usize::from(o) % 4];
            format!("{f} {op} {d}")
        }
        _ => {
            let (d, td) = n.condable(o)?;
            atom(d, td, o / 3)
        }
    };
    Some(format!("check {cond} \"c\""))
}

/// `next` lines: one target, conditional lines with a last unconditional one, or a
/// partition of one or two fields.
fn next_lines(n: &Names, r: &RouteSpec) -> Vec<String> {
    match r.kind {
        1 => {
            let mut v: Vec<String> = r
                .lines
                .iter()
                .filter_map(|(c, t)| cond(n, c).map(|c| format!("next {} when {c}", n.target(*t))))
                .collect();
            v.push(format!("next {}", n.target(r.last)));
            v
        }
        2 | 3 => match partition(n, &r.part) {
            Some(cs) if !cs.is_empty() => cs
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let t =
                        r.targets[k % r.targets.len()].wrapping_add((k / r.targets.len()) as u8);
                    format!("next {} when {c}", n.target(t))
                })
                .collect(),
            _ => vec![format!("next {}", n.target(r.last))],
        },
        _ => vec![format!("next {}", n.target(r.last))],
    }
}
