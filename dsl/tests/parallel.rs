//! Parallel branches in the language: what checks clean and what it lowers to, the
//! checker's soundness rules for branches, `baton fmt`'s layout and the diagrams.

use baton_dsl::model::{Action, Join, Route};
use baton_dsl::{check, fmt, graph, Code, Context};

const SRC: &str = r#"process settle "入職安排" {
  data {
    employee person "新員工"
  }

  step settle_in "入職手續與崗前引導" {
    parallel {
      branch paperwork "人事手續" {
        step contract "簽訂合同" {
          task for hr_officer
          due 2d
          remind 4h before due
          fill contract_no: text
          next join
        }
      }
      branch guidance "崗前引導" may end {
        step guide "崗前引導" {
          task for supervisor of employee
          choose {
            done "完成"   -> join
            left "已離職" -> left
          }
        }
      }
    }
    join all
    next confirm
  }

  step confirm "確認" {
    task for employee
    next done
  }

  end done "完成"
  end left "離職"
}
"#;

fn codes(src: &str) -> Vec<Code> {
    check(src, &Context::default())
        .diagnostics
        .iter()
        .map(|d| d.code)
        .collect()
}

#[test]
fn a_parallel_step_lowers_to_its_branches_and_their_steps() {
    let o = check(SRC, &Context::default());
    assert!(o.diagnostics.is_empty(), "{:#?}", o.diagnostics);
    let d = o.definition.expect("checks clean");
    let names: Vec<&str> = d.steps.iter().map(|s| s.name.as_str()).collect();
    // A branch's steps are steps of the definition, after their parallel step.
    assert_eq!(names, ["settle_in", "contract", "guide", "confirm"]);
    let Action::Parallel(p) = &d.steps[0].action else {
        panic!("{:?}", d.steps[0].action)
    };
    assert_eq!(p.join, Join::All);
    assert_eq!(p.branches.len(), 2);
    assert_eq!(p.branches[0].steps, ["contract"]);
    assert_eq!(p.branches[1].label(), "崗前引導");
    assert!(p.branches[1].may_end && !p.branches[0].may_end);
    assert_eq!(
        d.branch_of("guide")
            .map(|(s, b)| (s.name.as_str(), b.name.as_str())),
        Some(("settle_in", "guidance"))
    );
    assert!(d.branch_of("confirm").is_none());
    assert!(matches!(&d.steps[0].route, Route::Next(n) if n[0].1 == "confirm"));
}

#[test]
fn join_any_and_a_count() {
    let any = SRC.replace("join all", "join any");
    let d = check(&any, &Context::default()).definition.expect("any");
    assert!(matches!(&d.steps[0].action, Action::Parallel(p) if p.join == Join::Any));
    let two = SRC.replace("join all", "join 2");
    let d = check(&two, &Context::default()).definition.expect("2");
    assert!(matches!(&d.steps[0].action, Action::Parallel(p) if p.join == Join::Count(2)));
    // Without a `join` line, all branches must finish.
    let none = SRC.replace("    join all\n", "");
    let d = check(&none, &Context::default())
        .definition
        .expect("default");
    assert!(matches!(&d.steps[0].action, Action::Parallel(p) if p.join == Join::All));
}

#[test]
fn a_branch_without_may_end_cannot_go_to_an_end() {
    let src = SRC.replace(" may end {", " {");
    assert_eq!(codes(&src), [Code::BranchLeaves]);
}

#[test]
fn a_step_defined_in_two_branches_is_a_duplicate() {
    let src = SRC.replace("step contract \"簽訂合同\"", "step guide \"簽訂合同\"");
    assert!(
        codes(&src).contains(&Code::DuplicateName),
        "{:?}",
        codes(&src)
    );
}

#[test]
fn a_field_one_branch_fills_is_not_known_in_another() {
    let src = SRC.replace(
        "task for supervisor of employee",
        "task for supervisor of employee\n          notify employee \"合同 {contract_no}\"",
    );
    assert!(
        codes(&src).contains(&Code::FieldMaybeEmpty),
        "{:?}",
        codes(&src)
    );
}

#[test]
fn a_parallel_step_is_its_only_action_and_goes_on_by_next() {
    let with_task = SRC.replace("    join all\n", "    join all\n    task for employee\n");
    assert!(codes(&with_task).contains(&Code::SeveralActions));
    let no_next = SRC.replace("    next confirm\n", "");
    assert!(codes(&no_next).contains(&Code::NoWayToFinish));
}

#[test]
fn automatic_branches_in_a_loop_are_caught() {
    // Every step automatic: the parallel step would go round within one command.
    let src = r#"process p {
  step fan {
    parallel {
      branch a {
        step a1 {
          next join
        }
      }
    }
    next fan
  }
}
"#;
    let c = codes(src);
    assert!(
        !c.is_empty() && check(src, &Context::default()).definition.is_none(),
        "{c:?}"
    );
}

#[test]
fn fmt_lays_branches_out_canonically_and_keeps_the_meaning() {
    assert_eq!(fmt::format(SRC), SRC, "the example is in canonical layout");
    let squashed: String = SRC
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let formatted = fmt::format(&squashed);
    assert_eq!(fmt::format(&formatted), formatted);
    let model = |s: &str| check(s, &Context::default()).definition;
    assert_eq!(model(&formatted), model(SRC));
    assert!(formatted.contains("\n      branch paperwork \"人事手續\" {\n        step contract"));
}

#[test]
fn the_diagram_draws_the_fork_and_the_join() {
    let d = check(SRC, &Context::default()).definition.expect("clean");
    let m = graph::mermaid(&d);
    // The fork: the parallel step, a hexagon, with an edge to each branch's first
    // step labelled with the branch; the join: its own hexagon, where the step's
    // `next` leaves from and each branch's `join` arrives.
    assert!(
        m.contains("{{\"入職手續與崗前引導<br/>parallel: 2 branches\"}}"),
        "{m}"
    );
    assert!(m.contains("{{\"join all\"}}"), "{m}");
    assert!(m.contains("|\"人事手續\"|"), "{m}");
    assert!(m.contains("|\"崗前引導 (may end)\"|"), "{m}");
    let id = |label: &str| {
        m.lines()
            .find(|l| l.contains(label) && !l.contains("-->"))
            .and_then(|l| l.split_whitespace().next())
            .map(|s| s.split(['[', '{', '(']).next().unwrap_or("").to_string())
            .unwrap_or_else(|| panic!("no node {label} in {m}"))
    };
    let (join, contract, confirm) = (id("join all"), id("簽訂合同"), id("確認"));
    assert!(m.contains(&format!("{contract} --> {join}")), "{m}");
    assert!(m.contains(&format!("{join} --> {confirm}")), "{m}");
    let dot = graph::dot(&d);
    assert!(dot.contains("label=\"join all\", shape=hexagon"), "{dot}");
    assert!(dot.contains("label=\"人事手續\""), "{dot}");
}
