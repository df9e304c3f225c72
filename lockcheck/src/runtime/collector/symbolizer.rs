//! Symbolising off the collector's path. The first symbol lookup of a process loads its debug
//! info, a tenth of a second or more; a collector doing that between two drains let every busy
//! thread's ring overflow meanwhile. The stacks of long waits and of new lock-order edges go
//! to this thread instead (lockcheck's own, started on first use): the collector names a wait's
//! stack by id at once and declares it when its frames come back, so a stack chunk may follow
//! the events naming it. A full flush resolves whatever is still waiting itself.

use std::sync::OnceLock;
use std::thread::Thread;

use parking_lot::Mutex as RawLock;

use crate::record::stack::{Resolver, Unresolved};
use crate::runtime::graph;
use crate::trace::StackDecl;

/// Work not started yet.
struct Queue {
    /// Wait stacks, by the id the collector gave them.
    waits: Vec<(u32, Unresolved)>,
    /// Whether class edges with unsymbolised stacks are waiting.
    edges: bool,
}

static QUEUE: RawLock<Queue> = RawLock::new(Queue { waits: Vec::new(), edges: false });

/// Held for each piece of work from taking it off the queue to handing its result over, so
/// that whoever holds it and finds the queue empty knows nothing is in flight. Keeps the
/// resolver's cache of addresses (waits recur at the same few call sites).
static RESOLVER: RawLock<Option<Resolver>> = RawLock::new(None);

/// Wait stacks symbolised and not yet declared; only those with a frame of the user's.
static DONE: RawLock<Vec<StackDecl>> = RawLock::new(Vec::new());

/// The symbolising thread, to unpark; `None` if it could not be started (the collector then
/// symbolises at flushes only).
static THREAD: OnceLock<Option<Thread>> = OnceLock::new();

/// Queues the stack of a long wait, which the trace names `id`; [`start`] sets to work.
pub(super) fn wait(id: u32, stack: Unresolved) {
    QUEUE.lock().waits.push((id, stack));
}

/// Asks for the stacks of new class edges (see [`graph::resolve_class_edge_stacks`]);
/// [`start`] sets to work.
pub(super) fn edges() {
    QUEUE.lock().edges = true;
}

/// Wakes the symbolising thread, starting it the first time, if work is queued. Called after
/// periodic drains only: a full flush resolves the queue itself ([`resolve_all`]), and an
/// exit flush is no time to start a thread.
pub(super) fn start() {
    let queued = {
        let queue = QUEUE.lock();
        !queue.waits.is_empty() || queue.edges
    };
    if !queued {
        return;
    }
    let thread = THREAD.get_or_init(|| {
        let spawned = std::thread::Builder::new().name("lockcheck-symbolizer".into()).spawn(run);
        spawned.ok().map(|handle| handle.thread().clone())
    });
    if let Some(thread) = thread {
        thread.unpark();
    }
}

/// The wait stacks symbolised since the last call.
pub(super) fn finished() -> Vec<StackDecl> {
    std::mem::take(&mut *DONE.lock())
}

/// Symbolises everything queued, and the stacks of new class edges, on the calling thread;
/// waits for work in flight.
pub(super) fn resolve_all() {
    QUEUE.lock().edges = true;
    while resolve_one() {}
}

/// Does one piece of queued work; returns whether there was any.
fn resolve_one() -> bool {
    let mut resolver = RESOLVER.lock();
    let (wait, edges) = {
        let mut queue = QUEUE.lock();
        match queue.waits.pop() {
            Some(wait) => (Some(wait), false),
            None => (None, std::mem::take(&mut queue.edges)),
        }
    };
    if let Some((id, stack)) = wait {
        let frames = resolver.get_or_insert_with(Resolver::new).resolve(&stack);
        if !frames.is_empty() {
            DONE.lock().push(StackDecl { id, frames });
        }
        return true;
    }
    if edges {
        graph::resolve_class_edge_stacks();
    }
    edges
}

fn run() {
    // Symbolising can wait for idle time: the busy threads it would take a core from are the
    // ones filling the rings. At the lowest priority it still progresses, and a full flush
    // does what is left itself.
    #[cfg(target_os = "linux")]
    // SAFETY: plain system calls on integers; `gettid` names this thread, whose priority
    // alone changes (Linux threads each have their own).
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 19);
    }
    loop {
        while resolve_one() {}
        // The unpark token covers work queued between the last look and this park.
        std::thread::park();
    }
}
