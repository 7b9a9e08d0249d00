//! `baton serve`: the one command that runs everything on the embedded default —
//! deploys `processes/`, watches it, fires timers and scheduled starts, hands
//! notifications on, and (unless `--no-http`) serves the HTTP API.

use crate::exit::Code;
use baton_engine::config::Config;
use baton_engine::scheduler::{self, SchedulerConfig};
use baton_engine::store::prelude::*;
use baton_engine::store::StoreError;
use baton_engine::{clock::SystemClock, Engine};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

#[derive(clap::Args, Clone)]
pub struct ServeArgs {
    /// Definitions (`*.flow`) and the staff directory (`staff.ron`) to deploy and watch.
    #[arg(long, default_value = "processes")]
    pub dir: PathBuf,
    /// Where to listen for HTTP.
    #[arg(long, default_value = "127.0.0.1:8080", env = "BATON_ADDR")]
    pub addr: String,
    /// Run only the scheduler (a headless daemon).
    #[arg(long)]
    pub no_http: bool,
    /// The company configuration (zone, calendar, webhooks); default DIR/baton.ron.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

fn load_config(args: &ServeArgs) -> Result<Config, String> {
    let path = args
        .config
        .clone()
        .unwrap_or_else(|| args.dir.join("baton.ron"));
    if !path.exists() {
        if args.config.is_some() {
            return Err(format!("{}: no such file", path.display()));
        }
        return Ok(Config::default());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Config::from_ron(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Deploy the folder, logging each file's result; a broken file keeps the running
/// version and says why. The staff directory's result is logged as `staff_done`
/// ("loaded" at start, "reloaded" when the watcher sees staff.ron change, `None`
/// otherwise); a refused one keeps the running directory, and the definitions are
/// deployed all the same.
fn deploy(engine: &Engine, dir: &Path, staff_done: Option<&str>) {
    let staff = dir.join("staff.ron");
    match engine.deploy_staff(dir) {
        Ok(Some(people)) => {
            if let Some(done) = staff_done {
                tracing::info!(file = %staff.display(), "staff directory {done}: {people} people")
            }
        }
        Ok(None) => {}
        Err(e) => tracing::error!(
            file = %staff.display(),
            "staff directory not reloaded; the running one stays: {e}"
        ),
    }
    match engine.deploy_definitions(dir) {
        Ok(reports) => {
            for r in reports {
                match r.result {
                    Ok((name, baton_engine::store::Deployed::New { version })) => {
                        tracing::info!(file = %r.file, "deployed {name} version {version}")
                    }
                    Ok(_) => {}
                    Err(StoreError::Definition(diags)) => {
                        let src = std::fs::read_to_string(&r.file).unwrap_or_default();
                        let text: Vec<String> = diags.iter().map(|d| d.render(&src)).collect();
                        tracing::error!(file = %r.file, "not deployed; the running version stays:\n{}", text.join("\n"));
                    }
                    Err(e) => tracing::error!(file = %r.file, "not deployed: {e}"),
                }
            }
        }
        Err(e) => tracing::error!("cannot deploy {}: {e}", dir.display()),
    }
}

/// The file `baton serve` writes the first admin's token to, in the database folder.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// On a database with no tokens at all (new, or every token revoked), issue one for
/// the first person of the staff directory with the admin role and write it to
/// `<db>/admin.token`, readable by this user only, like `vault server -dev`'s root
/// token: that is how the first admin gets in while the server owns the database.
/// The log says where the token is, never the token.
fn bootstrap_admin_token(engine: &Engine, db: &Path) {
    let role = engine.store.admin_role.clone();
    let (person, token) = match baton_engine::tokens::issue_first(
        &engine.store,
        &role,
        engine.clock.now(),
    ) {
        Ok(Some(first)) => first,
        Ok(None) => {
            if baton_engine::tokens::first_with_role(&*engine.store, &role).is_none()
                && matches!(baton_engine::tokens::none_issued(&*engine.store), Ok(true))
            {
                tracing::warn!(
                        "no tokens, and nobody in the staff directory has the `{role}` role: give it to \
                         someone in staff.ron to get the first token"
                    );
            }
            return;
        }
        Err(e) => {
            tracing::error!("cannot issue the first admin token: {e}");
            return;
        }
    };
    // With PostgreSQL there is no folder of the database: the file is written
    // where the node was started.
    let path = if engine.store.is_shared() {
        std::path::PathBuf::from(ADMIN_TOKEN_FILE)
    } else {
        db.join(ADMIN_TOKEN_FILE)
    };
    match write_secret(&path, &format!("{token}\n")) {
        Ok(()) => tracing::info!(
            "no tokens yet: issued one for {person} (role `{role}`) in {}; with it as \
             BATON_TOKEN, `baton token issue PERSON --server URL` issues the others",
            path.display()
        ),
        Err(e) => {
            // Nobody could ever use it: take it back.
            let _ = baton_engine::tokens::revoke(&*engine.store, &token);
            tracing::error!("cannot write {}: {e}; no token issued", path.display());
        }
    }
}

/// Write a file only its owner may read (mode 0600 on Unix, whatever it was before).
fn write_secret(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    // `mode` applies only to a new file; an old one keeps its own unless told.
    #[cfg(unix)]
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// What the folder looks like: each file's modification time and size.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (SystemTime, u64)> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), (m.modified().ok()?, m.len())))
        })
        .filter(|(p, _)| p.extension().is_some_and(|x| x == "flow" || x == "ron"))
        .collect()
}

/// The first SIGINT or SIGTERM. The handlers are installed when this is called, not
/// when it is first awaited: a signal that arrives once the server says it listens
/// must already stop it gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (int, term) = {
        use tokio::signal::unix::{signal, SignalKind};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(int) => {},
                _ = wait(term) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down: finishing what is in flight");
    }
}

pub fn run(args: ServeArgs, db: &Path) -> Code {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BATON_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    let opts = match config.options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Usage;
        }
    };
    // Webhooks (with `--no-http` too) and the API write times with the company's offset.
    baton_dsl::zone::set_json_zone(opts.zone);
    let engine = match Engine::open(db, opts, Arc::new(SystemClock)) {
        Ok(e) => Arc::new(e),
        // A damaged database's refusal names the folder already.
        Err(e @ StoreError::Damaged { .. }) => {
            eprintln!("error: {e}");
            return Code::Storage;
        }
        Err(e) => {
            eprintln!("error: {}: {e}", super::staff::shown(db));
            return Code::Storage;
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return Code::Storage;
        }
    };
    rt.block_on(serve(engine, args, config, db.to_path_buf()))
}

async fn serve(engine: Arc<Engine>, args: ServeArgs, config: Config, db: PathBuf) -> Code {
    // What the folder looked like before the first deployment: a file changed from
    // then on is deployed again, even while the watcher is still being started.
    let mut seen = fingerprint(&args.dir);
    {
        let (e, dir, http, db) = (engine.clone(), args.dir.clone(), !args.no_http, db.clone());
        let _ = tokio::task::spawn_blocking(move || {
            deploy(&e, &dir, Some("loaded"));
            // After the staff directory is deployed, before anyone can connect.
            if http {
                bootstrap_admin_token(&e, &db);
            }
        })
        .await;
    }
    tracing::info!(
        db = %super::staff::shown(&db),
        db_bytes = engine.store.size_on_disk(),
        zone = %engine.store.zone,
        "Baton is running on {}",
        args.dir.display()
    );
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    // Redeploy a file when it changes. The folder is small and this runs once a
    // second, apart from the scheduler, which never polls.
    let watcher = {
        let (e, dir, rx) = (engine.clone(), args.dir.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            let stop = stopped(rx);
            tokio::pin!(stop);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = &mut stop => return,
                }
                let now = fingerprint(&dir);
                if now != seen {
                    let staff = dir.join("staff.ron");
                    let staff_changed = now.get(&staff) != seen.get(&staff);
                    seen = now;
                    let (engine, folder) = (e.clone(), dir.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        deploy(&engine, &folder, staff_changed.then_some("reloaded"))
                    })
                    .await;
                    e.wake.notify_one();
                }
            }
        })
    };

    let sched = tokio::spawn(scheduler::run(
        engine.clone(),
        SchedulerConfig {
            webhooks: config.webhooks.clone(),
            delivery: config.delivery.clone(),
        },
        stopped(stop_rx.clone()),
    ));

    let shutdown = shutdown_signal();
    let http = if args.no_http {
        None
    } else {
        match crate::cmd::http::start(
            engine.clone(),
            &config.web,
            &args.addr,
            stopped(stop_rx.clone()),
        )
        .await
        {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.addr);
                let _ = stop_tx.send(true);
                return Code::Usage;
            }
        }
    };

    shutdown.await;
    let _ = stop_tx.send(true);
    if let Some(h) = http {
        let _ = h.await;
    }
    let _ = sched.await;
    let _ = watcher.await;
    let durable = {
        let e = engine.clone();
        tokio::task::spawn_blocking(move || e.store.durable()).await
    };
    if !matches!(durable, Ok(Ok(()))) {
        return Code::Storage;
    }
    // Everything is on disk. Close the database and checkpoint it, so that the next
    // start does not replay all that this run wrote. A connection that just ended
    // may still be letting go of its handle: give it a moment, no more.
    for _ in 0..200 {
        if Arc::strong_count(&engine) == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    match Arc::try_unwrap(engine) {
        // PostgreSQL keeps its own files; nothing to checkpoint.
        Ok(engine) if engine.store.is_shared() => drop(engine),
        Ok(engine) => {
            drop(engine);
            let t0 = std::time::Instant::now();
            match tokio::task::spawn_blocking(move || baton_engine::store::checkpoint(&db)).await {
                Ok(Ok(())) => {
                    tracing::info!(ms = t0.elapsed().as_millis() as u64, "checkpointed")
                }
                Ok(Err(e)) => tracing::warn!("checkpoint skipped: {e}"),
                Err(e) => tracing::warn!("checkpoint skipped: {e}"),
            }
        }
        Err(_) => tracing::warn!("checkpoint skipped: the database is still in use"),
    }
    tracing::info!("stopped cleanly");
    Code::Ok
}
