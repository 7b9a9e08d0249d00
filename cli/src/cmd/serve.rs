//! `baton serve`: the one command that runs everything on the embedded default —
//! deploys `processes/`, watches it, fires timers and scheduled starts, hands
//! notifications on, and (unless `--no-http`) serves the HTTP API.

use crate::exit::Code;
use baton_engine::config::Config;
use baton_engine::scheduler::{self, SchedulerConfig};
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
/// version and says why.
fn deploy(engine: &Engine, dir: &Path) {
    match engine.deploy_dir(dir) {
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing what is in flight");
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
    let engine = match Engine::open(db, opts, Arc::new(SystemClock)) {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("error: {}: {e}", db.display());
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
    rt.block_on(serve(engine, args, config))
}

async fn serve(engine: Arc<Engine>, args: ServeArgs, config: Config) -> Code {
    {
        let (e, dir) = (engine.clone(), args.dir.clone());
        let _ = tokio::task::spawn_blocking(move || deploy(&e, &dir)).await;
    }
    tracing::info!(
        db = ?engine.store.size_on_disk(),
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
            let mut seen = fingerprint(&dir);
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
                    seen = now;
                    let (engine, folder) = (e.clone(), dir.clone());
                    let _ = tokio::task::spawn_blocking(move || deploy(&engine, &folder)).await;
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

    let http = if args.no_http {
        None
    } else {
        match crate::cmd::http::start(engine.clone(), &args.addr, stopped(stop_rx.clone())).await {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.addr);
                let _ = stop_tx.send(true);
                return Code::Usage;
            }
        }
    };

    shutdown_signal().await;
    let _ = stop_tx.send(true);
    if let Some(h) = http {
        let _ = h.await;
    }
    let _ = sched.await;
    let _ = watcher.await;
    match tokio::task::spawn_blocking(move || engine.store.durable()).await {
        Ok(Ok(())) => {
            tracing::info!("stopped cleanly");
            Code::Ok
        }
        _ => Code::Storage,
    }
}
