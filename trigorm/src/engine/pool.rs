//! The engine's pool of connections: sessions take one and give it back when dropped.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::driver::Driver;
use crate::error::{Error, Result};
use crate::session::PooledConn;

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
        let lock_err = || Error::Usage("the connection pool's lock is poisoned".into());
        let mut st = self.state.lock().map_err(|_| lock_err())?;
        loop {
            if let Some(c) = st.idle.pop() {
                return Ok(c);
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match driver.connect() {
                    Ok(c) => Ok(PooledConn::new(c)),
                    Err(e) => {
                        if let Ok(mut st) = self.state.lock() {
                            st.open -= 1;
                        }
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

    /// Give a connection back. One still in a transaction (a failed ROLLBACK) is rolled
    /// back, or closed if that fails too: it would hold the write lock.
    pub(crate) fn release(&self, mut pooled: PooledConn, database: &str) {
        let healthy = !pooled.conn.in_transaction() || pooled.conn.rollback().is_ok();
        if let Ok(mut st) = self.state.lock() {
            if healthy && !pooled.conn.in_transaction() {
                st.idle.push(pooled);
            } else {
                tracing::warn!(database, "closing a connection left in a transaction");
                st.open -= 1;
            }
        }
        self.freed.notify_one();
    }
}
