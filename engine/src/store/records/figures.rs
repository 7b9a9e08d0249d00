//! The managers' figures (`RecordKind::Figures`): one hour of one process for one
//! department (see `store::figures`).

use super::field::{b, own};
use super::{exact, unknown_version, RecordKind, Stored};
use crate::store::figures::HourFigures;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

impl Stored for HourFigures {
    const KIND: RecordKind = RecordKind::Figures;
    const VERSION: u8 = 2;
    type Current = FiguresV2<'static>;

    fn read(version: u8, payload: &[u8]) -> Result<Self, String> {
        match version {
            1 => exact::<FiguresV1<'static>>(payload).map(Into::into),
            2 => exact::<FiguresV2<'static>>(payload).map(Into::into),
            v => Err(unknown_version::<Self>(v)),
        }
    }
}

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

/// Version 1 was written before instances were counted by a field: it counts none.
impl From<FiguresV1<'_>> for HourFigures {
    fn from(f: FiguresV1<'_>) -> Self {
        HourFigures {
            started: f.started,
            finished: f.finished,
            cancelled: f.cancelled,
            breached: f.breached.into_iter().map(|(k, n)| (own(k), n)).collect(),
            durations: f.durations.into_iter().collect(),
            counted: Default::default(),
        }
    }
}

form!(FiguresV1, HourFigures);

/// Version 2: version 1 and, for processes counted by a choice field (`counted
/// by`), how many of the instances started in the hour hold each choice.
#[derive(Serialize, Deserialize)]
pub(crate) struct FiguresV2<'a> {
    pub base: FiguresV1<'a>,
    /// (field, choice, instances), by field and choice (see `HourFigures::counted`
    /// for why a count may be negative).
    pub counted: Vec<(Cow<'a, str>, Cow<'a, str>, i32)>,
}

impl<'a> From<&'a HourFigures> for FiguresV2<'a> {
    fn from(f: &'a HourFigures) -> Self {
        FiguresV2 {
            base: f.into(),
            counted: f
                .counted
                .iter()
                .map(|((field, choice), n)| (b(field), b(choice), *n))
                .collect(),
        }
    }
}

impl From<FiguresV2<'_>> for HourFigures {
    fn from(f: FiguresV2<'_>) -> Self {
        let mut h = HourFigures::from(f.base);
        h.counted = f
            .counted
            .into_iter()
            .map(|(field, choice, n)| ((own(field), own(choice)), n))
            .collect();
        h
    }
}

form!(FiguresV2, HourFigures);
