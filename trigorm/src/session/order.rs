//! The order of the writes of one flush round (semantics §4): inserts parents first by
//! foreign key, then updates, then deletes children first; staging order within each group.

use std::collections::HashMap;

use super::ops::{Op, StagedOp};
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
pub(crate) fn order_round(round: Vec<Op>) -> Vec<Op> {
    let Some(first) = round.first().map(|op| (op.operation(), op.table() as *const TableDef)) else {
        return round;
    };
    let homogeneous = round
        .iter()
        .all(|op| (op.operation(), op.table() as *const TableDef) == first);
    if homogeneous && (first.0 == Operation::Update || self_references(round[0].table()).next().is_none()) {
        return round;
    }
    let mut depths: Vec<(*const TableDef, i64)> = Vec::new();
    let mut keyed: Vec<((u8, i64), Op)> = round
        .into_iter()
        .map(|op| {
            let t = op.table();
            let d = match depths.iter().find(|(p, _)| std::ptr::eq(*p, t)) {
                Some((_, d)) => *d,
                None => {
                    let d = fk_depth(t, &mut Vec::new()) as i64;
                    depths.push((t, d));
                    d
                }
            };
            let key = match op.operation() {
                Operation::Insert => (0, d),
                Operation::Update => (1, 0),
                Operation::Delete => (2, -d),
            };
            (key, op)
        })
        .collect();
    // A stable sort: staging order within each group.
    keyed.sort_by_key(|(k, _)| *k);
    let mut ops: Vec<Op> = keyed.into_iter().map(|(_, op)| op).collect();
    order_self_referencing(&mut ops);
    ops
}

/// For every (insert or delete, self-referencing table) in the round, reorder its rows among
/// the positions they hold, by their references; other rows keep their places.
fn order_self_referencing(ops: &mut Vec<Op>) {
    let mut groups: Vec<(Operation, *const TableDef, Vec<usize>)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let (o, t) = (op.operation(), op.table());
        if o == Operation::Update || self_references(t).next().is_none() {
            continue;
        }
        match groups.iter_mut().find(|g| g.0 == o && std::ptr::eq(g.1, t)) {
            Some(g) => g.2.push(i),
            None => groups.push((o, t, vec![i])),
        }
    }
    if groups.is_empty() {
        return;
    }
    let mut slots: Vec<Option<Op>> = std::mem::take(ops).into_iter().map(Some).collect();
    for (operation, _, positions) in groups {
        if positions.len() < 2 {
            continue;
        }
        let group: Vec<&dyn StagedOp> = positions.iter().filter_map(|&p| slots[p].as_deref()).collect();
        let order = dependency_order(&group, operation);
        let mut taken: Vec<Option<Op>> = positions.iter().map(|&p| slots[p].take()).collect();
        for (&pos, k) in positions.iter().zip(order) {
            slots[pos] = taken[k].take();
        }
    }
    *ops = slots.into_iter().flatten().collect();
}

/// Indexes of `group` in dependency order: for inserts a referenced row before the rows that
/// reference it, for deletes after them; otherwise staging order. Iterative, so that a long
/// chain cannot exhaust the stack; a cycle is left to the database.
fn dependency_order(group: &[&dyn StagedOp], operation: Operation) -> Vec<usize> {
    let t = group[0].table();
    let cols: Vec<usize> = self_references(t).collect();
    let keys: HashMap<Key, usize> = group
        .iter()
        .enumerate()
        .map(|(i, op)| (Key::from_value(&op.key_value()), i))
        .collect();
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); group.len()];
    for (i, op) in group.iter().enumerate() {
        for &c in &cols {
            let v = op.column_value(c);
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
