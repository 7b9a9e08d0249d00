//! The zone that JSON times are written in. A Baton process serves one company, so
//! its JSON (the HTTP API, `baton ... --json`) writes every moment as RFC 3339 with
//! the offset of the company's zone (`2026-12-05T18:00:00+08:00`) instead of UTC's
//! `Z`. The program sets it once it knows the zone; until then times are written in
//! UTC. Only text formats are affected: the store's binary records are not.

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::sync::RwLock;

static JSON_ZONE: RwLock<Option<Tz>> = RwLock::new(None);

/// Write JSON times in `zone` from now on.
pub fn set_json_zone(zone: Tz) {
    if let Ok(mut z) = JSON_ZONE.write() {
        *z = Some(zone);
    }
}

/// The zone JSON times are written in, if one was set.
pub fn json_zone() -> Option<Tz> {
    JSON_ZONE.read().ok().and_then(|z| *z)
}

/// RFC 3339 text of a moment in the JSON zone (UTC's `Z` when none is set).
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    match json_zone() {
        Some(z) => t
            .with_timezone(&z)
            .fixed_offset()
            .to_rfc3339_opts(SecondsFormat::AutoSi, false),
        None => t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
    }
}

/// `#[serde(with = "baton_dsl::zone")]`: text formats get `rfc3339`; binary ones
/// keep chrono's own encoding, so stored records read back unchanged.
pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        s.serialize_str(&rfc3339(t))
    } else {
        t.serialize(s)
    }
}

/// Any RFC 3339 offset reads back as the same moment.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    DateTime::<Utc>::deserialize(d)
}

/// A wall-clock time in `zone` as a moment. One the clocks pass twice (when they
/// fall back) is the earlier; one they skip (when they spring forward) moves on to
/// the first moment that exists, the end of the gap: `due 1 day` from 02:30 the day
/// before a change at 02:00 is 03:00, not "now" and not an error.
pub fn from_local(zone: Tz, local: chrono::NaiveDateTime) -> DateTime<Utc> {
    use chrono::{Duration, TimeZone, Timelike};
    if let Some(t) = zone.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // Zones change their offset on a whole minute, and no gap lasts a day.
    let mut probe = local
        .with_second(0)
        .unwrap_or(local)
        .with_nanosecond(0)
        .unwrap_or(local);
    for _ in 0..24 * 60 {
        probe += Duration::minutes(1);
        if let Some(t) = zone.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
    }
    // Unreachable for any real zone; read the time as UTC rather than fail.
    local.and_utc()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_json_zone_gives_the_offset_and_reads_back() {
        let t = Utc.with_ymd_and_hms(2026, 12, 5, 10, 0, 0).unwrap();
        let v = crate::eval::Value::DateTime(t);
        let stored = postcard::to_allocvec(&v).unwrap();
        super::set_json_zone(chrono_tz::Asia::Taipei);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"DateTime":"2026-12-05T18:00:00+08:00"}"#);
        assert_eq!(
            serde_json::from_str::<crate::eval::Value>(&json).unwrap(),
            v
        );
        // The store's binary records are what they were before a zone was set.
        assert_eq!(postcard::to_allocvec(&v).unwrap(), stored);
        assert_eq!(
            postcard::from_bytes::<crate::eval::Value>(&stored).unwrap(),
            v
        );
    }
}
