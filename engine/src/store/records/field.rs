//! What the storage types share: times, instance data and its values, task ids, and
//! lists of nested records, each written from a borrowed domain value without
//! copying it and read straight back into the domain type.

use super::Form;
use crate::core::{Data, TaskId};
use baton_dsl::eval::Value;
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::marker::PhantomData;

/// Times of the engine's records: seconds and nanoseconds since 1970, exact and a few
/// bytes (as layout 3 wrote them through `core::time`, whose binary form this copies
/// so that a change there cannot reach the disk).
pub(super) mod time {
    use chrono::{DateTime, Utc};
    use serde::{de::Error as _, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        (t.timestamp(), t.timestamp_subsec_nanos()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let (secs, nanos) = <(i64, u32)>::deserialize(d)?;
        DateTime::from_timestamp(secs, nanos).ok_or_else(|| D::Error::custom("time out of range"))
    }

    /// The same for an optional time.
    pub mod option {
        use super::*;

        #[derive(Serialize, Deserialize)]
        struct Exact(#[serde(with = "super")] DateTime<Utc>);

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            t.map(Exact).serialize(s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            Ok(Option::<Exact>::deserialize(d)?.map(|e| e.0))
        }
    }
}

/// Borrow a string for writing.
pub(super) fn b(s: &str) -> Cow<'_, str> {
    Cow::Borrowed(s)
}

/// Borrow an optional string for writing.
pub(super) fn ob(s: &Option<String>) -> Option<Cow<'_, str>> {
    s.as_deref().map(Cow::Borrowed)
}

/// A string read back (owned already: nothing is copied).
pub(super) fn own(s: Cow<'_, str>) -> String {
    s.into_owned()
}

pub(super) fn oown(s: Option<Cow<'_, str>>) -> Option<String> {
    s.map(Cow::into_owned)
}

#[derive(Clone, Copy, Serialize, Deserialize)]
pub(crate) struct TaskIdV1 {
    pub instance: u64,
    pub n: u32,
}

impl From<TaskId> for TaskIdV1 {
    fn from(t: TaskId) -> Self {
        TaskIdV1 {
            instance: t.instance,
            n: t.n,
        }
    }
}

impl From<TaskIdV1> for TaskId {
    fn from(t: TaskIdV1) -> Self {
        TaskId {
            instance: t.instance,
            n: t.n,
        }
    }
}

/// A list of nested records of the domain type `D`, written through the storage type
/// `S` (named here, not taken from what `D` is written as today, so that a later
/// version of `S` leaves the types that hold this list as they are). Written from a
/// borrowed slice one element at a time; read straight into a list of `D`.
pub(crate) enum Seq<'a, D, S> {
    Ref(&'a [D]),
    Own(Vec<D>, PhantomData<S>),
}

impl<'a, D, S> Seq<'a, D, S> {
    pub fn of(items: &'a [D]) -> Self {
        Seq::Ref(items)
    }
}

impl<D: Clone, S> From<Seq<'_, D, S>> for Vec<D> {
    fn from(s: Seq<'_, D, S>) -> Vec<D> {
        match s {
            // Only a list being written borrows; one read back owns its items.
            Seq::Ref(items) => items.to_vec(),
            Seq::Own(items, _) => items,
        }
    }
}

impl<D: 'static, S: Form<D>> Serialize for Seq<'_, D, S> {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        let items = match self {
            Seq::Ref(items) => items,
            Seq::Own(items, _) => items.as_slice(),
        };
        s.collect_seq(items.iter().map(S::of))
    }
}

impl<'de, D: 'static, S: Form<D>> Deserialize<'de> for Seq<'_, D, S> {
    fn deserialize<Z: Deserializer<'de>>(d: Z) -> Result<Self, Z::Error> {
        struct Items<D, S>(PhantomData<(D, S)>);
        impl<'de, D: 'static, S: Form<D>> Visitor<'de> for Items<D, S> {
            type Value = Vec<D>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of records")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<D>, A::Error> {
                // The length comes from the record: trust it only so far.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element::<S::Of<'static>>()? {
                    out.push(item.into());
                }
                Ok(out)
            }
        }
        let items = d.deserialize_seq(Items::<D, S>(PhantomData))?;
        Ok(Seq::Own(items, PhantomData))
    }
}

/// An instance's data (and the values of events), a map of field name to value.
/// Written from the borrowed map, read straight into the domain's map.
pub(crate) enum DataV1<'a> {
    Ref(&'a Data),
    Own(Data),
}

impl From<DataV1<'_>> for Data {
    fn from(d: DataV1<'_>) -> Data {
        match d {
            DataV1::Ref(m) => m.clone(),
            DataV1::Own(m) => m,
        }
    }
}

impl Serialize for DataV1<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let m = match self {
            DataV1::Ref(m) => m,
            DataV1::Own(m) => m,
        };
        s.collect_map(m.iter().map(|(k, v)| (k.as_str(), ValueV1::from(v))))
    }
}

impl<'de> Deserialize<'de> for DataV1<'_> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Data;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
                let mut out = Data::new();
                while let Some((k, v)) = map.next_entry::<String, ValueV1<'static>>()? {
                    out.insert(k, v.into());
                }
                Ok(out)
            }
        }
        Ok(DataV1::Own(d.deserialize_map(Fields)?))
    }
}

/// A value of an instance's data. Its dates and moments are chrono's own text (as
/// layout 3 wrote `baton_dsl::eval::Value`), which the golden tests hold to.
#[derive(Serialize, Deserialize)]
pub(crate) enum ValueV1<'a> {
    Text(Cow<'a, str>),
    Int(i64),
    Dec(f64),
    Bool(bool),
    Date(NaiveDate),
    DateTime(DateTime<Utc>),
    Duration(DurationV1),
    Choice(Cow<'a, str>),
    Person(Cow<'a, str>),
    Department(Cow<'a, str>),
    // Appended: payloads written before it read the same.
    /// A list's elements, each its fields' names and values in order.
    List(Vec<Vec<(Cow<'a, str>, ValueV1<'a>)>>),
}

#[derive(Serialize, Deserialize)]
pub(crate) struct DurationV1 {
    pub months: i64,
    pub minutes: i64,
    pub working_minutes: i64,
    pub working_days: i64,
}

impl<'a> From<&'a Value> for ValueV1<'a> {
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Text(s) => ValueV1::Text(b(s)),
            Value::Int(i) => ValueV1::Int(*i),
            Value::Dec(d) => ValueV1::Dec(*d),
            Value::Bool(x) => ValueV1::Bool(*x),
            Value::Date(d) => ValueV1::Date(*d),
            Value::DateTime(t) => ValueV1::DateTime(*t),
            Value::Duration(d) => ValueV1::Duration(DurationV1 {
                months: d.months,
                minutes: d.minutes,
                working_minutes: d.working_minutes,
                working_days: d.working_days,
            }),
            Value::Choice(s) => ValueV1::Choice(b(s)),
            Value::Person(s) => ValueV1::Person(b(s)),
            Value::Department(s) => ValueV1::Department(b(s)),
            Value::List(xs) => ValueV1::List(
                xs.iter()
                    .map(|x| x.iter().map(|(k, v)| (b(k), ValueV1::from(v))).collect())
                    .collect(),
            ),
        }
    }
}

impl From<ValueV1<'_>> for Value {
    fn from(v: ValueV1<'_>) -> Self {
        match v {
            ValueV1::Text(s) => Value::Text(own(s)),
            ValueV1::Int(i) => Value::Int(i),
            ValueV1::Dec(d) => Value::Dec(d),
            ValueV1::Bool(x) => Value::Bool(x),
            ValueV1::Date(d) => Value::Date(d),
            ValueV1::DateTime(t) => Value::DateTime(t),
            ValueV1::Duration(d) => Value::Duration(baton_dsl::model::Duration {
                months: d.months,
                minutes: d.minutes,
                working_minutes: d.working_minutes,
                working_days: d.working_days,
            }),
            ValueV1::Choice(s) => Value::Choice(own(s)),
            ValueV1::Person(s) => Value::Person(own(s)),
            ValueV1::Department(s) => Value::Department(own(s)),
            ValueV1::List(xs) => Value::List(
                xs.into_iter()
                    .map(|x| x.into_iter().map(|(k, v)| (own(k), v.into())).collect())
                    .collect(),
            ),
        }
    }
}
