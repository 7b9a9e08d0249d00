//! The business calendar: working hours, weekly rest days, holidays and make-up
//! working days, in the company's zone. `due 4 working hours` and `within 2 working
//! days` are counted against it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarConfig {
    /// Working periods of a working day, as "HH:MM" pairs.
    pub hours: Vec<(String, String)>,
    /// Weekly rest days, e.g. ["Sat", "Sun"].
    pub rest_days: Vec<String>,
    /// Days off that would otherwise be working days ("2026-10-01").
    pub holidays: Vec<String>,
    /// Rest days that are working days this year (調休 make-up days).
    pub workdays: Vec<String>,
}

impl Default for CalendarConfig {
    fn default() -> Self {
        CalendarConfig {
            hours: vec![
                ("09:00".into(), "12:00".into()),
                ("13:00".into(), "18:00".into()),
            ],
            rest_days: vec!["Sat".into(), "Sun".into()],
            holidays: vec![],
            workdays: vec![],
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub zone: Tz,
    hours: Vec<(NaiveTime, NaiveTime)>,
    rest: Vec<Weekday>,
    holidays: Vec<NaiveDate>,
    workdays: Vec<NaiveDate>,
}

impl Calendar {
    pub fn new(zone: Tz, cfg: &CalendarConfig) -> Result<Calendar, String> {
        let time = |s: &str| {
            NaiveTime::parse_from_str(s, "%H:%M")
                .map_err(|_| format!("`{s}` is not a time (HH:MM)"))
        };
        let date = |s: &String| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
        };
        let mut hours = Vec::new();
        for (a, b) in &cfg.hours {
            let (a, b) = (time(a)?, time(b)?);
            if a >= b {
                return Err(format!("working period {a}-{b} ends before it starts"));
            }
            hours.push((a, b));
        }
        hours.sort();
        if hours.is_empty() {
            return Err("a calendar needs at least one working period".into());
        }
        let rest = cfg
            .rest_days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| format!("`{d}` is not a weekday"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Calendar {
            zone,
            hours,
            rest,
            holidays: cfg.holidays.iter().map(date).collect::<Result<_, _>>()?,
            workdays: cfg.workdays.iter().map(date).collect::<Result<_, _>>()?,
        })
    }

    pub fn standard(zone: Tz) -> Calendar {
        Calendar::new(zone, &CalendarConfig::default()).expect("the default calendar is valid")
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        !self.holidays.contains(&d) && !self.rest.contains(&d.weekday())
    }

    /// A wall-clock time on day `d`; one skipped by a daylight-saving change is the
    /// end of the gap, one passed twice the earlier.
    fn at(&self, d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
        baton_dsl::zone::from_local(self.zone, d.and_time(t))
    }

    /// `minutes` of working time after `from` (before it, when negative: a reminder
    /// "1 working hour before" a deadline).
    pub fn add_working_minutes(&self, from: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        if minutes < 0 {
            return self.sub_working_minutes(from, -minutes);
        }
        let mut left = minutes;
        let local = from.with_timezone(&self.zone);
        let mut day = local.date_naive();
        let mut cursor = local.time();
        // A year of days without a working minute means a broken calendar; stop.
        for _ in 0..366 * 2 {
            if self.is_working_day(day) {
                for (start, end) in &self.hours {
                    let begin = cursor.max(*start);
                    if begin >= *end {
                        continue;
                    }
                    let avail = (*end - begin).num_minutes();
                    if left <= avail {
                        return self.at(day, begin + Duration::minutes(left));
                    }
                    left -= avail;
                }
            }
            day = day.succ_opt().unwrap_or(day);
            cursor = NaiveTime::MIN;
        }
        from + Duration::minutes(minutes)
    }

    fn sub_working_minutes(&self, from: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
        let mut left = minutes;
        let local = from.with_timezone(&self.zone);
        let mut day = local.date_naive();
        let mut cursor = local.time();
        for _ in 0..366 * 2 {
            if self.is_working_day(day) {
                for (start, end) in self.hours.iter().rev() {
                    let stop = cursor.min(*end);
                    if stop <= *start {
                        continue;
                    }
                    let avail = (stop - *start).num_minutes();
                    if left <= avail {
                        return self.at(day, stop - Duration::minutes(left));
                    }
                    left -= avail;
                }
            }
            day = day.pred_opt().unwrap_or(day);
            cursor = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
        }
        from - Duration::minutes(minutes)
    }

    /// The same time of day `days` working days later (from a moment outside working
    /// hours, counting from the next working start); with `days` below zero, earlier
    /// (from a moment outside working hours, counting from the last working end:
    /// `remind 1 working day before due`).
    pub fn add_working_days(&self, from: DateTime<Utc>, days: i64) -> DateTime<Utc> {
        let local = from.with_timezone(&self.zone);
        let (first_start, last_end) = (self.hours[0].0, self.hours[self.hours.len() - 1].1);
        let mut day = local.date_naive();
        let mut time = local.time();
        if days < 0 {
            if !self.is_working_day(day) || time <= first_start {
                day = self.previous_working_day(day);
                time = last_end;
            } else if time > last_end {
                time = last_end;
            }
            for _ in 0..days.unsigned_abs() {
                day = self.previous_working_day(day);
            }
            return self.at(day, time);
        }
        if !self.is_working_day(day) || time >= last_end {
            day = self.next_working_day(day);
            time = first_start;
        } else if time < first_start {
            time = first_start;
        }
        for _ in 0..days.max(0) {
            day = self.next_working_day(day);
        }
        self.at(day, time)
    }

    fn previous_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut x = d;
        for _ in 0..366 * 2 {
            x = x.pred_opt().unwrap_or(x);
            if self.is_working_day(x) {
                return x;
            }
        }
        x
    }

    fn next_working_day(&self, d: NaiveDate) -> NaiveDate {
        let mut x = d;
        for _ in 0..366 * 2 {
            x = x.succ_opt().unwrap_or(x);
            if self.is_working_day(x) {
                return x;
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn friday_five_pm_plus_four_working_hours_is_monday() {
        let c = Calendar::standard(chrono_tz::Asia::Shanghai);
        // 2026-11-27 is a Friday: one hour left that day, three on Monday from 09:00.
        assert_eq!(
            c.add_working_minutes(sh(2026, 11, 27, 17, 0), 4 * 60),
            sh(2026, 11, 30, 12, 0)
        );
        // Lunch is not working time.
        assert_eq!(
            c.add_working_minutes(sh(2026, 11, 30, 11, 0), 2 * 60),
            sh(2026, 11, 30, 14, 0)
        );
        assert_eq!(
            c.add_working_days(sh(2026, 11, 27, 17, 0), 2),
            sh(2026, 12, 1, 17, 0)
        );
    }

    /// `remind 1 working day before due`: the same time on the working day before.
    #[test]
    fn working_days_back_from_a_due_time() {
        let c = Calendar::standard(chrono_tz::Asia::Shanghai);
        // Tuesday 17:00 -> Monday 17:00; Monday 10:00 -> the Friday before, 10:00.
        assert_eq!(
            c.add_working_days(sh(2026, 12, 1, 17, 0), -1),
            sh(2026, 11, 30, 17, 0)
        );
        assert_eq!(
            c.add_working_days(sh(2026, 11, 30, 10, 0), -1),
            sh(2026, 11, 27, 10, 0)
        );
        // From outside working hours (Saturday), from the last working end before.
        // Saturday -> Friday's end of day, then one back: Thursday at the same hour.
        assert_eq!(
            c.add_working_days(sh(2026, 11, 28, 11, 0), -1),
            sh(2026, 11, 26, 18, 0)
        );
        assert_eq!(
            c.add_working_days(sh(2026, 12, 2, 9, 30), -2),
            sh(2026, 11, 30, 9, 30)
        );
    }

    #[test]
    fn holidays_and_make_up_days() {
        let cfg = CalendarConfig {
            holidays: vec!["2026-10-01".into(), "2026-10-02".into()],
            workdays: vec!["2026-10-10".into()],
            ..CalendarConfig::default()
        };
        let c = Calendar::new(chrono_tz::Asia::Shanghai, &cfg).unwrap();
        // Wed 30 Sep 17:00 + 2h: Oct 1-2 are holidays, 3-4 the weekend: Monday 5th.
        assert_eq!(
            c.add_working_minutes(sh(2026, 9, 30, 17, 0), 120),
            sh(2026, 10, 5, 10, 0)
        );
        // Saturday 10 Oct is a make-up working day.
        assert!(c.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
        assert!(Calendar::new(
            chrono_tz::UTC,
            &CalendarConfig {
                hours: vec![],
                ..CalendarConfig::default()
            }
        )
        .is_err());
    }
}
