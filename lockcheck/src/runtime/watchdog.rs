//! The watchdog: a real deadlock or a long stall becomes a report with every involved thread's
//! stack, instead of a hung process.
//!
//! Three parts, each on the path where it costs least:
//!
//! - **Ownership** (every acquisition, in [`owner`](crate::runtime::owner)): a lock records its exclusive
//!   owner and where that owner took it, in two relaxed stores into its own [`LockMeta`].
//!   Only stalls need it: a deadlock is derived from the wait slots alone.
//! - **Wait slots** (contended acquisitions and condition variable waits only, in
//!   [`slot`]): a thread about to block publishes, in its own slot, the lock it waits for,
//!   how, since when, from where, and a copy of the locks it holds (it cannot release them
//!   while blocked, so the copy stays true for the whole wait), and when the wait ends.
//!   It blocks in two steps: once half the threshold has passed it wakes, captures its own
//!   stack (the cost lands on a thread that is stuck anyway; the watchdog never unwinds another
//!   thread), publishes it, and goes back to waiting. The stack is taken without symbols, in
//!   microseconds; the watchdog symbolises it only if the thread ends up in a report.
//! - **The watchdog thread** (started before `main` while `LOCKCHECK_WATCHDOG_MS` is not 0):
//!   every quarter threshold it copies the slots, finds the waiters that can never proceed
//!   (see [`crate::analysis::waitfor`]), and reports a deadlock once they have all waited past
//!   the threshold. A wait past the threshold that is not part of one is a stall once the
//!   lock's holder has gone a full threshold without waiting on any lockcheck primitive: a
//!   holder still taking contended locks or waiting on condition variables is making progress
//!   through lockcheck (or forming a cycle the next scans will see), and a holder blocked in a
//!   lock wait of its own is judged by that wait.
//!
//! A deadlock is only claimed from waits seen unchanged by two consecutive scans: each such
//! thread was blocked, with the holdings it published, for the whole time between them, so
//! the facts the analysis combines were true at one same instant.

use std::collections::{HashMap, HashSet};
use std::panic::Location;
use std::sync::{Once, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

use crate::analysis::report::{Finding, Hang, HeldLock, Mode, Site, ThreadState};
use crate::analysis::waitfor::{self, Waiter};
use crate::config::{self, OnDeadlock};
use crate::record::stack::{self, RawStack};
use crate::runtime::check;
use crate::runtime::held::Acquire;
use crate::runtime::registry::{self, LockMeta};

pub(crate) use crate::runtime::owner::{acquired, permit_released, released, Owner};
pub(crate) use slot::park;
#[cfg(feature = "tokio")]
pub(crate) use slot::{publish_async, AsyncWait};
use slot::{Activity, Published, Seen, Snapshot};

mod slot;

/// The watchdog threshold, or `None` when it is off.
fn threshold() -> Option<Duration> {
    match config::get().watchdog_ms {
        0 => None,
        ms => Some(Duration::from_millis(ms)),
    }
}

/// How a stepped wait ended.
pub(crate) struct Stepped {
    /// Whether it acquired the lock.
    pub acquired: bool,
    /// The stack the waiter took while it waited, if it took one.
    pub stack: Option<RawStack>,
    /// How long taking it took: lockcheck's own time inside the wait.
    pub stack_ns: u64,
}

/// Blocks on a contended lock with the wait published.
///
/// `block` waits as the caller asked (for good, or until its own timeout); `block_until`
/// waits until an instant, and `deadline` is the caller's own deadline, if any. The wait is
/// cut into steps at which the still-blocked thread takes its stack: at `stack_at`, for the
/// trace's long-wait stacks, and at half the watchdog's threshold, for its reports. Taken
/// there, a stack lengthens a wait that is long already, never the hold that follows it.
#[inline]
pub(crate) fn wait(
    meta: &LockMeta,
    acq: &Acquire,
    started: Instant,
    deadline: Option<Instant>,
    stack_at: Option<Instant>,
    block: impl FnOnce() -> bool,
    mut block_until: impl FnMut(Instant) -> bool,
) -> Stepped {
    let slot =
        threshold().and_then(|threshold| Some((slot::publish(meta, acq, started, deadline.is_some())?, threshold)));
    let _published = slot.as_ref().map(|(slot, _)| Published(slot));
    let watchdog_step = slot.as_ref().and_then(|(_, threshold)| started.checked_add(*threshold / 2));
    let mut steps = [stack_at, watchdog_step];
    steps.sort_unstable_by_key(|step| step.map(|at| (false, at)).unwrap_or((true, started)));
    let mut out = Stepped { acquired: false, stack: None, stack_ns: 0 };
    for step in steps.into_iter().flatten() {
        if let Some(deadline) = deadline.filter(|&d| d <= step) {
            out.acquired = block_until(deadline);
            return out;
        }
        if block_until(step) {
            out.acquired = true;
            return out;
        }
        if out.stack.is_none() {
            let capture = Instant::now();
            out.stack = stack::capture();
            out.stack_ns = u64::try_from(capture.elapsed().as_nanos()).unwrap_or(u64::MAX);
        }
        if Some(step) == watchdog_step {
            if let Some((slot, _)) = &slot {
                slot.publish_stack(out.stack);
            }
        }
    }
    out.acquired = match deadline {
        Some(deadline) => block_until(deadline),
        None => block(),
    };
    out
}

/// Starts the watchdog thread, if the watchdog is on. Called at start-up (see
/// `registry::first_registration`): spawning it at the first contended wait had that wait pay
/// for it, milliseconds in a debug build.
///
/// It idles (parked, no timer) until some thread first waits on a lock or a condition
/// variable, and again whenever no thread has a wait slot: a process that never blocks costs
/// it no wake-ups. Starting the thread itself at that first wait is not an option: the
/// waiting thread may hold other locks, and a thread start is milliseconds in a debug build.
pub(crate) fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        if let Some(threshold) = threshold() {
            let spawned = std::thread::Builder::new()
                .name("lockcheck-watchdog".into())
                .spawn(move || Watchdog::new(threshold).run());
            match spawned {
                Ok(handle) => {
                    let _ = THREAD.set(handle.thread().clone());
                }
                Err(err) => eprintln!("lockcheck: warning: could not start the watchdog thread: {err}"),
            }
        }
    });
}

/// The watchdog thread, once started.
static THREAD: OnceLock<Thread> = OnceLock::new();

/// Wakes the watchdog from its idling: a thread has made a wait slot.
fn wake() {
    if let Some(thread) = THREAD.get() {
        thread.unpark();
    }
}

/// The watchdog thread's state.
struct Watchdog {
    threshold: Duration,
    /// Each wait seen at the previous scan: (thread or task, wait sequence number).
    previous: HashSet<(u32, u64)>,
    /// Waits already reported as stalls: (thread, wait sequence number).
    stalls: HashSet<(u32, u64)>,
    /// Deadlocks already reported (warn mode): each thread with the lock and site it waits at.
    deadlocks: HashSet<Vec<(u32, u32, Site)>>,
}

/// How long the watchdog gives waiting threads to publish their stacks, past the threshold,
/// before it reports without them (a thread may be descheduled at its first step).
const STACK_GRACE: Duration = Duration::from_secs(1);

impl Watchdog {
    fn new(threshold: Duration) -> Watchdog {
        Watchdog { threshold, previous: HashSet::new(), stalls: HashSet::new(), deadlocks: HashSet::new() }
    }

    fn run(mut self) {
        let tick = (self.threshold / 4).max(Duration::from_millis(5));
        loop {
            // `wake` follows every new slot, so a slot made after this look leaves an unpark
            // token and the park returns at once.
            if slot::none() {
                std::thread::park();
            } else {
                std::thread::sleep(tick);
            }
            self.scan();
        }
    }

    fn scan(&mut self) {
        let now = Instant::now();
        let Snapshot { waits: seen, activity } = slot::copy();
        // Only waits unchanged since the previous scan are known to be unbroken.
        let steady: Vec<&Seen> = seen.iter().filter(|s| self.previous.contains(&(s.tid, s.seq))).collect();
        self.previous = seen.iter().map(|s| (s.tid, s.seq)).collect();

        let waiters: Vec<Waiter> = steady.iter().map(|s| waiter(s)).collect();
        let stuck = waitfor::deadlocked(&waiters);
        let order = waitfor::cycle_order(&waiters, &stuck);
        if !order.is_empty() {
            let youngest = order.iter().map(|&(i, _)| now - steady[i].since).min().unwrap_or_default();
            let stacks_ready = order.iter().all(|&(i, _)| steady[i].stack_taken);
            if youngest >= self.threshold && (stacks_ready || youngest >= self.threshold + STACK_GRACE) {
                let threads = order
                    .iter()
                    .map(|&(i, next)| thread_state(steady[i], now, Some(registry::thread_name(steady[next].tid))))
                    .collect();
                self.deadlock(&order.iter().map(|&(i, _)| steady[i]).collect::<Vec<_>>(), threads);
            }
        }
        // A wait that closes a cycle with waits not yet steady is a deadlock in the making,
        // not a stall: the next scan decides.
        let all: Vec<Waiter> = seen.iter().map(waiter).collect();
        let forming: HashSet<u32> =
            waitfor::deadlocked(&all).iter().zip(&seen).filter(|(stuck, _)| **stuck).map(|(_, s)| s.tid).collect();
        for (i, s) in steady.iter().enumerate() {
            let waited = now - s.since;
            let due = waited >= self.threshold && (s.stack_taken || waited >= self.threshold + STACK_GRACE);
            let judged = !stuck[i] && !forming.contains(&s.tid) && due;
            if judged && !self.holder_active(s, &seen, &activity, now) && self.stalls.insert((s.tid, s.seq)) {
                self.stall(s, &seen, now);
            }
        }
        self.stalls.retain(|wait| self.previous.contains(wait));
    }

    /// Whether the thread keeping `waiter` waiting has waited on a lockcheck primitive within
    /// the last threshold, or waits for a lock now: then it is taking locks still, or forming
    /// a cycle, and `waiter` is no stall yet (a holder stuck in a lock wait is judged by its
    /// own wait). `false` when the holder is not known.
    fn holder_active(&self, waiter: &Seen, all: &[Seen], activity: &HashMap<u32, Activity>, now: Instant) -> bool {
        let Some((holder, _)) = blocker(waiter, all).filter(|&(tid, _)| tid != waiter.tid) else { return false };
        activity.get(&holder).is_some_and(|a| a.within(self.threshold, now))
    }

    fn deadlock(&mut self, members: &[&Seen], threads: Vec<ThreadState>) {
        let key = members.iter().map(|s| (s.tid, s.acq.id, Site::from_location(s.acq.site))).collect();
        if !self.deadlocks.insert(key) {
            return;
        }
        let finding = Finding::ActualDeadlock(Hang { threads, threshold_ms: millis(self.threshold) });
        // Rendered first: stderr is unbuffered, and the report goes out in one write.
        // Warnings found before the hang print before it.
        crate::runtime::reporter::flush();
        let text = finding.to_string();
        eprintln!("{text}");
        check::note(finding);
        if config::get().on_deadlock == OnDeadlock::Abort {
            eprintln!("lockcheck: aborting the process: it can never make progress (LOCKCHECK_ON_DEADLOCK=abort)");
            // The trace gets the finding (a process that aborts runs no exit hook).
            crate::runtime::collector::flush();
            std::process::abort();
        }
    }

    fn stall(&self, waiter: &Seen, all: &[Seen], now: Instant) {
        let holder = blocker(waiter, all);
        let mut threads = vec![thread_state(waiter, now, holder.map(|(tid, _)| registry::thread_name(tid)))];
        if let Some((tid, holds)) = holder {
            let state = match all.iter().find(|s| s.tid == tid && s.tid != waiter.tid) {
                Some(holder) => {
                    let its_blocker = blocker(holder, all).map(|(tid, _)| registry::thread_name(tid));
                    thread_state(holder, now, its_blocker)
                }
                None => ThreadState {
                    thread: registry::thread_name(tid),
                    waits_for: None,
                    waiting_ms: 0,
                    blocked_by: None,
                    holds: holds
                        .map(|(mode, site)| {
                            held_lock((waiter.acq.id, waiter.acq.class(), waiter.acq.rank()), mode, site)
                        })
                        .into_iter()
                        .collect(),
                    stack: Vec::new(),
                },
            };
            threads.push(state);
        }
        let finding = Finding::Stall(Hang { threads, threshold_ms: millis(self.threshold) });
        let text = finding.to_string();
        eprintln!("{text}");
        check::note(finding);
    }
}

/// Who keeps a stalled waiter waiting, as far as lockcheck knows: the thread, with how and
/// where it took the lock (`None` for a writer queued ahead, which holds nothing yet).
fn blocker(waiter: &Seen, all: &[Seen]) -> Option<(u32, Option<(Mode, &'static Location<'static>)>)> {
    let owner = waiter.owner;
    if let Some((tid, mode, site)) = owner.exclusive {
        return Some((tid, Some((mode, site))));
    }
    match waiter.acq.mode {
        // Blocked by readers: name the last one seen.
        Mode::Exclusive => owner.last_sharer.map(|(tid, site)| (tid, Some((Mode::Shared, site)))),
        Mode::Permit => owner.last_sharer.map(|(tid, site)| (tid, Some((Mode::Permit, site)))),
        // Not exclusively held: a writer queued ahead turns readers away (task-fair).
        Mode::Shared | Mode::Upgradable => all
            .iter()
            .find(|s| s.tid != waiter.tid && s.acq.id == waiter.acq.id && s.acq.mode == Mode::Exclusive)
            .map(|s| (s.tid, None)),
        Mode::SharedRecursive => None,
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn waiter(seen: &Seen) -> Waiter {
    Waiter {
        lock: seen.acq.id,
        mode: seen.acq.mode,
        held: seen.held.iter().map(|h| (h.id, h.mode)).collect(),
        permits_out: seen.owner.permits,
        timed: seen.timed,
    }
}

/// How a report names a lock: `(id, class, rank)` as the held stack and acquisitions carry it.
fn held_lock((id, class, rank): (u32, u32, Option<u32>), mode: Mode, site: &Location<'_>) -> HeldLock {
    HeldLock { lock: registry::lock_ref(class, Some(id), rank), mode, site: Site::from_location(site) }
}

fn thread_state(seen: &Seen, now: Instant, blocked_by: Option<String>) -> ThreadState {
    ThreadState {
        thread: registry::thread_name(seen.tid),
        waits_for: Some(held_lock((seen.acq.id, seen.acq.class(), seen.acq.rank()), seen.acq.mode, seen.acq.site)),
        waiting_ms: millis(now - seen.since),
        blocked_by,
        holds: seen.held.iter().map(|h| held_lock((h.id, h.class(), h.rank()), h.mode, h.site)).collect(),
        // Symbolised here, on the watchdog thread, and only for threads in a report.
        stack: seen.stack.as_ref().map(stack::resolve_raw).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::panic::Location;

    use super::*;
    use crate::analysis::report::LockKind;

    /// What a stepped wait did, in order.
    #[derive(Debug, PartialEq)]
    enum Step {
        TimedBlock(Duration),
        Block,
    }

    #[test]
    fn a_long_wait_takes_its_stack_while_it_still_waits() {
        let meta = LockMeta::new(LockKind::Mutex, Some("stepped"), None, None);
        let acq = Acquire::new(1, registry::class_word(1, None), Mode::Exclusive, LockKind::Mutex, Location::caller());
        let started = Instant::now();
        let steps = RefCell::new(Vec::new());
        let stack_after = Duration::from_micros(20);
        let Stepped { acquired, stack, .. } = wait(
            &meta,
            &acq,
            started,
            None,
            Some(started + stack_after),
            || {
                steps.borrow_mut().push(Step::Block);
                true
            },
            // The lock stays busy past the first step: the thread takes its stack, then blocks
            // again, and only that second block acquires.
            |until| {
                steps.borrow_mut().push(Step::TimedBlock(until - started));
                false
            },
        );
        assert!(acquired);
        let steps = steps.into_inner();
        assert_eq!(steps.first(), Some(&Step::TimedBlock(stack_after)), "{steps:?}");
        assert_eq!(steps.last(), Some(&Step::Block), "{steps:?}");
        if stack::enabled() {
            assert!(stack.is_some_and(|s| !s.addresses().is_empty()), "taken between the two blocks");
        }
    }

    #[test]
    fn a_wait_that_ends_before_the_step_takes_no_stack() {
        let meta = LockMeta::new(LockKind::Mutex, Some("short"), None, None);
        let acq = Acquire::new(2, registry::class_word(2, None), Mode::Exclusive, LockKind::Mutex, Location::caller());
        let started = Instant::now();
        let Stepped { acquired, stack, .. } =
            wait(&meta, &acq, started, None, Some(started + Duration::from_micros(20)), || unreachable!(), |_| true);
        assert!(acquired && stack.is_none());
    }
}
