//! Starting the HTTP API inside `baton serve`.

use baton_engine::Engine;
use std::future::Future;
use std::sync::Arc;

/// Bind `addr` and serve until `shutdown`; requests in flight finish first.
pub async fn start(
    engine: Arc<Engine>,
    web: &baton_engine::config::WebConfig,
    addr: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("HTTP API on http://{}", listener.local_addr()?);
    let state = baton_server::AppState::new(engine).with_web(baton_server::web::Settings {
        idle: chrono::Duration::minutes(i64::from(web.session_idle_minutes)),
        trusted_proxy: web.trusted_proxy,
        managers: web.managers.clone(),
    });
    Ok(tokio::spawn(async move {
        if let Err(e) = baton_server::serve(state, listener, shutdown).await {
            tracing::error!("HTTP API stopped: {e}");
        }
    }))
}
