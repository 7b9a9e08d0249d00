//! Stored values: each kind of record is written as storage types of its own, in a
//! versioned envelope, never as the engine's domain types.
//!
//! An envelope is two bytes, the record's kind and the version of its storage type,
//! then the postcard payload of that type: `[kind, version, payload...]`. Postcard
//! is not self-describing (a struct is its fields in order, an enum variant its
//! index), so were the domain types written as they are, adding a field to a task
//! would make every stored task unreadable, and inserting a variant in `Event` would
//! make the history say something else. Instead:
//!
//! - The storage types are declared here (`instance`, `history`, `outbox`, `misc`),
//!   and the conversions to and from the domain types match enum variants by name,
//!   so that the domain's order of variants never reaches the disk.
//! - A storage type, once released, never changes. A change to what is stored is a
//!   new version of its kind (`TaskV2`, with `Stored::VERSION` raised); the reader
//!   of a kind (`Stored::read`) accepts every version it knows and upgrades older
//!   payloads to the domain type. The only compatible change in place is a new
//!   variant at the end of a storage enum: old payloads read the same.
//! - The golden tests (`tests`) hold the bytes of a sample of each kind and fail
//!   when a storage type changes.
//!
//! Version 1 of every kind but definitions lays out its payload exactly as layout 3
//! wrote the domain types, so moving a database to layout 4 checks that each value
//! reads as its kind and puts it in its envelope (see `migrate`). Layout 3 kept a
//! definition's compiled model beside its source; version 1 keeps the source only,
//! and the model is compiled from it when the definition is read (see `deploy`).
//!
//! Values that stay raw, without an envelope: each is a fixed-width number or hash,
//! written and read in one place, with nothing that could grow a field.
//! - In `meta`: `schema_version` (u32; it says how to read everything else, so it
//!   can never be in an envelope itself), `delivery_cursor` (u64), each process's
//!   newest version under `latest\0` and its name (u32), each schedule's watermark
//!   under `schedule\0` and its process and index (milliseconds, as keys hold
//!   them), and the progress of a move to layout 4 under way (see `migrate`).
//! - In `idempotency`: beside each answer, the request's fingerprint (32 bytes of
//!   SHA-256, under the answer's key followed by 0xFF).
//! - The values of the pure indexes (`active`, `by_process`, `timers`, `inbox`, and
//!   the tokens' person keys): empty.
//! - The journal: a batch's keys and values as they are to be written, already in
//!   their envelopes (see `journal`).

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Which kind of record an envelope holds: its first byte. A kind's number never
/// changes and is never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordKind {
    Instance = 1,
    Task = 2,
    History = 3,
    Incident = 4,
    /// The answer kept for an idempotency key (`store::Outcome`).
    Answer = 5,
    /// A message of the outbox (`store::OutboxRecord`).
    Message = 6,
    /// A webhook delivery waiting for its next attempt (`store::Attempt`).
    Retry = 7,
    Directory = 8,
    Definition = 9,
    Token = 10,
    /// A signature kept beside the history (`store::signatures`).
    Signature = 11,
    /// A person's password hash for the web pages (`logins::PasswordRecord`).
    Password = 12,
    /// A one-time invitation to set a password (`logins::InviteRecord`).
    Invite = 13,
    /// A signed-in browser (`logins::SessionRecord`).
    Session = 14,
    /// One hour of a process's figures for the managers' overview
    /// (`figures::HourFigures`).
    Figures = 15,
}

impl RecordKind {
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Instance => "instance",
            RecordKind::Task => "task",
            RecordKind::History => "history",
            RecordKind::Incident => "incident",
            RecordKind::Answer => "idempotent answer",
            RecordKind::Message => "outbox message",
            RecordKind::Retry => "webhook retry",
            RecordKind::Directory => "staff directory",
            RecordKind::Definition => "definition",
            RecordKind::Token => "token",
            RecordKind::Signature => "signature",
            RecordKind::Password => "password",
            RecordKind::Invite => "invitation",
            RecordKind::Session => "session",
            RecordKind::Figures => "figures",
        }
    }
}

/// A storage type of the domain type `D`, for every borrow it can be built from.
/// Implemented on the storage type at `'static` (`TaskV1<'static>`), which stands
/// for the whole family `TaskV1<'a>`: written borrowing from a `&'a Task`, read
/// back owning its strings.
pub(crate) trait Form<D: 'static>: 'static {
    type Of<'a>: Serialize + DeserializeOwned + Into<D>;
    fn of(d: &D) -> Self::Of<'_>;
}

/// `Form<$domain>` for a storage type with one lifetime, from its `From` impls (in
/// scope in the modules below, declared after it).
macro_rules! form {
    ($storage:ident, $domain:ty) => {
        impl $crate::store::records::Form<$domain> for $storage<'static> {
            type Of<'a> = $storage<'a>;
            fn of(d: &$domain) -> $storage<'_> {
                $storage::from(d)
            }
        }
    };
}

mod branches;
mod field;
mod figures;
mod history;
mod instance;
mod logins;
mod misc;
mod outbox;
#[cfg(test)]
pub(crate) mod tests;

#[cfg(test)]
pub(crate) use branches::version_1_payload;
pub(crate) use instance::task_in_layout_3;
pub(crate) use misc::definition_in_layout_3;

/// A domain type stored as a record of its own.
pub(crate) trait Stored: Sized + 'static {
    const KIND: RecordKind;
    /// The version of the storage type written now.
    const VERSION: u8;
    /// The storage type written now.
    type Current: Form<Self>;

    /// A payload of `version`, read into the domain type. A kind with more than one
    /// version reads the older ones here and upgrades them; by default only the
    /// current one is known, so that raising `VERSION` without saying how to read
    /// the older payloads fails loudly rather than misreading them.
    fn read(version: u8, payload: &[u8]) -> Result<Self, String> {
        if version == Self::VERSION {
            exact::<<Self::Current as Form<Self>>::Of<'static>>(payload).map(Into::into)
        } else {
            Err(unknown_version::<Self>(version))
        }
    }
}

/// Why a version cannot be read: a newer release wrote it, or it is not a version.
fn unknown_version<T: Stored>(version: u8) -> String {
    format!(
        "version {version} of {} records is unknown to this release, which reads up to version {}",
        T::KIND.name(),
        T::VERSION
    )
}

/// A whole payload as `T`: bytes left over mean it was something else.
fn exact<T: DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes(payload) {
        Ok((v, [])) => Ok(v),
        Ok((_, rest)) => Err(format!("{} bytes left over", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// Postcard's output, after the envelope already in it.
struct Enveloped(Vec<u8>);

impl postcard::ser_flavors::Flavor for Enveloped {
    type Output = Vec<u8>;

    fn try_push(&mut self, b: u8) -> postcard::Result<()> {
        self.0.push(b);
        Ok(())
    }

    fn try_extend(&mut self, b: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(b);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<Vec<u8>> {
        Ok(self.0)
    }
}

/// A value in its envelope, in the current version of its kind.
pub(crate) fn encode<T: Stored>(v: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    out.push(T::KIND as u8);
    out.push(T::VERSION);
    postcard::serialize_with_flavor(&T::Current::of(v), Enveloped(out))
        .expect("in-memory values always serialize")
}

/// A value from its envelope, whichever version of its kind it holds.
pub(crate) fn decode<T: Stored>(b: &[u8]) -> Result<T, String> {
    match b {
        [kind, version, payload @ ..] if *kind == T::KIND as u8 => T::read(*version, payload)
            .map_err(|e| format!("{} record (version {version}): {e}", T::KIND.name())),
        [kind, ..] => Err(format!(
            "a record of kind {kind} where {} records belong (kind {})",
            T::KIND.name(),
            T::KIND as u8
        )),
        [] => Err(format!("an empty {} record", T::KIND.name())),
    }
}

/// A value as layout 3 wrote it (the payload of version 1 without its envelope),
/// checked and put in its envelope: the move to layout 4 of every kind but
/// definitions, whose layout-3 values differ (see `definition_in_layout_3`).
pub(crate) fn envelop_layout_3<T: Stored>(raw: &[u8]) -> Result<Vec<u8>, String> {
    read_layout_3::<T>(raw)?;
    let mut out = Vec::with_capacity(raw.len() + 2);
    out.extend_from_slice(&[T::KIND as u8, 1]);
    out.extend_from_slice(raw);
    Ok(out)
}

/// A value as layout 3 wrote it, read as its domain type.
pub(crate) fn read_layout_3<T: Stored>(raw: &[u8]) -> Result<T, String> {
    T::read(1, raw).map_err(|e| format!("{} record of layout 3: {e}", T::KIND.name()))
}
