//! The rounds of a flush: each round's writes in order, then the writes its listeners
//! staged, round after round up to the engine's bound; and the flush listeners.

use super::conn::Conn;
use super::ops::FlushCx;
use super::staging::{Entry, Stagings};
use super::Shared;
use super::{order, ListenerCtx, State};
use crate::error::{Error, Result};
use crate::event::{FlushEvent, Operation};

pub(super) fn run_flush_listeners(conn: &mut Conn<'_>, st: &mut State, eng: &Shared, event: FlushEvent) -> Result<()> {
    for l in eng.registry.flush_listeners(event) {
        let may_stage = event != FlushEvent::AfterFlush;
        let mut ctx = ListenerCtx::new(
            &mut *conn,
            &mut st.identity,
            &mut st.derived,
            &mut st.after_commit,
            may_stage,
        );
        let r = (l.f)(&mut ctx);
        let refused = ctx.staging_refused.filter(|s| !s.is_empty());
        let name = match event {
            FlushEvent::BeforeFlush => "BeforeFlush",
            FlushEvent::AfterFlush => "AfterFlush",
        };
        r.map_err(|source| Error::SessionListener {
            listener: l.name.clone(),
            event: name,
            source,
        })?;
        if refused.is_some() {
            return Err(Error::StagedAfterFlush {
                listener: l.name.clone(),
            });
        }
    }
    Ok(())
}

/// Run `round` (entries of `st.staged` and `st.derived`), then round after round what its
/// listeners stage, up to the engine's bound; how many rows of the first round were written.
/// Derived writes are dropped as they are done (their buffers are kept).
pub(super) fn run_rounds(conn: &mut Conn<'_>, st: &mut State, eng: &Shared, round: &mut Vec<Entry>) -> Result<u64> {
    let r = run_rounds_inner(conn, st, eng, round);
    st.derived.clear();
    st.next.clear();
    r
}

fn run_rounds_inner(conn: &mut Conn<'_>, st: &mut State, eng: &Shared, round: &mut Vec<Entry>) -> Result<u64> {
    let mut rounds = 0;
    let mut first_round_written = 0;
    while !round.is_empty() {
        let stagings = Stagings {
            kept: &st.staged,
            derived: &st.derived,
        };
        if rounds == eng.max_flush_rounds {
            return Err(Error::FlushLoop {
                rounds,
                staged: describe(round, &stagings),
            });
        }
        rounds += 1;
        order::order_round(round, &stagings);
        let mut cx = FlushCx {
            conn: &mut *conn,
            registry: &eng.registry,
            identity: &mut st.identity,
            next: &mut st.next,
            after_commit: &mut st.after_commit,
        };
        // Consecutive writes of one queue run together (one lookup of their listeners).
        for run in round.chunk_by(|a, b| a.kept == b.kept && a.queue == b.queue) {
            let e = run[0];
            let staging = if e.kept { &mut st.staged } else { &mut st.derived };
            let Some(queue) = staging.queue_mut(e) else {
                return Err(Error::Internal("a staged write went missing".into()));
            };
            let written = queue.run(run, &mut cx)?;
            if rounds == 1 {
                first_round_written += written;
            }
        }
        // The next round: what this round's listeners staged.
        st.derived.clear();
        std::mem::swap(&mut st.derived, &mut st.next);
        round.clear();
        round.extend_from_slice(st.derived.order());
    }
    Ok(first_round_written)
}

fn describe(round: &[Entry], s: &Stagings<'_>) -> String {
    let mut counts: Vec<(&'static str, Operation, usize)> = Vec::new();
    for &e in round {
        let k = (s.table(e).map_or("?", |t| t.model), s.operation(e));
        match counts.iter_mut().find(|(m, o, _)| (*m, *o) == k) {
            Some(c) => c.2 += 1,
            None => counts.push((k.0, k.1, 1)),
        }
    }
    counts
        .iter()
        .map(|(m, o, n)| format!("{m} {} x{n}", o.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
