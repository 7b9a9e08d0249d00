//! Where each schedule of each process has counted its occurrences to (its
//! watermark): kept in `meta`, one key per schedule, as milliseconds.

use super::kind::Kind;
use super::{keys, Store, StoreError};
use chrono::{DateTime, Utc};

fn watermark_key(process: &str, i: usize) -> Vec<u8> {
    let mut k = b"schedule\0".to_vec();
    k.extend_from_slice(&keys::name_prefix(process));
    k.extend_from_slice(&(i as u32).to_be_bytes());
    k
}

impl Store {
    /// The last occurrence of schedule `i` of `process` that was dealt with.
    pub(super) fn watermark(
        &self,
        process: &str,
        i: usize,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.t[Kind::Meta]
            .get(watermark_key(process, i))?
            .and_then(|b| keys::millis_from(&b)))
    }

    pub(super) fn set_watermark(
        &self,
        process: &str,
        i: usize,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let w = self.t.outside_batch()?;
        self.t[Kind::Meta].insert(&w, watermark_key(process, i), &keys::millis(at))?;
        Ok(())
    }
}
