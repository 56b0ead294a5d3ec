//! Work spread over the CPUs, in order: report-time passes whose items are
//! independent (function summaries, each record's fate at load).

/// Whether there is more than one CPU to spread work over.
pub fn several_cpus() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Maps `f` over `items` on up to 8 threads, keeping order; each thread
/// passes `f` its own scratch value made by `scratch`.
pub fn map<T: Sync, U: Send, S>(
    items: &[T],
    scratch: impl Fn() -> S + Sync,
    f: impl Fn(&T, &mut S) -> U + Sync,
) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get().min(8));
    if threads < 2 || items.len() < 64 {
        let mut s = scratch();
        return items.iter().map(|item| f(item, &mut s)).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let (f, scratch) = (&f, &scratch);
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| {
                s.spawn(move || {
                    let mut own = scratch();
                    c.iter().map(|item| f(item, &mut own)).collect::<Vec<U>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker thread panicked"))
            .collect()
    })
}
