//! Text rendering of a failed held-lock assertion: what the thread asserted, where, and what
//! it held instead.

use std::fmt;

use crate::analysis::render::{count, table};
use crate::analysis::report::{Assertion, FailedAssertion};

/// The `SUMMARY:` text of a failed assertion, without the site.
pub(crate) fn summary(a: &FailedAssertion) -> String {
    let lock = a.lock.as_ref().map_or("", |l| l.class.as_str());
    let (call, thread) = (format!("{}({lock})", a.assertion.name()), &a.thread);
    match a.held.len() {
        0 => format!("held-lock assertion failed: {call} by thread {thread}, holding no lock"),
        n => format!("held-lock assertion failed: {call} by thread {thread}, holding {}", count(n, "lock")),
    }
}

/// The body of a failed assertion's report, between the headline and the `SUMMARY:` line.
pub(crate) fn body(a: &FailedAssertion, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (thread, site) = (&a.thread, &a.site);
    let lock = a.lock.as_ref().map_or_else(String::new, |l| format!("`{l}`"));
    let claim = match a.assertion {
        Assertion::Held => format!("holds {lock}"),
        Assertion::HeldRead => format!("holds {lock} for reading"),
        Assertion::HeldWrite => format!("holds {lock} for writing"),
        Assertion::NotHeld => format!("does not hold {lock}"),
        Assertion::NoLocksHeld => "holds no lock".to_owned(),
    };
    writeln!(f, "thread `{thread}` asserts at {site} that it {claim} ({})", a.assertion.name())?;
    if a.held.is_empty() {
        f.write_str("but it holds no lock\n")?;
    } else {
        f.write_str("but it holds:\n")?;
        let mut rows = vec![["class", "mode", "acquired at"].map(String::from).to_vec()];
        for h in &a.held {
            rows.push(vec![h.lock.to_string(), h.mode.verb().to_owned(), h.site.to_string()]);
        }
        table(f, &rows, 0)?;
    }
    writeln!(f, "seen {}", count(a.count, "time"))
}

#[cfg(test)]
mod tests {
    use crate::analysis::report::{Assertion, FailedAssertion, Finding, HeldLock, LockRef, Mode, Site};

    fn site(line: u32) -> Site {
        Site { file: "src/bank.rs".to_owned(), line, column: 9 }
    }

    fn lock(class: &str) -> LockRef {
        LockRef { class: class.to_owned(), instance: Some(1), rank: None }
    }

    #[test]
    fn a_failed_assert_held_names_the_lock_the_site_and_what_is_held() {
        let held = vec![HeldLock { lock: lock("ledger"), mode: Mode::Shared, site: site(3) }];
        let a = FailedAssertion {
            assertion: Assertion::HeldWrite,
            lock: Some(lock("accounts")),
            site: site(7),
            thread: "main".to_owned(),
            held,
            count: 2,
        };
        let text = Finding::FailedAssertion(a).to_string();
        let want = "\nlockcheck: HELD-LOCK ASSERTION FAILED\n\
            thread `main` asserts at src/bank.rs:7:9 that it holds `accounts` for writing (assert_held_write)\n\
            but it holds:\n    class   mode  acquired at\n    ledger  read  src/bank.rs:3:9\nseen 2 times\n\
            SUMMARY: held-lock assertion failed: assert_held_write(accounts) by thread main, holding 1 lock \
            at src/bank.rs:7:9";
        assert!(text.ends_with(want), "{text}");
    }

    #[test]
    fn a_failed_assert_no_locks_held_needs_no_lock() {
        let held = vec![HeldLock { lock: lock("ledger"), mode: Mode::Exclusive, site: site(3) }];
        let a = FailedAssertion {
            assertion: Assertion::NoLocksHeld,
            lock: None,
            site: site(9),
            thread: "w".to_owned(),
            held,
            count: 1,
        };
        let text = Finding::FailedAssertion(a).to_string();
        assert!(text.contains("\nthread `w` asserts at src/bank.rs:9:9 that it holds no lock (assert_no_locks_held)\n"));
        assert!(
            text.contains("\nSUMMARY: held-lock assertion failed: assert_no_locks_held() by thread w, holding 1 lock")
        );
    }
}
