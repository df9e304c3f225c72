//! Stack capture for reports. Costly (microseconds, and a process-wide lock inside the
//! `backtrace` crate), so only called off the hot path: for new class edges, long waits and
//! the watchdog. Follows `LOCKCHECK_STACKS`, not `RUST_BACKTRACE`.

/// The most frames a report shows.
const MAX_FRAMES: usize = 16;

/// Prefixes of frames that belong to lockcheck, its locks or the runtime, not the user.
const OWN_FRAMES: &[&str] = &[
    "lockcheck::",
    "<lockcheck::",
    "lock_api::",
    "<lock_api::",
    "parking_lot",
    "<parking_lot",
    "backtrace::",
    "std::",
    "<std::",
    "core::",
    "<core::",
    "alloc::",
    "<alloc::",
];

/// Frames where the user's part of the stack ends.
const ROOT_FRAMES: &[&str] =
    &["std::rt::lang_start", "std::sys::backtrace::__rust_begin_short_backtrace", "test::run_test"];

/// Whether stacks are captured at all (`LOCKCHECK_STACKS`).
pub(crate) fn enabled() -> bool {
    crate::config::get().stacks
}

/// A stack whose symbols are not looked up yet.
#[derive(Clone, Debug)]
pub(crate) struct Unresolved(backtrace::Backtrace);

/// The calling thread's stack, without symbols: microseconds, where symbolising can take
/// far longer (the first time, it loads the debug info). `None` when stacks are off.
pub(crate) fn capture_unresolved() -> Option<Unresolved> {
    enabled().then(|| Unresolved(backtrace::Backtrace::new_unresolved()))
}

/// Symbolises a stack taken with [`capture_unresolved`], as [`capture`] returns it.
pub(crate) fn resolve(stack: Unresolved) -> Vec<String> {
    let mut trace = stack.0;
    trace.resolve();
    let cwd = std::env::current_dir().ok();
    let mut frames = Vec::new();
    'outer: for frame in trace.frames() {
        for symbol in frame.symbols() {
            let Some(name) = symbol.name().map(|n| format!("{n:#}")) else { continue };
            if ROOT_FRAMES.iter().any(|root| name.starts_with(root)) {
                break 'outer;
            }
            if OWN_FRAMES.iter().any(|own| name.starts_with(own)) {
                continue;
            }
            let file = symbol.filename();
            // The standard library's own frames (iterator adapters, closures' shims).
            if file.is_some_and(|f| f.starts_with("/rustc/")) {
                continue;
            }
            let at = match (file, symbol.lineno()) {
                (Some(file), Some(line)) => {
                    let file = cwd.as_deref().and_then(|cwd| file.strip_prefix(cwd).ok()).unwrap_or(file);
                    format!(" at {}:{line}", file.display())
                }
                _ => String::new(),
            };
            frames.push(format!("{name}{at}"));
            if frames.len() == MAX_FRAMES {
                break 'outer;
            }
        }
    }
    frames
}
