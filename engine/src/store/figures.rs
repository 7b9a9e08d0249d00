//! The managers' figures, kept as commands happen so that the overview never scans
//! the history: per process, per hour of the company's day and per department of
//! the instance's starter, how many instances started, finished and were
//! cancelled, which limits were breached, and how long each finished one took;
//! and, for a process counted by choice fields (`counted by`), how many of the
//! instances started in the hour hold each choice now.
//!
//! An instance is counted by a field under the hour it started: a value given at
//! a later step, or changed, moves its count within that hour's record (out of the
//! old choice, into the new one), so a week's counts are those of the instances
//! started in the week, by the values they hold. Which fields count is the
//! instance's own definition version's.
//!
//! Key: process (0-ended), the hour (hours since 1970 UTC, u32), then the
//! starter's department as the directory had it when it happened (empty for
//! Baton's own starts). Hours are UTC on disk, so a change of the company's zone
//! moves no figure; the overview gives each hour to the company's day its start
//! falls in (in a zone offset by half an hour, an hour across midnight goes to the
//! day it began in). An hour holds few finished instances, so its record stays
//! small however busy the month; a month's overview reads at most 744 records per
//! process.
//!
//! Commands read and write these records (each is the sum of everything before
//! it), so they are a kind commands read (see `kind::ByCommands`): only commands,
//! and the one-time build at open, write them.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{decode, encode, keys, Store, StoreError};
use crate::core::{Data, Event, InstanceId, Record};
use crate::staff::Directory;
use baton_dsl::eval::Value;
use chrono::{DateTime, NaiveDate, Timelike, Utc};
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
    /// (field, choice) -> how many of the instances started in this hour hold that
    /// choice in that field, for the fields their definition is counted by. A
    /// change is counted under the department of the starter when it happens, like
    /// every figure; should the starter have moved since the start, the old choice
    /// is taken out of the new department's record, which may then hold a negative
    /// count: summed over departments, the counts are exact.
    pub counted: BTreeMap<(String, String), i32>,
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
        // Counts that cancel out across departments (see `counted`) leave nothing.
        for (k, n) in &o.counted {
            let sum = self.counted.entry(k.clone()).or_default();
            *sum += n;
            if *sum == 0 {
                self.counted.remove(k);
            }
        }
    }

    /// An instance's `field` went from `from` to `to` (either may be none).
    fn recount(&mut self, field: &str, from: Option<&str>, to: Option<&str>) {
        for (choice, by) in [(from, -1), (to, 1)] {
            let Some(c) = choice else { continue };
            let k = (field.to_string(), c.to_string());
            let n = self.counted.entry(k.clone()).or_default();
            *n += by;
            if *n == 0 {
                self.counted.remove(&k);
            }
        }
    }
}

/// The choice a counted field holds, if any.
fn choice<'a>(data: &'a Data, field: &str) -> Option<&'a str> {
    match data.get(field) {
        Some(Value::Choice(c)) => Some(c.as_str()),
        _ => None,
    }
}

/// What a command did to an instance's counted fields: the fields its definition
/// is counted by, and its data before (none for a start) and after.
pub(super) struct Counted<'a> {
    pub fields: &'a [String],
    pub before: Option<&'a Data>,
    pub after: &'a Data,
}

/// One hour's figures as the overview reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRow {
    pub day: NaiveDate,
    pub hour: u8,
    pub department: String,
    pub figures: HourFigures,
}

/// The hour a moment falls in: hours since 1970, UTC.
fn hour_number(at: DateTime<Utc>) -> u32 {
    at.timestamp().div_euclid(3600).clamp(0, u32::MAX as i64) as u32
}

fn key(process: &str, hour: u32, department: &str) -> Vec<u8> {
    let mut k = keys::name_prefix(process);
    k.extend_from_slice(&hour.to_be_bytes());
    k.extend_from_slice(department.as_bytes());
    k
}

/// The first hour of a local day in the company's zone (the hour its midnight
/// falls in; a day that begins in a gap begins at the gap's end).
fn first_hour(day: NaiveDate, zone: chrono_tz::Tz) -> u32 {
    use chrono::TimeZone;
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    let at = match zone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t,
        chrono::LocalResult::None => zone
            .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
            .earliest()
            .unwrap_or_else(|| zone.from_utc_datetime(&midnight)),
    };
    hour_number(at.with_timezone(&Utc))
}

/// The starter's department, as the directory has it now.
fn department_of<'a>(dir: &'a Directory, starter: &str) -> &'a str {
    dir.person(starter).map_or("", |p| p.department.as_str())
}

/// Where one command's events and changes of counted fields are counted, and the
/// records they leave: none when nothing in them is counted. The events count in
/// the hour of the command, the counted fields in the hour the instance started
/// (one record when they are the same hour).
pub(super) fn of_command(
    process: &str,
    starter: &str,
    started_at: DateTime<Utc>,
    records: &[Record],
    counted: Counted<'_>,
    dir: &Directory,
    mut existing: impl FnMut(&[u8]) -> Result<Option<HourFigures>, StoreError>,
) -> Result<Vec<(Vec<u8>, HourFigures)>, StoreError> {
    let Some(first) = records.first() else {
        return Ok(Vec::new());
    };
    let department = department_of(dir, starter);
    let mut out: Vec<(Vec<u8>, HourFigures)> = Vec::new();
    let events: Vec<&Event> = records
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
    if !events.is_empty() {
        let k = key(process, hour_number(first.at), department);
        let mut f = existing(&k)?.unwrap_or_default();
        f.count(&events, started_at, first.at);
        out.push((k, f));
    }
    let changed: Vec<(&str, Option<&str>, Option<&str>)> = counted
        .fields
        .iter()
        .map(|field| {
            let from = counted.before.and_then(|d| choice(d, field));
            (field.as_str(), from, choice(counted.after, field))
        })
        .filter(|(_, from, to)| from != to)
        .collect();
    if !changed.is_empty() {
        let k = key(process, hour_number(started_at), department);
        let mut f = match out.iter().position(|(o, _)| *o == k) {
            Some(i) => out.remove(i).1,
            None => existing(&k)?.unwrap_or_default(),
        };
        for (field, from, to) in changed {
            f.recount(field, from, to);
        }
        out.push((k, f));
    }
    Ok(out)
}

/// Every history's figures: what the records would hold had they always been kept.
/// The fields an instance is counted by are those of its definition version (none
/// when that version cannot be read), by the values its history leaves them.
fn of_histories(
    store: &Store,
    dir: &Directory,
) -> Result<BTreeMap<Vec<u8>, HourFigures>, StoreError> {
    let mut all: BTreeMap<Vec<u8>, HourFigures> = BTreeMap::new();
    let mut counted_by: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    super::each_history(store, |id: InstanceId, history: &[Record]| {
        let Some((process, version, starter, started_at)) =
            history.iter().find_map(|r| match &r.event {
                Event::Started {
                    process,
                    version,
                    starter,
                    ..
                } => Some((process.as_str(), *version, starter.as_str(), r.at)),
                _ => None,
            })
        else {
            return Ok(());
        };
        // A command's events share their time; count them as the command did.
        for r in history {
            let events = [&r.event];
            let k = key(process, hour_number(r.at), department_of(dir, starter));
            let f = all.entry(k).or_default();
            f.count(&events, started_at, r.at);
        }
        let fields = counted_by
            .entry((process.to_string(), version))
            .or_insert_with(|| {
                store
                    .definition(process, version)
                    .map(|d| d.counted_by.clone())
                    .unwrap_or_default()
            });
        if fields.is_empty() {
            return Ok(());
        }
        let Some(inst) = crate::core::fold::replay(id, history) else {
            return Ok(());
        };
        let k = key(
            process,
            hour_number(started_at),
            department_of(dir, starter),
        );
        let f = all.entry(k).or_default();
        for field in fields.iter() {
            f.recount(field, None, choice(&inst.data, field));
        }
        Ok(())
    })?;
    all.retain(|_, f| !f.is_empty());
    Ok(all)
}

/// The key's process and hour (without the department).
fn hour_of(k: &[u8]) -> Option<(&[u8], u32)> {
    let end = k.iter().position(|b| *b == 0)?;
    let hour = u32::from_be_bytes(k.get(end + 1..end + 5)?.try_into().ok()?);
    Some((&k[..end], hour))
}

/// "complaint 2026-03-02 10:00 +08:00": a process and an hour, for `verify`.
fn shown_hour(process: &[u8], hour: u32, zone: chrono_tz::Tz) -> String {
    let at = DateTime::from_timestamp(i64::from(hour) * 3600, 0).unwrap_or_default();
    format!(
        "{} {}",
        String::from_utf8_lossy(process),
        crate::display::time(at, zone)
    )
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
        let lo = key(process, first_hour(from, self.zone), "");
        let hi = key(
            process,
            first_hour(to.succ_opt().unwrap_or(to), self.zone),
            "",
        );
        let mut out = Vec::new();
        for kv in self.t[Kind::Figures].range(lo..hi) {
            let (k, v) = kv?;
            let Some(rest) = k.get(prefix.len()..) else {
                continue;
            };
            let Some(hour) = rest.get(..4).and_then(|b| b.try_into().ok()) else {
                continue;
            };
            let start = DateTime::from_timestamp(i64::from(u32::from_be_bytes(hour)) * 3600, 0)
                .unwrap_or_default()
                .with_timezone(&self.zone);
            out.push(FigureRow {
                day: start.date_naive(),
                hour: start.hour() as u8,
                department: String::from_utf8_lossy(&rest[4..]).into_owned(),
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
            let mut by_hour: BTreeMap<(Vec<u8>, u32), HourFigures> = BTreeMap::new();
            for (k, f) in m {
                if let Some((p, h)) = hour_of(&k) {
                    by_hour.entry((p.to_vec(), h)).or_default().add(&f);
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
            let shown = || shown_hour(&k.0, k.1, self.zone);
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
                "figures: extra {}",
                shown_hour(&k.0, k.1, self.zone)
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
    fn a_key_sorts_by_process_then_hour() {
        let a = key("complaint", 1000, "zz");
        let b = key("complaint", 1001, "");
        let c = key("complaints", 3, "");
        assert!(a < b && b < c);
        assert_eq!(hour_of(&a), Some((&b"complaint"[..], 1000)));
    }

    #[test]
    fn a_local_day_begins_at_its_midnight_in_the_zone() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        let utc = first_hour(d, chrono_tz::UTC);
        // Shanghai's midnight is 16:00 UTC the day before.
        assert_eq!(first_hour(d, chrono_tz::Asia::Shanghai), utc - 8);
        // New York's is 05:00 UTC (standard time).
        assert_eq!(first_hour(d, chrono_tz::America::New_York), utc + 5);
        let at = DateTime::from_timestamp(i64::from(utc) * 3600 + 1800, 0).expect("a time");
        assert_eq!(hour_number(at), utc);
    }

    #[test]
    fn a_changed_field_moves_its_count_in_the_hour_the_instance_started() {
        let started = DateTime::from_timestamp(1_000_000, 0).expect("a time");
        let later = started + chrono::Duration::hours(30);
        let dir = Directory::default();
        let data = |c: Option<&str>| -> Data {
            c.map(|c| ("kind".to_string(), Value::Choice(c.to_string())))
                .into_iter()
                .collect()
        };
        let record = |at| Record {
            seq: 3,
            at,
            actor: "ann".into(),
            event: Event::WaitEnded,
        };
        let fields = ["kind".to_string()];
        let mut stored: BTreeMap<Vec<u8>, HourFigures> = BTreeMap::new();
        let mut run = |before: Option<&str>, after: Option<&str>, at| {
            let (b, a) = (data(before), data(after));
            let counted = Counted {
                fields: &fields,
                before: before.map(|_| &b),
                after: &a,
            };
            let out = of_command("p", "ann", started, &[record(at)], counted, &dir, |k| {
                Ok(stored.get(k).cloned())
            })
            .expect("counted");
            for (k, f) in out {
                stored.insert(k, f);
            }
        };
        // Given later, changed a day after: always in the hour it started.
        run(None, Some("dining"), started);
        run(Some("dining"), Some("lodging"), later);
        run(Some("lodging"), Some("lodging"), later);
        assert_eq!(stored.len(), 1);
        let (k, f) = stored.iter().next().expect("one record");
        assert_eq!(hour_of(k), Some((&b"p"[..], hour_number(started))));
        assert_eq!(
            f.counted,
            BTreeMap::from([(("kind".to_string(), "lodging".to_string()), 1)])
        );
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
