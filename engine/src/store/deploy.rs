//! Deploying a definition: a checked source becomes the next version of its
//! process, one version at a time. The store keeps the source, never the compiled
//! model: a definition is compiled from its source again when it is read, so that a
//! release whose model differs reads every definition as it reads a new source.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{decode, encode, keys, Deployed, Store, StoreError, StoredDefinition};
use baton_dsl::model::Definition;
use baton_dsl::{Located, Severity};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Store {
    /// Check a source and store it as the next version of its process. A source with
    /// errors is refused with its diagnostics and changes nothing; an unchanged source
    /// keeps its version.
    pub(super) fn deploy(
        &self,
        file: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Deployed), StoreError> {
        self.deploy_with(file, source, now, &BTreeMap::new())
    }

    /// As `deploy`, with the outside view of other processes being deployed together
    /// (so that `start X` can name a process deployed in the same batch).
    pub(super) fn deploy_with(
        &self,
        file: &str,
        source: &str,
        now: DateTime<Utc>,
        batch: &BTreeMap<String, baton_dsl::Signature>,
    ) -> Result<(String, Deployed), StoreError> {
        let dir = self.directory();
        let names = (!dir.people.is_empty()).then(|| dir.names());
        let mut sigs = batch.clone();
        for (name, version) in self.process_names() {
            if sigs.contains_key(&name) {
                continue;
            }
            if let Ok(sd) = self.deployment(&name, version) {
                if let Some((n, s)) = baton_dsl::signature(&sd.source) {
                    sigs.insert(n, s);
                }
            }
        }
        if let Some((n, s)) = baton_dsl::signature(source) {
            sigs.insert(n, s);
        }
        let out = baton_dsl::check(
            source,
            &baton_dsl::Context {
                staff: names.as_ref(),
                processes: Some(&sigs),
            },
        );
        let Some(def) = out.definition else {
            return Err(StoreError::Definition(Located::all(
                file,
                source,
                out.diagnostics
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error),
            )));
        };
        let name = def.name.clone();
        // From reading the newest version until the caches hold the new one: a
        // deploy that waited here sees the version just written, so the same source
        // deployed twice at once keeps one version.
        let _deploying = self.deploys.lock().unwrap_or_else(|e| e.into_inner());
        let mut latest_key = b"latest\0".to_vec();
        latest_key.extend_from_slice(name.as_bytes());
        // With PostgreSQL, every node's deploys wait for each other, and the newest
        // version is the database's, which another node may have just raised.
        let (_cluster, current) = match &self.pg {
            Some(pg) => {
                let locked = pg.lock(super::pg::locks::DEPLOY)?;
                let v = self.t[Kind::Meta]
                    .get(&latest_key)?
                    .map(|v| u32::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 4])));
                (Some(locked), v)
            }
            None => (
                None,
                self.latest
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&name)
                    .copied(),
            ),
        };
        if let Some(v) = current {
            let sd = self.deployment(&name, v)?;
            if sd.source == source {
                return Ok((name, Deployed::Unchanged { version: v }));
            }
        }
        let version = current.map_or(1, |v| v + 1);
        let sd = Deployment {
            name: name.clone(),
            version,
            file: Some(file.to_string()),
            source: source.to_string(),
            deployed_at: now,
        };
        let mut b = WriteBatch::default();
        self.t[Kind::Definitions].put(&mut b, keys::definition(&name, version), encode(&sd));
        self.t[Kind::Meta].put(&mut b, latest_key, &version.to_be_bytes());
        // Read before the write: a reopening after it may have lost it.
        let epoch = self.epoch();
        self.t.apply(b)?;
        self.durable_since(epoch)?;
        self.defs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.clone(), version), Arc::new(def));
        self.latest
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone(), version);
        if let Some(pg) = &self.pg {
            pg.notify("deploy")?;
        }
        Ok((name, Deployed::New { version }))
    }
}

/// A deployed version of a process as the store keeps it: its source, without the
/// compiled model (see the top of this module).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deployment {
    pub name: String,
    pub version: u32,
    /// The file it was deployed from; none for versions deployed before it was kept.
    pub file: Option<String>,
    pub source: String,
    pub deployed_at: DateTime<Utc>,
}

/// A stored definition's model, compiled from its source. Without the staff
/// directory and the other processes: both were checked when it was deployed, may
/// have changed since, and change only what is reported, never the model; what a
/// running instance needs is that the source itself still compiles.
pub(crate) fn compile(d: &Deployment) -> Result<Definition, StoreError> {
    let out = baton_dsl::check(&d.source, &baton_dsl::Context::default());
    out.definition.ok_or_else(|| {
        let file = match &d.file {
            Some(f) => f.clone(),
            None => format!("{} version {}", d.name, d.version),
        };
        StoreError::Outdated {
            process: d.name.clone(),
            version: d.version,
            problems: Located::all(
                &file,
                &d.source,
                out.diagnostics
                    .into_iter()
                    .filter(|d| d.severity == Severity::Error),
            ),
        }
    })
}

impl Store {
    /// A deployed version as stored, without compiling it.
    pub(crate) fn deployment(&self, name: &str, version: u32) -> Result<Deployment, StoreError> {
        let b = self.t[Kind::Definitions]
            .get(keys::definition(name, version))?
            .ok_or_else(|| {
                crate::core::Rejection::NotFound(format!("no process `{name}` version {version}"))
            })?;
        decode(&b)
    }

    /// A deployed version with its model (compiled once, then kept in memory).
    pub(super) fn stored(&self, name: &str, version: u32) -> Result<StoredDefinition, StoreError> {
        let d = self.deployment(name, version)?;
        let definition = self.definition(name, version)?;
        Ok(StoredDefinition {
            name: d.name,
            version: d.version,
            file: d.file,
            source: d.source,
            deployed_at: d.deployed_at,
            definition: (*definition).clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Options;

    const FIRST: &str = r#"
process leave "請假" {
  started by staff
  step ask "申請" {
    task for starter
    next done
  }
  end done
}
"#;

    /// What a later release might refuse of a source this one accepted.
    const REFUSED: &str = "process leave {\n  step ask {\n";

    /// Replace the source stored for a version, as if a release that reads it
    /// differently had come.
    fn store_source(s: &Store, version: u32, source: &str) {
        let mut d = s.deployment("leave", version).expect("stored");
        d.source = source.to_string();
        s.t[Kind::Definitions]
            .insert(
                &s.t.outside_batch().expect("writer"),
                keys::definition("leave", version),
                encode(&d),
            )
            .expect("insert");
        s.durable().expect("durable");
    }

    fn refusal(e: Option<StoreError>, version: u32) {
        match e {
            Some(StoreError::Outdated {
                process,
                version: v,
                problems,
            }) => {
                assert_eq!((process.as_str(), v), ("leave", version));
                assert!(!problems.is_empty());
                assert_eq!(problems[0].file, "leave.flow");
                assert_eq!(problems[0].line, 3);
            }
            other => panic!("expected version {version} to be refused, got {other:?}"),
        }
    }

    /// A definition is compiled from its stored source when it is read: a source
    /// this release no longer compiles is an error naming its process and version,
    /// for an older version when it is asked for, for the newest when the database
    /// opens.
    #[test]
    fn a_stored_source_that_no_longer_compiles_is_named_with_its_version() {
        let dir = tempfile::tempdir().expect("tmp");
        let now = Utc::now();
        let second = FIRST.replace("申請", "提出申請");
        {
            let s = Store::open(dir.path(), Options::default()).expect("open");
            s.deploy("leave.flow", FIRST, now).expect("deploy");
            s.deploy("leave.flow", &second, now).expect("deploy");
            store_source(&s, 1, REFUSED);
        }
        let s = Store::open(dir.path(), Options::default()).expect("the newest compiles");
        refusal(s.definition("leave", 1).err(), 1);
        refusal(s.stored_definition("leave", 1).err(), 1);
        let e = s.definition("leave", 1).expect_err("refused").to_string();
        assert!(
            e.starts_with(
                "process `leave` version 1 no longer compiles with this release:\nleave.flow:3:"
            ),
            "{e}"
        );
        let newest = s.stored_definition("leave", 2).expect("version 2");
        assert_eq!(newest.source, second);
        assert_eq!(newest.file.as_deref(), Some("leave.flow"));
        assert_eq!(
            newest.definition.steps[0].title.as_deref(),
            Some("提出申請")
        );
        store_source(&s, 2, REFUSED);
        drop(s);
        refusal(Store::open(dir.path(), Options::default()).err(), 2);
    }
}
