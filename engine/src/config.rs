//! The company's configuration (`processes/baton.ron`): time zone, business calendar,
//! webhooks per channel, delivery retries. Every field has a default, so a missing
//! file means a standard Monday-to-Friday calendar in the machine's zone.

use crate::calendar::CalendarConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// IANA zone name; `None` means this machine's zone.
    pub zone: Option<String>,
    pub calendar: CalendarConfig,
    /// Channel (`sms`, `email`, `*` for every message) -> URL that receives a POST.
    pub webhooks: BTreeMap<String, String>,
    pub delivery: DeliveryConfig,
    pub admin_role: String,
    /// `fsync` after each group commit: survive a power cut, not only a crash.
    pub fsync: bool,
    /// Process -> the role that owns it: told, with the admins, when one of its
    /// instances becomes an incident (`owners: {"complaint": "cs_manager"}`).
    pub owners: BTreeMap<String, String>,
    /// The language of Baton's own messages (reminders, breaches, escalations):
    /// `"zh-Hant"` (the default) or `"en"`.
    pub language: crate::messages::Language,
    /// The web pages served by `baton serve`.
    pub web: WebConfig,
    /// The connection pool when `--db` is a PostgreSQL address.
    pub postgres: PostgresConfig,
}

/// `postgres: (pool: 8, timeout_secs: 5)`: each node opens at most `pool`
/// connections, and a request waits at most `timeout_secs` for one (or for the
/// database to answer a new connection) before it is answered 503.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PostgresConfig {
    pub pool: usize,
    pub timeout_secs: u64,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        let d = crate::store::PgOptions::default();
        PostgresConfig {
            pool: d.pool,
            timeout_secs: d.timeout.as_secs(),
        }
    }
}

/// `web: (session_idle_minutes: 480, trusted_proxy: false)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// A signed-in browser unused this long is signed out.
    pub session_idle_minutes: u32,
    /// `baton serve` is reached through a proxy (TLS terminated there) that sets
    /// `X-Forwarded-For` and `X-Forwarded-Proto`: believe them, for the sign-in
    /// throttle's addresses and for marking the session cookie `Secure`.
    pub trusted_proxy: bool,
    /// Roles that read the managers' overview (admins always do):
    /// `managers: ["cs_manager", "general_manager"]`.
    pub managers: Vec<String>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            session_idle_minutes: 480,
            trusted_proxy: false,
            managers: Vec::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            zone: None,
            calendar: CalendarConfig::default(),
            webhooks: BTreeMap::new(),
            delivery: DeliveryConfig::default(),
            admin_role: "admin".into(),
            fsync: false,
            owners: BTreeMap::new(),
            language: crate::messages::Language::default(),
            web: WebConfig::default(),
            postgres: PostgresConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeliveryConfig {
    /// Attempts before a webhook delivery is marked failed.
    pub max_attempts: u32,
    /// First retry after this many seconds, doubling up to `max_backoff_secs`.
    pub first_backoff_secs: u64,
    pub max_backoff_secs: u64,
    pub timeout_secs: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            max_attempts: 8,
            first_backoff_secs: 2,
            max_backoff_secs: 600,
            timeout_secs: 10,
        }
    }
}

impl Config {
    pub fn from_ron(text: &str) -> Result<Config, String> {
        ron::from_str(text).map_err(|e| e.to_string())
    }

    /// The configured zone, else the machine's, else UTC.
    pub fn zone(&self) -> Result<chrono_tz::Tz, String> {
        let name = match &self.zone {
            Some(z) => z.clone(),
            None => iana_time_zone::get_timezone().unwrap_or_else(|_| "UTC".into()),
        };
        name.parse()
            .map_err(|_| format!("unknown time zone `{name}`"))
    }

    pub fn options(&self) -> Result<crate::store::Options, String> {
        Ok(crate::store::Options {
            zone: self.zone()?,
            admin_role: self.admin_role.clone(),
            calendar: self.calendar.clone(),
            cache_bytes: None,
            fsync: self.fsync,
            owners: self.owners.clone(),
            language: self.language,
            postgres: crate::store::PgOptions {
                pool: self.postgres.pool.max(2),
                timeout: std::time::Duration::from_secs(self.postgres.timeout_secs.max(1)),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_file_keeps_the_defaults() {
        let c = Config::from_ron(
            r#"(zone: Some("Asia/Shanghai"), webhooks: {"sms": "http://127.0.0.1:9/sms"})"#,
        )
        .expect("parses");
        assert_eq!(c.zone().unwrap(), chrono_tz::Asia::Shanghai);
        assert_eq!(c.delivery.max_attempts, 8);
        assert_eq!(c.calendar.rest_days, ["Sat", "Sun"]);
        assert_eq!(c.language, crate::messages::Language::ZhHant);
        assert_eq!(
            Config::from_ron(r#"(language: "en")"#).unwrap().language,
            crate::messages::Language::En
        );
        let err = Config::from_ron(r#"(language: "fr")"#).expect_err("unknown language");
        assert!(err.contains("zh-Hant"), "{err}");
        assert!(Config::from_ron("(zone: Some(\"Mars/Base\"))")
            .unwrap()
            .zone()
            .is_err());
    }

    /// The shipped configuration names an owner for every shipped process, each a
    /// role someone in the staff directory holds, so incidents reach a person.
    #[test]
    fn every_shipped_process_has_an_owner_someone_holds() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect("readable");
        let c = Config::from_ron(&read("baton.ron")).expect("parses");
        let staff = crate::staff::Directory::from_ron(&read("staff.ron")).expect("staff");
        let mut processes: Vec<String> = std::fs::read_dir(&dir)
            .expect("processes/")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "flow"))
            .filter_map(|p| baton_dsl::signature(&std::fs::read_to_string(p).ok()?))
            .map(|(name, _)| name)
            .collect();
        processes.sort();
        let owned: Vec<String> = c.owners.keys().cloned().collect();
        assert_eq!(owned, processes);
        for (process, role) in &c.owners {
            assert!(
                staff.with_role(role).next().is_some(),
                "{process}: nobody is {role}"
            );
        }
    }
}
