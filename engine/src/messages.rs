//! The engine's own texts — reminders, overdue and breach notices, escalations,
//! hand-overs, incidents — in one catalogue, in traditional Chinese (the company's
//! language, the default) and English, chosen by `language` in `baton.ron`.
//!
//! A text names the instance it is about the way people know it: the process's
//! title, the instance's number and its first given value (`客戶投訴處理 #3（張三）`),
//! so that a reminder says as much as a breach notice written in a definition.

use serde::{Deserialize, Serialize};

/// The language of the engine's texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Language {
    /// Traditional Chinese: `"zh-Hant"`.
    #[default]
    ZhHant,
    /// English: `"en"`.
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::ZhHant => "zh-Hant",
            Language::En => "en",
        }
    }
}

impl TryFrom<String> for Language {
    type Error = String;
    fn try_from(s: String) -> Result<Language, String> {
        s.parse()
    }
}

impl std::str::FromStr for Language {
    type Err = String;
    fn from_str(s: &str) -> Result<Language, String> {
        match s {
            "zh-Hant" => Ok(Language::ZhHant),
            "en" => Ok(Language::En),
            other => Err(format!(
                "unknown language `{other}`: write \"zh-Hant\" or \"en\""
            )),
        }
    }
}

impl From<Language> for String {
    fn from(l: Language) -> String {
        l.code().to_string()
    }
}

/// One text of the catalogue with what it names. `instance` is the instance as
/// people know it (see `instance_name`); steps, tasks and limits are given by title.
#[derive(Debug, Clone, PartialEq)]
pub enum Text<'a> {
    /// A step's tasks are due soon (`remind 10m before`).
    DueSoon { instance: &'a str, step: &'a str },
    /// A step's tasks are past due; repeated by `remind every`.
    StillOverdue { instance: &'a str, step: &'a str },
    /// A step's tasks just passed their due time.
    Overdue { instance: &'a str, step: &'a str },
    /// A time limit ends soon.
    LimitNear { instance: &'a str, limit: &'a str },
    /// A time limit just passed.
    LimitBreached { instance: &'a str, limit: &'a str },
    /// A time limit is still exceeded; repeated by the limit's `remind every`.
    LimitStillExceeded { instance: &'a str, limit: &'a str },
    /// Work handed to the reader by an escalation; `what` is the overdue or breach
    /// text that caused it.
    Escalated { what: &'a str },
    /// A task handed to the reader by a person (`by`, their name).
    HandedOn {
        instance: &'a str,
        task: &'a str,
        by: &'a str,
    },
    /// An admin started a process outside its `started by` roles.
    StartedAsAdmin { by: &'a str },
    /// An instance could not go on by itself: what was attempted (in the text's
    /// language) and why; an admin resolves it.
    Incident {
        instance: &'a str,
        attempted: &'a str,
        reason: &'a str,
    },
    /// A signer refused a sign-off (told to the starter), with their reason if given.
    Refused {
        instance: &'a str,
        step: &'a str,
        by: &'a str,
        reason: Option<&'a str>,
    },
    /// Someone's choice ended the instance (told to the starter), with their reason
    /// if given.
    Decided {
        instance: &'a str,
        step: &'a str,
        by: &'a str,
        choice: &'a str,
        reason: Option<&'a str>,
    },
}

impl Text<'_> {
    pub fn render(&self, lang: Language) -> String {
        use Language::*;
        match (self, lang) {
            (Text::DueSoon { instance, step }, ZhHant) => {
                format!("提醒：{instance}的「{step}」即將到期")
            }
            (Text::DueSoon { instance, step }, En) => {
                format!("reminder: \"{step}\" of {instance} is due soon")
            }
            (Text::StillOverdue { instance, step }, ZhHant) => {
                format!("提醒：{instance}的「{step}」已逾期")
            }
            (Text::StillOverdue { instance, step }, En) => {
                format!("reminder: \"{step}\" of {instance} is overdue")
            }
            (Text::Overdue { instance, step }, ZhHant) => {
                format!("{instance}的「{step}」已逾期")
            }
            (Text::Overdue { instance, step }, En) => {
                format!("\"{step}\" of {instance} is overdue")
            }
            (Text::LimitNear { instance, limit }, ZhHant) => {
                format!("提醒：{instance}的時限「{limit}」即將屆滿")
            }
            (Text::LimitNear { instance, limit }, En) => {
                format!("reminder: time limit \"{limit}\" of {instance} is near")
            }
            (Text::LimitBreached { instance, limit }, ZhHant) => {
                format!("{instance}已超過時限「{limit}」")
            }
            (Text::LimitBreached { instance, limit }, En) => {
                format!("{instance} has exceeded time limit \"{limit}\"")
            }
            (Text::LimitStillExceeded { instance, limit }, ZhHant) => {
                format!("提醒：{instance}仍超過時限「{limit}」")
            }
            (Text::LimitStillExceeded { instance, limit }, En) => {
                format!("reminder: {instance} is still past time limit \"{limit}\"")
            }
            (Text::Escalated { what }, ZhHant) => format!("{what}，已升級由你處理"),
            (Text::Escalated { what }, En) => format!("{what}: escalated to you"),
            (Text::HandedOn { instance, task, by }, ZhHant) => {
                format!("{by}將{instance}的「{task}」轉交給你")
            }
            (Text::HandedOn { instance, task, by }, En) => {
                format!("\"{task}\" of {instance}: handed to you by {by}")
            }
            (Text::StartedAsAdmin { by }, ZhHant) => {
                format!("由{by}以管理員身分發起（不在發起角色之列）")
            }
            (Text::StartedAsAdmin { by }, En) => {
                format!("started by {by} as an admin, outside `started by`")
            }
            (
                Text::Incident {
                    instance,
                    attempted,
                    reason,
                },
                ZhHant,
            ) => format!(
                "{instance}無法繼續，已轉為事故：{attempted}未能完成，原因：{reason}。請管理員處理（retry、set、move 或 cancel）"
            ),
            (
                Text::Incident {
                    instance,
                    attempted,
                    reason,
                },
                En,
            ) => format!(
                "{instance} cannot go on and is now an incident: {attempted} failed: {reason}. An admin resolves it (retry, set, move or cancel)"
            ),
            (
                Text::Refused {
                    instance,
                    step,
                    by,
                    reason,
                },
                ZhHant,
            ) => format!(
                "{by}拒絕簽署{instance}的「{step}」{}",
                reason.map(|r| format!("，原因：{r}")).unwrap_or_default()
            ),
            (
                Text::Refused {
                    instance,
                    step,
                    by,
                    reason,
                },
                En,
            ) => format!(
                "{by} refused to sign \"{step}\" of {instance}{}",
                reason.map(|r| format!(" (reason: {r})")).unwrap_or_default()
            ),
            (
                Text::Decided {
                    instance,
                    step,
                    by,
                    choice,
                    reason,
                },
                ZhHant,
            ) => format!(
                "{by}在{instance}的「{step}」選擇了「{choice}」{}",
                reason.map(|r| format!("，原因：{r}")).unwrap_or_default()
            ),
            (
                Text::Decided {
                    instance,
                    step,
                    by,
                    choice,
                    reason,
                },
                En,
            ) => format!(
                "{by} chose \"{choice}\" at \"{step}\" of {instance}{}",
                reason.map(|r| format!(" (reason: {r})")).unwrap_or_default()
            ),
        }
    }
}

/// An instance as people know it: its process's title, its number and, when it has
/// one, the value of its first field given at the start (`客戶投訴處理 #3（張三）`),
/// already written for people.
pub fn instance_name(title: &str, id: u64, subject: Option<&str>, lang: Language) -> String {
    match (subject, lang) {
        (Some(s), Language::ZhHant) => format!("{title} #{id}（{s}）"),
        (Some(s), Language::En) => format!("{title} #{id} ({s})"),
        (None, _) => format!("{title} #{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_read_as_written_in_baton_ron() {
        assert_eq!("zh-Hant".parse::<Language>(), Ok(Language::ZhHant));
        assert_eq!("en".parse::<Language>(), Ok(Language::En));
        let err = "fr".parse::<Language>().expect_err("unknown");
        assert!(err.contains("\"zh-Hant\" or \"en\""), "{err}");
        assert_eq!(Language::default(), Language::ZhHant);
    }
}
