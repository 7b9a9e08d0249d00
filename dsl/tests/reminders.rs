//! A `remind` line may name whom it goes to (`to WHO`) and say its own message, in a
//! step or a limit; the formatter keeps it, and the checker checks both parts.

use baton_dsl::model::{Reminder, Who};
use baton_dsl::{check, fmt, Context};

const SRC: &str = r#"process callback "回電" {
  started by agent
  data {
    customer text "客戶"
  }
  limit answer from call to call {
    within 1h
    remind 10m before "「{customer}」的回電還有10分鐘到期"
    remind every 30m after to supervisor of starter "「{customer}」的回電已超時"
  }
  step call "回電" {
    task for starter
    due 20m
    remind 5m before due to supervisor of starter
    notify starter "已受理"
    next done
  }
  end done
}
"#;

fn checked(src: &str) -> baton_dsl::Outcome {
    check(
        src,
        &Context {
            staff: None,
            processes: None,
        },
    )
}

#[test]
fn a_reminder_names_whom_it_goes_to_and_says_its_message() {
    let out = checked(SRC);
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let def = out.definition.expect("a definition");
    let supervisor = Some(Who::SupervisorOf(Box::new(Who::Starter)));
    assert_eq!(
        def.limits[0].reminders[0],
        Reminder::BeforeTold {
            lead: baton_dsl::model::Duration::minutes(10),
            to: None,
            text: Some("「{customer}」的回電還有10分鐘到期".into()),
        }
    );
    assert_eq!(
        def.limits[0].reminders[1],
        Reminder::EveryTold {
            every: baton_dsl::model::Duration::minutes(30),
            to: supervisor.clone(),
            text: Some("「{customer}」的回電已超時".into()),
        }
    );
    let step = def.step("call").expect("step");
    assert_eq!(
        step.reminders,
        [Reminder::BeforeTold {
            lead: baton_dsl::model::Duration::minutes(5),
            to: supervisor,
            text: None,
        }]
    );
    // The `notify` on the line after a reminder is the step's own statement.
    assert_eq!(step.notifies.len(), 1);
    // A reminder that says nothing more stays as it was.
    let plain = checked(&SRC.replace(" to supervisor of starter\n", "\n"));
    let def = plain.definition.expect("a definition");
    assert_eq!(
        def.step("call").expect("step").reminders,
        [Reminder::Before(baton_dsl::model::Duration::minutes(5))]
    );
}

#[test]
fn the_formatter_keeps_a_told_reminder_and_the_checker_checks_it() {
    assert_eq!(fmt::format(SRC), SRC);
    let squashed = SRC.replace(
        "remind 5m before due to supervisor of starter",
        "remind   5m before due   to supervisor   of starter",
    );
    assert_eq!(fmt::format(&squashed), SRC);
    // An unknown field in the message is reported.
    let bad = SRC.replace("{customer}」的回電已超時", "{client}」的回電已超時");
    let out = checked(&bad);
    assert!(
        out.diagnostics.iter().any(|d| d.message.contains("client")),
        "{:?}",
        out.diagnostics
    );
}
