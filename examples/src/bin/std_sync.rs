//! A module written against `std::sync`, switched to lockcheck with its `use` line, and a
//! held-lock assertion catching a caller that forgot a lock.
//!
//! The session table keeps a lazily built index next to it. `evict` documents "the caller
//! holds `sessions`" and checks it with `assert_held`; `expire` takes the lock and calls it,
//! `purge` forgets to. Without the `instrument` feature the assertion compiles to nothing;
//! with it, the bad call is reported (on stderr, or as a panic with
//! `LOCKCHECK_ON_CYCLE=panic`) and fails `lockcheck check`.
//!
//! Run it with `cargo run -p lockcheck-examples --bin std_sync`.

// Was: use std::sync::{Mutex, OnceLock};
use lockcheck::sync::{Mutex, OnceLock};

static SESSIONS: Mutex<Vec<u32>> = Mutex::named("sessions", Vec::new());
static INDEX: OnceLock<Vec<u32>> = OnceLock::named("session-index");

/// The index of live sessions, built on first use: the initialiser takes `sessions`, so the
/// cell's initialisation is an order "session-index, then sessions".
fn index() -> &'static [u32] {
    INDEX.get_or_init(|| SESSIONS.lock().unwrap().clone())
}

/// Drops the sessions above `limit`. The caller must hold `sessions`. `#[track_caller]`
/// makes a failed assertion name the caller's line rather than this one.
#[track_caller]
fn evict(sessions: &mut Vec<u32>, limit: u32) {
    SESSIONS.assert_held();
    sessions.retain(|&id| id <= limit);
}

/// Holds the lock while it evicts: the assertion holds.
fn expire(limit: u32) {
    let mut sessions = SESSIONS.lock().unwrap();
    evict(&mut sessions, limit);
}

/// Evicts from a copy taken without the lock: the assertion fails.
fn purge() {
    let mut copy = SESSIONS.lock().unwrap().clone();
    evict(&mut copy, 0);
}

fn main() {
    SESSIONS.lock().unwrap().extend([1, 2, 3]);
    println!("index: {:?}", index());
    expire(2);
    purge();
    println!("sessions: {:?}", SESSIONS.lock().unwrap());
    lockcheck::assert_no_locks_held();
}
