//! Version 2 of instances (and of the answers that hold one): version 1 and the
//! instance's parallel branches after it. Postcard writes a struct as its fields in
//! order, so a version-2 payload is a version-1 payload followed by the branches;
//! a version-1 payload reads as an instance without branches.

use super::field::{b, own, time, Seq};
use super::history::RecordV1;
use super::instance::{InstanceV1, SignatureV1};
use super::{exact, unknown_version, RecordKind, Stored};
use crate::core::{BranchState, BranchStatus, Instance, Position, Record, Signature};
use crate::store::Outcome;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

#[derive(Serialize, Deserialize)]
pub(crate) struct InstanceV2<'a> {
    pub base: InstanceV1<'a>,
    pub branches: Seq<'a, BranchState, BranchV1<'static>>,
}

impl<'a> From<&'a Instance> for InstanceV2<'a> {
    fn from(i: &'a Instance) -> Self {
        InstanceV2 {
            base: i.into(),
            branches: Seq::of(&i.branches),
        }
    }
}

impl From<InstanceV2<'_>> for Instance {
    fn from(i: InstanceV2<'_>) -> Self {
        let mut inst: Instance = i.base.into();
        inst.branches = i.branches.into();
        inst
    }
}

form!(InstanceV2, Instance);

impl Stored for Instance {
    const KIND: RecordKind = RecordKind::Instance;
    const VERSION: u8 = 4;
    type Current = InstanceV4<'static>;

    fn read(version: u8, payload: &[u8]) -> Result<Self, String> {
        match version {
            1 => exact::<InstanceV1<'static>>(payload).map(Into::into),
            2 => exact::<InstanceV2<'static>>(payload).map(Into::into),
            3 => exact::<InstanceV3<'static>>(payload).map(Into::into),
            4 => exact::<InstanceV4<'static>>(payload).map(Into::into),
            v => Err(unknown_version::<Self>(v)),
        }
    }
}

/// Version 3 of instances: version 2 and the end the last waited-for child reached
/// (kept for a parent that goes on by it after an incident). A version-2 payload
/// reads as an instance that keeps none.
#[derive(Serialize, Deserialize)]
pub(crate) struct InstanceV3<'a> {
    pub base: InstanceV2<'a>,
    pub child_outcome: Option<Cow<'a, str>>,
}

impl<'a> From<&'a Instance> for InstanceV3<'a> {
    fn from(i: &'a Instance) -> Self {
        InstanceV3 {
            base: i.into(),
            child_outcome: i.child_outcome.as_deref().map(b),
        }
    }
}

impl From<InstanceV3<'_>> for Instance {
    fn from(i: InstanceV3<'_>) -> Self {
        let mut inst: Instance = i.base.into();
        inst.child_outcome = i.child_outcome.map(own);
        inst
    }
}

form!(InstanceV3, Instance);

/// Version 4 of instances: version 3 and how many waited-for children of the
/// current step have not ended yet (several with `for each`). A version-3 payload
/// reads as 0: such an instance waited for one child at most, which `awaiting_child`
/// says.
#[derive(Serialize, Deserialize)]
pub(crate) struct InstanceV4<'a> {
    pub base: InstanceV3<'a>,
    pub children_awaited: u32,
}

impl<'a> From<&'a Instance> for InstanceV4<'a> {
    fn from(i: &'a Instance) -> Self {
        InstanceV4 {
            base: i.into(),
            children_awaited: i.children_awaited,
        }
    }
}

impl From<InstanceV4<'_>> for Instance {
    fn from(i: InstanceV4<'_>) -> Self {
        let mut inst: Instance = i.base.into();
        inst.children_awaited = i.children_awaited;
        inst
    }
}

form!(InstanceV4, Instance);

#[derive(Serialize, Deserialize)]
pub(crate) struct BranchV1<'a> {
    pub name: Cow<'a, str>,
    pub status: BranchStatusV1,
    pub position: PositionV1<'a>,
    pub focused: bool,
}

#[derive(Serialize, Deserialize)]
pub(crate) enum BranchStatusV1 {
    Running,
    Finished,
    Cancelled,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct PositionV1<'a> {
    pub step: Option<Cow<'a, str>>,
    #[serde(with = "time::option")]
    pub step_started_at: Option<DateTime<Utc>>,
    pub waiting: bool,
    #[serde(with = "time::option")]
    pub due: Option<DateTime<Utc>>,
    pub due_extended_minutes: i64,
    pub awaiting_child: bool,
    pub signatures: Seq<'a, Signature, SignatureV1<'static>>,
}

impl<'a> From<&'a BranchState> for BranchV1<'a> {
    fn from(x: &'a BranchState) -> Self {
        let p = &x.position;
        BranchV1 {
            name: b(&x.name),
            status: match x.status {
                BranchStatus::Running => BranchStatusV1::Running,
                BranchStatus::Finished => BranchStatusV1::Finished,
                BranchStatus::Cancelled => BranchStatusV1::Cancelled,
            },
            position: PositionV1 {
                step: p.step.as_deref().map(Cow::Borrowed),
                step_started_at: p.step_started_at,
                waiting: p.waiting,
                due: p.due,
                due_extended_minutes: p.due_extended_minutes,
                awaiting_child: p.awaiting_child,
                signatures: Seq::of(&p.signatures),
            },
            focused: x.focused,
        }
    }
}

impl From<BranchV1<'_>> for BranchState {
    fn from(x: BranchV1<'_>) -> Self {
        let p = x.position;
        BranchState {
            name: own(x.name),
            status: match x.status {
                BranchStatusV1::Running => BranchStatus::Running,
                BranchStatusV1::Finished => BranchStatus::Finished,
                BranchStatusV1::Cancelled => BranchStatus::Cancelled,
            },
            position: Position {
                step: p.step.map(Cow::into_owned),
                step_started_at: p.step_started_at,
                waiting: p.waiting,
                due: p.due,
                due_extended_minutes: p.due_extended_minutes,
                awaiting_child: p.awaiting_child,
                signatures: p.signatures.into(),
            },
            focused: x.focused,
        }
    }
}

form!(BranchV1, BranchState);

/// The answer to a command, kept under its idempotency key, with a version-2
/// instance.
#[derive(Serialize, Deserialize)]
pub(crate) struct AnswerV2<'a> {
    pub instance: InstanceV2<'a>,
    pub records: Seq<'a, Record, RecordV1<'static>>,
    pub children: Cow<'a, [u64]>,
    pub replayed: bool,
}

impl<'a> From<&'a Outcome> for AnswerV2<'a> {
    fn from(o: &'a Outcome) -> Self {
        AnswerV2 {
            instance: (&o.instance).into(),
            records: Seq::of(&o.records),
            children: Cow::Borrowed(&o.children),
            replayed: o.replayed,
        }
    }
}

impl From<AnswerV2<'_>> for Outcome {
    fn from(o: AnswerV2<'_>) -> Self {
        Outcome {
            instance: o.instance.into(),
            records: o.records.into(),
            children: o.children.into_owned(),
            replayed: o.replayed,
        }
    }
}

form!(AnswerV2, Outcome);

impl Stored for Outcome {
    const KIND: RecordKind = RecordKind::Answer;
    const VERSION: u8 = 4;
    type Current = AnswerV4<'static>;

    fn read(version: u8, payload: &[u8]) -> Result<Self, String> {
        match version {
            1 => exact::<super::outbox::AnswerV1<'static>>(payload).map(Into::into),
            2 => exact::<AnswerV2<'static>>(payload).map(Into::into),
            3 => exact::<AnswerV3<'static>>(payload).map(Into::into),
            4 => exact::<AnswerV4<'static>>(payload).map(Into::into),
            v => Err(unknown_version::<Self>(v)),
        }
    }
}

/// The answer to a command with a version-3 instance.
#[derive(Serialize, Deserialize)]
pub(crate) struct AnswerV3<'a> {
    pub instance: InstanceV3<'a>,
    pub records: Seq<'a, Record, RecordV1<'static>>,
    pub children: Cow<'a, [u64]>,
    pub replayed: bool,
}

impl<'a> From<&'a Outcome> for AnswerV3<'a> {
    fn from(o: &'a Outcome) -> Self {
        AnswerV3 {
            instance: (&o.instance).into(),
            records: Seq::of(&o.records),
            children: Cow::Borrowed(&o.children),
            replayed: o.replayed,
        }
    }
}

impl From<AnswerV3<'_>> for Outcome {
    fn from(o: AnswerV3<'_>) -> Self {
        Outcome {
            instance: o.instance.into(),
            records: o.records.into(),
            children: o.children.into_owned(),
            replayed: o.replayed,
        }
    }
}

form!(AnswerV3, Outcome);

/// The answer to a command with a version-4 instance.
#[derive(Serialize, Deserialize)]
pub(crate) struct AnswerV4<'a> {
    pub instance: InstanceV4<'a>,
    pub records: Seq<'a, Record, RecordV1<'static>>,
    pub children: Cow<'a, [u64]>,
    pub replayed: bool,
}

impl<'a> From<&'a Outcome> for AnswerV4<'a> {
    fn from(o: &'a Outcome) -> Self {
        AnswerV4 {
            instance: (&o.instance).into(),
            records: Seq::of(&o.records),
            children: Cow::Borrowed(&o.children),
            replayed: o.replayed,
        }
    }
}

impl From<AnswerV4<'_>> for Outcome {
    fn from(o: AnswerV4<'_>) -> Self {
        Outcome {
            instance: o.instance.into(),
            records: o.records.into(),
            children: o.children.into_owned(),
            replayed: o.replayed,
        }
    }
}

form!(AnswerV4, Outcome);

/// The version-1 payload of a version-2 instance or answer without branches, or of a
/// directory without role titles: for tests that write older databases from records
/// of this release.
#[cfg(test)]
pub(crate) fn version_1_payload(kind: RecordKind, v: &[u8]) -> Vec<u8> {
    let bytes = match kind {
        RecordKind::Instance => {
            let i: Instance = super::decode(v).expect("an instance");
            assert!(i.branches.is_empty(), "version 1 has no branches");
            assert!(i.child_outcome.is_none(), "version 1 keeps no child's end");
            assert_eq!(i.children_awaited, 0, "version 1 counts no children");
            postcard::to_allocvec(&InstanceV1::from(&i))
        }
        RecordKind::Answer => {
            let o: Outcome = super::decode(v).expect("an answer");
            assert!(o.instance.branches.is_empty(), "version 1 has no branches");
            assert!(
                o.instance.child_outcome.is_none(),
                "version 1 keeps no child's end"
            );
            postcard::to_allocvec(&super::outbox::AnswerV1::from(&o))
        }
        RecordKind::Directory => {
            let d: crate::staff::Directory = super::decode(v).expect("a directory");
            assert!(d.role_titles.is_empty(), "version 1 has no role titles");
            postcard::to_allocvec(&super::misc::DirectoryV1::from(&d))
        }
        other => panic!("{} records have no later version", other.name()),
    };
    bytes.expect("in-memory values always serialize")
}
