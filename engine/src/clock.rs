//! Time comes only through a `Clock`: the system clock in production, a manual
//! clock in tests, so that a 24-hour deadline is tested in microseconds. The
//! scheduler sleeps through the clock too, so a test moves time and the scheduler
//! wakes, without waiting in real time.

use chrono::{DateTime, Utc};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Resolves once the clock reads `t` or later.
    fn sleep_until(&self, t: DateTime<Utc>) -> Sleep;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep_until(&self, t: DateTime<Utc>) -> Sleep {
        let wait = (t - Utc::now()).to_std().unwrap_or_default();
        Box::pin(tokio::time::sleep(wait))
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<(Mutex<DateTime<Utc>>, Notify)>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new((Mutex::new(at), Notify::new())))
    }
    pub fn advance(&self, by: chrono::Duration) {
        {
            let mut t = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
            *t += by;
        }
        self.0 .1.notify_waiters();
    }
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0 .0.lock().unwrap_or_else(|e| e.into_inner()) = at;
        self.0 .1.notify_waiters();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0 .0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn sleep_until(&self, t: DateTime<Utc>) -> Sleep {
        let me = self.clone();
        Box::pin(async move {
            loop {
                // Register before reading the time, so an advance in between is seen.
                let notified = me.0 .1.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if me.now() >= t {
                    return;
                }
                notified.await;
            }
        })
    }
}
