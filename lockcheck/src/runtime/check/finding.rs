//! The finding path: every check of an acquisition context never seen before (self-deadlock,
//! rank, the lock-order graph), a held lock as findings name it, the store of findings other
//! than cycles, and acting on new ones as `LOCKCHECK_ON_CYCLE` says, unless a suppression
//! accepts them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use parking_lot::Mutex as RawLock;

use super::{Fresh, FRESH};
use crate::analysis::report::LockKind;
use crate::analysis::report::{Finding, HeldLock, RankViolation, SelfDeadlock, Site};
use crate::analysis::suppress::Suppressions;
use crate::config::{self, OnCycle};
use crate::runtime::held::{self, Acquire, Held, Reacquire};
use crate::runtime::registry;
use crate::runtime::{graph, reporter};

/// `LOCKCHECK_ON_CYCLE`, overridable at run time: 0 = from the environment.
static ON_CYCLE: AtomicU8 = AtomicU8::new(0);

/// Overrides `LOCKCHECK_ON_CYCLE` for the rest of the process.
pub fn set_on_cycle(on_cycle: OnCycle) {
    let code = match on_cycle {
        OnCycle::Warn => 1,
        OnCycle::Panic => 2,
        OnCycle::Ignore => 3,
    };
    // Relaxed: a plain setting; no other memory is published with it.
    ON_CYCLE.store(code, Ordering::Relaxed);
}

pub(super) fn on_cycle() -> OnCycle {
    // Relaxed: see `set_on_cycle`.
    match ON_CYCLE.load(Ordering::Relaxed) {
        1 => OnCycle::Warn,
        2 => OnCycle::Panic,
        3 => OnCycle::Ignore,
        _ => config::get().on_cycle,
    }
}

/// The first sight of an acquisition context: every check, then the findings acted on.
#[cold]
#[inline(never)]
#[track_caller]
pub(super) fn examine(acq: &Acquire, key: u64, fresh_call: Fresh) {
    let Some(findings) = held::with(|t| judge(t, acq, key)) else {
        return;
    };
    // lock_api's reentrant lock reaches its raw lock through a closure of its own, where the
    // caller's location is lost: its panic is relayed (see `panics_at_caller`).
    act_on(findings, fresh_call, acq.kind == LockKind::Reentrant);
}

/// Every check of an acquisition whose context `key` the held set `t` has never seen:
/// self-deadlock, rank, the lock-order graph. Returns what it found, recorded but not acted
/// on (the caller acts once it has let go of `t`).
#[cold]
pub(crate) fn judge(t: &mut held::Thread, acq: &Acquire, key: u64) -> Vec<Finding> {
    let tid = t.tid();
    let mut found = Vec::new();
    if let Some(held) = t.find(acq.id) {
        if let Some(how) = held::reacquire(acq.kind, held.mode, acq.mode) {
            found.push(self_deadlock(tid, held, acq, how));
        }
    }
    if held::rank_offenders(t.stack(), acq) {
        found.push(rank_violation(tid, t.stack(), acq));
    }
    let observed = graph::observe(tid, key, t.stack(), acq);
    // A context with a self or rank problem is never cached: each pass is counted.
    if found.is_empty() {
        t.remember(key, observed.in_finding);
    }
    found.extend(observed.findings);
    found.into_iter().filter_map(record).collect()
}

/// Acts on findings [`judge`] returned, as `LOCKCHECK_ON_CYCLE` says; `fresh_call` as for
/// [`Fresh`]; `relayed`: a panic goes through [`panics_at_caller`]. Called with no lockcheck
/// state borrowed.
#[track_caller]
pub(crate) fn act_on(findings: Vec<Finding>, fresh_call: Fresh, relayed: bool) {
    act(&findings, fresh_call == Fresh::Call || FRESH.get(), relayed);
}

/// A panic on a finding, on its way to the user's call (see [`panics_at_caller`]).
struct RelayedPanic(String);

/// Runs a lock_api call that may panic on a finding where `#[track_caller]` does not reach
/// (lock_api's reentrant lock calls its raw lock from a closure), and panics again here, at
/// the caller's location: the default hook then prints the user's line, which is what
/// `LOCKCHECK_ON_CYCLE=panic` must point at. Every other panic passes through untouched.
#[inline(always)]
#[track_caller]
pub fn panics_at_caller<R>(call: impl FnOnce() -> R) -> R {
    // AssertUnwindSafe: a relayed panic unwinds before the raw lock is touched (it is raised
    // before blocking), and any other panic is resumed as it came.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
        Ok(done) => done,
        Err(payload) => match payload.downcast::<RelayedPanic>() {
            Ok(relayed) => panic!("{}", relayed.0),
            Err(other) => std::panic::resume_unwind(other),
        },
    }
}

/// The suppressions in force in-process: the file `LOCKCHECK_SUPPRESSIONS` names, else the
/// nearest `lockcheck.toml` from the current directory up. A bad file is one warning line, and
/// then no suppressions.
pub(crate) fn suppressions() -> &'static Suppressions {
    static SUPPRESSIONS: OnceLock<Suppressions> = OnceLock::new();
    SUPPRESSIONS.get_or_init(|| {
        let path = match std::env::var_os("LOCKCHECK_SUPPRESSIONS").filter(|p| !p.is_empty()) {
            Some(path) => Some(PathBuf::from(path)),
            None => std::env::current_dir().ok().and_then(|dir| Suppressions::find_upwards(&dir)),
        };
        let Some(path) = path else { return Suppressions::default() };
        Suppressions::load(&path).unwrap_or_else(|problem| {
            eprintln!("lockcheck: warning: ignoring suppressions in {}: {problem}", path.display());
            Suppressions::default()
        })
    })
}

/// Acts on new findings as `LOCKCHECK_ON_CYCLE` says, unless suppressed. Called with no
/// lockcheck state borrowed.
#[track_caller]
fn act(fresh: &[Finding], fresh_call: bool, relayed: bool) {
    let fresh: Vec<&Finding> = fresh.iter().filter(|f| suppressions().reason(f).is_none()).collect();
    if fresh.is_empty() {
        return;
    }
    match on_cycle() {
        OnCycle::Ignore => {}
        OnCycle::Panic if fresh_call => {
            // The test fails here anyway: its stacks are symbolised on the spot.
            let text: Vec<String> = fresh.into_iter().map(|f| reporter::symbolised(f.clone()).to_string()).collect();
            let text = text.join("\n");
            // `resume_unwind` skips the panic hook: `panics_at_caller` panics again with the
            // hook. Under panic=abort nothing could catch it, so the panic is raised here.
            if relayed && cfg!(panic = "unwind") {
                std::panic::resume_unwind(Box::new(RelayedPanic(text)));
            }
            panic!("{text}");
        }
        OnCycle::Warn | OnCycle::Panic => reporter::print(fresh.into_iter().cloned().collect()),
    }
}

pub(crate) fn held_lock(held: &Held) -> HeldLock {
    HeldLock {
        lock: registry::lock_ref(held.class(), Some(held.id), held.rank()),
        mode: held.mode,
        site: Site::from_location(held.site),
    }
}

fn self_deadlock(tid: u32, held: &Held, acq: &Acquire, how: Reacquire) -> Finding {
    Finding::SelfDeadlock(SelfDeadlock {
        lock: registry::lock_ref(acq.class(), Some(acq.id), acq.rank()),
        held: held_lock(held),
        mode: acq.mode,
        site: Site::from_location(acq.site),
        thread: registry::thread_name(tid),
        certain: matches!(how, Reacquire::Deadlock),
    })
}

fn rank_violation(tid: u32, stack: &[Held], acq: &Acquire) -> Finding {
    Finding::RankViolation(RankViolation {
        lock: registry::lock_ref(acq.class(), Some(acq.id), acq.rank()),
        site: Site::from_location(acq.site),
        thread: registry::thread_name(tid),
        held: stack.iter().map(held_lock).collect(),
        count: 1,
    })
}

/// Findings other than lock-order cycles (those live in the graph), deduplicated.
static OTHERS: RawLock<Vec<Finding>> = RawLock::new(Vec::new());

/// Stores a finding; returns it when it is new (a cycle is new when the graph says so).
pub(crate) fn record(finding: Finding) -> Option<Finding> {
    if matches!(finding, Finding::PotentialDeadlock(_)) {
        return Some(finding);
    }
    let mut others = OTHERS.lock();
    let same = others.iter_mut().find(|f| same_problem(f, &finding));
    match (same, &finding) {
        (Some(Finding::RankViolation(seen)), _) => {
            seen.count += 1;
            None
        }
        (Some(Finding::FailedAssertion(seen)), _) => {
            seen.count += 1;
            None
        }
        (Some(_), _) => None,
        (None, _) => {
            others.push(finding.clone());
            Some(finding)
        }
    }
}

/// Whether two findings describe the same problem (same locks, same sites).
fn same_problem(a: &Finding, b: &Finding) -> bool {
    match (a, b) {
        (Finding::RankViolation(a), Finding::RankViolation(b)) => {
            a.site == b.site
                && a.lock.class == b.lock.class
                && a.held.len() == b.held.len()
                && a.held.iter().zip(&b.held).all(|(x, y)| x.lock.class == y.lock.class && x.site == y.site)
        }
        (Finding::SelfDeadlock(a), Finding::SelfDeadlock(b)) => a.site == b.site && a.held.site == b.held.site,
        (Finding::FailedAssertion(a), Finding::FailedAssertion(b)) => {
            a.site == b.site
                && a.assertion == b.assertion
                && a.lock.as_ref().map(|l| &l.class) == b.lock.as_ref().map(|l| &l.class)
        }
        _ => a == b,
    }
}

/// Stores a finding raised at a call from user code (a failed assertion) and, when it is
/// new, acts on it as `LOCKCHECK_ON_CYCLE` says: it may panic, there and then.
#[track_caller]
pub(crate) fn raise(finding: Finding) {
    if let Some(fresh) = record(finding) {
        act(&[fresh], true, false);
    }
}

/// Stores a finding the watchdog reports and acts on itself (it never panics there).
pub(crate) fn note(finding: Finding) {
    record(finding);
}

/// Everything found so far, most severe first, stacks symbolised: for a person to read.
pub(crate) fn findings() -> Vec<Finding> {
    recorded().into_iter().map(reporter::symbolised).collect()
}

/// Everything found so far, most severe first, as recorded: stacks by id, for the trace.
pub(crate) fn recorded() -> Vec<Finding> {
    let mut all = graph::findings();
    all.extend(OTHERS.lock().iter().cloned());
    all.sort_by_key(|f| !f.is_failure());
    all
}
