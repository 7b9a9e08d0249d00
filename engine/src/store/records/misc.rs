//! Records written apart from commands: the staff directory (`RecordKind::Directory`),
//! deployed definitions (`RecordKind::Definition`) and API tokens (`RecordKind::Token`).

use super::field::{b, oown, own, time, Seq};
use super::{RecordKind, Stored};
use crate::staff::{Department, Directory, Person};
use crate::store::deploy::Deployment;
use crate::tokens::TokenRecord;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
pub(crate) struct DirectoryV1<'a> {
    pub departments: Seq<'a, Department, DepartmentV1<'static>>,
    pub people: Seq<'a, Person, PersonV1<'static>>,
}

impl<'a> From<&'a Directory> for DirectoryV1<'a> {
    fn from(d: &'a Directory) -> Self {
        DirectoryV1 {
            departments: Seq::of(&d.departments),
            people: Seq::of(&d.people),
        }
    }
}

impl From<DirectoryV1<'_>> for Directory {
    fn from(d: DirectoryV1<'_>) -> Self {
        Directory::new(d.departments.into(), d.people.into())
    }
}

form!(DirectoryV1, Directory);

/// Version 2 of the directory: version 1 and the roles' titles. A version-1 payload
/// reads as a directory whose roles have none (they are shown by their ids).
#[derive(Serialize, Deserialize)]
pub(crate) struct DirectoryV2<'a> {
    pub base: DirectoryV1<'a>,
    pub role_titles: Cow<'a, BTreeMap<String, String>>,
}

impl<'a> From<&'a Directory> for DirectoryV2<'a> {
    fn from(d: &'a Directory) -> Self {
        DirectoryV2 {
            base: DirectoryV1::from(d),
            role_titles: Cow::Borrowed(&d.role_titles),
        }
    }
}

impl From<DirectoryV2<'_>> for Directory {
    fn from(d: DirectoryV2<'_>) -> Self {
        Directory::from(d.base).with_role_titles(d.role_titles.into_owned())
    }
}

form!(DirectoryV2, Directory);

impl Stored for Directory {
    const KIND: RecordKind = RecordKind::Directory;
    const VERSION: u8 = 2;
    type Current = DirectoryV2<'static>;

    fn read(version: u8, payload: &[u8]) -> Result<Self, String> {
        match version {
            1 => super::exact::<DirectoryV1<'static>>(payload).map(Into::into),
            2 => super::exact::<DirectoryV2<'static>>(payload).map(Into::into),
            v => Err(super::unknown_version::<Self>(v)),
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct DepartmentV1<'a> {
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub head: Cow<'a, str>,
}

impl<'a> From<&'a Department> for DepartmentV1<'a> {
    fn from(d: &'a Department) -> Self {
        DepartmentV1 {
            id: b(&d.id),
            name: b(&d.name),
            head: b(&d.head),
        }
    }
}

impl From<DepartmentV1<'_>> for Department {
    fn from(d: DepartmentV1<'_>) -> Self {
        Department {
            id: own(d.id),
            name: own(d.name),
            head: own(d.head),
        }
    }
}

form!(DepartmentV1, Department);

#[derive(Serialize, Deserialize)]
pub(crate) struct PersonV1<'a> {
    pub id: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub department: Cow<'a, str>,
    pub roles: Cow<'a, [String]>,
    pub supervisor: Option<Cow<'a, str>>,
}

impl<'a> From<&'a Person> for PersonV1<'a> {
    fn from(p: &'a Person) -> Self {
        PersonV1 {
            id: b(&p.id),
            name: b(&p.name),
            department: b(&p.department),
            roles: Cow::Borrowed(&p.roles),
            supervisor: p.supervisor.as_deref().map(Cow::Borrowed),
        }
    }
}

impl From<PersonV1<'_>> for Person {
    fn from(p: PersonV1<'_>) -> Self {
        Person {
            id: own(p.id),
            name: own(p.name),
            department: own(p.department),
            roles: p.roles.into_owned(),
            supervisor: oown(p.supervisor),
        }
    }
}

form!(PersonV1, Person);

/// A deployed version of a process: its source, and never its compiled model, which
/// is compiled again from the source when it is read (see `deploy`).
///
/// Unlike the other kinds, version 1 is not what layout 3 wrote (that was the
/// source followed by the model): the move to layout 4 keeps the leading fields and
/// drops the model (see `definition_in_layout_3`).
#[derive(Serialize, Deserialize)]
pub(crate) struct DefinitionV1<'a> {
    pub name: Cow<'a, str>,
    pub version: u32,
    /// The file it was deployed from, when it came from one.
    pub file: Option<Cow<'a, str>>,
    pub source: Cow<'a, str>,
    #[serde(with = "time")]
    pub deployed_at: DateTime<Utc>,
}

impl<'a> From<&'a Deployment> for DefinitionV1<'a> {
    fn from(d: &'a Deployment) -> Self {
        DefinitionV1 {
            name: b(&d.name),
            version: d.version,
            file: d.file.as_deref().map(Cow::Borrowed),
            source: b(&d.source),
            deployed_at: d.deployed_at,
        }
    }
}

impl From<DefinitionV1<'_>> for Deployment {
    fn from(d: DefinitionV1<'_>) -> Self {
        Deployment {
            name: own(d.name),
            version: d.version,
            file: oown(d.file),
            source: own(d.source),
            deployed_at: d.deployed_at,
        }
    }
}

form!(DefinitionV1, Deployment);

impl Stored for Deployment {
    const KIND: RecordKind = RecordKind::Definition;
    const VERSION: u8 = 1;
    type Current = DefinitionV1<'static>;
}

/// The leading fields of a definition as layout 3 wrote it, before its compiled
/// model. Postcard writes fields one after the other, so these read without knowing
/// how the model was laid out.
#[derive(Deserialize)]
struct Layout3Definition {
    name: String,
    version: u32,
    source: String,
    /// chrono's own text, as `baton_dsl::zone` wrote it in binary formats.
    deployed_at: DateTime<Utc>,
}

/// A definition as layout 3 wrote it, without its model.
pub(crate) fn definition_in_layout_3(raw: &[u8]) -> Result<Deployment, String> {
    let (d, _model): (Layout3Definition, _) =
        postcard::take_from_bytes(raw).map_err(|e| e.to_string())?;
    Ok(Deployment {
        name: d.name,
        version: d.version,
        file: None,
        source: d.source,
        deployed_at: d.deployed_at,
    })
}

/// An API token's record. `issued_at` is chrono's own text, as layout 3 wrote it.
#[derive(Serialize, Deserialize)]
pub(crate) struct TokenV1<'a> {
    pub person: Cow<'a, str>,
    pub issued_at: DateTime<Utc>,
}

impl<'a> From<&'a TokenRecord> for TokenV1<'a> {
    fn from(t: &'a TokenRecord) -> Self {
        TokenV1 {
            person: b(&t.person),
            issued_at: t.issued_at,
        }
    }
}

impl From<TokenV1<'_>> for TokenRecord {
    fn from(t: TokenV1<'_>) -> Self {
        TokenRecord {
            person: own(t.person),
            issued_at: t.issued_at,
        }
    }
}

form!(TokenV1, TokenRecord);

impl Stored for TokenRecord {
    const KIND: RecordKind = RecordKind::Token;
    const VERSION: u8 = 1;
    type Current = TokenV1<'static>;
}
