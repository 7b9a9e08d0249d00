//! The checks that make "checks clean" mean "runs right": definite assignment, who
//! positions, loops whose only exit is dead, and decisions over several fields.

use baton_dsl::{check, Context, Diagnostic, PersonShape, Severity, StaffNames};
use std::collections::BTreeMap;

fn diags(src: &str) -> Vec<Diagnostic> {
    check(src, &Context::default()).diagnostics
}

fn with_code<'a>(ds: &'a [Diagnostic], code: &str) -> Vec<&'a Diagnostic> {
    ds.iter().filter(|d| d.code == code).collect()
}

const COMPLAINT: &str = r#"
process complaint {
  data { customer text }
  step accept {
    task for starter
    choose {
      resolved -> follow_up
      needs_solution -> propose
    }
  }
  step propose {
    task for starter
    fill solution: text
    next follow_up
  }
  step follow_up {
    task for starter
    notify starter "方案：{solution}"
    next done
  }
  end done
}
"#;

#[test]
fn a_field_read_before_any_path_gives_it_a_value_is_named_with_the_path() {
    let ds = diags(COMPLAINT);
    let e = with_code(&ds, "E080");
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert!(e[0].message.contains("`solution`"), "{}", e[0].message);
    assert!(
        e[0].message.contains("accept(resolved) -> follow_up"),
        "{}",
        e[0].message
    );
    // The caret is on the message that reads it.
    assert!(COMPLAINT[e[0].span.clone()].contains("{solution}"));
}

#[test]
fn a_fallback_or_a_fill_on_every_path_makes_the_read_safe() {
    let with_fallback = COMPLAINT.replace("{solution}", "{solution or 無}");
    assert!(with_code(&diags(&with_fallback), "E080").is_empty());
    let filled_everywhere = COMPLAINT.replace("resolved -> follow_up", "resolved -> propose");
    assert!(with_code(&diags(&filled_everywhere), "E080").is_empty());
    // In an expression, `x or FALLBACK` types as `x`.
    let src = r#"process p {
      data { note text?  n integer? }
      step a { task for starter  next done when (note or "-") != "x" and (n or 0) > 3  next done }
      end done }"#;
    let ds = diags(src);
    assert!(ds.iter().all(|d| d.severity != Severity::Error), "{ds:#?}");
}

#[test]
fn optional_start_fields_need_a_value_where_they_are_read() {
    let src = r#"process p {
      data { owner person?  due_on date? }
      step a { task for owner  due due_on  next done }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E080");
    assert_eq!(e.len(), 2, "{ds:#?}");
}

#[test]
fn sets_and_rule_withs_count_as_assignments_in_order() {
    let src = r#"process p {
      data { a integer 0..10 }
      step s {
        set b = a + 1
        notify starter "{b} {c}"
        rule { a > 5 -> t with c = 1
               otherwise -> t with c = 2 }
      }
      step t { task for starter  notify starter "{c}"  next done }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E080");
    // `{c}` in step s is read before any rule wrote it; in t it always has one.
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert!(e[0].message.contains("`c`") && e[0].message.contains("step `s`"));
}

#[test]
fn an_optional_field_passed_to_a_required_field_of_a_child_is_an_error() {
    let child =
        r#"process child { data { who person } step a { task for who next done } end done }"#;
    let parent = r#"process parent {
      data { who person? }
      step go { start child with who = who  next done }
      end done }"#;
    let sigs: BTreeMap<_, _> = [child, parent]
        .iter()
        .filter_map(|s| baton_dsl::signature(s))
        .collect();
    let out = check(
        parent,
        &Context {
            staff: None,
            processes: Some(&sigs),
        },
    );
    let e = with_code(&out.diagnostics, "E081");
    assert_eq!(e.len(), 1, "{:#?}", out.diagnostics);
    assert!(e[0].message.contains("`child` needs a value for `who`"));
}

#[test]
fn supervisor_of_a_role_is_an_error_at_the_role() {
    let src = r#"process p {
      step a { task for supervisor of agent  next done }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E082");
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert_eq!(&src[e[0].span.clone()], "agent");
    let fine = src.replace("supervisor of agent", "supervisor of starter");
    assert!(with_code(&diags(&fine), "E082").is_empty());
}

fn staff() -> StaffNames {
    let person = |name: &str, roles: &[&str], sup: Option<&str>| PersonShape {
        name: name.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        department: "cs".into(),
        supervisor: sup.map(str::to_string),
    };
    let shape: BTreeMap<String, PersonShape> = [
        ("gm".to_string(), person("李總", &["manager"], None)),
        (
            "boss".to_string(),
            person("王主管", &["manager"], Some("gm")),
        ),
        ("a1".to_string(), person("陳", &["agent"], Some("boss"))),
    ]
    .into();
    StaffNames {
        roles: ["agent", "manager"].iter().map(|s| s.to_string()).collect(),
        people: shape.keys().cloned().collect(),
        departments: ["cs".to_string()].into(),
        heads: [("cs".to_string(), "gm".to_string())].into(),
        shape,
    }
}

#[test]
fn a_chain_certain_to_find_nobody_names_the_person() {
    let names = staff();
    let ctx = Context {
        staff: Some(&names),
        processes: None,
    };
    let src = r#"process p {
      started by manager
      step a { task for supervisor of starter  next done }
      end done }"#;
    let out = check(src, &ctx);
    let w = with_code(&out.diagnostics, "W005");
    assert_eq!(w.len(), 1, "{:#?}", out.diagnostics);
    assert!(w[0].message.contains("李總"), "{}", w[0].message);
    // Agents all have supervisors: nothing to say.
    let agents = src.replace("started by manager", "started by agent");
    assert!(with_code(&check(&agents, &ctx).diagnostics, "W005").is_empty());
}

#[test]
fn a_loop_whose_only_exit_can_never_hold_is_an_error_naming_the_exit() {
    let src = r#"process p {
      data { count 1..5 }
      step a { task for starter  next b }
      step b {
        next done when count > 10
        next a
      }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E044");
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert!(
        e[0].message.contains("`next done when count > 10`"),
        "{}",
        e[0].message
    );
    // An overdue move is a way out too.
    let overdue = src.replace(
        "step a { task for starter  next b }",
        "step a { task for starter  due 1h  on overdue -> done  next b }",
    );
    assert!(with_code(&diags(&overdue), "E044").is_empty());
}

#[test]
fn decisions_over_several_fields_name_the_uncovered_cases() {
    let src = r#"process p {
      data {
        severity general | major
        channel hotline | app | onsite
      }
      step s {
        rule {
          severity == general -> done
          severity == major and channel == app -> done
        }
      }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E040");
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert!(
        e[0].message
            .contains("severity is major and channel is hotline or onsite"),
        "{}",
        e[0].message
    );
}

#[test]
fn a_rule_made_useless_by_earlier_ones_is_an_error_and_overlaps_warn_even_with_otherwise() {
    let src = r#"process p {
      data { a bool  b bool }
      step s {
        rule {
          a -> x
          b -> y
          a and b -> y
          otherwise -> x
        }
      }
      end x
      end y }"#;
    let ds = diags(src);
    assert_eq!(with_code(&ds, "E041").len(), 1, "{ds:#?}");
    let w = with_code(&ds, "W002");
    assert_eq!(w.len(), 1, "{ds:#?}");
    assert!(
        w[0].message.contains("a is true and b is true"),
        "{}",
        w[0].message
    );
}

#[test]
fn unanalysable_parts_are_named_and_need_otherwise() {
    let src = r#"process p {
      data { a integer  b integer }
      step s {
        rule {
          a > b -> done
          a < b -> done
        }
      }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E042");
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert!(
        e[0].message.contains("`a > b` (it compares two fields)"),
        "{}",
        e[0].message
    );
    let with_otherwise = src.replace("a < b -> done", "a < b -> done\n otherwise -> done");
    assert!(with_code(&diags(&with_otherwise), "E042").is_empty());
}

#[test]
fn one_conditional_due_line_warns_about_cases_without_a_deadline() {
    let src = r#"process p {
      data { severity general | major }
      step s { task for starter  due 2h when severity == major  next done }
      end done }"#;
    let ds = diags(src);
    let w = with_code(&ds, "W003");
    assert_eq!(w.len(), 1, "{ds:#?}");
    assert!(w[0].message.contains("severity is general"));
}

#[test]
fn an_inner_loop_nobody_can_change_is_an_error_even_inside_a_breakable_one() {
    let src = r#"process p {
      started by agent
      data { d0 integer 6..7 }
      step s0 {
        wait 1h
        rule {
          d0 < 7 -> s0
          d0 >= 7 -> s1
        }
      }
      step s1 {
        sign all of supervisor of starter
        on refuse -> s0
        next done
      }
      end done }"#;
    let ds = diags(src);
    let e = with_code(&ds, "E045");
    assert_eq!(e.len(), 1, "{ds:#?}");
    assert!(e[0].message.contains("`s0`"), "{}", e[0].message);
    // A counter that changes each round can end the loop.
    let counting = src
        .replace(
            "data { d0 integer 6..7 }",
            "data { d0 integer 6..7  n integer? }",
        )
        .replace("wait 1h", "wait 1h\n        set n = (n or 0) + 1")
        .replace("d0 < 7 -> s0", "d0 < 7 and n < 5 -> s0")
        .replace("d0 >= 7 -> s1", "otherwise -> s1");
    let ds = diags(&counting);
    assert!(with_code(&ds, "E045").is_empty(), "{ds:#?}");
}
