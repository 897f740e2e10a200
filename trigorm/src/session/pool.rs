//! The pool of an engine's connections: sessions take one and give it back when dropped.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::PooledConn;
use crate::driver::Driver;
use crate::error::{Error, Result};

pub(crate) struct Pool {
    state: Mutex<PoolState>,
    freed: Condvar,
    max: usize,
    timeout: Duration,
}

struct PoolState {
    idle: Vec<PooledConn>,
    open: usize,
}

impl Pool {
    /// A pool holding one open connection, growing to `max`.
    pub(crate) fn new(first: PooledConn, max: usize, timeout: Duration) -> Pool {
        Pool {
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
            max,
            timeout,
        }
    }

    /// An idle connection, a new one while fewer than `max` are open, or wait for one.
    pub(crate) fn acquire(&self, driver: &dyn Driver) -> Result<PooledConn> {
        let start = Instant::now();
        let lock_err = || Error::Internal("the connection pool's lock is poisoned".into());
        let mut st = self.state.lock().map_err(|_| lock_err())?;
        loop {
            while let Some(c) = st.idle.pop() {
                if !c.conn.is_broken() {
                    return Ok(c);
                }
                // The server closed it while it was idle: open another in its place.
                st.open -= 1;
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match driver.connect().map_err(|source| Error::Open {
                    path: driver.database().to_string(),
                    source: Box::new(source),
                }) {
                    Ok(c) => Ok(PooledConn::new(c)),
                    Err(e) => {
                        if let Ok(mut st) = self.state.lock() {
                            st.open -= 1;
                        }
                        // A waiting session may open one in its place.
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let waited = start.elapsed();
            if waited >= self.timeout {
                return Err(Error::PoolTimeout {
                    database: driver.database().to_string(),
                    waited_ms: waited.as_millis(),
                });
            }
            st = self
                .freed
                .wait_timeout(st, self.timeout - waited)
                .map_err(|_| lock_err())?
                .0;
        }
    }

    /// Give a connection back, carrying nothing of the session (semantics §9). One still
    /// in a transaction (a failed ROLLBACK) is rolled back; one on which raw SQL ran is
    /// reset ([`Connection::reset`](crate::driver::Connection::reset)); one that is
    /// broken, or that cannot be made clean, is closed.
    pub(crate) fn release(&self, mut pooled: PooledConn, database: &str) {
        let mut healthy = !pooled.conn.is_broken();
        if healthy && pooled.conn.in_transaction() {
            healthy = pooled.conn.rollback().is_ok() && !pooled.conn.in_transaction();
        }
        if healthy && pooled.state.raw {
            healthy = pooled.conn.reset().is_ok();
            pooled.state.raw = false;
        }
        pooled.state.aborted = false;
        if let Ok(mut st) = self.state.lock() {
            if healthy {
                st.idle.push(pooled);
            } else {
                tracing::warn!(database, "closing a connection that is broken or could not be reset");
                st.open -= 1;
            }
        }
        self.freed.notify_one();
    }
}
