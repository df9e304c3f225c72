//! A lock-order inversion that almost never hangs, until stress mode makes it.
//!
//! The `audit` thread locks the accounts, adds them up and records the total in the ledger;
//! the `payout` thread, started a little later, locks the ledger, prepares a payment and then
//! takes it out of the accounts. Each holds its first lock for a few microseconds only, and
//! `payout` needs longer than that to start, so a plain run hangs in fewer than one run in a
//! hundred. In production one day both will hold their first lock at the same moment.
//!
//! lockcheck reports the cycle `accounts => ledger => accounts` in every run (the lock-order
//! graph needs no hang). `lockcheck stress --runs 20 -- <this program>` makes the hang itself
//! happen: a seed that sets `audit` back while it holds the accounts lets `payout` take the
//! ledger, and the watchdog reports the deadlock, with both stacks, instead of a frozen run.
//! The seed it prints makes it happen again.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use lockcheck::Mutex;

static ACCOUNTS: Mutex<[u64; 16]> = Mutex::named("accounts", [100; 16]);
static LEDGER: Mutex<Vec<u64>> = Mutex::named("ledger", Vec::new());

/// A few microseconds of work on `values`.
fn checksum(values: &[u64]) -> u64 {
    (0..200u64).fold(0, |sum, i| {
        let value = values.get(i as usize % values.len().max(1)).copied().unwrap_or(0);
        black_box(sum.wrapping_mul(31).wrapping_add(value ^ i))
    })
}

fn audit() {
    let accounts = ACCOUNTS.lock();
    let total = checksum(&*accounts);
    LEDGER.lock().push(total); // accounts -> ledger
}

fn payout() {
    let mut ledger = LEDGER.lock();
    let payment = checksum(&ledger) % 10;
    ledger.push(payment);
    ACCOUNTS.lock()[3] -= payment; // ledger -> accounts: the inversion
}

fn main() {
    let audit = thread::Builder::new().name("audit".into()).spawn(audit).expect("spawn audit");
    // The payout starts a moment later: long enough to miss the audit's window, nearly always.
    thread::sleep(Duration::from_micros(300));
    let payout = thread::Builder::new().name("payout".into()).spawn(payout).expect("spawn payout");
    audit.join().expect("audit");
    payout.join().expect("payout");
    println!("ledger: {:?}", LEDGER.lock());
}
