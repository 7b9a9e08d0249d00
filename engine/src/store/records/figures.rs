//! The managers' figures (`RecordKind::Figures`): one hour of one process for one
//! department (see `store::figures`).

use super::field::{b, own};
use crate::store::figures::HourFigures;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Serialize, Deserialize)]
pub(crate) struct FiguresV1<'a> {
    pub started: u32,
    pub finished: u32,
    pub cancelled: u32,
    /// (limit, times breached), by limit.
    pub breached: Vec<(Cow<'a, str>, u32)>,
    /// (bucket of the time to finish in minutes, how many), by bucket.
    pub durations: Vec<(u32, u32)>,
}

impl<'a> From<&'a HourFigures> for FiguresV1<'a> {
    fn from(f: &'a HourFigures) -> Self {
        FiguresV1 {
            started: f.started,
            finished: f.finished,
            cancelled: f.cancelled,
            breached: f.breached.iter().map(|(k, n)| (b(k), *n)).collect(),
            durations: f.durations.iter().map(|(b, n)| (*b, *n)).collect(),
        }
    }
}

impl From<FiguresV1<'_>> for HourFigures {
    fn from(f: FiguresV1<'_>) -> Self {
        HourFigures {
            started: f.started,
            finished: f.finished,
            cancelled: f.cancelled,
            breached: f.breached.into_iter().map(|(k, n)| (own(k), n)).collect(),
            durations: f.durations.into_iter().collect(),
        }
    }
}

form!(FiguresV1, HourFigures);
