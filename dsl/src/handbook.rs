//! The company's one page on its processes (`docs/processes.md`), written from the
//! checked definitions and their sources by `baton docs`, so that what it says of
//! titles, people, time limits and decisions cannot drift from what runs.
//!
//! The page is in traditional Chinese with English headings. What it takes from
//! where:
//! - titles, descriptions, starters, steps, who does each, time limits, reminders and
//!   escalations, ends: the definition;
//! - the section of the regulation a process carries and its English name: the
//!   file's opening comment, whose first line reads `中文名 — English name (第…)`;
//! - the decisions a process takes where the regulation is silent or contradicts
//!   itself: comments that begin `# 決定：` or `# 規定未明` (see `DECISIONS`)
//!   anywhere in the file.

use crate::model::*;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// What the page needs of the staff directory: what people call roles, people and
/// departments. Ids without a name are shown as they are.
pub trait Names {
    fn role(&self, id: &str) -> Option<&str>;
    fn person(&self, id: &str) -> Option<&str>;
    fn department(&self, id: &str) -> Option<&str>;
}

/// One checked definition with the file it came from.
pub struct Entry<'a> {
    /// As shown on the page, e.g. `processes/complaint.flow`.
    pub file: &'a str,
    pub source: &'a str,
    pub definition: &'a Definition,
}

/// How a comment that records a decision begins: `決定：` (left out of the page), or
/// saying what the regulation leaves open (kept: it reads as the decision's reason).
pub const DECISIONS: &[&str] = &["決定：", "規定未明", "規定未定", "規定未涵蓋"];

/// The page, in the order given (callers sort by file name).
pub fn render(entries: &[Entry<'_>], names: &dyn Names) -> String {
    let mut out = String::new();
    out.push_str(
        "<!-- Written by `baton docs processes/ --staff processes/staff.ron --out docs/processes.md` \
         from the definitions; edit those, not this page (a test compares the two). -->\n\n",
    );
    out.push_str("# Processes · 流程一覽\n\n");
    out.push_str(
        "本頁列出《客服部管理制度》中由 Baton 執行的每一個流程：它依據制度的哪一條、由誰參與、\
         各步驟的期限與提醒，以及制度未規定或前後矛盾之處本流程所作的決定。\
         時間以公司所在時區計；「工作日」「工作小時」按公司的工作日曆計算。\n\n",
    );
    out.push_str("| Process 流程 | Name | Regulation 制度依據 |\n|---|---|---|\n");
    for e in entries {
        let h = Header::of(e.source);
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | {} |",
            cell(&title(e.definition)),
            e.definition.name,
            e.definition.name,
            cell(h.section.as_deref().unwrap_or("—"))
        );
    }
    let titles: BTreeMap<&str, String> = entries
        .iter()
        .map(|e| (e.definition.name.as_str(), title(e.definition)))
        .collect();
    out.push('\n');
    for e in entries {
        process(&mut out, e, names, &titles);
    }
    out
}

/// What the opening comment says.
struct Header {
    english: Option<String>,
    section: Option<String>,
}

impl Header {
    fn of(source: &str) -> Header {
        let lines: Vec<&str> = source
            .lines()
            .map(str::trim)
            .take_while(|l| l.is_empty() || l.starts_with('#'))
            .filter_map(|l| l.strip_prefix('#'))
            .map(str::trim)
            .collect();
        let english = lines.first().and_then(|first| {
            let (_, rest) = first.split_once(" — ")?;
            let rest = rest.split(" (").next().unwrap_or(rest).trim();
            (!rest.is_empty()).then(|| rest.to_string())
        });
        // The first parenthesis that opens on a section (`(第…`), possibly going on
        // over the next lines. Inside, `2)` numbers an item of the regulation: a
        // parenthesis after a digit closes nothing.
        let joined = lines
            .iter()
            .take_while(|l| !l.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let section = ["(第", "（第"].iter().find_map(|open| {
            let start = joined.find(open)? + open.len() - "第".len();
            let mut depth = 1;
            let mut end = joined.len();
            let mut after_digit = false;
            for (i, c) in joined[start..].char_indices() {
                let item = after_digit;
                after_digit = c.is_ascii_digit();
                match c {
                    '(' | '（' => depth += 1,
                    ')' | '）' if !item => {
                        depth -= 1;
                        if depth == 0 {
                            end = start + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            Some(joined[start..end].trim().to_string())
        });
        Header { english, section }
    }
}

/// The decision comments of a source, each with the step, limit or end it stands
/// before, if any. A decision goes on over the comment lines below it at the same
/// indentation until a sentence ends (`。`).
fn decisions(source: &str) -> Vec<(String, Option<String>)> {
    let lines: Vec<&str> = source.lines().map(str::trim_end).collect();
    let comment = |l: &str| -> Option<(usize, String)> {
        let indent = l.len() - l.trim_start().len();
        let text = l.trim_start().strip_prefix('#')?.trim();
        Some((indent, text.to_string()))
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let Some((indent, first)) =
            comment(lines[i]).filter(|(_, t)| DECISIONS.iter().any(|m| t.starts_with(m)))
        else {
            i += 1;
            continue;
        };
        let mut text = first
            .strip_prefix(DECISIONS[0])
            .map_or(first.clone(), str::to_string);
        i += 1;
        while !text.ends_with('。') {
            match lines.get(i).and_then(|l| comment(l)) {
                Some((n, more))
                    if n == indent
                        && !more.is_empty()
                        && !DECISIONS.iter().any(|m| more.starts_with(m)) =>
                {
                    text.push_str(&more);
                    i += 1;
                }
                _ => break,
            }
        }
        // The next line that is neither blank nor a comment.
        let next = lines[i..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .and_then(|l| {
                let mut words = l.split_whitespace();
                match words.next()? {
                    w @ ("step" | "limit" | "end") => {
                        let name = words.next()?.trim_end_matches('{');
                        Some(format!("{w} {name}"))
                    }
                    _ => None,
                }
            });
        out.push((text, next));
    }
    out
}

fn title(d: &Definition) -> String {
    d.title.clone().unwrap_or_else(|| d.name.clone())
}

fn step_title(d: &Definition, name: &str) -> String {
    d.step(name)
        .and_then(|s| s.title.clone())
        .or_else(|| d.end(name).and_then(|e| e.title.clone()))
        .unwrap_or_else(|| name.to_string())
}

/// A table cell: one line, no column breaks.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn process(out: &mut String, e: &Entry<'_>, names: &dyn Names, titles: &BTreeMap<&str, String>) {
    let d = e.definition;
    let h = Header::of(e.source);
    let _ = writeln!(out, "<a id=\"{}\"></a>", d.name);
    let _ = writeln!(out, "## {} (`{}`)\n", title(d), d.name);
    if let Some(en) = &h.english {
        let _ = writeln!(out, "*{en}*\n");
    }
    if let Some(s) = &h.section {
        let _ = writeln!(out, "- **Regulation 制度依據：** {s}");
    }
    let _ = writeln!(out, "- **Definition 定義檔：** `{}`", e.file);
    if let Some(desc) = &d.description {
        let _ = writeln!(out, "- **Description 說明：** {desc}");
    }
    out.push('\n');

    let r = Render { d, names, titles };
    out.push_str("### Starts 發起\n\n");
    if d.started_by.is_empty() && d.schedules.is_empty() {
        out.push_str("- 任何人可手動發起\n");
    }
    if !d.started_by.is_empty() {
        let roles: Vec<String> = d.started_by.iter().map(|x| r.role(x)).collect();
        let _ = writeln!(out, "- 手動發起：{}", roles.join("、"));
    }
    for s in &d.schedules {
        let mut line = format!("- 定時發起：`{}`", s.phrase);
        if let Some(role) = &s.for_each_role {
            let _ = write!(line, "，每位{}各一件", r.role(role));
        }
        line.push_str(match s.catch_up {
            CatchUp::Once => "；停機期間錯過的補行一次",
            CatchUp::All => "；停機期間錯過的逐次補行",
            CatchUp::Skip => "；停機期間錯過的不補行",
        });
        let _ = writeln!(out, "{line}");
    }
    for q in &d.requires {
        let _ = writeln!(out, "- 發起條件：{}", q.message);
    }
    out.push('\n');

    let mut people = BTreeSet::new();
    out.push_str("### Steps 步驟\n\n");
    out.push_str(
        "| Step 步驟 | Who 由誰 | Time limit 期限 | Reminders and overdue 提醒與逾期 |\n|---|---|---|---|\n",
    );
    for s in &d.steps {
        let who = r.action(s, &mut people);
        let due = r.due(s);
        let timed = r.timed(&s.reminders, &s.on_overdue, s.extend.as_ref(), "逾期");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&step_title(d, &s.name)),
            cell(&who),
            cell(&due),
            cell(&timed)
        );
    }
    out.push('\n');
    if !people.is_empty() {
        let _ = writeln!(
            out,
            "**Who takes part 參與者：** {}\n",
            people.into_iter().collect::<Vec<_>>().join("、")
        );
    }

    if !d.limits.is_empty() {
        out.push_str("### Time limits across steps 跨步驟時限\n\n");
        for l in &d.limits {
            let within: Vec<String> = l
                .within
                .iter()
                .map(|(at, when)| r.when(r.span(at), when.as_ref()))
                .collect();
            let timed = r.timed(&l.reminders, &l.on_breach, l.extend.as_ref(), "超時");
            let _ = writeln!(
                out,
                "- 從「{}」到「{}」：{}{}",
                step_title(d, &l.from),
                step_title(d, &l.to),
                within.join("；"),
                if timed == "—" {
                    String::new()
                } else {
                    format!("；{timed}")
                }
            );
        }
        out.push('\n');
    }

    out.push_str("### Ends 結束\n\n");
    for end in &d.ends {
        let told: Vec<String> = end
            .notifies
            .iter()
            .map(|n| r.who(&n.to, &mut BTreeSet::new()))
            .collect();
        if told.is_empty() {
            let _ = writeln!(out, "- {}", step_title(d, &end.name));
        } else {
            let _ = writeln!(
                out,
                "- {}（通知{}）",
                step_title(d, &end.name),
                told.join("、")
            );
        }
    }
    out.push('\n');

    let decided = decisions(e.source);
    if !decided.is_empty() {
        out.push_str("### Decisions where the regulation is silent 制度未明之處的決定\n\n");
        for (text, at) in decided {
            let place = at
                .and_then(|a| {
                    let (kind, name) = a.split_once(' ')?;
                    Some(match kind {
                        "limit" => format!("（時限 {name}）"),
                        _ => format!("（{}）", step_title(d, name)),
                    })
                })
                .unwrap_or_default();
            let _ = writeln!(out, "- {text}{place}");
        }
        out.push('\n');
    }
}

struct Render<'a> {
    d: &'a Definition,
    names: &'a dyn Names,
    /// Every process's title, for the children a step starts.
    titles: &'a BTreeMap<&'a str, String>,
}

impl Render<'_> {
    fn role(&self, id: &str) -> String {
        self.names.role(id).unwrap_or(id).to_string()
    }

    fn field(&self, name: &str) -> String {
        self.d
            .field(name)
            .and_then(|f| f.label.clone())
            .unwrap_or_else(|| name.to_string())
    }

    /// The label of a list element's field (`action.owner`).
    fn member(&self, m: &Member) -> String {
        let label = self.d.steps.iter().find_map(|s| {
            let fe = s.for_each.as_ref().filter(|fe| fe.var == m.var)?;
            match &self.d.field(&fe.list)?.ty {
                Type::List(l) => l.field(&m.field)?.label.clone(),
                _ => None,
            }
        });
        format!("各項的{}", label.unwrap_or_else(|| m.field.clone()))
    }

    /// Who, in words; the roles and people named are gathered into `people`.
    fn who(&self, w: &Who, people: &mut BTreeSet<String>) -> String {
        let s = match w {
            Who::Role(r) => self.role(r),
            Who::EachWithRole(r) => format!("每位{}", self.role(r)),
            Who::Person(p) => self.names.person(p).unwrap_or(p).to_string(),
            Who::Starter => "發起人".to_string(),
            Who::Field(f) | Who::Address(f) => self.field(f),
            Who::SupervisorOf(x) => format!("{}的直屬主管", self.who(x, &mut BTreeSet::new())),
            Who::DeptHeadOf(x) => {
                format!("{}所在部門的負責人", self.who(x, &mut BTreeSet::new()))
            }
            Who::HeadOfField(f) => format!("{}的負責人", self.field(f)),
            Who::HeadOfDept(dep) => format!("{}負責人", self.names.department(dep).unwrap_or(dep)),
            Who::Member(m) => self.member(m),
            Who::HeadOfMember(m) => format!("{}的負責人", self.member(m)),
            Who::Except(base, xs) => {
                let xs: Vec<String> = xs
                    .iter()
                    .map(|x| self.who(x, &mut BTreeSet::new()))
                    .collect();
                return format!("{}（{}除外）", self.who(base, people), xs.join("、"));
            }
        };
        people.insert(s.clone());
        s
    }

    fn action(&self, s: &Step, people: &mut BTreeSet<String>) -> String {
        let mut parts = Vec::new();
        if let Some(fe) = &s.for_each {
            parts.push(format!("每項「{}」各一件：", self.field(&fe.list)));
        }
        match &s.action {
            Action::Auto => parts.push("自動".to_string()),
            Action::Task(w) => parts.push(self.who(w, people)),
            Action::Sign { mode, signers, .. } => {
                let who: Vec<String> = signers.iter().map(|w| self.who(w, people)).collect();
                let how = match mode {
                    SignMode::All => "全部簽核".to_string(),
                    SignMode::Any => "任一人簽核".to_string(),
                    SignMode::Count(n) => format!("{n}人簽核"),
                    SignMode::InOrder => "依序簽核".to_string(),
                };
                parts.push(format!("{}（{how}）", who.join("、")));
            }
            Action::Decide(_) => parts.push("依規則自動判定".to_string()),
            Action::Start { process, wait, .. } => parts.push(format!(
                "啟動[{}](#{process}){}",
                self.titles
                    .get(process.as_str())
                    .map_or(process.as_str(), String::as_str),
                if *wait { "並等待其結束" } else { "" }
            )),
            Action::Parallel(p) => {
                let branches: Vec<String> = p
                    .branches
                    .iter()
                    .map(|b| b.title.clone().unwrap_or_else(|| b.name.clone()))
                    .collect();
                let join = match p.join {
                    Join::All => "全部完成後匯合".to_string(),
                    Join::Any => "任一完成即匯合，其餘取消".to_string(),
                    Join::Count(n) => format!("{n}個完成即匯合，其餘取消"),
                };
                parts.push(format!("並行：{}（{join}）", branches.join("、")));
            }
        }
        let told: Vec<String> = s.notifies.iter().map(|n| self.who(&n.to, people)).collect();
        if !told.is_empty() {
            parts.push(format!("；通知{}", told.join("、")));
        }
        parts.concat()
    }

    /// A time span or a moment, in words when it is a plain duration.
    fn span(&self, at: &Expr) -> String {
        match at {
            Expr::Duration(d) => duration(d),
            e => format!("`{e}`"),
        }
    }

    fn when(&self, what: String, when: Option<&Expr>) -> String {
        match when {
            Some(c) => format!("{what}（當 `{c}`）"),
            None => what,
        }
    }

    fn due(&self, s: &Step) -> String {
        if s.due.is_empty() {
            return "—".to_string();
        }
        s.due
            .iter()
            .map(|d| self.when(self.span(&d.at), d.when.as_ref()))
            .collect::<Vec<_>>()
            .join("；否則")
    }

    fn timed(
        &self,
        reminders: &[Reminder],
        actions: &[TimedAction],
        extend: Option<&Extension>,
        late: &str,
    ) -> String {
        let mut parts = Vec::new();
        for rem in reminders {
            let to = rem
                .to()
                .map(|w| format!("提醒{}", self.who(w, &mut BTreeSet::new())))
                .unwrap_or_else(|| "提醒".to_string());
            if let Some(lead) = rem.lead() {
                parts.push(format!("到期前{}{to}", duration(lead)));
            } else if let Some(every) = rem.every() {
                parts.push(format!("{late}後每{}{to}", duration(every)));
            }
        }
        for a in actions {
            parts.push(match a {
                TimedAction::Notify(w, _) => {
                    format!("{late}時通知{}", self.who(w, &mut BTreeSet::new()))
                }
                TimedAction::Escalate(w) => {
                    format!("{late}時轉交{}", self.who(w, &mut BTreeSet::new()))
                }
                TimedAction::Goto(step) => format!("{late}時轉至「{}」", step_title(self.d, step)),
            });
        }
        if let Some(x) = extend {
            parts.push(self.when(format!("可延長至多{}", duration(&x.up_to)), x.when.as_ref()));
        }
        if parts.is_empty() {
            "—".to_string()
        } else {
            parts.join("；")
        }
    }
}

/// A duration in words: `2個工作日`, `4小時`, `1個月又3天`.
pub fn duration(d: &Duration) -> String {
    let mut parts = Vec::new();
    if d.months != 0 {
        parts.push(format!("{}個月", d.months));
    }
    let m = d.minutes;
    if m != 0 {
        parts.push(if m % (60 * 24) == 0 {
            format!("{}天", m / (60 * 24))
        } else if m % 60 == 0 {
            format!("{}小時", m / 60)
        } else {
            format!("{m}分鐘")
        });
    }
    if d.working_days != 0 {
        parts.push(format!("{}個工作日", d.working_days));
    }
    let wm = d.working_minutes;
    if wm != 0 {
        parts.push(if wm % 60 == 0 {
            format!("{}個工作小時", wm / 60)
        } else {
            format!("{wm}個工作分鐘")
        });
    }
    if parts.is_empty() {
        "0分鐘".to_string()
    } else {
        parts.join("又")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoNames;
    impl Names for NoNames {
        fn role(&self, id: &str) -> Option<&str> {
            (id == "agent").then_some("客服專員")
        }
        fn person(&self, _: &str) -> Option<&str> {
            None
        }
        fn department(&self, _: &str) -> Option<&str> {
            None
        }
    }

    const SOURCE: &str = "# 測試流程 — a test process (第九章 第一節 2)、3))\n#\n# 其他說明\n\
        process t \"測試流程\" {\n  started by agent\n\n  # 決定：制度未寫期限，\n  # 本流程定為兩個工作日。\n  # 其後的說明不屬於決定。\n\
        step a \"受理\" {\n    task for agent\n    due 2 working days\n    remind 4h before due\n    \
        on overdue notify supervisor of starter \"逾期\"\n    next done\n  }\n\n  end done \"完成\"\n}\n";

    #[test]
    fn the_header_gives_the_english_name_and_the_section_with_its_parentheses() {
        let h = Header::of(SOURCE);
        assert_eq!(h.english.as_deref(), Some("a test process"));
        assert_eq!(h.section.as_deref(), Some("第九章 第一節 2)、3)"));
    }

    #[test]
    fn a_decision_goes_on_to_the_end_of_its_sentence_and_names_the_step_it_stands_before() {
        assert_eq!(
            decisions(SOURCE),
            vec![(
                "制度未寫期限，本流程定為兩個工作日。".to_string(),
                Some("step a".to_string())
            )]
        );
    }

    #[test]
    fn steps_are_told_in_words_with_their_people_and_limits() {
        let out = crate::check(SOURCE, &crate::Context::default());
        let def = out.definition.expect("checks clean");
        let page = render(
            &[Entry {
                file: "processes/t.flow",
                source: SOURCE,
                definition: &def,
            }],
            &NoNames,
        );
        assert!(
            page.contains(
                "| 受理 | 客服專員 | 2個工作日 | 到期前4小時提醒；逾期時通知發起人的直屬主管 |"
            ),
            "{page}"
        );
        assert!(page.contains("- 手動發起：客服專員"), "{page}");
        assert!(
            page.contains("- 制度未寫期限，本流程定為兩個工作日。（受理）"),
            "{page}"
        );
        assert!(
            page.contains("| [測試流程](#t) | `t` | 第九章 第一節 2)、3) |"),
            "{page}"
        );
    }

    #[test]
    fn durations_read_in_chinese() {
        assert_eq!(duration(&Duration::minutes(30)), "30分鐘");
        assert_eq!(duration(&Duration::minutes(24 * 60)), "1天");
        let d = Duration {
            months: 1,
            working_days: 2,
            ..Default::default()
        };
        assert_eq!(duration(&d), "1個月又2個工作日");
    }
}
