//! A check-then-act race that a plain run almost never loses, until stress mode makes it.
//!
//! Two `booking` threads sell the last seat. Each checks under the lock that a seat is left,
//! lets go of the lock to take the payment, and locks again to take the seat. The check and
//! the act are two critical sections: between them the other thread can check too, and then
//! both take the one seat — the assertion fails. The second booking starts a little after the
//! first, when the first has nearly always finished, so a plain run passes.
//!
//! There is no lock-order cycle here: the lock-order graph has nothing to say. Stress mode
//! delays a thread at the release between the check and the act, and
//! `lockcheck stress --runs 20 -- <this program>` lists the seeds whose run panicked.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use lockcheck::Mutex;

static SEATS_LEFT: Mutex<u32> = Mutex::named("seats", 1);

/// A few microseconds of work: the payment.
fn take_payment() -> u64 {
    (0..500u64).fold(0, |sum, i| black_box(sum.wrapping_mul(31).wrapping_add(i)))
}

fn book() {
    let available = *SEATS_LEFT.lock() > 0; // check
    if !available {
        return;
    }
    black_box(take_payment());
    let mut seats = SEATS_LEFT.lock(); // act, on a check another thread may have overtaken
    assert!(*seats > 0, "sold a seat that was not there");
    *seats -= 1;
}

fn main() {
    let first = thread::Builder::new().name("booking-1".into()).spawn(book).expect("spawn");
    thread::sleep(Duration::from_micros(300));
    let second = thread::Builder::new().name("booking-2".into()).spawn(book).expect("spawn");
    let outcomes = [first.join(), second.join()];
    if outcomes.iter().any(Result::is_err) {
        std::process::exit(101);
    }
    println!("seats left: {}", *SEATS_LEFT.lock());
}
