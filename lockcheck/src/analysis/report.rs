//! What lockcheck found: typed findings, their text rendering (lockdep-style) and JSON form.
//!
//! The same types are produced in-process ([`report()`](crate::report())), written into traces,
//! and read back by the `lockcheck` CLI, which merges them across processes.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of primitive a lock is; decides which checks apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockKind {
    /// [`Mutex`](crate::Mutex), [`sync::Mutex`](crate::sync::Mutex), and the initialisation
    /// of a [`sync::OnceLock`](crate::sync::OnceLock) or [`sync::LazyLock`](crate::sync::LazyLock).
    Mutex,
    /// [`RwLock`](crate::RwLock), [`sync::RwLock`](crate::sync::RwLock).
    RwLock,
    /// [`ReentrantMutex`](crate::ReentrantMutex).
    Reentrant,
    /// [`Semaphore`](crate::Semaphore).
    Semaphore,
}

/// How a lock was (or was to be) held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `Mutex::lock`, `RwLock::write`, a reentrant lock's outermost acquisition.
    Exclusive,
    /// `RwLock::read`: task-fair, so it queues behind a waiting writer.
    Shared,
    /// `RwLock::read_recursive`: does not queue behind waiting writers.
    SharedRecursive,
    /// `RwLock::upgradable_read`.
    Upgradable,
    /// A semaphore permit.
    Permit,
}

impl Mode {
    /// The verb a report uses for taking a lock in this mode.
    pub fn verb(self) -> &'static str {
        match self {
            Mode::Exclusive => "lock",
            Mode::Shared => "read",
            Mode::SharedRecursive => "read_recursive",
            Mode::Upgradable => "upgradable_read",
            Mode::Permit => "acquire",
        }
    }
}

/// A source location.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Site {
    /// Source file as the compiler saw it.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl Site {
    /// The site of a `#[track_caller]` location.
    pub fn from_location(loc: &std::panic::Location<'_>) -> Site {
        Site { file: loc.file().to_owned(), line: loc.line(), column: loc.column() }
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A lock as reports name it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LockRef {
    /// The lock's name, or its creation site when it has none: its class.
    pub class: String,
    /// The instance id within its process, when the finding is about instances.
    pub instance: Option<u32>,
    /// The lock's rank, if it has one.
    pub rank: Option<u32>,
}

impl fmt::Display for LockRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.class)?;
        if let Some(rank) = self.rank {
            write!(f, " (rank {rank})")?;
        }
        Ok(())
    }
}

/// A held lock, with where it was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldLock {
    /// The lock.
    pub lock: LockRef,
    /// How it is held.
    pub mode: Mode,
    /// Where it was acquired.
    pub site: Site,
}

/// Which lock-order graph a cycle was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Graph {
    /// Lock instances: this process can deadlock on these very locks.
    Instance,
    /// Lock classes (name or creation site): any run with other instances can deadlock.
    Class,
}

/// One observed order `from` → `to`: `to` was acquired while `from` was held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    /// The lock already held.
    pub from: LockRef,
    /// The lock acquired while holding it.
    pub to: LockRef,
    /// How `from` was held.
    pub from_mode: Mode,
    /// How `to` was acquired.
    pub to_mode: Mode,
    /// The first thread seen taking this order.
    pub thread: String,
    /// Where `from` was acquired.
    pub from_site: Site,
    /// Where `to` was acquired.
    pub to_site: Site,
    /// The acquiring thread's stack when the order was first seen, innermost frame first;
    /// empty until symbolised (see `stack_id`).
    pub stack: Vec<String>,
    /// The id under which the process captured that stack as code addresses: in a trace, the
    /// id of its stack chunk, which readers symbolise into `stack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_id: Option<u32>,
}

/// A cycle in a lock-order graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    /// The graph it was found in.
    pub graph: Graph,
    /// The edges, in order; the last one's `to` is the first one's `from`.
    pub edges: Vec<Edge>,
    /// A lock held across every edge of the cycle, which serialises it: not a deadlock.
    pub guarded_by: Option<LockRef>,
    /// How many times the cycle's rarest order was taken since the cycle was first seen.
    pub count: u64,
    /// Whether every edge was taken by one thread only.
    pub single_thread: bool,
    /// Extra facts that qualify the cycle (read/write modes, same class, …).
    pub notes: Vec<String>,
}

/// A thread about to acquire a lock it already holds, in a way that can never succeed (or,
/// for a task-fair read after a read, succeeds only until a writer queues).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfDeadlock {
    /// The lock.
    pub lock: LockRef,
    /// How the thread already holds it.
    pub held: HeldLock,
    /// How it tried to take it again.
    pub mode: Mode,
    /// Where it tried.
    pub site: Site,
    /// The thread.
    pub thread: String,
    /// `false` when the second acquisition only hangs if a writer queues in between.
    pub certain: bool,
}

/// An acquisition that breaks the rank order: ranks must strictly increase along the locks a
/// thread holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankViolation {
    /// The lock being acquired.
    pub lock: LockRef,
    /// Where.
    pub site: Site,
    /// The thread.
    pub thread: String,
    /// Every lock the thread held at that moment.
    pub held: Vec<HeldLock>,
    /// How many times it happened.
    pub count: u64,
}

/// One thread's part in a real deadlock or stall, as the watchdog saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadState {
    /// The thread's name.
    pub thread: String,
    /// The lock it waits for, and where it asked.
    pub waits_for: Option<HeldLock>,
    /// How long it had been waiting, in milliseconds.
    pub waiting_ms: u64,
    /// The thread holding what this one waits for.
    pub blocked_by: Option<String>,
    /// Every lock it holds.
    pub holds: Vec<HeldLock>,
    /// Its stack, innermost frame first, if one was captured.
    pub stack: Vec<String>,
}

/// A real deadlock (a wait-for cycle) or a stall (a wait past the watchdog threshold).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hang {
    /// The threads involved, in wait-for order.
    pub threads: Vec<ThreadState>,
    /// The watchdog threshold that was passed, in milliseconds.
    pub threshold_ms: u64,
}

/// A lock still held when its thread exited (a guard leaked with `mem::forget`, say).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misuse {
    /// What happened.
    pub what: String,
    /// The thread.
    pub thread: String,
    /// The lock and where it was taken.
    pub held: HeldLock,
}

/// Which held-lock assertion a [`FailedAssertion`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assertion {
    /// `assert_held`: the thread holds the lock, in any mode.
    Held,
    /// `assert_held_read`: the thread holds the reader-writer lock for reading.
    HeldRead,
    /// `assert_held_write`: the thread holds the reader-writer lock for writing.
    HeldWrite,
    /// `assert_not_held`: the thread does not hold the lock.
    NotHeld,
    /// `assert_no_locks_held`: the thread holds no lock at all.
    NoLocksHeld,
}

impl Assertion {
    /// The method that makes this assertion.
    pub fn name(self) -> &'static str {
        match self {
            Assertion::Held => "assert_held",
            Assertion::HeldRead => "assert_held_read",
            Assertion::HeldWrite => "assert_held_write",
            Assertion::NotHeld => "assert_not_held",
            Assertion::NoLocksHeld => "assert_no_locks_held",
        }
    }
}

/// A held-lock assertion (lockdep's `lockdep_assert_held`) that did not hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedAssertion {
    /// What was asserted.
    pub assertion: Assertion,
    /// The lock it was asserted about (`None` for `assert_no_locks_held`).
    pub lock: Option<LockRef>,
    /// Where.
    pub site: Site,
    /// The thread.
    pub thread: String,
    /// Every lock the thread held at that moment.
    pub held: Vec<HeldLock>,
    /// How many times it failed there.
    pub count: u64,
}

/// One thing lockcheck found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// A lock-order cycle: the program can deadlock though this run did not.
    PotentialDeadlock(Cycle),
    /// A thread acquiring a lock it already holds.
    SelfDeadlock(SelfDeadlock),
    /// Ranks not increasing along a thread's held locks.
    RankViolation(RankViolation),
    /// Threads that really deadlocked.
    ActualDeadlock(Hang),
    /// A wait past the watchdog threshold with no wait-for cycle.
    Stall(Hang),
    /// A lock used in a way that is wrong but not a deadlock.
    Misuse(Misuse),
    /// A held-lock assertion that did not hold.
    FailedAssertion(FailedAssertion),
}

impl Finding {
    /// Whether this finding should fail a CI check (guarded cycles and stalls do not).
    pub fn is_failure(&self) -> bool {
        match self {
            Finding::PotentialDeadlock(cycle) => cycle.guarded_by.is_none(),
            Finding::SelfDeadlock(_)
            | Finding::RankViolation(_)
            | Finding::ActualDeadlock(_)
            | Finding::FailedAssertion(_) => true,
            Finding::Stall(_) | Finding::Misuse(_) => false,
        }
    }

    /// The greppable kind that heads the text report.
    pub fn headline(&self) -> &'static str {
        match self {
            Finding::PotentialDeadlock(c) if c.guarded_by.is_some() => "GUARDED LOCK-ORDER CYCLE",
            Finding::PotentialDeadlock(_) => "POTENTIAL DEADLOCK",
            Finding::SelfDeadlock(s) if s.certain => "DEADLOCK: LOCK ACQUIRED TWICE",
            Finding::SelfDeadlock(_) => "POTENTIAL DEADLOCK: RECURSIVE READ",
            Finding::RankViolation(_) => "LOCK RANK VIOLATION",
            Finding::ActualDeadlock(_) => "DEADLOCK",
            Finding::Stall(_) => "STALL",
            Finding::Misuse(_) => "LOCK MISUSE",
            Finding::FailedAssertion(_) => "HELD-LOCK ASSERTION FAILED",
        }
    }

    /// The site a CI annotation should point at.
    pub fn primary_site(&self) -> Option<&Site> {
        match self {
            Finding::PotentialDeadlock(c) => c.edges.last().map(|e| &e.to_site),
            Finding::SelfDeadlock(s) => Some(&s.site),
            Finding::RankViolation(r) => Some(&r.site),
            Finding::ActualDeadlock(h) | Finding::Stall(h) => {
                h.threads.iter().find_map(|t| t.waits_for.as_ref().map(|w| &w.site))
            }
            Finding::Misuse(m) => Some(&m.held.site),
            Finding::FailedAssertion(a) => Some(&a.site),
        }
    }
}

/// Everything found so far, with what could make it incomplete.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The findings, most severe first.
    pub findings: Vec<Finding>,
    /// Events the recorder had to drop (see [`LOST_BECAUSE`](Self::LOST_BECAUSE)): the
    /// event-based parts of the analysis (contention, flamegraphs) are then incomplete.
    pub events_lost: u64,
}

impl Report {
    /// Why events are lost, as every warning about them says: a thread's ring was full, or
    /// the thread took a lock after its ring had closed (in a thread-specific destructor that
    /// ran after lockcheck's, the only place left after thread-local destructors, whose locks
    /// are recorded).
    pub const LOST_BECAUSE: &'static str = "a ring was full, or a thread locked after its ring had closed";

    /// Whether any finding should fail a CI check.
    pub fn has_failures(&self) -> bool {
        self.findings.iter().any(Finding::is_failure)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serialises")
    }
}
