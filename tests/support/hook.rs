//! A webhook receiver in the test process: plain HTTP/1.1 on a thread per
//! connection, recording each POST (its `Idempotency-Key` and body) as it arrives,
//! and answering 200 after a delay the test chooses (to hold a request in flight
//! while the server is stopped or killed).

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// One POST as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub key: String,
    /// The body's `id`: the message id.
    pub id: u64,
    pub body: Value,
}

/// How long to hold a request before answering: given the message id and whether
/// it is the first request for that id.
pub type Hold = dyn Fn(u64, bool) -> Duration + Send + Sync;

#[derive(Default)]
struct Seen {
    arrivals: Vec<Arrival>,
    ids: HashSet<u64>,
    /// Requests arrived and not yet answered.
    in_flight: usize,
}

pub struct Hook {
    pub url: String,
    seen: Arc<(Mutex<Seen>, Condvar)>,
}

impl Hook {
    pub fn start(hold: impl Fn(u64, bool) -> Duration + Send + Sync + 'static) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("the receiver's address")
        );
        let seen: Arc<(Mutex<Seen>, Condvar)> = Arc::default();
        let hold: Arc<Hold> = Arc::new(hold);
        let shared = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().map_while(Result::ok) {
                let (seen, hold) = (shared.clone(), hold.clone());
                std::thread::spawn(move || serve(conn, &seen, &*hold));
            }
        });
        Hook { url, seen }
    }

    /// How many requests are being held right now.
    pub fn in_flight(&self) -> usize {
        self.seen.0.lock().expect("arrivals").in_flight
    }

    pub fn arrivals(&self) -> Vec<Arrival> {
        self.seen.0.lock().expect("arrivals").arrivals.clone()
    }

    /// Wait until `done` holds for the arrivals, at most `timeout`; whether it did.
    pub fn wait_until(&self, timeout: Duration, done: impl Fn(&[Arrival]) -> bool) -> bool {
        let end = Instant::now() + timeout;
        let (lock, cv) = &*self.seen;
        let mut seen = lock.lock().expect("arrivals");
        loop {
            if done(&seen.arrivals) {
                return true;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            seen = cv.wait_timeout(seen, left).expect("arrivals").0;
        }
    }
}

/// Requests on one connection until it closes.
fn serve(conn: TcpStream, seen: &(Mutex<Seen>, Condvar), hold: &Hold) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    let mut r = BufReader::new(conn);
    loop {
        let mut length = 0usize;
        let mut key = String::new();
        let mut line = String::new();
        // The request line, then headers up to the blank line.
        let mut first = true;
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if l.is_empty() && !first {
                break;
            }
            first = false;
            if let Some((name, value)) = l.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("idempotency-key") {
                    key = value.to_string();
                }
            }
        }
        let mut body = vec![0; length];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let id = body["id"].as_u64().unwrap_or(0);
        let is_first = {
            let (lock, cv) = seen;
            let mut s = lock.lock().expect("arrivals");
            s.arrivals.push(Arrival { key, id, body });
            let first = s.ids.insert(id);
            s.in_flight += 1;
            cv.notify_all();
            first
        };
        std::thread::sleep(hold(id, is_first));
        let answered = out.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        seen.0.lock().expect("arrivals").in_flight -= 1;
        if answered.is_err() {
            return;
        }
    }
}
