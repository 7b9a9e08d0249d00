//! Times as the store keeps them: two integers (seconds and nanoseconds since 1970),
//! exact and a few bytes, where chrono's own format is about thirty bytes of RFC 3339
//! text to write and parse on every change. Human-readable formats (the JSON of
//! the API) still get RFC 3339 text, with the offset of the company's zone once the
//! program has set it (`baton_dsl::zone`).

use chrono::{DateTime, Utc};
use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    if s.is_human_readable() {
        baton_dsl::zone::serialize(t, s)
    } else {
        (t.timestamp(), t.timestamp_subsec_nanos()).serialize(s)
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    if d.is_human_readable() {
        DateTime::<Utc>::deserialize(d)
    } else {
        let (secs, nanos) = <(i64, u32)>::deserialize(d)?;
        DateTime::from_timestamp(secs, nanos).ok_or_else(|| D::Error::custom("time out of range"))
    }
}

/// The same for an optional time.
pub mod option {
    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Exact(#[serde(with = "super")] DateTime<Utc>);

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        // `Exact` goes through `super::serialize`, text or binary alike.
        t.map(Exact).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        if d.is_human_readable() {
            Option::<DateTime<Utc>>::deserialize(d)
        } else {
            Ok(Option::<Exact>::deserialize(d)?.map(|e| e.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct T {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(with = "super::option")]
        due: Option<DateTime<Utc>>,
    }

    #[test]
    fn exact_and_small_in_the_store_text_in_json() {
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        for t in [T { at, due: Some(at) }, T { at, due: None }] {
            let bytes = postcard::to_allocvec(&t).unwrap();
            assert!(bytes.len() < 20, "{} bytes", bytes.len());
            assert_eq!(postcard::from_bytes::<T>(&bytes).unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert!(json.contains("2026-03-02T09:00:00.123456789Z"), "{json}");
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), t);
        }
    }
}
