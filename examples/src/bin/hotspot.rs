//! A contention hotspot: four workers share one `stats` lock and hold it while they format a
//! line, so they spend most of their time waiting for each other; a `config` lock is read
//! often and rarely contended.
//!
//! Record it and look at the contention table and the flamegraph:
//!
//! ```text
//! LOCKCHECK_TRACE=traces/ cargo run -p lockcheck-examples --bin hotspot
//! cargo run -p lockcheck-cli -- stats traces/
//! cargo run -p lockcheck-cli -- flamegraph traces/ -o contention.svg
//! ```
//!
//! `stats` ranks `stats` first by total wait; the flamegraph shows `record_sample` as the
//! function where threads waited.

use std::fmt::Write as _;
use std::thread;

use lockcheck::{Mutex, RwLock};

static STATS: Mutex<Vec<String>> = Mutex::named("stats", Vec::new());
static CONFIG: RwLock<u32> = RwLock::named("config", 3);

/// Holds `stats` while formatting: the hotspot.
#[inline(never)]
fn record_sample(worker: usize, i: u32) {
    let mut stats = STATS.lock();
    let mut line = String::new();
    for k in 0..50 {
        let _ = write!(line, "{worker}:{i}:{k};");
    }
    stats.push(line);
    if stats.len() > 1_000 {
        stats.clear();
    }
}

#[inline(never)]
fn read_config() -> u32 {
    *CONFIG.read()
}

fn main() {
    thread::scope(|s| {
        for worker in 0..4 {
            thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn_scoped(s, move || {
                    for i in 0..2_000 {
                        let scale = read_config();
                        record_sample(worker, i * scale);
                    }
                })
                .expect("spawn worker");
        }
    });
    println!("recorded {} samples in the last batch", STATS.lock().len());
}
