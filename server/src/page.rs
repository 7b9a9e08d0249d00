//! Pagination: `limit` items at a time, and an opaque `cursor` that says where the
//! next page starts. Cursors are positions (a key), not offsets, so a page does not
//! repeat or skip items when earlier ones change meanwhile. They are hex so that
//! nobody builds them by hand; their content is private to this server.

use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// One page of a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page. A page may hold
    /// fewer than `limit` items and still have a next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// A true/false query parameter: absent is false.
pub fn flag(raw: Option<&str>, name: &str) -> Result<bool, ApiError> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_request(name, "true or false")),
    }
}

pub fn limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(
                "limit",
                format!("a whole number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

pub fn encode(position: &str) -> String {
    position.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The position inside a cursor. Not of the documented shape (hex pairs, at most
/// 2048 digits) is a 400; of that shape but not made by this server, a 422.
pub fn decode(cursor: &str) -> Result<String, ApiError> {
    let shape = || ApiError::bad_request("cursor", "not a cursor from this server");
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if cursor.is_empty()
        || !cursor.len().is_multiple_of(2)
        || cursor.len() > 2048
        || !cursor.bytes().all(hex)
    {
        return Err(shape());
    }
    let bytes = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| shape())?;
    String::from_utf8(bytes).map_err(|_| not_ours())
}

fn not_ours() -> ApiError {
    ApiError::unusable("cursor", "not a cursor from this server")
}

/// A cursor's position split into its `:`-separated parts, checked to have a tag and
/// `n` parts after it.
pub fn parts(cursor: &str, tag: &str, n: usize) -> Result<Vec<String>, ApiError> {
    let pos = decode(cursor)?;
    let mut it = pos.splitn(n + 1, ':');
    if it.next() != Some(tag) {
        return Err(ApiError::unusable("cursor", "not a cursor for this list"));
    }
    let rest: Vec<String> = it.map(str::to_string).collect();
    if rest.len() != n {
        return Err(not_ours());
    }
    Ok(rest)
}

pub fn number<T: std::str::FromStr>(s: &str) -> Result<T, ApiError> {
    s.parse().map_err(|_| not_ours())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        let c = encode("i:complaint:42");
        assert_eq!(decode(&c).expect("decode"), "i:complaint:42");
        assert_eq!(parts(&c, "i", 2).expect("parts"), ["complaint", "42"]);
        assert!(parts(&c, "t", 2).is_err());
        for bad in ["x", "zz", "ff", "0", "é1"] {
            assert!(decode(bad).is_err() || parts(bad, "i", 2).is_err(), "{bad}");
        }
        assert!(limit(Some("0")).is_err());
        assert!(limit(Some("501")).is_err());
        assert!(limit(Some("-1")).is_err());
        assert_eq!(limit(Some("7")).expect("limit"), 7);
        assert_eq!(limit(None).expect("limit"), DEFAULT_LIMIT);
    }
}
