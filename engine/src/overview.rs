//! The managers' overview: per process, this week and this month, how many
//! instances started, finished and were cancelled, the median and 90th-percentile
//! time to finish and the limits breached; a line per day over the last 30 days;
//! and the open and overdue tasks per person and per role; and, for a process
//! counted by choice fields (`counted by`), how many of the instances started this
//! week and this month hold each choice. Read from the figures the store keeps as
//! commands happen (`FigureRead`), never from the histories.
//!
//! Weeks begin on Monday and days at midnight, in the company's zone. Percentiles
//! are by nearest rank: the 90th percentile of n durations is the smallest one
//! that at least 90% of them do not exceed (the median: 50%). Times to finish are
//! kept and given in whole minutes (whole hours from 48 hours on), rounded down.

use crate::store::prelude::*;
use crate::store::{HourFigures, Open, StoreError};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use std::collections::BTreeMap;

/// How many days the daily lines cover, today included.
pub const DAYS: u64 = 30;

/// Which instances and tasks the overview counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// One process, or all.
    pub process: Option<String>,
    /// Instances started by people of this department, and tasks of its people
    /// (and of the roles its people have); or all.
    pub department: Option<String>,
}

/// One period's figures of a process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    pub started: u32,
    pub finished: u32,
    pub cancelled: u32,
    /// Time to finish, minutes (see the module's documentation).
    pub median: Option<u32>,
    pub p90: Option<u32>,
    /// Limit -> times breached.
    pub breached: BTreeMap<String, u32>,
}

impl Period {
    fn of(f: HourFigures) -> Period {
        Period {
            started: f.started,
            finished: f.finished,
            cancelled: f.cancelled,
            median: percentile(&f.durations, 50),
            p90: percentile(&f.durations, 90),
            breached: f.breached,
        }
    }
}

/// The nearest-rank `p`th percentile (see the module's documentation) of the
/// durations counted per bucket.
pub fn percentile(durations: &BTreeMap<u32, u32>, p: u32) -> Option<u32> {
    let n: u64 = durations.values().map(|c| u64::from(*c)).sum();
    if n == 0 {
        return None;
    }
    // ceil(p/100 * n), at least 1: the rank, counted from 1.
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    let mut seen = 0;
    for (b, c) in durations {
        seen += u64::from(*c);
        if seen >= rank {
            return Some(*b);
        }
    }
    None
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessFigures {
    pub process: String,
    pub week: Period,
    pub month: Period,
    /// One per field the newest version is counted by, in its order.
    pub counted: Vec<CountedBy>,
}

/// How the instances started this week and this month fall into the choices of a
/// field the process is counted by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedBy {
    pub field: String,
    /// The field's label in the newest version (its name without one).
    pub label: String,
    /// Each choice of the newest version, in declared order, then any other value
    /// counted (a choice an older version had), by name.
    pub choices: Vec<Category>,
    /// Started in the period and holding none of them: not classified yet, or of a
    /// version not counted by this field.
    pub unclassified: Category,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// The choice's name (empty for the unclassified).
    pub choice: String,
    /// Its label in the newest version (its name without one).
    pub label: String,
    pub week: u32,
    pub month: u32,
}

/// The fields `def` is counted by, with the counts of the week and the month.
fn counted_by(
    def: &baton_dsl::model::Definition,
    week: &HourFigures,
    month: &HourFigures,
) -> Vec<CountedBy> {
    use baton_dsl::model::Type;
    let mut out = Vec::new();
    for name in &def.counted_by {
        let Some(field) = def.field(name) else {
            continue;
        };
        let mut choices: Vec<Category> = match &field.ty {
            Type::Choice(vs) => vs
                .iter()
                .map(|v| Category {
                    choice: v.name.clone(),
                    label: v.label.clone().unwrap_or_else(|| v.name.clone()),
                    week: 0,
                    month: 0,
                })
                .collect(),
            _ => Vec::new(),
        };
        for (figures, in_week) in [(week, true), (month, false)] {
            for ((f, choice), n) in &figures.counted {
                // Summed over the departments counted, a count is never negative
                // (see `HourFigures::counted`); one department's may be.
                let n = u32::try_from(*n).unwrap_or(0);
                if f != name {
                    continue;
                }
                let at = match choices.iter().position(|c| &c.choice == choice) {
                    Some(i) => i,
                    None => {
                        choices.push(Category {
                            choice: choice.clone(),
                            label: choice.clone(),
                            week: 0,
                            month: 0,
                        });
                        choices.len() - 1
                    }
                };
                if in_week {
                    choices[at].week += n;
                } else {
                    choices[at].month += n;
                }
            }
        }
        let sum = |pick: fn(&Category) -> u32| choices.iter().map(pick).sum::<u32>();
        let unclassified = Category {
            choice: String::new(),
            label: String::new(),
            week: week.started.saturating_sub(sum(|c| c.week)),
            month: month.started.saturating_sub(sum(|c| c.month)),
        };
        out.push(CountedBy {
            field: name.clone(),
            label: field.label.clone().unwrap_or_else(|| name.clone()),
            choices,
            unclassified,
        });
    }
    out
}

/// One day of the daily lines, summed over the processes counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub day: NaiveDate,
    pub started: u32,
    pub finished: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub today: NaiveDate,
    /// The Monday this week began.
    pub week_from: NaiveDate,
    /// The first of this month.
    pub month_from: NaiveDate,
    /// Every process counted, by name.
    pub processes: Vec<ProcessFigures>,
    /// The last `DAYS` days, oldest first.
    pub days: Vec<Day>,
    /// Person -> open tasks (held or offered by name), most first.
    pub people: Vec<(String, Open)>,
    /// Role -> open tasks offered to it that nobody claimed, most first.
    pub roles: Vec<(String, Open)>,
}

/// The overview at `now`.
pub fn overview<S: FigureRead + DefinitionRead + DirectoryRead>(
    store: &S,
    now: DateTime<Utc>,
    zone: chrono_tz::Tz,
    filter: &Filter,
) -> Result<Overview, StoreError> {
    let today = now.with_timezone(&zone).date_naive();
    let week_from = today - Days::new(today.weekday().num_days_from_monday() as u64);
    let month_from = today.with_day(1).unwrap_or(today);
    let days_from = today - Days::new(DAYS - 1);
    let from = days_from.min(week_from).min(month_from);
    let dept_ok = |d: &str| filter.department.as_deref().is_none_or(|want| want == d);

    let mut names: Vec<String> = store.process_names().into_iter().map(|(n, _)| n).collect();
    names.sort();
    if let Some(p) = &filter.process {
        names.retain(|n| n == p);
    }
    let mut daily: BTreeMap<NaiveDate, Day> = BTreeMap::new();
    let mut processes = Vec::with_capacity(names.len());
    for process in names {
        let (mut week, mut month) = (HourFigures::default(), HourFigures::default());
        for row in store.figures(&process, from, today)? {
            if !dept_ok(&row.department) {
                continue;
            }
            if row.day >= week_from {
                week.add(&row.figures);
            }
            if row.day >= month_from {
                month.add(&row.figures);
            }
            if row.day >= days_from {
                let d = daily.entry(row.day).or_insert(Day {
                    day: row.day,
                    started: 0,
                    finished: 0,
                });
                d.started += row.figures.started;
                d.finished += row.figures.finished;
            }
        }
        let counted = match store.latest(&process) {
            Ok((_, def)) => counted_by(&def, &week, &month),
            Err(_) => Vec::new(),
        };
        processes.push(ProcessFigures {
            process,
            week: Period::of(week),
            month: Period::of(month),
            counted,
        });
    }
    let days = days_from
        .iter_days()
        .take(DAYS as usize)
        .map(|d| {
            daily.get(&d).copied().unwrap_or(Day {
                day: d,
                started: 0,
                finished: 0,
            })
        })
        .collect();

    let dir = store.directory();
    let counts = store.open_task_counts(now)?;
    let process_ok = |p: &str| filter.process.as_deref().is_none_or(|want| want == p);
    let person_ok = |p: &str| {
        filter.department.is_none() || dir.person(p).is_some_and(|p| dept_ok(&p.department))
    };
    let role_ok =
        |r: &str| filter.department.is_none() || dir.with_role(r).any(|p| dept_ok(&p.department));
    let sum = |m: &BTreeMap<(String, String), Open>, ok: &dyn Fn(&str) -> bool| {
        let mut by: BTreeMap<String, Open> = BTreeMap::new();
        for ((holder, process), o) in m {
            if process_ok(process) && ok(holder) {
                let e = by.entry(holder.clone()).or_default();
                e.open += o.open;
                e.overdue += o.overdue;
            }
        }
        let mut v: Vec<(String, Open)> = by.into_iter().collect();
        v.sort_by_key(|(_, o)| std::cmp::Reverse((o.overdue, o.open)));
        v
    };
    Ok(Overview {
        today,
        week_from,
        month_from,
        processes,
        days,
        people: sum(&counts.people, &person_ok),
        roles: sum(&counts.roles, &role_ok),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_by_nearest_rank() {
        let counted = |xs: &[u32]| {
            let mut m = BTreeMap::new();
            for x in xs {
                *m.entry(*x).or_insert(0) += 1;
            }
            m
        };
        let d = counted(&[50, 10, 40, 20, 30]);
        assert_eq!(percentile(&d, 50), Some(30));
        assert_eq!(percentile(&d, 90), Some(50));
        let d = counted(&(1..=10).collect::<Vec<_>>());
        assert_eq!(percentile(&d, 50), Some(5));
        assert_eq!(percentile(&d, 90), Some(9));
        let d = counted(&[3, 3, 3, 9]);
        assert_eq!(percentile(&d, 50), Some(3));
        assert_eq!(percentile(&d, 90), Some(9));
        assert_eq!(percentile(&counted(&[7]), 90), Some(7));
        assert_eq!(percentile(&BTreeMap::new(), 50), None);
    }

    #[test]
    fn buckets_keep_minutes_below_two_days_and_hours_above() {
        use crate::store::figures_bucket as bucket;
        assert_eq!(bucket(59), 0);
        assert_eq!(bucket(150 * 60 + 59), 150);
        assert_eq!(bucket(48 * 3600 - 1), 48 * 60 - 1);
        assert_eq!(bucket(50 * 3600 + 59 * 60), 50 * 60);
    }
}
