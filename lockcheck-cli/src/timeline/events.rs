//! The Chrome trace event JSON, written as it goes: `X` (complete) slices for waits and
//! holds, `M` metadata naming processes and threads, `i` instants for findings.
//! Format: <https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU>.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, BufWriter, Write};

use lockcheck::trace::{Event, EventKind, TraceData};
use lockcheck::Finding;
use serde_json::json;

use super::layout::Slice;

/// A thread's hold track is its id plus this: thread ids are small and dense, and the sum
/// stays a positive 32-bit number, which every reader of the format takes as a thread id.
const HOLD_TRACK: u64 = 1 << 30;

/// Writes the events one by one.
pub(super) struct EventWriter<W: Write> {
    out: BufWriter<W>,
    /// Events written so far (the next one needs a comma).
    written: u64,
    /// Slices written.
    slices: u64,
    /// Per trace: its tracks that received a slice, named at the end.
    tracks: Vec<BTreeSet<u64>>,
    /// Per trace: JSON strings already escaped (quotes included), by lock id and by site id;
    /// a slice's name is the lock's string with a word put after its opening quote.
    names: Vec<(HashMap<u32, String>, HashMap<u32, String>)>,
}

impl<W: Write> EventWriter<W> {
    /// Opens the document and its event array.
    pub(super) fn new(out: W) -> io::Result<EventWriter<W>> {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        out.write_all(b"{\"traceEvents\":[\n")?;
        Ok(EventWriter { out, written: 0, slices: 0, tracks: Vec::new(), names: Vec::new() })
    }

    /// Slices written so far.
    #[inline]
    pub(super) fn slices(&self) -> u64 {
        self.slices
    }

    fn next(&mut self) -> io::Result<()> {
        if self.written > 0 {
            self.out.write_all(b",\n")?;
        }
        self.written += 1;
        Ok(())
    }

    /// A wait or hold slice of `event`, of trace `index` (process `index + 1`), which
    /// started `offset` ns after the earliest.
    #[inline]
    pub(super) fn slice(
        &mut self,
        index: usize,
        offset: u64,
        data: &TraceData,
        event: &Event,
        slice: Slice,
    ) -> io::Result<()> {
        while self.tracks.len() <= index {
            self.tracks.push(BTreeSet::new());
            self.names.push(Default::default());
        }
        let (locks, sites) = &mut self.names[index];
        let lock = locks
            .entry(event.lock)
            .or_insert_with(|| {
                let label =
                    data.class_of(event.lock).map_or_else(|| format!("lock #{}", event.lock), |c| c.label.clone());
                string(&label)
            })
            .clone();
        let mut site = |id: u32| -> String {
            sites
                .entry(id)
                .or_insert_with(|| {
                    string(&data.sites.get(&id).map_or_else(|| format!("site #{id}"), |s| s.to_string()))
                })
                .clone()
        };
        let (start, end) = slice.span();
        let (ts, dur) = (micros(offset + start), micros(end - start));
        let pid = index + 1;
        let (tid, name, args) = match slice {
            Slice::Wait { site: at, timed_out, .. } => {
                let holder = match event.kind {
                    EventKind::Acquired { holder, .. } | EventKind::TimedOut { holder, .. } => holder,
                    _ => None,
                };
                let mut args = format!("\"lock\":{lock},\"waiter site\":{}", site(at));
                if let Some(h) = holder {
                    let thread =
                        data.threads.get(&h.thread).cloned().unwrap_or_else(|| format!("thread #{}", h.thread));
                    args += &format!(",\"holder\":{},\"holder site\":{}", string(&thread), site(h.site));
                }
                if timed_out {
                    args += ",\"timed out\":true";
                }
                let what = if timed_out { "timed out on" } else { "wait" };
                (u64::from(event.thread), format!("\"{what} {}", &lock[1..]), args)
            }
            Slice::Hold { site: at, .. } => {
                let args = match at {
                    Some(at) => format!("\"lock\":{lock},\"site\":{}", site(at)),
                    None => format!("\"lock\":{lock}"),
                };
                (HOLD_TRACK + u64::from(event.thread), format!("\"hold {}", &lock[1..]), args)
            }
        };
        self.tracks[index].insert(tid);
        self.slices += 1;
        self.next()?;
        let cat = if tid >= HOLD_TRACK { "hold" } else { "wait" };
        write!(self.out, "{{\"ph\":\"X\",\"cat\":\"{cat}\",\"name\":{name},\"pid\":{pid},\"tid\":{tid},\"ts\":{ts},\"dur\":{dur},\"args\":{{{args}}}}}")
    }

    /// Names trace `index`'s process and tracks, and writes its findings as instants when
    /// `instants` holds: at `end` (its last collection: the trace records when a finding was
    /// written, not when it was found), or later when a watchdog report's waits say so.
    pub(super) fn process(
        &mut self,
        index: usize,
        data: &TraceData,
        offset: u64,
        end: u64,
        instants: bool,
    ) -> io::Result<()> {
        let pid = index + 1;
        let process = match &data.header {
            Some(h) => format!("{} (pid {})", h.program, h.pid),
            None => format!("trace {pid}"),
        };
        self.next()?;
        let meta = json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": process}});
        write!(self.out, "{meta}")?;
        let tracks = self.tracks.get(index).cloned().unwrap_or_default();
        for tid in tracks {
            let thread = tid % HOLD_TRACK;
            let name = data.threads.get(&(thread as u32)).cloned().unwrap_or_else(|| format!("thread #{thread}"));
            let (name, order) = if tid >= HOLD_TRACK {
                (format!("{name} (sampled holds)"), 2 * thread + 1)
            } else {
                (name, 2 * thread)
            };
            self.next()?;
            let meta = json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": name}});
            write!(self.out, "{meta}")?;
            self.next()?;
            let sort =
                json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid, "args": {"sort_index": order}});
            write!(self.out, "{sort}")?;
        }
        if !instants {
            return Ok(());
        }
        // A watchdog report comes at least as long after the trace started as the waits it
        // reports, and may come after the last batch (the process aborts right after it).
        let longest = |f: &Finding| match f {
            Finding::ActualDeadlock(h) | Finding::Stall(h) => {
                h.threads.iter().map(|t| t.waiting_ms.saturating_mul(1_000_000)).max().unwrap_or(0)
            }
            _ => 0,
        };
        let reported = data.findings.iter().map(longest).fold(end, u64::max);
        for finding in &data.findings {
            self.next()?;
            let summary = finding.summary();
            let instant = json!({
                "ph": "i", "s": "p", "cat": "finding", "name": finding.headline(), "pid": pid, "tid": 0,
                "ts": micros_value(offset + reported),
                "args": {"summary": summary.strip_prefix("SUMMARY: ").unwrap_or(&summary), "failing": finding.is_failure(),
                         "time": "written to the trace by then (findings carry no time of their own)"},
            });
            write!(self.out, "{instant}")?;
            if let Finding::ActualDeadlock(hang) | Finding::Stall(hang) = finding {
                self.hang(pid, data, offset + reported, hang)?;
            }
        }
        Ok(())
    }

    /// A watchdog report's waits, as slices ending when the report was written.
    fn hang(&mut self, pid: usize, data: &TraceData, at: u64, hang: &lockcheck::Hang) -> io::Result<()> {
        for thread in &hang.threads {
            let Some(waits) = &thread.waits_for else { continue };
            let Some((&tid, _)) = data.threads.iter().find(|(_, name)| **name == thread.thread) else { continue };
            let len = thread.waiting_ms.saturating_mul(1_000_000);
            self.next()?;
            let slice = json!({
                "ph": "X", "cat": "watchdog", "name": format!("blocked on {}", waits.lock.class), "pid": pid, "tid": tid,
                "ts": micros_value(at - len), "dur": micros_value(len),
                "args": {"lock": waits.lock.class, "site": waits.site.to_string(), "blocked by": thread.blocked_by},
            });
            write!(self.out, "{slice}")?;
        }
        Ok(())
    }

    /// Closes the event array, then says what the clock is (its base: `base_unix_ns`) and
    /// what was left out; returns the slices written.
    pub(super) fn finish(mut self, base_unix_ns: u64, min_len_ns: u64, left_out: u64) -> io::Result<u64> {
        let other = json!({
            "clock": "ts: microseconds since the earliest traced process started; that start, in ns since the Unix epoch, is start_unix_ns",
            "start_unix_ns": base_unix_ns,
            "placement": "events carry no clock: each wait and hold keeps its measured length and is placed at the earliest time consistent with its thread's order and the time the collector took its batch (every 100 ms or sooner)",
            "left_out": left_out,
            "left_out_shorter_than_ns": min_len_ns,
        });
        write!(self.out, "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{other}}}\n")?;
        self.out.flush()?;
        Ok(self.slices)
    }
}

/// `text` as a JSON string.
fn string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// ns as µs with three decimals, exactly.
fn micros(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// ns as µs, a JSON number.
fn micros_value(ns: u64) -> serde_json::Value {
    json!(ns as f64 / 1000.0)
}
