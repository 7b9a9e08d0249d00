//! Lists of records: the type, `X.field`, `count`, `any`/`all`, `for each`; what the
//! checker accepts and lowers, how the values evaluate, and how `baton fmt` and
//! `baton graph` show them.

use baton_dsl::eval::{eval, Element, Env, Value};
use baton_dsl::model::{Definition, Expr, ForEach, ListType, Member, Type, Who};
use baton_dsl::{check, Code, Context};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::collections::BTreeMap;

const SRC: &str = r#"process minutes "會議紀要" {
  data {
    topic        text
    action_items list 0..20 of {
      item     text   "事項"
      owner    person "負責人"
      deadline date   "完成期限"
      urgent   bool?
    }
  }
  step review {
    task for reviewer
    next follow_up when count(action_items) > 0 and all a in action_items where a.deadline >= today
    next late when any a in action_items where a.deadline < today
    next done
  }
  step follow_up "跟進：{a.item}" {
    for each a in action_items
    task for a.owner
    due a.deadline at 18:00
    remind 1d before due to supervisor of a.owner "「{a.item}」明天到期"
    next done
  }
  step late {
    task for reviewer
    next done
  }
  end done
}
"#;

fn checked(src: &str) -> Definition {
    let out = check(src, &Context::default());
    assert!(out.errors().next().is_none(), "{:#?}", out.diagnostics);
    out.definition.expect("checks clean")
}

fn codes(src: &str) -> Vec<Code> {
    check(src, &Context::default())
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_list_type_keeps_its_bounds_and_its_elements_fields() {
    let def = checked(SRC);
    let Some(Type::List(ListType { min, max, fields })) = def.field("action_items").map(|f| &f.ty)
    else {
        panic!("a list field");
    };
    assert_eq!((*min, *max), (0, Some(20)));
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["item", "owner", "deadline", "urgent"]);
    assert_eq!(fields[1].ty, Type::Person);
    assert_eq!(fields[1].label.as_deref(), Some("負責人"));
    assert!(fields[3].optional && !fields[2].optional);
    // `list of`: any number; `list 1.. of`: at least one.
    let open = checked(&SRC.replace("list 0..20 of", "list 1.. of"));
    match open.field("action_items").map(|f| &f.ty) {
        Some(Type::List(l)) => assert_eq!((l.min, l.max), (1, None)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_for_each_step_names_its_element_in_who_due_and_reminders() {
    let def = checked(SRC);
    let step = def.step("follow_up").expect("the step");
    assert_eq!(
        step.for_each,
        Some(ForEach {
            var: "a".into(),
            list: "action_items".into()
        })
    );
    let a_owner = || {
        Who::Member(Box::new(Member {
            var: "a".into(),
            field: "owner".into(),
        }))
    };
    assert_eq!(step.action, baton_dsl::model::Action::Task(a_owner()));
    assert_eq!(step.due[0].at.to_string(), "a.deadline at 18:00");
    assert_eq!(
        step.reminders[0].to(),
        Some(&Who::SupervisorOf(Box::new(a_owner())))
    );
    // Steps without `for each` have none.
    assert_eq!(def.step("review").and_then(|s| s.for_each.clone()), None);
}

/// An environment with the data and a fixed day.
struct Data(BTreeMap<String, Value>);
impl Env for Data {
    fn get(&self, f: &str) -> Option<&Value> {
        self.0.get(f)
    }
    fn now(&self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 9, 2, 0, 0)
            .single()
            .expect("a time")
    }
    fn zone(&self) -> chrono_tz::Tz {
        chrono_tz::Asia::Shanghai
    }
}

fn element(owner: &str, deadline: (i32, u32, u32)) -> Element {
    let (y, m, d) = deadline;
    [
        ("item".to_string(), Value::Text("事".into())),
        ("owner".to_string(), Value::Person(owner.into())),
        (
            "deadline".to_string(),
            Value::Date(NaiveDate::from_ymd_opt(y, m, d).expect("a date")),
        ),
    ]
    .into()
}

#[test]
fn count_any_and_all_read_the_elements_and_an_empty_list_has_none() {
    let def = checked(SRC);
    let review = def.step("review").expect("review");
    let baton_dsl::model::Route::Next(nexts) = &review.route else {
        panic!("next lines");
    };
    let to_follow_up = nexts[0].0.clone().expect("a condition");
    let late = nexts[1].0.clone().expect("a condition");
    let run = |items: Vec<Element>, e: &Expr| {
        let env = Data([("action_items".to_string(), Value::List(items))].into());
        eval(e, &env).expect("evaluates")
    };
    // None: `count` is 0, `all` holds (of nothing), `any` does not.
    assert_eq!(run(vec![], &to_follow_up), Value::Bool(false));
    assert_eq!(run(vec![], &late), Value::Bool(false));
    let all_expr = match &to_follow_up {
        Expr::Bin(_, _, b) => (**b).clone(),
        other => panic!("{other}"),
    };
    assert_eq!(run(vec![], &all_expr), Value::Bool(true));
    // Two on time; then one of them late (today is 2026-03-09 in Shanghai).
    let on_time = vec![
        element("wang_fang", (2026, 3, 10)),
        element("liu_yang", (2026, 3, 9)),
    ];
    assert_eq!(run(on_time.clone(), &to_follow_up), Value::Bool(true));
    assert_eq!(run(on_time, &late), Value::Bool(false));
    let one_late = vec![
        element("wang_fang", (2026, 3, 10)),
        element("liu_yang", (2026, 3, 8)),
    ];
    assert_eq!(run(one_late.clone(), &to_follow_up), Value::Bool(false));
    assert_eq!(run(one_late, &late), Value::Bool(true));
    let count = match &to_follow_up {
        Expr::Bin(_, a, _) => match &**a {
            Expr::Bin(_, c, _) => (**c).clone(),
            other => panic!("{other}"),
        },
        other => panic!("{other}"),
    };
    assert_eq!(
        run(vec![element("a", (2026, 1, 1)); 3], &count),
        Value::Int(3)
    );
}

#[test]
fn what_the_checker_refuses_about_lists() {
    let data =
        "data {\n    items list of { item text, owner person, note text? }\n    name text\n  }";
    let with = |step: &str| {
        format!(
            "process p {{\n  {data}\n  step a {{\n{step}\n    next done\n  }}\n  end done\n}}\n"
        )
    };
    // An element's field read outside its `for each`, or in a `notify` that runs once.
    assert_eq!(
        codes(&with(
            "    for each x in items\n    task for x.owner\n    notify x.owner \"hi\""
        )),
        [Code::NotAnElement]
    );
    // A who from an element that is not a person.
    assert_eq!(
        codes(&with("    for each x in items\n    task for x.item")),
        [Code::NotAPerson]
    );
    // Not a list.
    assert_eq!(
        codes(&with(
            "    task for agent\n    next done when count(name) > 1"
        )),
        [Code::NotAList]
    );
    assert_eq!(
        codes(&with(
            "    task for agent\n    next done when any x in name where x.item == \"a\""
        )),
        [Code::NotAList]
    );
    // An optional element field in a condition.
    assert_eq!(
        codes(&with(
            "    task for agent\n    next done when all x in items where x.note == \"a\""
        )),
        [Code::ElementMaybeEmpty]
    );
    // A sign-off per element is `sign all of`; the others do not say how the
    // elements' signatures add up.
    assert_eq!(
        codes(&with(
            "    for each x in items\n    sign all of x.owner\n    on refuse -> done"
        )),
        Vec::<Code>::new()
    );
    assert_eq!(
        codes(&with(
            "    for each x in items\n    sign in order by x.owner\n    on refuse -> done"
        )),
        [Code::ForEachSignMode]
    );
    // The head of an element's field that is not a department, or may be empty.
    assert_eq!(
        codes(&with(
            "    for each x in items\n    sign all of head of x.item\n    on refuse -> done"
        )),
        [Code::HeadOfNotDepartment]
    );
    // Nothing to start per element.
    assert_eq!(
        codes(&with("    for each x in items\n    set name = \"a\"")),
        [Code::ForEachWithoutTask]
    );
    // A child per element goes on by `next`: it keeps no outputs, takes no outcome.
    let found = codes(&with(
        "    for each x in items\n    start p with name = x.item and wait\n    receive name",
    ));
    assert!(found.contains(&Code::ForEachOutcome), "{found:?}");
    // Without them, a child per element checks clean.
    assert_eq!(
        codes(&with(
            "    for each x in items\n    start p with name = x.item and wait"
        )),
        Vec::<Code>::new()
    );
    // Two lists are not compared whole.
    assert_eq!(
        codes(&with(
            "    task for agent\n    next done when items == items"
        )),
        [Code::CannotCompare]
    );
    // A placeholder naming an element field that does not exist.
    assert_eq!(
        codes(&with(
            "    for each x in items\n    task for x.owner\n    due 1d\n    remind 1h before due \"{x.owne}\""
        )),
        [Code::NoElementField]
    );
}

#[test]
fn fmt_lays_lists_out_canonically_and_keeps_the_model() {
    let messy = SRC
        .replace("a.owner", "a.owner   ")
        .replace("list 0..20 of {", "list   0..20   of  {")
        .replace("count(action_items)", "count( action_items )")
        .replace("      owner    person", "  owner  person");
    let once = baton_dsl::fmt::format(&messy);
    assert_eq!(once, SRC);
    assert_eq!(baton_dsl::fmt::format(&once), once);
    // One line, with commas, stays one line.
    let inline = "process p {\n  data {\n    items list of { item text \"事項\", owner person }\n  }\n  step a {\n    for each x in items\n    task for x.owner\n    next done\n  }\n  end done\n}\n";
    assert_eq!(baton_dsl::fmt::format(inline), inline);
    assert_eq!(checked(&once), checked(&messy));
}

#[test]
fn graph_draws_a_for_each_step_as_many_tasks_joined() {
    let def = checked(SRC);
    let m = baton_dsl::graph::mermaid(&def);
    assert!(
        m.contains("[[\"跟進：{a.item}<br/>for each a in action_items (all must finish)<br/>task for a.owner"),
        "{m}"
    );
    let d = baton_dsl::graph::dot(&def);
    assert!(
        d.contains("for each a in action_items (all must finish)"),
        "{d}"
    );
    assert!(d.contains("shape=box3d"), "{d}");
}

/// A coordination request signed by the head of each partner department.
const SIGNOFF: &str = r#"process coordination "跨部門協作" {
  data {
    topic    text
    partners list 0..5 of {
      department department "協作部門"
      deadline   date?      "回覆期限"
    }
  }
  step cosign "協作會簽：{p.department}" {
    for each p in partners
    sign all of head of p.department
    due 2d
    remind 4h before due
    on refuse -> declined
    next agreed
  }
  end agreed
  end declined
}
"#;

#[test]
fn a_sign_off_per_element_checks_lowers_formats_and_draws() {
    let def = checked(SIGNOFF);
    let s = def.step("cosign").expect("the step");
    assert_eq!(
        s.for_each,
        Some(ForEach {
            var: "p".into(),
            list: "partners".into()
        })
    );
    let baton_dsl::model::Action::Sign {
        mode,
        signers,
        on_refuse,
        ..
    } = &s.action
    else {
        panic!("a sign-off: {:?}", s.action)
    };
    assert_eq!(*mode, baton_dsl::model::SignMode::All);
    assert_eq!(
        signers,
        &[Who::HeadOfMember(Box::new(Member {
            var: "p".into(),
            field: "department".into()
        }))]
    );
    assert_eq!(on_refuse.as_deref(), Some("declined"));
    // An optional department is refused in a who position.
    let optional = SIGNOFF.replace(
        "department department \"協作部門\"",
        "department department? \"協作部門\"",
    );
    assert_eq!(codes(&optional), [Code::ElementMaybeEmpty]);
    // `baton fmt` keeps it as written, and a messy copy comes back to it.
    assert_eq!(baton_dsl::fmt::format(SIGNOFF), SIGNOFF);
    let messy = SIGNOFF.replace("head of p.department", "head   of   p.department");
    assert_eq!(baton_dsl::fmt::format(&messy), SIGNOFF);
    // The diagram: a step of many sign-offs, with its refusal edge.
    let m = baton_dsl::graph::mermaid(&def);
    assert!(
        m.contains("for each p in partners (all must sign)<br/>sign all of head of p.department"),
        "{m}"
    );
    let d = baton_dsl::graph::dot(&def);
    assert!(d.contains("for each p in partners (all must sign)"), "{d}");
    assert!(d.contains("shape=box3d"), "{d}");
    assert!(d.contains("n1 -> n3 [label=\"refused\"]"), "{d}");
}

/// Each partner prepares its part in a child process.
const CHILDREN: &str = r#"process launch "聯合推廣" {
  data {
    topic    text
    partners list of { department department, budget 0..1000000 }
  }
  step prepare "各部門準備" {
    for each p in partners
    start prep with topic = topic, department = p.department, budget = p.budget and wait
    next done
  }
  end done
}
"#;

#[test]
fn a_child_per_element_checks_lowers_formats_and_draws() {
    let def = checked(CHILDREN);
    let s = def.step("prepare").expect("the step");
    let baton_dsl::model::Action::Start {
        process,
        with,
        wait,
    } = &s.action
    else {
        panic!("a start: {:?}", s.action)
    };
    assert_eq!(process, "prep");
    assert!(*wait);
    assert_eq!(
        with[1],
        (
            "department".to_string(),
            Expr::Member(Box::new(Member {
                var: "p".into(),
                field: "department".into()
            }))
        )
    );
    assert!(matches!(s.route, baton_dsl::model::Route::Next(_)));
    // `on outcome` instead of `next` is refused: the children end at different ends.
    let by_outcome = CHILDREN.replace(
        "    next done\n",
        "    on outcome {\n      otherwise -> done\n    }\n",
    );
    assert_eq!(codes(&by_outcome), [Code::ForEachOutcome]);
    let messy = CHILDREN.replace("= p.budget and wait", "=   p.budget   and   wait");
    assert_eq!(baton_dsl::fmt::format(&messy), CHILDREN);
    assert_eq!(baton_dsl::fmt::format(CHILDREN), CHILDREN);
    let m = baton_dsl::graph::mermaid(&def);
    assert!(
        m.contains("for each p in partners (all must end)<br/>start prep and wait"),
        "{m}"
    );
    let d = baton_dsl::graph::dot(&def);
    assert!(d.contains("for each p in partners (all must end)"), "{d}");
    assert!(d.contains("shape=box3d"), "{d}");
}
