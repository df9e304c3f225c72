//! Run-time settings, read once from the environment at first use.
//!
//! A bad value never panics: it prints one warning line on stderr and the default is used.

#![cfg_attr(not(feature = "instrument"), allow(dead_code))] // Used by instrumentation only.

use std::path::PathBuf;
use std::sync::OnceLock;

/// What a newly found potential deadlock, self-deadlock or rank violation does in-process
/// (`LOCKCHECK_ON_CYCLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnCycle {
    /// Print the report on stderr, once per distinct problem, and carry on (the default).
    Warn,
    /// Panic at the offending acquisition, before blocking.
    Panic,
    /// Record the finding for [`report()`](crate::report()) and the trace only.
    Ignore,
}

/// What the watchdog does when it finds threads really deadlocked (`LOCKCHECK_ON_DEADLOCK`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDeadlock {
    /// Print the report, flush the trace and abort the process (the default).
    Abort,
    /// Print the report once and keep watching.
    Warn,
}

/// Every setting lockcheck reads from the environment.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    /// `LOCKCHECK=0` switches instrumentation off at run time.
    pub enabled: bool,
    pub on_cycle: OnCycle,
    pub on_deadlock: OnDeadlock,
    /// `LOCKCHECK_TRACE`: a directory that gets one file per process, or one file when the
    /// path names an existing file or ends in `.lctrace`.
    pub trace: Option<PathBuf>,
    /// `LOCKCHECK_WATCHDOG_MS`; 0 switches the watchdog off.
    pub watchdog_ms: u64,
    /// `LOCKCHECK_STACKS=0|1`: capture a stack for new order edges and long waits.
    pub stacks: bool,
    /// `LOCKCHECK_WAIT_STACKS_US=N`: a contended wait of at least N µs records where the thread
    /// waited (a stack, in the trace); 0 = never. Capturing costs 2.4-10.6 µs (DESIGN.md §7), so
    /// the default keeps it to waits that already cost the thread more than that.
    pub wait_stacks_us: u64,
    /// `LOCKCHECK_HOLD_SAMPLE=N`: time one uncontended hold in N (0 = never, 1 = every one).
    pub hold_sample: u32,
    /// `LOCKCHECK_RING=N`: records per thread ring (8 bytes each; a lock and unlock with
    /// nothing recorded in between is one record). The default, 4 MiB of
    /// address space per thread, is larger than a core's L2 cache: the collector, woken at half
    /// full, then reads lines the producer wrote long enough ago to have left its cache, where
    /// reading hot lines stalled the producer (a nested pair in a tight loop, recording: about
    /// 30 ns at this size, 36 ns at 65536, 50 ns at 16384). Pages are committed as the thread
    /// first writes them: a thread that records little costs little (64 threads of 100
    /// acquisitions each added 1.7 MB of resident memory in all).
    pub ring_capacity: usize,
    /// `LOCKCHECK_STRESS=<seed>`: stress mode, seeded (`None`: off, the default).
    pub stress: Option<StressSettings>,
}

/// How stress mode perturbs the schedule (`LOCKCHECK_STRESS`, `LOCKCHECK_STRESS_DEPTH`,
/// `LOCKCHECK_STRESS_NOISE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StressSettings {
    /// The seed every decision derives from.
    pub seed: u64,
    /// The bug depth aimed at, PCT's `d`: each thread is set back at `depth - 1` change points.
    pub depth: u32,
    /// One synchronization point in this many gets a short delay (a yield, spin or sleep);
    /// 0: none.
    pub noise_one_in: u32,
}

impl StressSettings {
    /// The default depth: PCT finds most real bugs at depth 2 or 3 (Burckhardt et al., 2010).
    pub const DEPTH: u32 = 3;
    /// The default noise rate: one point in eight.
    pub const NOISE_ONE_IN: u32 = 8;
}

/// Default watchdog threshold in test builds: long enough that a loaded CI machine does not
/// trip it on an honest wait, short enough to fail well inside any job timeout.
pub(crate) const DEFAULT_WATCHDOG_MS: u64 = 10_000;

impl Config {
    fn from_env() -> Config {
        Config {
            enabled: parse("LOCKCHECK", true, |v| match v {
                "0" | "off" | "false" => Some(false),
                "1" | "on" | "true" => Some(true),
                _ => None,
            }),
            on_cycle: parse("LOCKCHECK_ON_CYCLE", OnCycle::Warn, |v| match v {
                "warn" => Some(OnCycle::Warn),
                "panic" => Some(OnCycle::Panic),
                "ignore" => Some(OnCycle::Ignore),
                _ => None,
            }),
            on_deadlock: parse("LOCKCHECK_ON_DEADLOCK", OnDeadlock::Abort, |v| match v {
                "abort" => Some(OnDeadlock::Abort),
                "warn" => Some(OnDeadlock::Warn),
                _ => None,
            }),
            trace: std::env::var_os("LOCKCHECK_TRACE").filter(|v| !v.is_empty()).map(PathBuf::from),
            watchdog_ms: parse("LOCKCHECK_WATCHDOG_MS", DEFAULT_WATCHDOG_MS, |v| v.parse().ok()),
            stacks: parse("LOCKCHECK_STACKS", true, |v| match v {
                "0" | "off" | "false" => Some(false),
                "1" | "on" | "true" => Some(true),
                _ => None,
            }),
            wait_stacks_us: parse("LOCKCHECK_WAIT_STACKS_US", 20, |v| v.parse().ok()),
            hold_sample: parse("LOCKCHECK_HOLD_SAMPLE", 64, |v| v.parse().ok()),
            ring_capacity: parse("LOCKCHECK_RING", 1 << 19, |v| {
                v.parse::<usize>().ok().filter(|n| (16..=1 << 24).contains(n))
            }),
            stress: stress_from_env(),
        }
    }
}

/// Stress mode's settings: on when `LOCKCHECK_STRESS` holds a seed (a decimal `u64`).
fn stress_from_env() -> Option<StressSettings> {
    let seed = parse("LOCKCHECK_STRESS", None, |v| match v {
        "" => Some(None),
        v => v.parse::<u64>().ok().map(Some),
    })?;
    Some(StressSettings {
        seed,
        depth: parse("LOCKCHECK_STRESS_DEPTH", StressSettings::DEPTH, |v| {
            v.parse().ok().filter(|d| (1..=16).contains(d))
        }),
        noise_one_in: parse("LOCKCHECK_STRESS_NOISE", StressSettings::NOISE_ONE_IN, |v| v.parse().ok()),
    })
}

/// Reads `key`; a value `parse` rejects gets a one-line warning and `default`.
fn parse<T: std::fmt::Debug>(key: &str, default: T, parse: impl Fn(&str) -> Option<T>) -> T {
    let Some(raw) = std::env::var_os(key) else {
        return default;
    };
    match raw.to_str().map(str::trim).and_then(&parse) {
        Some(value) => value,
        None => {
            eprintln!(
                "lockcheck: warning: ignoring {key}={}: not a valid value, using {default:?}",
                raw.to_string_lossy()
            );
            default
        }
    }
}

static CONFIG: OnceLock<Config> = OnceLock::new();

/// The settings, read from the environment on the first call.
pub(crate) fn get() -> &'static Config {
    CONFIG.get_or_init(Config::from_env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_fall_back_to_the_default() {
        assert_eq!(parse("LOCKCHECK_TEST_UNSET_KEY", 7u64, |v| v.parse().ok()), 7);
        let parsed = parse("PATH", 7u64, |v| v.parse().ok());
        assert_eq!(parsed, 7, "a non-number falls back");
    }
}
