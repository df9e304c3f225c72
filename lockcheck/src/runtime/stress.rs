//! Stress mode (`LOCKCHECK_STRESS=<seed>`): delays injected on purpose at synchronization
//! points, so that interleavings a plain run almost never meets happen often, and happen again
//! with the same seed.
//!
//! Two kinds of perturbation, both decided by a generator of the thread's own:
//!
//! - **Change points**, after PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte: "A Randomized
//!   Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010; shuttle's
//!   `PctScheduler`). PCT lowers a thread's priority at `depth - 1` random steps so every
//!   other thread overtakes it there. An OS scheduler cannot be given priorities, so a change
//!   point here is a long sleep ([`SET_BACK_US`]) at a synchronization point drawn for the
//!   thread. PCT draws its steps uniformly from a known program length; a program's length is
//!   not known here, so the point's number is log-uniform below 2^16: a short program gets
//!   change points among its few points as often as a long one among its many.
//! - **Noise**, after IBM's ConTest: one point in `noise_one_in` gets a yield, a short spin or
//!   a short sleep, which reorders threads racing for the same few instructions. An
//!   acquisition made while the thread holds another lock is where a lock-order inversion's
//!   window is: it gets noise [`NESTED_BOOST`] times as often, a sleep half of the time.
//!
//! A synchronization point is the moment before an acquisition (blocking, timed or `try_`),
//! the moment after a release, the moment before a condvar wait releases its mutex, and
//! `lockcheck::stress::point()`. Delays are injected there only, never inside lockcheck's own
//! bookkeeping or while it holds one of its own locks (the condvar's release is made under
//! its gate: [`quietly`]). Async locks (`lockcheck::tokio`) have no synchronization points. A delay before an acquisition made while other locks are held lengthens those
//! holds: that is how it widens the window of a lock-order inversion. Hold and wait figures
//! of a stressed run therefore include injected time; the trace's stress chunk says how much
//! ([`crate::trace::Stress`]) and the CLI says so next to them.
//!
//! **Reproducing a seed.** A thread's decisions derive from the seed, its identity and the
//! number of its points so far; nothing else (no clock, no OS thread id). Its identity is its
//! name plus its index among the threads of the same name, in the order they reached their
//! first synchronization point: lockcheck does not wrap `thread::spawn`, so it cannot know a
//! thread's spawn index under its parent. Named threads (test threads are named after their
//! test) are identified exactly; unnamed threads are identified by that order, which is
//! usually, but not always, their spawn order. The same seed then injects the same delays at
//! the same points of the same threads; whether the interleaving they provoke recurs is up to
//! the OS scheduler, which is why a delay is long compared with a thread's start-up.
//!
//! Without `LOCKCHECK_STRESS`, the hooks cost one relaxed load of [`ACTIVE`] and a branch
//! predicted not taken.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex as RawLock;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::config::{self, StressSettings};
use crate::runtime::held;
use crate::trace::{Stress, StressThread};

/// Whether stress mode is on: set once, at start-up (see [`start`]).
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// How long a thread is set back at a change point, in µs: long against a thread's start-up
/// (tens of µs) and a time slice, so the others really overtake it.
const SET_BACK_US: (u64, u64) = (2_000, 6_000);
/// A noise sleep's bounds, in µs: up to several times a thread's start-up.
const NOISE_SLEEP_US: (u64, u64) = (100, 2_000);
/// How much more often a nested acquisition gets noise than other points.
const NESTED_BOOST: u32 = 4;
/// A noise spin's bounds, in iterations of `spin_loop` (about 1 to 50 µs).
const NOISE_SPIN: (u64, u64) = (100, 5_000);
/// Change points are numbered below 2 to this power (see the module docs).
const CHANGE_POINT_BITS: u64 = 16;

/// Switches stress mode on if the settings ask for it; run by the first lock registration
/// (before `main`), so every synchronization point after it sees the final value.
pub(crate) fn start() {
    let config = config::get();
    if config.enabled && config.stress.is_some() {
        // Relaxed: a setting derived from the environment; no other memory is published with it.
        ACTIVE.store(true, Ordering::Relaxed);
    }
}

/// Whether stress mode is on: the hooks' whole cost when it is off.
#[inline(always)]
pub(crate) fn active() -> bool {
    // Relaxed: see `start`.
    ACTIVE.load(Ordering::Relaxed)
}

/// The settings, when stress mode is on.
pub(crate) fn settings() -> Option<StressSettings> {
    active().then(|| config::get().stress).flatten()
}

/// Where a synchronization point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Point {
    /// Before an acquisition.
    Acquire,
    /// After a release, or a point of the program's own.
    Other,
}

/// A synchronization point of the calling thread: maybe a delay, as its generator decides.
#[cold]
#[inline(never)]
pub(crate) fn point(at: Point) {
    let Some(settings) = settings() else { return };
    if QUIET.try_with(Cell::get).unwrap_or(true) {
        return;
    }
    let nested = at == Point::Acquire && held::with(|t| !t.stack().is_empty()).unwrap_or(false);
    // `try_`: during the thread's teardown, or re-entered from inside a decision (an
    // allocator with an instrumented lock, registering the thread), there is no point.
    let decided = STATE.try_with(|state| {
        let mut state = state.try_borrow_mut().ok()?;
        let thread = state.get_or_insert_with(|| ThreadState::new(&settings));
        Some((thread.decide(&settings, nested), Arc::clone(&thread.summary)))
    });
    let Ok(Some((delay, summary))) = decided else { return };
    if let Some(delay) = delay {
        // Outside the borrow: nothing of lockcheck's is in use while the thread waits.
        let started = Instant::now();
        delay.run();
        summary.injected(started.elapsed());
    }
}

/// Runs `release` with no synchronization point on this thread: for a release made while
/// one of lockcheck's own locks is held (the condvar's gate), where a delay would hold up
/// every thread that needs that lock.
pub(crate) fn quietly<R>(release: impl FnOnce() -> R) -> R {
    /// Clears the flag when `release` returns or unwinds.
    struct Loud;

    impl Drop for Loud {
        fn drop(&mut self) {
            let _ = QUIET.try_with(|q| q.set(false));
        }
    }

    if !active() {
        return release();
    }
    let _ = QUIET.try_with(|q| q.set(true));
    let _loud = Loud;
    release()
}

/// What stress mode has done so far, for the trace (`None` when it is off).
pub(crate) fn snapshot() -> Option<Stress> {
    let settings = settings()?;
    let threads = THREADS.lock().iter().map(|t| t.snapshot()).collect();
    Some(Stress { seed: settings.seed, depth: settings.depth, noise_one_in: settings.noise_one_in, threads })
}

thread_local! {
    /// The thread's generator and counters, from its first synchronization point.
    static STATE: RefCell<Option<ThreadState>> = const { RefCell::new(None) };
    /// Set while a release must not be a synchronization point (see [`quietly`]).
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Every thread's summary, in the order they reached their first synchronization point.
static THREADS: RawLock<Vec<Arc<Summary>>> = RawLock::new(Vec::new());

/// A delay to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delay {
    /// `thread::yield_now`.
    Yield,
    /// This many `spin_loop` iterations.
    Spin(u64),
    /// A sleep of this many µs (noise).
    Sleep(u64),
    /// A change point: a sleep of this many µs.
    SetBack(u64),
}

impl Delay {
    fn run(self) {
        match self {
            Delay::Yield => std::thread::yield_now(),
            Delay::Spin(n) => (0..n).for_each(|_| std::hint::spin_loop()),
            Delay::Sleep(us) | Delay::SetBack(us) => std::thread::sleep(Duration::from_micros(us)),
        }
    }

    /// The delay as two numbers, for the digest.
    fn code(self) -> (u64, u64) {
        match self {
            Delay::Yield => (1, 0),
            Delay::Spin(n) => (2, n),
            Delay::Sleep(us) => (3, us),
            Delay::SetBack(us) => (4, us),
        }
    }
}

/// One thread's generator and where it is.
struct ThreadState {
    rng: Xoshiro256PlusPlus,
    /// Points passed so far.
    points: u64,
    /// The points at which the thread is set back, ascending.
    change_points: Vec<u64>,
    /// What the collector reads.
    summary: Arc<Summary>,
}

impl ThreadState {
    /// The state of a thread at its first synchronization point: its identity is registered
    /// and its generator seeded from it.
    #[cold]
    fn new(settings: &StressSettings) -> ThreadState {
        let name = std::thread::current().name().unwrap_or_default().to_owned();
        let summary = {
            let mut threads = THREADS.lock();
            let index = threads.iter().filter(|t| t.name == name).count() as u32;
            let summary = Arc::new(Summary::new(name, index));
            threads.push(Arc::clone(&summary));
            summary
        };
        ThreadState::seeded(settings, summary)
    }

    /// The state of the thread `summary` names: its generator seeded from its identity, its
    /// change points drawn.
    fn seeded(settings: &StressSettings, summary: Arc<Summary>) -> ThreadState {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(thread_seed(settings.seed, &summary.name, summary.index));
        let mut change_points: Vec<u64> = (1..settings.depth).map(|_| log_uniform(&mut rng)).collect();
        change_points.sort_unstable();
        ThreadState { rng, points: 0, change_points, summary }
    }

    /// The decision at the next point, `nested` when it is an acquisition made while holding
    /// another lock: a delay or none. Draws the same numbers whatever is decided, so one
    /// decision never shifts the ones after it.
    fn decide(&mut self, settings: &StressSettings, nested: bool) -> Option<Delay> {
        let point = self.points;
        self.points += 1;
        let (noise, kind, amount) = (self.rng.next_u64(), self.rng.next_u64(), self.rng.next_u64());
        // A nested acquisition is where a lock-order inversion's window is: noise comes there
        // NESTED_BOOST times as often, and is a sleep half of the time.
        let one_in = match (settings.noise_one_in, nested) {
            (0, _) => 0,
            (n, true) => (n / NESTED_BOOST).max(1),
            (n, false) => n,
        };
        let delay = if self.change_points.first() == Some(&point) {
            self.change_points.remove(0);
            Some(Delay::SetBack(within(amount, SET_BACK_US)))
        } else if one_in != 0 && below(noise, one_in.into()) == 0 {
            Some(match (below(kind, 4), nested) {
                (0, _) | (1, false) => Delay::Yield,
                (1, true) | (2, false) => Delay::Spin(within(amount, NOISE_SPIN)),
                _ => Delay::Sleep(within(amount, NOISE_SLEEP_US)),
            })
        } else {
            None
        };
        self.summary.passed(point, delay);
        delay
    }
}

/// What the collector reads of a thread: written by the thread only.
struct Summary {
    name: String,
    index: u32,
    points: AtomicU64,
    delays: AtomicU64,
    delay_ns: AtomicU64,
    digest: AtomicU64,
}

impl Summary {
    fn new(name: String, index: u32) -> Summary {
        let zero = || AtomicU64::new(0);
        Summary { name, index, points: zero(), delays: zero(), delay_ns: zero(), digest: zero() }
    }

    /// Counts point number `point` and folds its decision into the digest.
    fn passed(&self, point: u64, delay: Option<Delay>) {
        // Relaxed, here and below: only this thread writes these; the collector reads a
        // snapshot whose fields may be a point apart, which a cumulative chunk allows.
        self.points.store(point + 1, Ordering::Relaxed);
        if let Some(delay) = delay {
            let (kind, amount) = delay.code();
            let digest = self.digest.load(Ordering::Relaxed);
            self.digest.store(mix(mix(mix(digest ^ point) ^ kind) ^ amount), Ordering::Relaxed);
            self.delays.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Adds the measured length of an injected delay.
    fn injected(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        // Relaxed: see `passed`.
        self.delay_ns.fetch_add(ns, Ordering::Relaxed);
    }

    fn snapshot(&self) -> StressThread {
        // Relaxed: see `passed`.
        StressThread {
            name: self.name.clone(),
            index: self.index,
            points: self.points.load(Ordering::Relaxed),
            delays: self.delays.load(Ordering::Relaxed),
            delay_ns: self.delay_ns.load(Ordering::Relaxed),
            digest: self.digest.load(Ordering::Relaxed),
        }
    }
}

/// The seed of a thread's generator: the run's seed mixed with the thread's identity.
fn thread_seed(seed: u64, name: &str, index: u32) -> u64 {
    let named = name.bytes().fold(mix(seed), |h, b| mix(h ^ u64::from(b)));
    mix(named ^ u64::from(index))
}

/// SplitMix64's finaliser (Steele, Lea, Flood: "Fast Splittable Pseudorandom Number
/// Generators", 2014): a bijection that spreads every input bit over the output.
fn mix(x: u64) -> u64 {
    let x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `random` scaled into `0..n` (Lemire's multiply-shift; the bias, below n / 2^64, is nil
/// for these ranges).
fn below(random: u64, n: u64) -> u64 {
    ((u128::from(random) * u128::from(n)) >> 64) as u64
}

/// `random` scaled into `lo..=hi`.
fn within(random: u64, (lo, hi): (u64, u64)) -> u64 {
    lo + below(random, hi - lo + 1)
}

/// A point number below 2^[`CHANGE_POINT_BITS`] whose bit length is uniform: as likely in
/// `1..2` as in `32768..65536`.
fn log_uniform(rng: &mut Xoshiro256PlusPlus) -> u64 {
    let bits = below(rng.next_u64(), CHANGE_POINT_BITS);
    (1 << bits) - 1 + below(rng.next_u64(), 1 << bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(seed: u64) -> StressSettings {
        StressSettings { seed, depth: 3, noise_one_in: 8 }
    }

    fn decisions(seed: u64, name: &str, index: u32, n: usize) -> Vec<Option<Delay>> {
        let settings = settings(seed);
        let mut state = ThreadState::seeded(&settings, Arc::new(Summary::new(name.to_owned(), index)));
        (0..n).map(|i| state.decide(&settings, i % 3 == 0)).collect()
    }

    #[test]
    fn a_thread_identity_and_seed_fix_the_decisions() {
        assert_eq!(decisions(7, "worker", 0, 500), decisions(7, "worker", 0, 500));
        assert_ne!(decisions(7, "worker", 0, 500), decisions(8, "worker", 0, 500));
        assert_ne!(decisions(7, "worker", 0, 500), decisions(7, "worker", 1, 500));
        assert_ne!(decisions(7, "worker", 0, 500), decisions(7, "other", 0, 500));
    }

    #[test]
    fn noise_comes_at_about_the_rate_asked() {
        // A third of the points nested (one in 2), the rest one in 8: 1/6 + 1/12 = 1/4.
        let delays = decisions(1, "t", 0, 80_000).iter().filter(|d| d.is_some()).count();
        assert!((19_000..21_000).contains(&delays), "{delays} delays in 80000 points, expected about 20000");
    }

    #[test]
    fn change_points_are_log_uniform() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let points: Vec<u64> = (0..16_000).map(|_| log_uniform(&mut rng)).collect();
        assert!(points.iter().all(|&p| p < 1 << CHANGE_POINT_BITS));
        let first = points.iter().filter(|&&p| p == 0).count();
        assert!((800..1_200).contains(&first), "point 0 drawn {first} times in 16000, expected about 1000");
    }
}
