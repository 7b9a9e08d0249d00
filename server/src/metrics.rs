//! `/metrics` in Prometheus' text format: the engine's counters (instances started,
//! tasks completed, timers fired, deliveries failed: counted by the engine, so that
//! work done by the scheduler and the delivery worker counts too), the open
//! incidents (a gauge, from the database) and the server's
//! own requests, by route, with their latency.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The HTTP side of the metrics.
#[derive(Default)]
pub struct HttpMetrics {
    /// (method, route) -> latency; routes are templates (`/tasks/{id}/claim`), so
    /// the label set stays small whatever ids are asked for.
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    /// (method, route, status) -> requests.
    responses: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl HttpMetrics {
    pub fn new() -> HttpMetrics {
        HttpMetrics::default()
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        let secs = took.as_secs_f64();
        {
            let mut m = self.latency.lock().unwrap_or_else(|e| e.into_inner());
            let h = m
                .entry((method.to_string(), route.to_string()))
                .or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
        let mut r = self.responses.lock().unwrap_or_else(|e| e.into_inner());
        *r.entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
    }

    /// The whole `/metrics` page: the engine's counters, then the requests.
    pub fn render(
        &self,
        engine: &baton_engine::Metrics,
        incidents: Option<usize>,
        store_healthy: bool,
    ) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        };
        counter(
            &mut out,
            "baton_instances_started_total",
            "Instances started (by people and by parent instances).",
            &engine.instances_started,
        );
        counter(
            &mut out,
            "baton_tasks_completed_total",
            "Tasks completed.",
            &engine.tasks_completed,
        );
        counter(
            &mut out,
            "baton_timers_fired_total",
            "Timers fired by the scheduler.",
            &engine.timers_fired,
        );
        counter(
            &mut out,
            "baton_deliveries_failed_total",
            "Notification deliveries that failed.",
            &engine.deliveries_failed,
        );
        {
            let name = "baton_store_healthy";
            let _ = writeln!(
                out,
                "# HELP {name} 1 while the store writes; 0 once a write or flush failed and every write is refused, until the disk takes writes again."
            );
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {}", u8::from(store_healthy));
        }
        // Left out, rather than shown as 0, if the database could not be read.
        if let Some(n) = incidents {
            let name = "baton_incidents_open";
            let _ = writeln!(
                out,
                "# HELP {name} Instances that cannot go on by themselves and wait for an admin."
            );
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP baton_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE baton_http_requests_total counter");
        for ((method, route, status), n) in self
            .responses
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "baton_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let name = "baton_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to answer an HTTP request (commands include making the change durable)."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        let hists = self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for ((method, route), h) in hists {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(&route));
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {}", h.counts[i]);
            }
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
