//! PostgreSQL as the store's database, for several nodes sharing the work.
//!
//! Every record keeps the key and the versioned value it has in the embedded store
//! (see `kind` and `records`): one table, `baton_records (k bytea primary key, v
//! bytea)`, whose primary key orders the keys byte by byte as sled does. The first
//! byte of a key names its kind, so each kind and each of its indexes (a person's
//! tasks, a role's queue, tasks by state and due time, timers by due time) is a
//! range of that B-tree, read and paged by key exactly as on sled. Everything the
//! store builds on its spaces (queries, deliveries, tokens, figures) therefore runs
//! unchanged on either database.
//!
//! What differs is how a batch of commands is made safe with other nodes writing
//! the same records: it runs in one transaction, which locks every record a command
//! reads (`FOR UPDATE`, or an advisory lock on the key of a record not yet there),
//! and is acknowledged only after it commits. Two commands on one instance from two
//! nodes so run one after the other, the second seeing the first's result, and a
//! deadlock or a conflict on a new key runs the batch again from the start (see
//! `txn::exec_pg`). Ids come from sequences.
//!
//! The client is the synchronous one of tokio-postgres (`postgres`), which runs its
//! own small runtime: it cannot be called on a thread that drives async tasks, so a
//! call from such a thread runs on a scoped thread of its own (`off_runtime`).

use super::StoreError;
use postgres::error::SqlState;
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::ops::Bound;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The schema, one file per version, applied in order at start (see `migrate`).
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    include_str!("../../migrations/postgres/0001_records.sql"),
)];

/// Advisory lock keys (any constant unlikely to collide with an application's).
const MIGRATE_LOCK: i64 = 0x6261_746f_6e00_0001;
/// Cluster-wide locks for writes outside the batches of commands (see `Pg::lock`).
pub(crate) mod locks {
    pub const DEPLOY: i64 = 0x6261_746f_6e00_0010;
    pub const DELIVERIES: i64 = 0x6261_746f_6e00_0011;
    pub const STAFF: i64 = 0x6261_746f_6e00_0012;
    pub const FIRST_TOKEN: i64 = 0x6261_746f_6e00_0013;
}

/// The channel nodes tell each other on (`NOTIFY baton, '...'`).
pub(crate) const CHANNEL: &str = "baton";

/// The connection pool's settings, from `baton.ron` (`postgres: (...)`).
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections this node opens at most.
    pub pool: usize,
    /// How long a caller waits for a free connection, and for a new one to open.
    pub timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool: 8,
            timeout: Duration::from_secs(5),
        }
    }
}

/// Is `db` the address of a PostgreSQL database rather than a folder?
pub fn is_postgres(db: &str) -> bool {
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// A connection with its prepared statements: each statement is prepared once per
/// connection, so that a query costs one round trip.
pub(crate) struct Session {
    client: Client,
    prepared: HashMap<&'static str, Statement>,
}

type Row = (Vec<u8>, Vec<u8>);

impl Session {
    fn stmt(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql)?;
        self.prepared.insert(sql, s.clone());
        Ok(s)
    }

    pub fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let s = self.stmt(sql)?;
        self.client.execute(&s, params)
    }

    pub fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<postgres::Row>, postgres::Error> {
        let s = self.stmt(sql)?;
        self.client.query(&s, params)
    }

    pub fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }

    pub fn get(&mut self, k: &[u8]) -> Result<Option<Vec<u8>>, postgres::Error> {
        let rows = self.query("SELECT v FROM baton_records WHERE k = $1", &[&k])?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// The record under `k`, locked until the transaction ends: its row if it is
    /// there, else the key itself (an advisory lock), so that a command that finds
    /// no record (an idempotency key not yet used, a day's first figures) waits for
    /// another node creating it, then reads what that node wrote.
    pub fn get_locked(&mut self, k: &[u8]) -> Result<Option<Vec<u8>>, postgres::Error> {
        let rows = self.query("SELECT v FROM baton_records WHERE k = $1 FOR UPDATE", &[&k])?;
        if let Some(r) = rows.first() {
            return Ok(Some(r.get(0)));
        }
        self.execute("SELECT pg_advisory_xact_lock($1)", &[&key_lock(k)])?;
        // A statement of its own: its snapshot is taken after the lock is held.
        let rows = self.query("SELECT v FROM baton_records WHERE k = $1 FOR UPDATE", &[&k])?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// Up to `limit` records with keys between `lo` and `hi`, in key order or
    /// (`desc`) the reverse.
    pub fn range(
        &mut self,
        lo: &Bound<Vec<u8>>,
        hi: &Bound<Vec<u8>>,
        desc: bool,
        limit: i64,
    ) -> Result<Vec<Row>, postgres::Error> {
        // One statement per shape of bounds and order, each prepared once.
        macro_rules! q {
            ($lo:literal, $hi:literal) => {
                if desc {
                    concat!(
                        "SELECT k, v FROM baton_records WHERE k ",
                        $lo,
                        " $1 AND k ",
                        $hi,
                        " $2 ORDER BY k DESC LIMIT $3"
                    )
                } else {
                    concat!(
                        "SELECT k, v FROM baton_records WHERE k ",
                        $lo,
                        " $1 AND k ",
                        $hi,
                        " $2 ORDER BY k LIMIT $3"
                    )
                }
            };
        }
        let empty: Vec<u8> = Vec::new();
        // Keys are never empty and tags stay below 0xff, so `>= ''` and `< 0xff`
        // stand for no bound.
        let top: Vec<u8> = vec![0xff];
        let (lo_op, lo_key) = match lo {
            Bound::Included(k) => (true, k),
            Bound::Excluded(k) => (false, k),
            Bound::Unbounded => (true, &empty),
        };
        let (hi_op, hi_key) = match hi {
            Bound::Included(k) => (true, k),
            Bound::Excluded(k) => (false, k),
            Bound::Unbounded => (false, &top),
        };
        let sql = match (lo_op, hi_op) {
            (true, true) => q!(">=", "<="),
            (true, false) => q!(">=", "<"),
            (false, true) => q!(">", "<="),
            (false, false) => q!(">", "<"),
        };
        let rows = self.query(sql, &[lo_key, hi_key, &limit])?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Write `changes` (a value, or `None` to remove the key) in the transaction.
    pub fn write<'a>(
        &mut self,
        changes: impl IntoIterator<Item = (Vec<u8>, Option<&'a [u8]>)>,
    ) -> Result<(), postgres::Error> {
        // Sent as two arrays per statement: one round trip for a whole batch.
        let mut put_k: Vec<Vec<u8>> = Vec::new();
        let mut put_v: Vec<&[u8]> = Vec::new();
        let mut del: Vec<Vec<u8>> = Vec::new();
        for (k, v) in changes {
            match v {
                Some(v) => {
                    put_k.push(k);
                    put_v.push(v);
                }
                None => del.push(k),
            }
        }
        if !del.is_empty() {
            self.execute("DELETE FROM baton_records WHERE k = ANY($1)", &[&del])?;
        }
        if !put_k.is_empty() {
            self.execute(
                "INSERT INTO baton_records (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                &[&put_k, &put_v],
            )?;
        }
        Ok(())
    }

    pub fn begin(&mut self) -> Result<(), postgres::Error> {
        self.batch("BEGIN")
    }

    pub fn commit(&mut self) -> Result<(), postgres::Error> {
        self.batch("COMMIT")
    }

    /// Ends a transaction that failed; a connection that cannot is dropped.
    pub fn rollback(&mut self) -> bool {
        self.batch("ROLLBACK").is_ok()
    }

    pub fn notify(&mut self, what: &str) -> Result<(), postgres::Error> {
        self.execute("SELECT pg_notify('baton', $1)", &[&what])
            .map(drop)
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }
}

impl Conn<'_> {
    /// Close this connection instead of giving it back (its session is in an
    /// unknown state).
    pub fn discard(&mut self) {
        self.session.take();
    }
}

/// An advisory lock's key for a record's key (FNV-1a): two keys that share one
/// only wait for each other.
fn key_lock(k: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in k {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// The pool: connections opened on demand, up to `PgOptions::pool`.
pub(crate) struct Pg {
    config: postgres::Config,
    opts: PgOptions,
    /// Idle connections, and how many are open in all.
    idle: Mutex<(Vec<Session>, usize)>,
    freed: Condvar,
    /// The address without its password, for messages.
    pub shown: String,
}

/// A connection taken from the pool, given back when dropped (unless it broke).
pub(crate) struct Conn<'a> {
    pg: &'a Pg,
    session: Option<Session>,
}

impl std::ops::Deref for Conn<'_> {
    type Target = Session;
    fn deref(&self) -> &Session {
        self.session.as_ref().expect("a connection in use")
    }
}

impl std::ops::DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Session {
        self.session.as_mut().expect("a connection in use")
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        let mut idle = self.pg.idle.lock().unwrap_or_else(|e| e.into_inner());
        match self.session.take() {
            Some(s) if !s.is_closed() => idle.0.push(s),
            _ => idle.1 = idle.1.saturating_sub(1),
        }
        self.pg.freed.notify_one();
    }
}

/// A PostgreSQL error as the store reports it: unreachable, or refused.
pub(crate) fn error(e: postgres::Error) -> StoreError {
    if e.is_closed() || e.code().is_none() {
        StoreError::Unavailable(format!("PostgreSQL: {}", describe(&e)))
    } else {
        StoreError::Storage(format!("PostgreSQL: {}", describe(&e)))
    }
}

/// The server's own message when there is one (the client's says only "db error").
pub(crate) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

/// Worth running the transaction again: a deadlock, a serialization failure, or a
/// key another node inserted first.
pub(crate) fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::UNIQUE_VIOLATION
    )
}

/// Run `f` where the synchronous client may block: here, or on a scoped thread when
/// this thread drives async tasks (the client's own runtime cannot start there).
pub(crate) fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(t) => t,
        Err(p) => std::panic::resume_unwind(p),
    })
}

impl Pg {
    /// Connect to the database at `url` and bring its schema up to date (under an
    /// advisory lock, so that nodes starting together apply each migration once).
    pub fn open(url: &str, opts: PgOptions) -> Result<Pg, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            StoreError::Storage(format!(
                "the address {url:?} is not a PostgreSQL address: {e}"
            ))
        })?;
        config.connect_timeout(opts.timeout);
        config.application_name("baton");
        let pg = Pg {
            config,
            shown: hide_password(url),
            idle: Mutex::new((Vec::new(), 0)),
            freed: Condvar::new(),
            opts,
        };
        off_runtime(|| pg.migrate())?;
        Ok(pg)
    }

    fn connect(&self) -> Result<Session, StoreError> {
        let client = self.config.connect(NoTls).map_err(|e| {
            StoreError::Unavailable(format!("cannot reach PostgreSQL at {}: {e}", self.shown))
        })?;
        Ok(Session {
            client,
            prepared: HashMap::new(),
        })
    }

    /// A connection: an idle one, a new one while the pool has room, else the first
    /// one given back within the timeout.
    pub fn conn(&self) -> Result<Conn<'_>, StoreError> {
        let deadline = std::time::Instant::now() + self.opts.timeout;
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = idle.0.pop() {
                if s.is_closed() {
                    idle.1 = idle.1.saturating_sub(1);
                    continue;
                }
                return Ok(Conn {
                    pg: self,
                    session: Some(s),
                });
            }
            if idle.1 < self.opts.pool.max(1) {
                idle.1 += 1;
                drop(idle);
                return match self.connect() {
                    Ok(s) => Ok(Conn {
                        pg: self,
                        session: Some(s),
                    }),
                    Err(e) => {
                        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                        idle.1 = idle.1.saturating_sub(1);
                        Err(e)
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(StoreError::Unavailable(format!(
                    "no free connection to PostgreSQL within {:?} (pool of {})",
                    self.opts.timeout, self.opts.pool
                )));
            }
            idle = self
                .freed
                .wait_timeout(idle, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// `f` on a connection of the pool, off any async runtime. A connection whose
    /// query failed for a reason other than the query is closed and not reused.
    pub fn with<T: Send>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<T, postgres::Error> + Send,
    ) -> Result<T, StoreError> {
        off_runtime(|| {
            let mut c = self.conn()?;
            f(&mut c).map_err(error)
        })
    }

    /// `f` in one transaction, run again (up to a few times) when it deadlocked or
    /// lost a race for a new key with another node.
    pub fn atomically<T: Send>(
        &self,
        f: impl Fn(&mut Session) -> Result<T, postgres::Error> + Send + Sync,
    ) -> Result<T, StoreError> {
        off_runtime(|| {
            let mut tries = 0;
            loop {
                let mut c = self.conn()?;
                let res = c.begin().and_then(|_| f(&mut c)).and_then(|t| {
                    c.commit()?;
                    Ok(t)
                });
                match res {
                    Ok(t) => return Ok(t),
                    Err(e) => {
                        if !c.rollback() {
                            // Broken: dropped, not given back.
                            c.session.take();
                        }
                        tries += 1;
                        if !retryable(&e) || tries >= 20 {
                            return Err(error(e));
                        }
                    }
                }
            }
        })
    }

    /// Hold the cluster-wide lock `key` while the guard lives (a session lock on a
    /// connection of its own), so that one node at a time deploys, leases webhook
    /// attempts or changes the staff.
    pub fn lock(&self, key: i64) -> Result<Locked<'_>, StoreError> {
        off_runtime(|| {
            let mut c = self.conn()?;
            c.execute("SELECT pg_advisory_lock($1)", &[&key])
                .map_err(error)?;
            Ok(Locked { conn: Some(c), key })
        })
    }

    pub fn get(&self, k: Vec<u8>) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(move |s| s.get(&k))
    }

    pub fn range(
        &self,
        lo: &Bound<Vec<u8>>,
        hi: &Bound<Vec<u8>>,
        desc: bool,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        self.with(|s| s.range(lo, hi, desc, limit))
    }

    /// Write `changes` all or nothing, in a transaction of their own.
    pub fn write(&self, changes: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<(), StoreError> {
        self.atomically(|s| s.write(changes.iter().map(|(k, v)| (k.clone(), v.as_deref()))))
    }

    /// `n` new ids from `sequence`, in order.
    pub fn ids(&self, sequence: &'static str, n: i64) -> Result<Vec<u64>, StoreError> {
        let sql = match sequence {
            "instances" => {
                "SELECT nextval('baton_instance_ids') FROM generate_series(1, $1::bigint)"
            }
            _ => "SELECT nextval('baton_message_ids') FROM generate_series(1, $1::bigint)",
        };
        self.with(|s| {
            let rows = s.query(sql, &[&n])?;
            Ok(rows.iter().map(|r| r.get::<_, i64>(0) as u64).collect())
        })
    }

    /// Make the sequences give ids above every id the records hold (after a copy).
    pub fn raise_ids(&self, instance: u64, message: u64) -> Result<(), StoreError> {
        self.with(|s| {
            s.batch(&format!(
                "SELECT setval('baton_instance_ids', GREATEST({}, (SELECT last_value FROM baton_instance_ids)));\
                 SELECT setval('baton_message_ids', GREATEST({}, (SELECT last_value FROM baton_message_ids)));",
                instance.max(1),
                message.max(1)
            ))
        })
    }

    /// Tell every node (this one too) `what` changed.
    pub fn notify(&self, what: &'static str) -> Result<(), StoreError> {
        self.with(|s| s.notify(what))
    }

    /// The size of the database on disk, in bytes.
    pub fn size(&self) -> Result<u64, StoreError> {
        self.with(|s| {
            let rows = s.query("SELECT pg_database_size(current_database())", &[])?;
            Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
        })
    }

    /// A connection of its own that listens on `CHANNEL`, for `listen`.
    pub fn listener(&self) -> Result<Client, StoreError> {
        let mut s = self.connect()?;
        s.client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .map_err(error)?;
        Ok(s.client)
    }

    /// Apply the migrations this release knows and the database lacks; refuse a
    /// database whose schema is newer than this release.
    fn migrate(&self) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATE_LOCK])
            .map_err(error)?;
        let res = self.migrate_locked(&mut c);
        let unlocked = c.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATE_LOCK]);
        res?;
        unlocked.map_err(error)?;
        Ok(())
    }

    fn migrate_locked(&self, c: &mut Session) -> Result<(), StoreError> {
        c.batch(
            "CREATE TABLE IF NOT EXISTS baton_schema (
                version integer PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .map_err(error)?;
        let rows = c
            .query("SELECT coalesce(max(version), 0) FROM baton_schema", &[])
            .map_err(error)?;
        let found: i32 = rows.first().map_or(0, |r| r.get(0));
        let known = MIGRATIONS.last().map_or(0, |m| m.0);
        if found > known {
            return Err(StoreError::Storage(format!(
                "the PostgreSQL database {} has schema version {found}, newer than this release knows ({known}): run the release that wrote it, or a newer one",
                self.shown
            )));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|m| m.0 > found) {
            let applied = c.begin().and_then(|_| {
                c.batch(sql)?;
                c.execute("INSERT INTO baton_schema (version) VALUES ($1)", &[version])?;
                c.commit()
            });
            if let Err(e) = applied {
                c.rollback();
                return Err(StoreError::Storage(format!(
                    "the PostgreSQL schema migration {version} failed: {e}"
                )));
            }
            tracing::info!(version, "applied a PostgreSQL schema migration");
        }
        Ok(())
    }
}

/// A cluster-wide lock held (see `Pg::lock`).
pub(crate) struct Locked<'a> {
    conn: Option<Conn<'a>>,
    key: i64,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let key = self.key;
            let unlocked =
                off_runtime(|| c.execute("SELECT pg_advisory_unlock($1)", &[&key]).is_ok());
            if !unlocked {
                // The lock dies with its session: close the connection.
                c.session.take();
            }
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:…@host/db`.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:…@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// A range of keys read page by page, from either end (see `space::Scan`).
pub(crate) struct PgScan {
    pg: std::sync::Arc<Pg>,
    /// Keys not yet fetched lie strictly inside these bounds (at first, the range
    /// asked for).
    lo: Bound<Vec<u8>>,
    hi: Bound<Vec<u8>>,
    front: std::collections::VecDeque<Row>,
    back: std::collections::VecDeque<Row>,
    /// Nothing is left to fetch between `lo` and `hi`.
    done: bool,
    page: i64,
}

impl PgScan {
    pub fn new(pg: std::sync::Arc<Pg>, lo: Bound<Vec<u8>>, hi: Bound<Vec<u8>>) -> PgScan {
        PgScan {
            pg,
            lo,
            hi,
            front: Default::default(),
            back: Default::default(),
            done: false,
            // Small at first: most scans stop after a few records.
            page: 16,
        }
    }

    fn fetch(&mut self, desc: bool) -> Result<(), StoreError> {
        if self.done {
            return Ok(());
        }
        let rows = self.pg.range(&self.lo, &self.hi, desc, self.page)?;
        if (rows.len() as i64) < self.page {
            self.done = true;
        }
        self.page = (self.page * 4).min(1024);
        if let Some((k, _)) = rows.last() {
            if desc {
                self.hi = Bound::Excluded(k.clone());
            } else {
                self.lo = Bound::Excluded(k.clone());
            }
        }
        if desc {
            self.back.extend(rows);
        } else {
            self.front.extend(rows);
        }
        Ok(())
    }

    pub fn next_front(&mut self) -> Option<Result<Row, StoreError>> {
        if self.front.is_empty() {
            if let Err(e) = self.fetch(false) {
                self.done = true;
                return Some(Err(e));
            }
        }
        // What the other end fetched and has not yet given comes last.
        self.front
            .pop_front()
            .or_else(|| self.back.pop_back())
            .map(Ok)
    }

    pub fn next_back(&mut self) -> Option<Result<Row, StoreError>> {
        if self.back.is_empty() {
            if let Err(e) = self.fetch(true) {
                self.done = true;
                return Some(Err(e));
            }
        }
        self.back
            .pop_front()
            .or_else(|| self.front.pop_back())
            .map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_stay_out_of_messages() {
        assert_eq!(
            hide_password("postgres://baton:s3cret@db.example/baton"),
            "postgres://baton:…@db.example/baton"
        );
        assert_eq!(
            hide_password("postgres://127.0.0.1/test"),
            "postgres://127.0.0.1/test"
        );
    }

    #[test]
    fn addresses_tell_postgres_from_folders() {
        assert!(is_postgres("postgres://127.0.0.1/test"));
        assert!(is_postgres("postgresql://h/db"));
        assert!(!is_postgres("baton-data"));
    }
}

/// Fresh PostgreSQL databases for tests, on the server named by
/// `BATON_TEST_POSTGRES` (for example `postgres://root@127.0.0.1/postgres`): each
/// test gets a database of its own, dropped when it ends. Without the variable,
/// tests that need one are skipped with a line saying how to run them, except where
/// `CI` is set: there a missing database fails them.
#[doc(hidden)]
pub mod testing {
    use postgres::{Client, NoTls};
    use std::sync::atomic::{AtomicU32, Ordering};

    pub const VAR: &str = "BATON_TEST_POSTGRES";

    /// A database made for one test.
    pub struct TestDb {
        admin: String,
        name: String,
        pub url: String,
    }

    static COUNT: AtomicU32 = AtomicU32::new(0);

    /// A new empty database, or `None` (skipped) without `BATON_TEST_POSTGRES`.
    pub fn database(test: &str) -> Option<TestDb> {
        let admin = match std::env::var(VAR) {
            Ok(a) if !a.is_empty() => a,
            _ => {
                if std::env::var_os("CI").is_some() {
                    panic!(
                        "{test}: CI is set but {VAR} is not: the PostgreSQL tests must run in CI"
                    );
                }
                eprintln!(
                    "{test}: not run on PostgreSQL; to run it, set {VAR}=postgres://USER@HOST/DB (a server where USER may create databases)"
                );
                return None;
            }
        };
        let name = format!(
            "baton_test_{}_{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::SeqCst)
        );
        super::off_runtime(|| {
            let mut c = Client::connect(&admin, NoTls)
                .unwrap_or_else(|e| panic!("{test}: cannot reach {VAR}={admin}: {e}"));
            // One statement per query: neither runs inside a transaction block.
            for sql in [
                format!("DROP DATABASE IF EXISTS {name}"),
                format!("CREATE DATABASE {name}"),
            ] {
                c.batch_execute(&sql).unwrap_or_else(|e| {
                    panic!(
                        "{test}: cannot create a database on {admin}: {}",
                        super::describe(&e)
                    )
                });
            }
        });
        let url = with_database(&admin, &name);
        Some(TestDb { admin, name, url })
    }

    /// `admin`'s address with its database replaced by `name`.
    fn with_database(admin: &str, name: &str) -> String {
        let (base, query) = match admin.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin, String::new()),
        };
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let host_and_db = &base[scheme_end..];
        let host = match host_and_db.find('/') {
            Some(i) => &host_and_db[..i],
            None => host_and_db,
        };
        format!("{}{host}/{name}{query}", &base[..scheme_end])
    }

    impl Drop for TestDb {
        fn drop(&mut self) {
            let (admin, name) = (self.admin.clone(), self.name.clone());
            super::off_runtime(move || {
                if let Ok(mut c) = Client::connect(&admin, NoTls) {
                    let _ =
                        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            });
        }
    }

    #[cfg(test)]
    #[test]
    fn a_test_database_replaces_the_database_of_the_address() {
        assert_eq!(
            with_database("postgres://root@127.0.0.1:5432/postgres", "t1"),
            "postgres://root@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2"),
            "postgres://u:p@h/t2?sslmode=disable"
        );
    }
}
