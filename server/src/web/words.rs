//! The pages' own words, from one catalogue file per language (`i18n/*.ron`), and
//! the language a browser gets: traditional Chinese, the company's, unless the
//! browser prefers English.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    ZhHant,
    En,
}

impl Lang {
    /// From `Accept-Language`: English when the browser ranks an English tag above
    /// every Chinese one; Chinese otherwise (and without the header).
    pub fn of(accept: Option<&str>) -> Lang {
        let Some(accept) = accept else {
            return Lang::ZhHant;
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in accept.split(',') {
            let mut bits = part.trim().split(';');
            let tag = bits.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = bits
                .find_map(|b| {
                    b.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("en") {
                Lang::En
            } else if tag.starts_with("zh") {
                Lang::ZhHant
            } else {
                continue;
            };
            if !matches!(best, Some((bq, _)) if bq >= q) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::ZhHant, |(_, l)| l)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhHant => "zh-Hant",
            Lang::En => "en",
        }
    }

    /// The catalogue's words for `key`; the key itself if the catalogue lacks it
    /// (a test checks that both catalogues have the same keys).
    pub fn t(self, key: &str) -> String {
        catalogue(self)
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    /// A refused field's problem in this language; the engine's message where it
    /// gives no structured problem.
    pub fn problem(self, e: &baton_engine::core::FieldError) -> String {
        use baton_engine::core::{Expected as E, Problem as P};
        let fill = |key: &str, pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .fold(self.t(key), |s, (k, v)| s.replace(&format!("{{{k}}}"), v))
        };
        match &e.problem {
            None => e.message.clone(),
            Some(P::Missing) => self.t("problem.missing"),
            Some(P::Expected(x)) => {
                let what = self.t(match x {
                    E::Text => "expected.text",
                    E::WholeNumber => "expected.whole_number",
                    E::Number => "expected.number",
                    E::YesNo => "expected.yes_no",
                    E::Date => "expected.date",
                    E::Time => "expected.time",
                    E::Duration => "expected.duration",
                    E::Person => "expected.person",
                    E::Department => "expected.department",
                    E::Choice => "expected.choice",
                    E::List => "expected.list",
                });
                fill("problem.expected", &[("what", &what)])
            }
            Some(P::OutOfRange { value, min, max }) => match (min, max) {
                (Some(lo), Some(hi)) => fill(
                    "problem.range",
                    &[("value", value), ("min", lo), ("max", hi)],
                ),
                (Some(lo), None) => fill("problem.range_min", &[("value", value), ("min", lo)]),
                (None, Some(hi)) => fill("problem.range_max", &[("value", value), ("max", hi)]),
                (None, None) => e.message.clone(),
            },
            Some(P::NotOneOf(v)) => fill("problem.not_one_of", &[("value", v)]),
            Some(P::NoPerson(v)) => fill("problem.no_person", &[("value", v)]),
            Some(P::NoDepartment(v)) => fill("problem.no_department", &[("value", v)]),
        }
    }

    /// `t(key)` with `{n}` filled in.
    pub fn n(self, key: &str, n: i64) -> String {
        self.t(key).replace("{n}", &n.to_string())
    }

    /// When a task is due, from now: "25 分鐘後到期", "已逾期 10 分鐘".
    pub fn due(self, due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
        let Some(due) = due else {
            return self.t("due.none");
        };
        let mins = (due - now).num_minutes();
        let (dir, m) = if mins >= 0 {
            ("in", mins)
        } else {
            ("over", -mins)
        };
        let (unit, n) = if m < 120 {
            ("min", m.max(1))
        } else if m < 48 * 60 {
            ("hour", m / 60)
        } else {
            ("day", m / (24 * 60))
        };
        self.n(&format!("due.{dir}.{unit}"), n)
    }
}

pub(crate) fn parse(text: &str) -> Result<HashMap<String, String>, String> {
    ron::from_str(text).map_err(|e| e.to_string())
}

fn catalogue(lang: Lang) -> &'static HashMap<String, String> {
    static ZH: OnceLock<HashMap<String, String>> = OnceLock::new();
    static EN: OnceLock<HashMap<String, String>> = OnceLock::new();
    // Compiled in; a test parses both, so a broken file fails the tests, not a page.
    match lang {
        Lang::ZhHant => {
            ZH.get_or_init(|| parse(include_str!("i18n/zh-Hant.ron")).unwrap_or_default())
        }
        Lang::En => EN.get_or_init(|| parse(include_str!("i18n/en.ron")).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_refused_field_is_told_in_the_page_language() {
        use baton_engine::core::{FieldError, Problem};
        let mut e = FieldError::new("score", "-5 is out of range 0..");
        e.problem = Some(Problem::OutOfRange {
            value: "-5".into(),
            min: Some("0".into()),
            max: None,
        });
        // Only a lower bound: told as one, not as "between 0 and ".
        assert_eq!(Lang::ZhHant.problem(&e), "-5 小於下限 0");
        let mut e = e.clone();
        e.problem = Some(Problem::OutOfRange {
            value: "120".into(),
            min: None,
            max: Some("100".into()),
        });
        assert_eq!(Lang::En.problem(&e), "120 is above the maximum 100");
        let plain = FieldError::new("to", "nobody picked");
        assert_eq!(Lang::ZhHant.problem(&plain), "nobody picked");
    }

    use super::*;
    use chrono::Duration;

    #[test]
    fn both_catalogues_parse_and_have_the_same_words() {
        let zh = parse(include_str!("i18n/zh-Hant.ron")).expect("zh-Hant");
        let en = parse(include_str!("i18n/en.ron")).expect("en");
        let mut a: Vec<_> = zh.keys().collect();
        let mut b: Vec<_> = en.keys().collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn the_browser_chooses_english_only_when_it_prefers_it() {
        assert_eq!(Lang::of(None), Lang::ZhHant);
        assert_eq!(Lang::of(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::of(Some("zh-TW,zh;q=0.9,en;q=0.8")), Lang::ZhHant);
        assert_eq!(Lang::of(Some("fr,en;q=0.5,zh;q=0.4")), Lang::En);
        assert_eq!(Lang::of(Some("fr")), Lang::ZhHant);
    }

    #[test]
    fn due_times_read_as_people_say_them() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let zh = Lang::ZhHant;
        assert_eq!(
            zh.due(Some(now + Duration::minutes(25)), now),
            "25 分鐘後到期"
        );
        assert_eq!(
            zh.due(Some(now - Duration::minutes(10)), now),
            "已逾期 10 分鐘"
        );
        assert_eq!(zh.due(Some(now + Duration::hours(5)), now), "5 小時後到期");
        assert_eq!(zh.due(Some(now - Duration::days(3)), now), "已逾期 3 天");
        assert_eq!(zh.due(None, now), "無期限");
        assert_eq!(
            Lang::En.due(Some(now + Duration::minutes(25)), now),
            "due in 25 min"
        );
    }
}
