//! Deploying a definition: a checked source becomes the next version of its
//! process, one version at a time.

use super::kind::Kind;
use super::space::WriteBatch;
use super::{encode, keys, Deployed, Store, StoreError, StoredDefinition};
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
            if let Ok(sd) = self.stored_definition(&name, version) {
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
        let current = self
            .latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
            .copied();
        if let Some(v) = current {
            let sd = self.stored_definition(&name, v)?;
            if sd.source == source {
                return Ok((name, Deployed::Unchanged { version: v }));
            }
        }
        let version = current.map_or(1, |v| v + 1);
        let sd = StoredDefinition {
            name: name.clone(),
            version,
            source: source.to_string(),
            deployed_at: now,
            definition: def.clone(),
        };
        let mut latest_key = b"latest\0".to_vec();
        latest_key.extend_from_slice(name.as_bytes());
        let mut b = WriteBatch::default();
        self.t[Kind::Definitions].put(&mut b, keys::definition(&name, version), encode(&sd));
        self.t[Kind::Meta].put(&mut b, latest_key, &version.to_be_bytes());
        self.t.apply(b)?;
        self.durable()?;
        self.defs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert((name.clone(), version), Arc::new(def));
        self.latest
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone(), version);
        Ok((name, Deployed::New { version }))
    }
}
