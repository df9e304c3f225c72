//! A ranked pipeline that breaks its own ranks.
//!
//! The stages declare their order with ranks: `intake` (10) before `queue` (20) before
//! `store` (30). Ranks must strictly increase along the locks a thread holds. The flush
//! path takes `store` and then, to requeue a failed item, `queue`: lockcheck stops it at that
//! acquisition, before it can block, and lists the locks held with their ranks and sites.
//!
//! Run it with `cargo run -p lockcheck-examples --bin pipeline`: lockcheck prints the rank
//! violation (and the order cycle it implies) on stderr; `lockcheck run -- …` fails on it.

use lockcheck::Mutex;

static INTAKE: Mutex<Vec<u32>> = Mutex::ranked("intake", 10, Vec::new());
static QUEUE: Mutex<Vec<u32>> = Mutex::ranked("queue", 20, Vec::new());
static STORE: Mutex<Vec<u32>> = Mutex::ranked("store", 30, Vec::new());

/// intake → queue → store: ranks increase, as declared.
fn accept(item: u32) {
    let mut intake = INTAKE.lock();
    intake.push(item);
    let mut queue = QUEUE.lock();
    queue.extend(intake.drain(..));
    STORE.lock().extend(queue.drain(..));
}

/// store, then queue: a rank 20 lock taken while holding rank 30.
fn flush_with_retry() {
    let mut store = STORE.lock();
    if let Some(failed) = store.pop() {
        QUEUE.lock().push(failed);
    }
}

fn main() {
    for item in 0..10 {
        accept(item);
    }
    flush_with_retry();
}
