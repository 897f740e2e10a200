//! The order of the writes of one flush round (semantics §4): inserts parents first by
//! foreign key, then updates, then deletes children first; staging order within each group.

use std::collections::HashMap;

use super::staging::{Entry, Stagings};
use crate::event::Operation;
use crate::schema::TableDef;
use crate::value::Key;

/// Depth of a table in the foreign-key graph: 0 for a table that references nothing.
fn fk_depth(t: &'static TableDef, path: &mut Vec<*const TableDef>) -> usize {
    let mut depth = 0;
    path.push(t);
    for c in t.columns {
        if let Some(fk) = c.references {
            let parent = (fk.table)();
            if path.contains(&(parent as *const TableDef)) {
                continue;
            }
            depth = depth.max(1 + fk_depth(parent, path));
        }
    }
    path.pop();
    depth
}

/// The columns of `t` that reference `t` itself.
fn self_references(t: &'static TableDef) -> impl Iterator<Item = usize> {
    t.columns
        .iter()
        .enumerate()
        .filter(move |(_, c)| c.references.is_some_and(|fk| std::ptr::eq((fk.table)(), t)))
        .map(|(i, _)| i)
}

/// Order one round. Rows of a table that references itself are also ordered by those
/// references (parents inserted first, children deleted first).
pub(crate) fn order_round(round: &mut Vec<Entry>, s: &Stagings<'_>) {
    let Some(&first) = round.first() else {
        return;
    };
    let first_op = s.operation(first);
    // One queue, and one operation: known from the queue when all its writes share it.
    let homogeneous = round.iter().all(|e| e.kept == first.kept && e.queue == first.queue)
        && (s.single_operation(first) == Some(first_op) || round.iter().all(|e| s.operation(*e) == first_op));
    let self_referencing = s.table(first).is_some_and(|t| self_references(t).next().is_some());
    if homogeneous && (first_op == Operation::Update || !self_referencing) {
        return;
    }
    let mut depths: Vec<(*const TableDef, i64)> = Vec::new();
    let mut keyed: Vec<((u8, i64), Entry)> = round
        .iter()
        .map(|&e| {
            let d = match s.table(e) {
                None => 0,
                Some(t) => match depths.iter().find(|(p, _)| std::ptr::eq(*p, t)) {
                    Some((_, d)) => *d,
                    None => {
                        let d = fk_depth(t, &mut Vec::new()) as i64;
                        depths.push((t, d));
                        d
                    }
                },
            };
            let key = match s.operation(e) {
                Operation::Insert => (0, d),
                Operation::Update => (1, 0),
                Operation::Delete => (2, -d),
            };
            (key, e)
        })
        .collect();
    // A stable sort: staging order within each group.
    keyed.sort_by_key(|(k, _)| *k);
    round.clear();
    round.extend(keyed.into_iter().map(|(_, e)| e));
    order_self_referencing(round, s);
}

/// For every (insert or delete, self-referencing table) in the round, reorder its rows among
/// the positions they hold, by their references; other rows keep their places.
fn order_self_referencing(round: &mut [Entry], s: &Stagings<'_>) {
    let mut groups: Vec<(Operation, *const TableDef, Vec<usize>)> = Vec::new();
    for (i, &e) in round.iter().enumerate() {
        let (o, Some(t)) = (s.operation(e), s.table(e)) else {
            continue;
        };
        if o == Operation::Update || self_references(t).next().is_none() {
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == o && std::ptr::eq(g.1, t)) {
            Some(g) => g.2.push(i),
            None => groups.push((o, t, vec![i])),
        }
    }
    for (operation, _, positions) in groups {
        if positions.len() < 2 {
            continue;
        }
        let group: Vec<Entry> = positions.iter().map(|&p| round[p]).collect();
        let order = dependency_order(&group, s, operation);
        for (&pos, k) in positions.iter().zip(order) {
            round[pos] = group[k];
        }
    }
}

/// Indexes of `group` in dependency order: for inserts a referenced row before the rows that
/// reference it, for deletes after them; otherwise staging order. Iterative, so that a long
/// chain cannot exhaust the stack; a cycle is left to the database.
fn dependency_order(group: &[Entry], s: &Stagings<'_>, operation: Operation) -> Vec<usize> {
    let Some(t) = s.table(group[0]) else {
        return (0..group.len()).collect();
    };
    let cols: Vec<usize> = self_references(t).collect();
    let value = |e: Entry, column: Option<usize>| match (s.queue(e), column) {
        (Some(q), Some(c)) => q.column_value(e.index, c),
        (Some(q), None) => q.key_value(e.index),
        (None, _) => crate::value::Value::Null,
    };
    let keys: HashMap<Key, usize> = group
        .iter()
        .enumerate()
        .map(|(i, &e)| (Key::from_value(&value(e, None)), i))
        .collect();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); group.len()];
    for (i, &e) in group.iter().enumerate() {
        for &c in &cols {
            let v = value(e, Some(c));
            if v.is_null() {
                continue;
            }
            if let Some(&j) = keys.get(&Key::from_value(&v)) {
                if j != i {
                    parents[i].push(j);
                }
            }
        }
    }
    // Edges to follow first: parents for inserts, children for deletes.
    let before = if operation == Operation::Insert {
        parents
    } else {
        let mut children = vec![Vec::new(); group.len()];
        for (i, ps) in parents.iter().enumerate() {
            for &p in ps {
                children[p].push(i);
            }
        }
        children
    };
    let mut order = Vec::with_capacity(group.len());
    let mut state = vec![0u8; group.len()]; // 0 new, 1 on the stack, 2 placed
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..group.len() {
        if state[start] != 0 {
            continue;
        }
        state[start] = 1;
        stack.push((start, 0));
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = before[node].get(*next) {
                *next += 1;
                if state[dep] == 0 {
                    state[dep] = 1;
                    stack.push((dep, 0));
                }
            } else {
                state[node] = 2;
                order.push(node);
                stack.pop();
            }
        }
    }
    order
}
