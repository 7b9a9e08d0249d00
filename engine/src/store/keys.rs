//! Keys: integers big-endian so that ranges sort; text parts end with a 0 byte so
//! that a prefix of one name is never read as another (`agent` vs `agents`).

use crate::core::{InstanceId, TaskId, TaskState};
use chrono::{DateTime, Utc};

pub fn instance(id: InstanceId) -> [u8; 8] {
    id.to_be_bytes()
}

pub fn task(id: TaskId) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..8].copy_from_slice(&id.instance.to_be_bytes());
    k[8..].copy_from_slice(&id.n.to_be_bytes());
    k
}

pub fn task_from(k: &[u8]) -> Option<TaskId> {
    if k.len() < 12 {
        return None;
    }
    let tail = &k[k.len() - 12..];
    Some(TaskId {
        instance: u64::from_be_bytes(tail[..8].try_into().ok()?),
        n: u32::from_be_bytes(tail[8..].try_into().ok()?),
    })
}

pub fn event(id: InstanceId, seq: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(&id.to_be_bytes());
    k[8..].copy_from_slice(&seq.to_be_bytes());
    k
}

pub fn name_prefix(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k
}

pub fn named_task(name: &str, id: TaskId) -> Vec<u8> {
    let mut k = name_prefix(name);
    k.extend_from_slice(&task(id));
    k
}

pub fn millis(t: DateTime<Utc>) -> [u8; 8] {
    // Offset so that times before 1970 still sort before later ones.
    ((t.timestamp_millis() as i128 - i64::MIN as i128) as u64).to_be_bytes()
}

pub fn millis_from(k: &[u8]) -> Option<DateTime<Utc>> {
    let raw = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
    DateTime::from_timestamp_millis((raw as i128 + i64::MIN as i128) as i64)
}

pub fn due_task(due: DateTime<Utc>, id: TaskId) -> [u8; 20] {
    let mut k = [0u8; 20];
    k[..8].copy_from_slice(&millis(due));
    k[8..].copy_from_slice(&task(id));
    k
}

/// Timers are keyed by due time first, so the next one due is the first key. The
/// time is rounded up to the millisecond: a timer may fire a little late, never early.
pub fn timer(due: DateTime<Utc>, instance: InstanceId, n: u32) -> [u8; 20] {
    let mut k = [0u8; 20];
    let up = if due.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        due
    } else {
        due + chrono::Duration::milliseconds(1)
    };
    k[..8].copy_from_slice(&millis(up));
    k[8..16].copy_from_slice(&instance.to_be_bytes());
    k[16..].copy_from_slice(&n.to_be_bytes());
    k
}

pub fn timer_from(k: &[u8]) -> Option<(DateTime<Utc>, InstanceId, u32)> {
    if k.len() != 20 {
        return None;
    }
    Some((
        millis_from(k)?,
        u64::from_be_bytes(k[8..16].try_into().ok()?),
        u32::from_be_bytes(k[16..].try_into().ok()?),
    ))
}

pub fn state_byte(s: TaskState) -> u8 {
    match s {
        TaskState::Open => 0,
        TaskState::Claimed => 1,
        TaskState::Completed => 2,
        TaskState::Cancelled => 3,
    }
}

/// The states a task ends in; a task in one of them never changes again.
pub const FINAL_STATES: [TaskState; 2] = [TaskState::Completed, TaskState::Cancelled];

/// An open or claimed task, by state, then due time (none last), then id: one
/// entry answers both "tasks in this state" and "overdue".
pub fn active_task(s: TaskState, due: Option<DateTime<Utc>>, id: TaskId) -> [u8; 21] {
    let mut k = [0u8; 21];
    k[0] = state_byte(s);
    k[1..9].copy_from_slice(&due.map_or([0xff; 8], millis));
    k[9..].copy_from_slice(&task(id));
    k
}

/// A finished task, by state and id.
pub fn state_task(s: TaskState, id: TaskId) -> [u8; 13] {
    let mut k = [0u8; 13];
    k[0] = state_byte(s);
    k[1..].copy_from_slice(&task(id));
    k
}

/// (process, status, instance) for listing instances of a process by status.
pub fn process_status(process: &str, status: &str, id: InstanceId) -> Vec<u8> {
    let mut k = name_prefix(process);
    k.extend_from_slice(&name_prefix(status));
    k.extend_from_slice(&id.to_be_bytes());
    k
}

pub fn definition(name: &str, version: u32) -> Vec<u8> {
    let mut k = name_prefix(name);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_sort_as_bytes() {
        let a = Utc.with_ymd_and_hms(1969, 12, 31, 0, 0, 0).unwrap();
        let b = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(millis(a) < millis(b));
        assert_eq!(millis_from(&millis(b)), Some(b));
        let k = timer(b, 7, 3);
        assert_eq!(timer_from(&k), Some((b, 7, 3)));
    }
}
