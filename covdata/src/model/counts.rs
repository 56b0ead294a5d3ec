//! The merged profile and counter-expression evaluation.

use super::{CountedBranch, CountedRegion};
use crate::fasthash::{FastMap, FastSet};
use crate::llvm::mapping::{Counter, ExprKind, Expression, Mapping, RegionKind};
use crate::reader::Pod;

/// Counters by (NameRef, FuncHash), summed over every pod and run, the way
/// `llvm-profdata merge` combines raw profiles: element-wise saturating
/// sums; a record whose counter count differs from the first one seen for
/// its key is not merged (llvm-profdata's "count mismatch").
#[derive(Clone, Debug, Default)]
pub struct Profile {
    records: FastMap<(u64, u64), Vec<u64>>,
    names: FastSet<u64>,
    count_mismatches: usize,
}

/// The result of looking a function up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The function's counters.
    Found(&'a [u64]),
    /// The profile has no record of this name.
    Unknown,
    /// The profile has the name but not with this hash.
    HashMismatch,
}

impl Profile {
    /// Adds a pod's summed counters, record by record.
    pub fn add_pod(&mut self, pod: &Pod) {
        for (i, f) in pod.funcs.iter().enumerate() {
            self.add_record(f.name_ref, f.func_hash, pod.func_counters(i));
        }
    }

    /// Adds the summed counters of module `module` of `pod`, except those
    /// of the functions named in `skip` (records set aside).
    pub fn add_module(&mut self, pod: &Pod, module: usize, skip: &FastSet<u64>) {
        for i in pod.modules[module].funcs.clone() {
            let f = &pod.funcs[i];
            if skip.contains(&f.name_ref) {
                continue;
            }
            self.add_record(f.name_ref, f.func_hash, pod.func_counters(i));
        }
    }

    fn add_record(&mut self, name_ref: u64, func_hash: u64, counters: &[u64]) {
        self.names.insert(name_ref);
        match self.records.get_mut(&(name_ref, func_hash)) {
            None => {
                self.records
                    .insert((name_ref, func_hash), counters.to_vec());
            }
            Some(sum) if sum.len() == counters.len() => {
                for (s, c) in sum.iter_mut().zip(counters) {
                    *s = s.saturating_add(*c);
                }
            }
            Some(_) => self.count_mismatches += 1,
        }
    }

    /// Looks up a function's counters.
    pub fn lookup(&self, name_ref: u64, func_hash: u64) -> Lookup<'_> {
        match self.records.get(&(name_ref, func_hash)) {
            Some(c) => Lookup::Found(c),
            None if self.names.contains(&name_ref) => Lookup::HashMismatch,
            None => Lookup::Unknown,
        }
    }

    /// Records not merged because of a counter-count mismatch.
    pub fn count_mismatches(&self) -> usize {
        self.count_mismatches
    }

    /// Number of (NameRef, FuncHash) records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True without records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Memo {
    Unvisited,
    InProgress,
    Done(i64),
}

/// Evaluates mappings; keeps scratch space between functions.
#[derive(Default)]
pub struct Evaluator {
    memo: Vec<Memo>,
    stack: Vec<u32>,
}

impl Evaluator {
    /// Evaluates every region of `mapping` with `counts`. Decision regions
    /// are left out; branch regions go to the second list. `None` when a
    /// counter is out of range (llvm-cov then drops the function).
    pub fn evaluate(
        &mut self,
        mapping: &Mapping,
        counts: &[u64],
    ) -> Option<(Vec<CountedRegion>, Vec<CountedBranch>)> {
        self.memo.clear();
        self.memo.resize(mapping.expressions.len(), Memo::Unvisited);
        let mut regions = Vec::with_capacity(mapping.regions.len());
        let mut branches = Vec::new();
        for r in &mapping.regions {
            if r.kind == RegionKind::McdcDecision {
                continue;
            }
            let count = self.eval(r.count, &mapping.expressions, counts)? as u64;
            let false_count = self.eval(r.false_count, &mapping.expressions, counts)? as u64;
            if r.kind.is_branch() {
                branches.push(CountedBranch {
                    line_start: r.line_start,
                    col_start: r.col_start,
                    line_end: r.line_end,
                    col_end: r.col_end,
                    true_count: count,
                    false_count,
                    true_folded: r.count == Counter::Zero,
                    false_folded: r.false_count == Counter::Zero,
                    file_id: r.file_id,
                    kind: r.kind,
                });
            } else {
                regions.push(CountedRegion {
                    line_start: r.line_start,
                    col_start: r.col_start,
                    line_end: r.line_end,
                    col_end: r.col_end,
                    count,
                    file_id: r.file_id,
                    expanded_file_id: r.expanded_file_id,
                    kind: r.kind,
                });
            }
        }
        Some((regions, branches))
    }

    /// Signed 64-bit evaluation with wrapping, as llvm-cov does.
    fn eval(&mut self, c: Counter, exprs: &[Expression], counts: &[u64]) -> Option<i64> {
        match c {
            Counter::Zero => Some(0),
            Counter::Ref(id) => counts.get(id as usize).map(|v| *v as i64),
            Counter::Expr(id) => self.eval_expr(id, exprs, counts),
        }
    }

    fn eval_expr(&mut self, root: u32, exprs: &[Expression], counts: &[u64]) -> Option<i64> {
        if let Memo::Done(v) = self.memo[root as usize] {
            return Some(v);
        }
        self.stack.clear();
        self.stack.push(root);
        while let Some(&id) = self.stack.last() {
            if let Memo::Done(_) = self.memo[id as usize] {
                self.stack.pop();
                continue;
            }
            self.memo[id as usize] = Memo::InProgress;
            let e = exprs[id as usize];
            let mut values = [0i64; 2];
            let mut pending = false;
            for (k, operand) in [e.lhs, e.rhs].into_iter().enumerate() {
                values[k] = match operand {
                    Counter::Zero => 0,
                    Counter::Ref(i) => *counts.get(i as usize)? as i64,
                    Counter::Expr(j) => match self.memo[j as usize] {
                        Memo::Done(v) => v,
                        // An expression that needs itself: malformed.
                        Memo::InProgress => return None,
                        Memo::Unvisited => {
                            self.stack.push(j);
                            pending = true;
                            0
                        }
                    },
                };
            }
            if pending {
                continue;
            }
            let v = match e.kind {
                ExprKind::Add => values[0].wrapping_add(values[1]),
                ExprKind::Subtract => values[0].wrapping_sub(values[1]),
            };
            self.memo[id as usize] = Memo::Done(v);
            self.stack.pop();
        }
        match self.memo[root as usize] {
            Memo::Done(v) => Some(v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_counts() {
        let bytes = [
            0x01, 0x01, 0x03, 0x01, 0x05, 0x01, 0x0b, 0x05, 0x09, 0x07, 0x01, 0x05, 0x01, 0x00,
            0x24, 0x01, 0x01, 0x08, 0x00, 0x0d, 0x05, 0x01, 0x09, 0x00, 0x13, 0x02, 0x01, 0x0f,
            0x00, 0x15, 0x09, 0x01, 0x09, 0x00, 0x0f, 0x06, 0x02, 0x09, 0x00, 0x13, 0x01, 0x02,
            0x01, 0x00, 0x02,
        ];
        let m = Mapping::decode(&bytes, 2).unwrap();
        let (regions, branches) = Evaluator::default().evaluate(&m, &[4, 1, 1]).unwrap();
        let counts: Vec<u64> = regions.iter().map(|r| r.count).collect();
        assert_eq!(counts, [4, 4, 1, 3, 1, 2, 4]);
        assert!(branches.is_empty());
        // A counter past the vector drops the function.
        assert!(Evaluator::default().evaluate(&m, &[4, 1]).is_none());
        // Inconsistent counters wrap like llvm-cov: 1 - 5 as u64.
        let (regions, _) = Evaluator::default().evaluate(&m, &[1, 5, 0]).unwrap();
        assert_eq!(regions[3].count, (-4i64) as u64);
    }

    #[test]
    fn self_referencing_expression_is_rejected() {
        let m = Mapping {
            file_ids: vec![0],
            expressions: vec![Expression {
                kind: ExprKind::Add,
                lhs: Counter::Ref(0),
                rhs: Counter::Expr(0),
            }],
            regions: vec![],
        };
        let mut ev = Evaluator {
            memo: vec![Memo::Unvisited],
            stack: Vec::new(),
        };
        assert_eq!(ev.eval(Counter::Expr(0), &m.expressions, &[1]), None);
    }
}
