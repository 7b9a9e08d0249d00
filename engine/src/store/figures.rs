//! The managers' figures, kept as commands happen so that the overview never scans
//! the history: per process, per hour of the company's day and per department of
//! the instance's starter, how many instances started, finished and were
//! cancelled, which limits were breached, and how long each finished one took.
//!
//! Key: process (0-ended), the local day (days since the common era, u32), the
//! local hour (u8), then the starter's department as the directory had it when it
//! happened (empty for Baton's own starts). An hour holds few finished instances,
//! so its record stays small however busy the month; a month's overview reads at
//! most 744 records per process.
//!
//! Commands read and write these records (each is the sum of everything before
//! it), so they are a kind commands read (see `kind::ByCommands`): only commands,
//! and the one-time build at open, write them.

use super::kind::Kind;
use super::records::{RecordKind, Stored};
use super::space::WriteBatch;
use super::{decode, encode, keys, Store, StoreError};
use crate::core::{Event, InstanceId, Record};
use crate::staff::Directory;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use std::collections::BTreeMap;

/// The meta key set once every history's figures are counted (databases written
/// before figures were kept have them built at open).
pub(super) const BUILT: &str = "index:figures";

/// One hour's figures of one process, for the starters of one department.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HourFigures {
    pub started: u32,
    pub finished: u32,
    pub cancelled: u32,
    /// Limit name -> how many times it was breached.
    pub breached: BTreeMap<String, u32>,
    /// How long the instances that finished took: bucket (see `bucket`) -> how
    /// many. A busy hour's record stays small: at most a few thousand buckets
    /// however many instances finish in it.
    pub durations: BTreeMap<u32, u32>,
}

/// The bucket of a time to finish, in whole minutes: the minute below 48 hours,
/// the hour above (as minutes). The overview shows minutes below 48 hours and
/// hours above, so a percentile read from buckets is the one the seconds give,
/// as it is shown.
pub fn bucket(secs: u32) -> u32 {
    let m = secs / 60;
    if m < 48 * 60 {
        m
    } else {
        m - m % 60
    }
}

impl HourFigures {
    fn is_empty(&self) -> bool {
        *self == HourFigures::default()
    }

    /// Add what one command's events say; false when they say nothing counted.
    fn count(&mut self, events: &[&Event], started_at: DateTime<Utc>, at: DateTime<Utc>) -> bool {
        let mut any = false;
        for e in events {
            match e {
                Event::Started { .. } => self.started += 1,
                Event::Completed { .. } => {
                    self.finished += 1;
                    let secs = (at - started_at).num_seconds().clamp(0, u32::MAX as i64);
                    *self.durations.entry(bucket(secs as u32)).or_default() += 1;
                }
                Event::Cancelled { .. } => self.cancelled += 1,
                Event::LimitBreached { name } => {
                    *self.breached.entry(name.clone()).or_default() += 1;
                }
                _ => continue,
            }
            any = true;
        }
        any
    }

    /// Add another hour's figures to these.
    pub fn add(&mut self, o: &HourFigures) {
        self.started += o.started;
        self.finished += o.finished;
        self.cancelled += o.cancelled;
        for (k, n) in &o.breached {
            *self.breached.entry(k.clone()).or_default() += n;
        }
        for (b, n) in &o.durations {
            *self.durations.entry(*b).or_default() += n;
        }
    }
}

impl Stored for HourFigures {
    const KIND: RecordKind = RecordKind::Figures;
    const VERSION: u8 = 1;
    type Current = super::records::FiguresV1<'static>;
}

/// One hour's figures as the overview reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRow {
    pub day: NaiveDate,
    pub hour: u8,
    pub department: String,
    pub figures: HourFigures,
}

fn day_number(d: NaiveDate) -> u32 {
    d.num_days_from_ce().max(0) as u32
}

fn key(process: &str, day: NaiveDate, hour: u8, department: &str) -> Vec<u8> {
    let mut k = keys::name_prefix(process);
    k.extend_from_slice(&day_number(day).to_be_bytes());
    k.push(hour);
    k.extend_from_slice(department.as_bytes());
    k
}

/// The local day and hour of a moment in the company's zone.
fn local(at: DateTime<Utc>, zone: chrono_tz::Tz) -> (NaiveDate, u8) {
    let l = at.with_timezone(&zone);
    (l.date_naive(), l.hour() as u8)
}

/// The starter's department, as the directory has it now.
fn department_of<'a>(dir: &'a Directory, starter: &str) -> &'a str {
    dir.person(starter).map_or("", |p| p.department.as_str())
}

/// Where one command's events are counted, and what they add: None when nothing
/// in them is counted.
pub(super) fn of_command(
    process: &str,
    starter: &str,
    started_at: DateTime<Utc>,
    records: &[Record],
    dir: &Directory,
    zone: chrono_tz::Tz,
    existing: impl FnOnce(&[u8]) -> Result<Option<HourFigures>, StoreError>,
) -> Result<Option<(Vec<u8>, HourFigures)>, StoreError> {
    let Some(first) = records.first() else {
        return Ok(None);
    };
    let counted: Vec<&Event> = records
        .iter()
        .map(|r| &r.event)
        .filter(|e| {
            matches!(
                e,
                Event::Started { .. }
                    | Event::Completed { .. }
                    | Event::Cancelled { .. }
                    | Event::LimitBreached { .. }
            )
        })
        .collect();
    if counted.is_empty() {
        return Ok(None);
    }
    let (day, hour) = local(first.at, zone);
    let k = key(process, day, hour, department_of(dir, starter));
    let mut f = existing(&k)?.unwrap_or_default();
    f.count(&counted, started_at, first.at);
    Ok(Some((k, f)))
}

/// Every history's figures: what the records would hold had they always been kept.
fn of_histories(
    store: &Store,
    dir: &Directory,
) -> Result<BTreeMap<Vec<u8>, HourFigures>, StoreError> {
    let mut all: BTreeMap<Vec<u8>, HourFigures> = BTreeMap::new();
    super::each_history(store, |_id: InstanceId, history: &[Record]| {
        let Some((process, starter, started_at)) = history.iter().find_map(|r| match &r.event {
            Event::Started {
                process, starter, ..
            } => Some((process.as_str(), starter.as_str(), r.at)),
            _ => None,
        }) else {
            return Ok(());
        };
        // A command's events share their time; count them as the command did.
        for r in history {
            let events = [&r.event];
            let (day, hour) = local(r.at, store.zone);
            let k = key(process, day, hour, department_of(dir, starter));
            let f = all.entry(k).or_default();
            f.count(&events, started_at, r.at);
        }
        Ok(())
    })?;
    all.retain(|_, f| !f.is_empty());
    Ok(all)
}

/// The key's process, day and hour (without the department).
fn hour_of(k: &[u8]) -> Option<(&[u8], u32, u8)> {
    let end = k.iter().position(|b| *b == 0)?;
    let day = u32::from_be_bytes(k.get(end + 1..end + 5)?.try_into().ok()?);
    Some((&k[..end], day, *k.get(end + 5)?))
}

impl Store {
    /// The figures of `process` for the local days `from..=to`, hour by hour.
    pub(super) fn figures(
        &self,
        process: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<FigureRow>, StoreError> {
        let prefix = keys::name_prefix(process);
        let lo = key(process, from, 0, "");
        let mut hi = prefix.clone();
        hi.extend_from_slice(&(day_number(to) + 1).to_be_bytes());
        let mut out = Vec::new();
        for kv in self.t[Kind::Figures].range(lo..hi) {
            let (k, v) = kv?;
            let Some(rest) = k.get(prefix.len()..) else {
                continue;
            };
            let (Some(day), Some(&hour)) = (rest.get(..4), rest.get(4)) else {
                continue;
            };
            let day = u32::from_be_bytes(day.try_into().unwrap_or_default()) as i32;
            let Some(day) = NaiveDate::from_num_days_from_ce_opt(day) else {
                continue;
            };
            out.push(FigureRow {
                day,
                hour,
                department: String::from_utf8_lossy(&rest[5..]).into_owned(),
                figures: decode(&v)?,
            });
        }
        Ok(out)
    }

    /// Open tasks, and those of them overdue at `now`, per (person, process) for
    /// tasks a person holds and per (role, process) for those offered to a role
    /// that nobody claimed. Read from the task indexes, which hold only open tasks.
    pub(super) fn open_task_counts(
        &self,
        now: DateTime<Utc>,
    ) -> Result<super::OpenCounts, StoreError> {
        let mut out = super::OpenCounts::default();
        for (kind, into) in [
            (Kind::ByPerson, &mut out.people),
            (Kind::ByRole, &mut out.roles),
        ] {
            for kv in self.t[kind].iter() {
                let (k, v) = kv?;
                let Some(end) = k.iter().position(|b| *b == 0) else {
                    continue;
                };
                let holder = String::from_utf8_lossy(&k[..end]).into_owned();
                let task: crate::core::Task = decode(&v)?;
                let c = into.entry((holder, task.process)).or_default();
                c.open += 1;
                if task.due.is_some_and(|d| d < now) {
                    c.overdue += 1;
                }
            }
        }
        Ok(out)
    }

    /// Differences between the figures and the histories, for `verify`. The
    /// department is the starter's when it happened, which the history does not
    /// say, so the hours are compared summed over departments.
    pub(super) fn verify_figures(&self) -> Result<Vec<String>, StoreError> {
        let dir = self.directory();
        let sum = |m: BTreeMap<Vec<u8>, HourFigures>| {
            let mut by_hour: BTreeMap<(Vec<u8>, u32, u8), HourFigures> = BTreeMap::new();
            for (k, f) in m {
                if let Some((p, d, h)) = hour_of(&k) {
                    by_hour.entry((p.to_vec(), d, h)).or_default().add(&f);
                }
            }
            by_hour
        };
        let expect = sum(of_histories(self, &dir)?);
        let mut stored = BTreeMap::new();
        for kv in self.t[Kind::Figures].iter() {
            let (k, v) = kv?;
            stored.insert(k.to_vec(), decode::<HourFigures>(&v)?);
        }
        let got = sum(stored);
        let mut problems = Vec::new();
        for (k, want) in &expect {
            let shown = || {
                let day = NaiveDate::from_num_days_from_ce_opt(k.1 as i32)
                    .map_or_else(|| k.1.to_string(), |d| d.to_string());
                format!("{} {day} {:02}:00", String::from_utf8_lossy(&k.0), k.2)
            };
            match got.get(k) {
                None => problems.push(format!("figures: missing {}", shown())),
                Some(f) if f != want => problems.push(format!(
                    "figures: {} holds {f:?}, the history says {want:?}",
                    shown()
                )),
                _ => {}
            }
        }
        for k in got.keys().filter(|k| !expect.contains_key(*k)) {
            problems.push(format!(
                "figures: extra {} day {} hour {}",
                String::from_utf8_lossy(&k.0),
                k.1,
                k.2
            ));
        }
        Ok(problems)
    }
}

/// Count every history, if this database was written before figures were kept:
/// once, at open, before anything else runs.
pub(super) fn build(store: &Store) -> Result<(), StoreError> {
    if store.t[Kind::Meta].get(BUILT)?.is_some() {
        return Ok(());
    }
    let dir = store.directory();
    let all = of_histories(store, &dir)?;
    let w = store.t.alone()?;
    let mut b = WriteBatch::default();
    for (n, (k, f)) in all.into_iter().enumerate() {
        store.t[Kind::Figures].put(&mut b, k, encode(&f));
        if n % 10_000 == 9_999 {
            store.t.apply_alone(&w, std::mem::take(&mut b))?;
        }
    }
    store.t[Kind::Meta].put(&mut b, BUILT, &[1u8]);
    store.t.apply_alone(&w, b)?;
    store.t.shared().flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_sorts_by_process_then_day_then_hour() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 11, n).expect("a date");
        let a = key("complaint", d(3), 23, "zz");
        let b = key("complaint", d(4), 0, "");
        let c = key("complaints", d(1), 0, "");
        assert!(a < b && b < c);
        assert_eq!(hour_of(&a), Some((&b"complaint"[..], day_number(d(3)), 23)));
    }

    #[test]
    fn a_commands_events_count_once_each() {
        let t0 = DateTime::from_timestamp(1_000_000, 0).expect("a time");
        let t1 = DateTime::from_timestamp(1_003_600, 0).expect("a time");
        let mut f = HourFigures::default();
        let done = Event::Completed {
            outcome: "closed".into(),
        };
        let late = Event::LimitBreached {
            name: "reply".into(),
        };
        assert!(f.count(&[&late, &done], t0, t1));
        assert!(!f.count(&[&Event::WaitEnded], t0, t1));
        assert_eq!(f.finished, 1);
        assert_eq!(f.durations, BTreeMap::from([(60, 1)]));
        assert_eq!(f.breached.get("reply"), Some(&1));
    }
}
