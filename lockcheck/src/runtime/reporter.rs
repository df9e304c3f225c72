//! Printing findings (`LOCKCHECK_ON_CYCLE=warn`) off the thread that found them.
//!
//! A finding is found on the acquiring thread, which holds the user's locks; printing it means
//! naming the frames of its stacks, and the first lookup of a process reads an object's symbol
//! table (milliseconds). Done there, it would stretch the user's critical section, and could
//! open the very deadlock window it reports. So the finding goes to a thread of lockcheck's own
//! (started by the first finding), which names the frames and prints; at exit, whatever is
//! still queued is printed before the process ends.
//!
//! A printed stack names each frame's function only (`record/symtab.rs`): files and lines
//! would load the debug info, a tenth of a second or more and tens of MiB per process in a
//! debug build. [`symbolised`], for `lockcheck::report()` and a panic on a cycle, gives them.

use std::sync::{Once, OnceLock};
use std::thread::Thread;

use parking_lot::Mutex as RawLock;

use crate::analysis::report::Finding;
use crate::record::stack;

/// Findings not printed yet, in the order found.
static PENDING: RawLock<Vec<Finding>> = RawLock::new(Vec::new());
/// Held while a batch is symbolised and printed, so that the exit hook waits for a batch in
/// flight rather than printing around it.
static PRINTING: RawLock<()> = RawLock::new(());
/// The printing thread; `None` when it could not be started (the exit hook prints then).
static THREAD: OnceLock<Option<Thread>> = OnceLock::new();
static EXIT_HOOK: Once = Once::new();

/// Queues `findings` to be printed on stderr.
#[cold]
pub(crate) fn print(findings: Vec<Finding>) {
    PENDING.lock().extend(findings);
    EXIT_HOOK.call_once(|| {
        // SAFETY: `at_exit` is an `extern "C" fn()` that lives for the whole program and never
        // unwinds (it catches panics); `atexit` only stores the pointer.
        if unsafe { libc::atexit(at_exit) } != 0 {
            eprintln!("lockcheck: warning: could not register the exit hook; findings found last may not print");
        }
    });
    let thread = THREAD.get_or_init(|| {
        let spawned = std::thread::Builder::new().name("lockcheck-reporter".into()).spawn(run);
        spawned.ok().map(|handle| handle.thread().clone())
    });
    match thread {
        Some(thread) => thread.unpark(),
        None => flush(),
    }
}

fn run() {
    loop {
        flush();
        // The unpark token covers findings queued between the last look and this park.
        std::thread::park();
    }
}

extern "C" fn at_exit() {
    let _ = std::panic::catch_unwind(flush);
}

/// Symbolises and prints every queued finding, on the calling thread (the reporter's, or the
/// exiting or aborting one).
pub(crate) fn flush() {
    let _printing = PRINTING.lock();
    let batch = std::mem::take(&mut *PENDING.lock());
    for finding in batch {
        eprintln!("{}", with_stacks(finding, stack::functions));
    }
}

/// `finding` with the stacks it names by id symbolised (function, file and line of each
/// frame, from the debug info), for a person to read.
pub(crate) fn symbolised(finding: Finding) -> Finding {
    with_stacks(finding, stack::resolve)
}

/// `finding` with the frames of the stacks it names by id, as `frames` gives them.
fn with_stacks(mut finding: Finding, frames: fn(u32) -> Vec<String>) -> Finding {
    if let Finding::PotentialDeadlock(cycle) = &mut finding {
        for edge in &mut cycle.edges {
            if let (true, Some(id)) = (edge.stack.is_empty(), edge.stack_id) {
                edge.stack = frames(id);
            }
        }
    }
    finding
}
