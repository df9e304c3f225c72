//! Stack capture for reports. Costly (microseconds, and a process-wide lock inside the
//! `backtrace` crate), so only called off the hot path: for new class edges, long waits and
//! the watchdog. Follows `LOCKCHECK_STACKS`, not `RUST_BACKTRACE`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

impl Unresolved {
    /// The code address of each frame: what makes two stacks the same before symbolising.
    pub(crate) fn addresses(&self) -> Vec<usize> {
        self.0.frames().iter().map(|frame| frame.ip().addr()).collect()
    }
}

/// The calling thread's stack, without symbols: microseconds, where symbolising can take
/// far longer (the first time, it loads the debug info). `None` when stacks are off.
pub(crate) fn capture_unresolved() -> Option<Unresolved> {
    enabled().then(|| Unresolved(backtrace::Backtrace::new_unresolved()))
}

/// Symbolises a stack taken with [`capture_unresolved`]: frames innermost first, lockcheck's own left out.
pub(crate) fn resolve(stack: Unresolved) -> Vec<String> {
    let mut trace = stack.0;
    trace.resolve();
    let cwd = std::env::current_dir().ok();
    let mut frames = Vec::new();
    'outer: for frame in trace.frames() {
        for symbol in frame.symbols() {
            let name = symbol.name().map(|n| format!("{n:#}"));
            let seen = Symbol::new(name, symbol.filename(), symbol.lineno(), cwd.as_deref());
            if !seen.add_to(&mut frames) {
                break 'outer;
            }
        }
    }
    frames
}

/// Symbolises many stacks, remembering what each code address resolved to: waits recur at
/// the same few call sites, and looking an address up in the debug info costs microseconds.
/// Gives what [`resolve`] gives.
pub(crate) struct Resolver {
    /// The symbols (inlined functions first, as `backtrace` lists them) of each address.
    symbols: HashMap<usize, Box<[Symbol]>>,
    cwd: Option<PathBuf>,
}

impl Resolver {
    pub(crate) fn new() -> Resolver {
        Resolver { symbols: HashMap::new(), cwd: std::env::current_dir().ok() }
    }

    /// The trimmed frames of `stack`, innermost first.
    pub(crate) fn resolve(&mut self, stack: &Unresolved) -> Vec<String> {
        let mut frames = Vec::new();
        for frame in stack.0.frames() {
            let ip = frame.ip();
            let cwd = self.cwd.as_deref();
            let symbols = self.symbols.entry(ip.addr()).or_insert_with(|| {
                let mut symbols = Vec::new();
                // Like `Backtrace::resolve`: `resolve` looks up the call, not the return
                // address (it subtracts one itself).
                backtrace::resolve(ip, |symbol| {
                    let name = symbol.name().map(|n| format!("{n:#}"));
                    symbols.push(Symbol::new(name, symbol.filename(), symbol.lineno(), cwd));
                });
                symbols.into_boxed_slice()
            });
            for symbol in symbols.iter() {
                if !symbol.add_to(&mut frames) {
                    return frames;
                }
            }
        }
        frames
    }
}

/// What one symbol contributes to a trimmed stack.
enum Symbol {
    /// A user frame: `function at file:line`.
    Frame(String),
    /// lockcheck's, a lock crate's or the runtime's own frame, or one without a name.
    Skip,
    /// Where the user's part of the stack ends.
    Root,
}

impl Symbol {
    fn new(name: Option<String>, file: Option<&Path>, line: Option<u32>, cwd: Option<&Path>) -> Symbol {
        let Some(name) = name else { return Symbol::Skip };
        if ROOT_FRAMES.iter().any(|root| name.starts_with(root)) {
            return Symbol::Root;
        }
        if OWN_FRAMES.iter().any(|own| name.starts_with(own)) {
            return Symbol::Skip;
        }
        // The standard library's own frames (iterator adapters, closures' shims).
        if file.is_some_and(|f| f.starts_with("/rustc/")) {
            return Symbol::Skip;
        }
        let at = match (file, line) {
            (Some(file), Some(line)) => {
                let file = cwd.and_then(|cwd| file.strip_prefix(cwd).ok()).unwrap_or(file);
                format!(" at {}:{line}", file.display())
            }
            _ => String::new(),
        };
        Symbol::Frame(format!("{name}{at}"))
    }

    /// Appends the frame, if any, to `frames`; returns whether the stack goes on.
    fn add_to(&self, frames: &mut Vec<String>) -> bool {
        match self {
            Symbol::Root => false,
            Symbol::Skip => true,
            Symbol::Frame(frame) => {
                frames.push(frame.clone());
                frames.len() < MAX_FRAMES
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caching_resolver_gives_what_resolve_gives() {
        // Every frame of a lockcheck unit test is lockcheck's or the harness's: both trimmed.
        // tests/tests/contended_waits_record_where_they_waited_and_who_held_the_lock.rs sees
        // user frames come through.
        let Some(stack) = capture_unresolved() else { return };
        let mut resolver = Resolver::new();
        let frames = resolver.resolve(&stack);
        assert_eq!(frames, resolve(stack.clone()));
        assert_eq!(resolver.resolve(&stack), frames, "from the cache");
        assert!(!resolver.symbols.is_empty());
    }

    #[test]
    fn frames_are_trimmed_to_the_users() {
        let cwd = Path::new("/src/app");
        let frame = |name: &str, file: &str| {
            let mut frames = Vec::new();
            let more = Symbol::new(Some(name.into()), Some(Path::new(file)), Some(7), Some(cwd)).add_to(&mut frames);
            (frames, more)
        };
        assert_eq!(
            frame("app::transfer", "/src/app/src/bank.rs"),
            (vec!["app::transfer at src/bank.rs:7".into()], true)
        );
        assert_eq!(frame("lockcheck::check::wait", "/src/app/x.rs"), (vec![], true));
        assert_eq!(frame("<alloc::boxed::Box<F> as FnOnce>::call_once", "/x.rs"), (vec![], true));
        assert_eq!(frame("app::{{closure}}", "/rustc/abc/library/core/src/iter.rs"), (vec![], true));
        assert_eq!(frame("std::rt::lang_start::{{closure}}", "/x.rs"), (vec![], false));
        let mut frames = Vec::new();
        assert!(Symbol::new(None, None, None, None).add_to(&mut frames) && frames.is_empty());
        let mut frames = vec![String::new(); MAX_FRAMES - 1];
        assert!(!Symbol::new(Some("app::f".into()), None, None, None).add_to(&mut frames));
        assert_eq!(frames.last().unwrap(), "app::f");
    }
}
