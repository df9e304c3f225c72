//! Stacks: captured as code addresses, cheaply and without allocating, wherever lockcheck
//! wants to say where something happened (new class edges, long waits, the watchdog), and
//! symbolised only when a person is about to read them.
//!
//! Capture walks the stack with the system unwinder into a fixed array: a few microseconds, no
//! lock, no allocation (the `backtrace` crate's `Backtrace::new_unresolved` takes a process
//! lock and grows a vector per frame). A distinct stack is interned once, under a small id that
//! findings and traces use to name it. Traces carry the addresses with the loaded objects they
//! belong to, and the CLI symbolises them; only in-process reports symbolise here, with
//! [`resolve`] (functions, files and lines, from the debug info) or, for printed warnings,
//! [`functions`] (function names from the symbol table). Follows `LOCKCHECK_STACKS`, not
//! `RUST_BACKTRACE`.

use std::collections::HashMap;
use std::path::PathBuf;

use parking_lot::Mutex as RawLock;

use crate::analysis::frames::{self, Symbol};

/// The most frames a capture keeps: lockcheck's and the lock crates' own frames come first and
/// are trimmed when symbolised, so this leaves room for [`frames::MAX_FRAMES`] of the user's.
const MAX_RAW_FRAMES: usize = 48;

/// Whether stacks are captured at all (`LOCKCHECK_STACKS`).
pub(crate) fn enabled() -> bool {
    crate::config::get().stacks
}

/// A stack as return addresses, innermost first; not symbolised.
#[derive(Clone, Copy)]
pub(crate) struct RawStack {
    len: usize,
    ips: [usize; MAX_RAW_FRAMES],
}

impl RawStack {
    /// The code address of each frame: what makes two stacks the same before symbolising.
    pub(crate) fn addresses(&self) -> &[usize] {
        &self.ips[..self.len]
    }
}

impl std::fmt::Debug for RawStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut list = f.debug_list();
        for ip in self.addresses() {
            list.entry(&format_args!("{ip:#x}"));
        }
        list.finish()
    }
}

/// The calling thread's stack, without symbols. `None` when stacks are off.
#[inline(never)]
pub(crate) fn capture() -> Option<RawStack> {
    if !enabled() {
        return None;
    }
    let mut stack = RawStack { len: 0, ips: [0; MAX_RAW_FRAMES] };
    let mut push = |frame: &backtrace::Frame| {
        stack.ips[stack.len] = frame.ip().addr();
        stack.len += 1;
        stack.len < MAX_RAW_FRAMES
    };
    #[cfg(unix)]
    // SAFETY: on Unix the walk is the system unwinder's `_Unwind_Backtrace` (libgcc or
    // libunwind), which is thread-safe; the `backtrace` crate's lock serialises callers for
    // Windows' dbghelp, which is not. The callback only writes into `stack`.
    unsafe {
        backtrace::trace_unsynchronized(&mut push)
    };
    #[cfg(not(unix))]
    backtrace::trace(&mut push);
    Some(stack)
}

/// Walks one stack now, so that the unwinder's first-use work (finding and paging in the
/// unwind tables, tens of microseconds) is not paid by the first new lock order, which runs
/// while a lock is held.
#[cold]
pub(crate) fn warm_up() {
    let _ = capture();
}

/// Every distinct stack captured so far, by id (ids are indices).
struct Interned {
    ids: HashMap<Box<[usize]>, u32>,
    stacks: Vec<Box<[usize]>>,
}

static INTERNED: RawLock<Option<Interned>> = RawLock::new(None);

/// The id of `stack`, given on its first sight. Only on cold paths: new class edges and
/// waits already long.
pub(crate) fn intern(stack: &RawStack) -> u32 {
    let mut interned = INTERNED.lock();
    let interned = interned.get_or_insert_with(|| Interned { ids: HashMap::new(), stacks: Vec::new() });
    if let Some(&id) = interned.ids.get(stack.addresses()) {
        return id;
    }
    let id = interned.stacks.len() as u32;
    let addresses: Box<[usize]> = stack.addresses().into();
    interned.stacks.push(addresses.clone());
    interned.ids.insert(addresses, id);
    id
}

/// The stacks interned with ids `from` and above, in id order: the collector declares each in
/// the trace once.
pub(crate) fn interned_from(from: u32) -> Vec<(u32, Box<[usize]>)> {
    let interned = INTERNED.lock();
    let stacks = interned.as_ref().map_or(&[][..], |i| &i.stacks[..]);
    stacks.iter().enumerate().skip(from as usize).map(|(id, s)| (id as u32, s.clone())).collect()
}

/// Symbolises many stacks, remembering what each code address resolved to: waits recur at
/// the same few call sites, and looking an address up in the debug info costs microseconds.
struct Resolver {
    /// The symbols (inlined functions first, as `backtrace` lists them) of each address.
    symbols: HashMap<usize, Box<[Symbol]>>,
    cwd: Option<PathBuf>,
}

impl Resolver {
    fn new() -> Resolver {
        Resolver { symbols: HashMap::new(), cwd: std::env::current_dir().ok() }
    }

    /// The trimmed frames of the stack at `addresses`, innermost first.
    fn resolve(&mut self, addresses: &[usize]) -> Vec<String> {
        let cwd = self.cwd.as_deref();
        for &ip in addresses {
            self.symbols.entry(ip).or_insert_with(|| {
                let mut symbols = Vec::new();
                // Like `Backtrace::resolve`: `resolve` looks up the call, not the return
                // address (it subtracts one itself).
                backtrace::resolve(std::ptr::without_provenance_mut(ip), |symbol| {
                    let name = symbol.name().map(|n| format!("{n:#}"));
                    symbols.push(Symbol::new(name.as_deref(), symbol.filename(), symbol.lineno(), cwd));
                });
                symbols.into_boxed_slice()
            });
        }
        frames::trim(addresses.iter().flat_map(|ip| self.symbols[ip].iter()))
    }
}

/// The in-process symboliser and its cache. Only reports take it: a person is about to read
/// the result, and the first lookup loads the debug info (a tenth of a second or more, and
/// tens of MiB, in a debug build).
static RESOLVER: RawLock<Option<Resolver>> = RawLock::new(None);

/// The trimmed, symbolised frames of `stack`, innermost first.
pub(crate) fn resolve_raw(stack: &RawStack) -> Vec<String> {
    RESOLVER.lock().get_or_insert_with(Resolver::new).resolve(stack.addresses())
}

/// The trimmed, symbolised frames of the interned stack `id`, innermost first.
pub(crate) fn resolve(id: u32) -> Vec<String> {
    let Some(addresses) = addresses_of(id) else { return Vec::new() };
    RESOLVER.lock().get_or_insert_with(Resolver::new).resolve(&addresses)
}

/// The trimmed frames of the interned stack `id`, innermost first, each named by its function
/// only: what a printed warning shows, without loading the debug info (see `symtab.rs`).
/// Where the loaded objects cannot be listed (not Linux), the same as [`resolve`].
pub(crate) fn functions(id: u32) -> Vec<String> {
    if cfg!(not(target_os = "linux")) {
        return resolve(id);
    }
    addresses_of(id).map(|addresses| crate::record::symtab::functions(&addresses)).unwrap_or_default()
}

fn addresses_of(id: u32) -> Option<Box<[usize]>> {
    INTERNED.lock().as_ref().and_then(|i| i.stacks.get(id as usize).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_is_interned_once_and_resolves_from_the_cache() {
        // Every frame of a lockcheck unit test is lockcheck's or the harness's: all trimmed.
        // tests/tests/contended_waits_record_where_they_waited_and_who_held_the_lock.rs sees
        // user frames come through.
        let Some(stack) = capture() else { return };
        assert!(stack.addresses().len() > 2, "{stack:?}");
        let id = intern(&stack);
        assert_eq!(intern(&stack), id);
        assert!(interned_from(id).iter().any(|(i, s)| *i == id && **s == *stack.addresses()));
        let frames = resolve(id);
        assert_eq!(resolve(id), frames, "from the cache");
        assert!(RESOLVER.lock().as_ref().is_some_and(|r| !r.symbols.is_empty()));
    }
}
