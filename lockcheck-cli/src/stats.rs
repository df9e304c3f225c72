//! `lockcheck stats`: one row per lock class, merged over every trace. Acquisitions, contended
//! counts and wait totals come from the traces' exact counters (right even when events were
//! lost); wait maxima, hold times and owner changes come from the events, streamed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use lockcheck::trace::{Event, EventKind, TraceData};
use serde::Serialize;

use crate::load::{self, LoadOptions};
use crate::units::{duration, percent};
use crate::Error;

/// The column `stats` sorts by, largest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SortBy {
    /// Total time threads waited for the lock.
    #[default]
    Wait,
    /// Estimated total time the lock was held.
    Hold,
    /// Acquisitions.
    Acquisitions,
    /// Contended acquisitions.
    Contended,
}

/// What `stats` computes and shows.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StatsOptions {
    /// Row order. Default: [`SortBy::Wait`].
    pub sort: SortBy,
    /// Show only this many rows. Default: `None`, every lock class.
    pub top: Option<usize>,
    /// Waiter sites listed under each lock that was waited for. Default: 3.
    pub waiter_sites: usize,
    /// How traces are read. Default: [`LoadOptions::default`].
    pub load: LoadOptions,
}

impl Default for StatsOptions {
    fn default() -> StatsOptions {
        StatsOptions { sort: SortBy::Wait, top: None, waiter_sites: 3, load: LoadOptions::default() }
    }
}

/// Contention figures of one lock class, over every trace.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    /// The class: the locks' name, or their creation site.
    pub class: String,
    /// Successful acquisitions (exact).
    pub acquisitions: u64,
    /// Acquisitions that had to wait (exact).
    pub contended: u64,
    /// Total time waited, in ns (exact).
    pub wait_total_ns: u64,
    /// Mean wait of a contended acquisition, in ns.
    pub wait_avg_ns: u64,
    /// Longest wait seen in the events, in ns.
    pub wait_max_ns: u64,
    /// Timed holds in the events (a sample of every hold).
    pub hold_samples: u64,
    /// Estimated total hold time: the mean sampled hold times the acquisitions, in ns.
    pub hold_total_ns_est: u64,
    /// Mean sampled hold, in ns.
    pub hold_avg_ns: u64,
    /// Longest sampled hold, in ns.
    pub hold_max_ns: u64,
    /// Acquisitions by another thread than the lock's previous one (from the events, in the
    /// order the collector wrote them: a lower bound).
    pub owner_changes: u64,
    /// Where threads waited for it, longest total wait first.
    pub waiters: Vec<WaiterSite>,
}

/// A call site that waited for a lock.
#[derive(Clone, Debug, Serialize)]
pub struct WaiterSite {
    /// `file:line:column`.
    pub site: String,
    /// Contended acquisitions (and timeouts) there.
    pub waits: u64,
    /// Total time waited there, in ns.
    pub wait_ns: u64,
}

/// The `stats` result.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// One row per class, sorted.
    pub rows: Vec<Row>,
    /// Traces read.
    pub traces: usize,
    /// Events read.
    pub events: u64,
    /// Events lost by the recorder: event-based columns are then incomplete.
    pub events_lost: u64,
    /// Stacks the recorders took inside the waits counted here (long waits, for the trace).
    pub own_wait_stacks: u64,
    /// What taking them cost, in ns: lockcheck's own time, included in the wait figures.
    pub own_wait_stack_ns: u64,
    /// Traces recorded in stress mode (`LOCKCHECK_STRESS`): their holds and waits include
    /// the delays it injected.
    pub stressed_traces: usize,
    /// Those delays' nanoseconds, in all.
    pub stress_delay_ns: u64,
    /// Traces read only in part.
    pub warnings: Vec<String>,
}

/// Per-lock sums from one trace's events.
#[derive(Clone, Copy, Debug)]
struct Acc {
    acquisitions: u64,
    contended: u64,
    wait_ns: u64,
    wait_max: u64,
    holds: u64,
    hold_ns: u64,
    hold_max: u64,
    owner_changes: u64,
    last_thread: u32,
}

impl Default for Acc {
    fn default() -> Acc {
        Acc {
            acquisitions: 0,
            contended: 0,
            wait_ns: 0,
            wait_max: 0,
            holds: 0,
            hold_ns: 0,
            hold_max: 0,
            owner_changes: 0,
            last_thread: u32::MAX,
        }
    }
}

/// One trace's per-lock sums. Lock ids are dense in practice: ids up to twice the declared
/// locks index a vector; anything else (a damaged or hand-made trace) falls back to a map, so
/// memory stays proportional to the declarations.
#[derive(Default)]
struct TraceAcc {
    dense: Vec<Acc>,
    sparse: HashMap<u32, Acc>,
    /// (lock, site) → (waits, ns).
    waiters: HashMap<(u32, u32), (u64, u64)>,
}

impl TraceAcc {
    #[inline]
    fn lock(&mut self, data: &TraceData, lock: u32) -> &mut Acc {
        let i = lock as usize;
        if i >= self.dense.len() && i <= 2 * data.locks.len() + 64 {
            self.dense.resize(i + 1, Acc::default());
        }
        match self.dense.get_mut(i) {
            Some(acc) => acc,
            None => self.sparse.entry(lock).or_default(),
        }
    }

    #[inline]
    fn event(&mut self, data: &TraceData, event: &Event) {
        match event.kind {
            EventKind::Acquired { site, wait_ns, .. } => {
                let acc = self.lock(data, event.lock);
                acc.acquisitions += 1;
                if acc.last_thread != event.thread {
                    if acc.last_thread != u32::MAX {
                        acc.owner_changes += 1;
                    }
                    acc.last_thread = event.thread;
                }
                if let Some(wait) = wait_ns {
                    acc.contended += 1;
                    acc.wait_ns = acc.wait_ns.saturating_add(wait);
                    acc.wait_max = acc.wait_max.max(wait);
                    self.waited(event.lock, site, wait);
                }
            }
            EventKind::TimedOut { site, wait_ns, .. } => {
                let acc = self.lock(data, event.lock);
                acc.wait_max = acc.wait_max.max(wait_ns);
                self.waited(event.lock, site, wait_ns);
            }
            EventKind::Released { hold_ns: Some(hold) } => {
                let acc = self.lock(data, event.lock);
                acc.holds += 1;
                acc.hold_ns = acc.hold_ns.saturating_add(hold);
                acc.hold_max = acc.hold_max.max(hold);
            }
            EventKind::Released { hold_ns: None } | EventKind::TryFailed { .. } => {}
        }
    }

    #[inline]
    fn waited(&mut self, lock: u32, site: u32, wait: u64) {
        let entry = self.waiters.entry((lock, site)).or_default();
        entry.0 += 1;
        entry.1 = entry.1.saturating_add(wait);
    }

    fn locks(&self) -> impl Iterator<Item = (u32, &Acc)> {
        let dense = self.dense.iter().enumerate().map(|(i, acc)| (i as u32, acc));
        dense.chain(self.sparse.iter().map(|(&lock, acc)| (lock, acc)))
    }
}

/// Per-class sums over every trace, before averages.
#[derive(Default)]
struct ClassAcc {
    row: Row,
    holds_ns: u64,
    waiters: HashMap<String, (u64, u64)>,
}

/// Reads `inputs` and computes one [`Row`] per lock class.
pub fn stats(inputs: &[PathBuf], options: &StatsOptions) -> Result<Stats, Error> {
    let mut acc = StatsAcc::default();
    let traces = load::load(inputs, &options.load, |index, data, event| acc.event(index, data, event))?;
    Ok(acc.finish(&traces, options))
}

/// The sums of one read of every trace, for readers that compute more than the stats in
/// the same pass (the HTML report): feed it every event, then [`StatsAcc::finish`].
#[derive(Default)]
pub(crate) struct StatsAcc {
    accs: Vec<TraceAcc>,
}

impl StatsAcc {
    /// Adds an event of trace `index`.
    #[inline]
    pub(crate) fn event(&mut self, index: usize, data: &TraceData, event: &Event) {
        while self.accs.len() <= index {
            self.accs.push(TraceAcc::default());
        }
        self.accs[index].event(data, event);
    }

    /// The stats of `traces`, whose events went through [`StatsAcc::event`].
    pub(crate) fn finish(self, traces: &[load::Trace], options: &StatsOptions) -> Stats {
        let mut accs = self.accs;
        accs.resize_with(traces.len(), TraceAcc::default);
        rows(traces, &accs, options)
    }
}

fn rows(traces: &[load::Trace], accs: &[TraceAcc], options: &StatsOptions) -> Stats {
    let mut classes: BTreeMap<String, ClassAcc> = BTreeMap::new();
    for (trace, acc) in traces.iter().zip(accs) {
        let data = &trace.data;
        let class_of = |lock: u32| data.class_of(lock).map_or_else(|| format!("lock #{lock}"), |c| c.label.clone());
        let mut events: HashMap<u32, &Acc> = HashMap::new();
        for (lock, a) in acc.locks().filter(|(_, a)| a.acquisitions + a.holds + a.wait_max > 0) {
            events.insert(lock, a);
        }
        let mut locks: Vec<u32> = events.keys().copied().chain(data.counters.keys().copied()).collect();
        locks.sort_unstable();
        locks.dedup();
        for lock in locks {
            let class = classes.entry(class_of(lock)).or_default();
            let row = &mut class.row;
            let from_events = events.get(&lock).copied().copied().unwrap_or_default();
            // Exact counters when the trace has them; the events otherwise.
            let (acquisitions, contended, wait_ns) = match data.counters.get(&lock) {
                Some(c) => (c.acquisitions, c.contended, c.wait_ns),
                None => (from_events.acquisitions, from_events.contended, from_events.wait_ns),
            };
            row.acquisitions += acquisitions;
            row.contended += contended;
            row.wait_total_ns = row.wait_total_ns.saturating_add(wait_ns);
            row.wait_max_ns = row.wait_max_ns.max(from_events.wait_max);
            row.hold_samples += from_events.holds;
            class.holds_ns = class.holds_ns.saturating_add(from_events.hold_ns);
            row.hold_max_ns = row.hold_max_ns.max(from_events.hold_max);
            row.owner_changes += from_events.owner_changes;
        }
        for (&(lock, site), &(waits, ns)) in &acc.waiters {
            let class = classes.entry(class_of(lock)).or_default();
            let site = data.sites.get(&site).map_or_else(|| format!("site #{site}"), |s| s.to_string());
            let entry = class.waiters.entry(site).or_default();
            entry.0 += waits;
            entry.1 = entry.1.saturating_add(ns);
        }
    }

    let mut rows: Vec<Row> = classes
        .into_iter()
        .map(|(label, class)| {
            let mut row = class.row;
            row.class = label;
            row.wait_avg_ns = row.wait_total_ns.checked_div(row.contended).unwrap_or(0);
            row.hold_avg_ns = class.holds_ns.checked_div(row.hold_samples).unwrap_or(0);
            row.hold_total_ns_est = row.hold_avg_ns.saturating_mul(row.acquisitions);
            let mut waiters: Vec<WaiterSite> =
                class.waiters.into_iter().map(|(site, (waits, wait_ns))| WaiterSite { site, waits, wait_ns }).collect();
            waiters.sort_by(|a, b| b.wait_ns.cmp(&a.wait_ns).then_with(|| a.site.cmp(&b.site)));
            waiters.truncate(options.waiter_sites);
            row.waiters = waiters;
            row
        })
        .collect();
    let key = |row: &Row| match options.sort {
        SortBy::Wait => row.wait_total_ns,
        SortBy::Hold => row.hold_total_ns_est,
        SortBy::Acquisitions => row.acquisitions,
        SortBy::Contended => row.contended,
    };
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| a.class.cmp(&b.class)));
    if let Some(top) = options.top {
        rows.truncate(top);
    }

    Stats {
        rows,
        traces: traces.len(),
        events: traces.iter().map(|t| t.data.events).sum(),
        events_lost: traces.iter().map(|t| t.data.events_lost()).sum(),
        own_wait_stacks: traces.iter().map(|t| t.data.own_time.wait_stacks).sum(),
        own_wait_stack_ns: traces.iter().map(|t| t.data.own_time.wait_stack_ns).sum(),
        stressed_traces: traces.iter().filter(|t| t.data.stress.is_some()).count(),
        stress_delay_ns: traces.iter().filter_map(|t| t.data.stress.as_ref()).map(|s| s.delay_ns()).sum(),
        warnings: traces.iter().flat_map(load::Trace::warnings).collect(),
    }
}

/// The stats as an aligned table, each waited-for lock followed by its top waiter sites.
pub fn render_text(stats: &Stats) -> String {
    let header = [
        "lock",
        "acquisitions",
        "contended",
        "%",
        "wait total",
        "avg",
        "max",
        "hold total~",
        "avg~",
        "max~",
        "owner changes",
    ];
    let cells: Vec<[String; 11]> = stats
        .rows
        .iter()
        .map(|r| {
            let hold = |ns: u64| if r.hold_samples == 0 { "-".to_owned() } else { format!("~{}", duration(ns)) };
            let wait = |ns: u64| if r.contended == 0 { "-".to_owned() } else { duration(ns) };
            [
                r.class.clone(),
                r.acquisitions.to_string(),
                r.contended.to_string(),
                percent(r.contended, r.acquisitions),
                wait(r.wait_total_ns),
                wait(r.wait_avg_ns),
                wait(r.wait_max_ns),
                hold(r.hold_total_ns_est),
                hold(r.hold_avg_ns),
                hold(r.hold_max_ns),
                r.owner_changes.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            if i == 0 {
                out += &format!("{cell}{}", " ".repeat(pad));
            } else {
                out += &format!("  {}{cell}", " ".repeat(pad));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(&header);
    for (row, cells) in stats.rows.iter().zip(&cells) {
        out += &line(&cells.each_ref().map(String::as_str));
        for w in &row.waiters {
            let times = if w.waits == 1 { "wait" } else { "waits" };
            out += &format!("    waited at {}: {} {times}, {}\n", w.site, w.waits, duration(w.wait_ns));
        }
    }
    let n = stats.rows.len();
    out += &format!(
        "{n} lock {}, {} {}, {} events; ~: estimated from sampled holds; owner changes: a lower bound \
         (threads' events interleave per collected batch)\n",
        if n == 1 { "class" } else { "classes" },
        stats.traces,
        if stats.traces == 1 { "trace" } else { "traces" },
        stats.events
    );
    if stats.own_wait_stacks > 0 {
        out += &format!(
            "waits include lockcheck's own time: {} {} taken while waiting, {} in all\n",
            stats.own_wait_stacks,
            if stats.own_wait_stacks == 1 { "stack" } else { "stacks" },
            duration(stats.own_wait_stack_ns)
        );
    }
    if stats.stressed_traces > 0 {
        out += &format!(
            "holds and waits include stress mode's injected delays: {} of the traces ran with LOCKCHECK_STRESS, {} injected in all\n",
            stats.stressed_traces,
            duration(stats.stress_delay_ns)
        );
    }
    if stats.events_lost > 0 {
        out += &format!(
            "lockcheck: warning: {} events were lost ({}): acquisitions, contended and wait totals \
             are exact; maxima, holds, owner changes and waiter sites are from the events kept\n",
            stats.events_lost,
            lockcheck::Report::LOST_BECAUSE,
        );
    }
    for warning in &stats.warnings {
        out += &format!("lockcheck: warning: {warning}\n");
    }
    out
}
