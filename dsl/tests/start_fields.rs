//! Which declared fields are asked for at start: those the process does not write
//! itself, and those it reads before it could have written them.

use baton_dsl::model::FieldSource;

const SRC: &str = r#"process t "測試" {
  data {
    customer  text           "客戶"
    deadline  datetime?      "總結期限"
    next_call date?          "下次回訪日期"
    verdict   yes("是") | no("否")? "結論"
  }
  step plan "排定" {
    set deadline = today + 2d at 20:00
    rule {
      (next_call or today) >= today -> work with next_call = next_call or today
      otherwise -> work
    }
  }
  step work "處理" {
    task for starter
    fill notes: text "記錄"
    next judge
  }
  step judge "判定" {
    rule {
      notes == "ok" -> done with verdict = yes
      otherwise -> done with verdict = no
    }
  }
  end done "完成"
}
"#;

fn source(def: &baton_dsl::model::Definition, name: &str) -> FieldSource {
    def.field(name).expect("declared").source.clone()
}

#[test]
fn a_field_the_process_writes_is_not_asked_for_unless_read_first() {
    let out = baton_dsl::check(SRC, &Default::default());
    let def = out
        .definition
        .unwrap_or_else(|| panic!("{:?}", out.diagnostics));
    assert_eq!(source(&def, "customer"), FieldSource::Start);
    // Set by the first step, read by nobody before: kept, with its label.
    assert_eq!(source(&def, "deadline"), FieldSource::Written);
    assert_eq!(
        def.field("deadline").and_then(|f| f.label.as_deref()),
        Some("總結期限")
    );
    // Written by a rule, but read there first as an input with a fallback.
    assert_eq!(source(&def, "next_call"), FieldSource::Start);
    // Written by a later rule's `with`.
    assert_eq!(source(&def, "verdict"), FieldSource::Written);
    // A parent may give what is asked for at start, and nothing the process keeps.
    let (_, sig) = baton_dsl::signature(SRC).expect("a signature");
    assert!(sig.fields.contains_key("customer") && sig.fields.contains_key("next_call"));
    assert!(!sig.fields.contains_key("deadline") && !sig.fields.contains_key("verdict"));
}
