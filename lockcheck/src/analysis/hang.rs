//! Text rendering of the watchdog's findings: a real deadlock (the wait-for cycle, then every
//! involved thread with what it holds and its stack) and a stall.

use std::fmt;

use crate::analysis::report::{Hang, HeldLock, Mode, ThreadState};

/// The body of a deadlock or stall report, between the headline and the `SUMMARY:` line.
pub(crate) fn body(hang: &Hang, deadlock: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if deadlock {
        writeln!(f, "threads waiting for each other, for good (watchdog threshold {} ms):", hang.threshold_ms)?;
        writeln!(f, "  {}", chain(hang))?;
    } else {
        writeln!(f, "a wait longer than the watchdog threshold ({} ms), with no wait-for cycle:", hang.threshold_ms)?;
    }
    for thread in &hang.threads {
        writeln!(f)?;
        describe(hang, thread, f)?;
    }
    Ok(())
}

/// `` `a` => `b` => `a` ``: who waits for whom, closed when the last waits for the first.
fn chain(hang: &Hang) -> String {
    let mut names: Vec<String> = Vec::new();
    let mut next = hang.threads.first();
    while let Some(thread) = next {
        if names.contains(&format!("`{}`", thread.thread)) {
            names.push(format!("`{}`", thread.thread));
            break;
        }
        names.push(format!("`{}`", thread.thread));
        next = thread.blocked_by.as_ref().and_then(|b| find(hang, b));
        if next.is_none() {
            if let Some(blocker) = &thread.blocked_by {
                names.push(format!("`{blocker}`"));
            }
        }
    }
    names.join(" => ")
}

fn find<'a>(hang: &'a Hang, name: &str) -> Option<&'a ThreadState> {
    hang.threads.iter().find(|t| t.thread == name)
}

fn describe(hang: &Hang, thread: &ThreadState, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match &thread.waits_for {
        Some(lock) => {
            writeln!(
                f,
                "thread `{}` waits to {} `{}` at {}, for {} ms",
                thread.thread,
                lock.mode.verb(),
                lock.lock,
                lock.site,
                thread.waiting_ms
            )?;
            blocker(hang, thread, lock, f)?;
        }
        None => writeln!(
            f,
            "thread `{}` is not waiting for any lock lockcheck knows: it is running, or blocked on \
             something else (a channel, I/O, a sleep, a join)",
            thread.thread
        )?,
    }
    if !thread.holds.is_empty() {
        writeln!(f, "  holds:")?;
        for held in &thread.holds {
            writeln!(f, "    `{}` ({}) taken at {}", held.lock, held.mode.verb(), held.site)?;
        }
    }
    if thread.stack.is_empty() {
        if thread.waits_for.is_some() {
            // A tokio task suspended in `.await` has no stack: its wait site says where it is.
            writeln!(
                f,
                "  stack: not captured (LOCKCHECK_STACKS=0, not yet published, or a task suspended in `.await`)"
            )?;
        }
    } else {
        writeln!(f, "  stack:")?;
        for frame in &thread.stack {
            writeln!(f, "    {frame}")?;
        }
    }
    Ok(())
}

/// The "held by" line under a waiting thread.
fn blocker(hang: &Hang, thread: &ThreadState, lock: &HeldLock, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(name) = &thread.blocked_by else {
        return writeln!(f, "    held by a thread lockcheck cannot name (readers are not tracked one by one)");
    };
    let Some(holder) = find(hang, name) else {
        return writeln!(f, "    held by thread `{name}`");
    };
    let Some(held) = holder.holds.iter().find(|h| h.lock == lock.lock) else {
        return writeln!(f, "    behind thread `{name}`, which asked first for it in write mode (task-fair)");
    };
    write!(f, "    held by thread `{name}`")?;
    // A thread cannot release while it waits: its wait bounds how long it has held the lock.
    if holder.waits_for.is_some() {
        write!(f, " for at least {} ms", holder.waiting_ms)?;
    }
    write!(f, ", taken with {} at {}", held.mode.verb(), held.site)?;
    // A waiting holder published what it holds; a running one was only seen taking it.
    if holder.waits_for.is_none() {
        match held.mode {
            Mode::Shared | Mode::SharedRecursive => {
                write!(f, " (the last reader lockcheck saw; readers are not tracked one by one)")?;
            }
            Mode::Permit => write!(f, " (the last permit holder lockcheck saw; permits are not tracked one by one)")?,
            Mode::Exclusive | Mode::Upgradable => {}
        }
    }
    writeln!(f)
}

#[cfg(test)]
mod tests {
    use crate::analysis::report::{Finding, LockRef, Site};

    use super::*;

    fn lock(name: &str, mode: Mode, line: u32) -> HeldLock {
        HeldLock {
            lock: LockRef { class: name.into(), instance: Some(1), rank: None },
            mode,
            site: Site { file: "src/app.rs".into(), line, column: 9 },
        }
    }

    fn thread(name: &str, waits_for: Option<HeldLock>, blocked_by: Option<&str>, holds: Vec<HeldLock>) -> ThreadState {
        ThreadState {
            thread: name.into(),
            waiting_ms: if waits_for.is_some() { 420 } else { 0 },
            waits_for,
            blocked_by: blocked_by.map(Into::into),
            holds,
            stack: Vec::new(),
        }
    }

    #[test]
    fn a_stall_names_the_running_holder_and_where_it_took_the_lock() {
        let hang = Hang {
            threads: vec![
                thread("waiter", Some(lock("config", Mode::Exclusive, 31)), Some("holder"), Vec::new()),
                thread("holder", None, None, vec![lock("config", Mode::Exclusive, 21)]),
            ],
            threshold_ms: 300,
        };
        let text = Finding::Stall(hang).to_string();
        assert!(text.contains("\nlockcheck: STALL\n"), "{text}");
        assert!(text.contains("thread `waiter` waits to lock `config` at src/app.rs:31:9, for 420 ms"), "{text}");
        assert!(text.contains("held by thread `holder`, taken with lock at src/app.rs:21:9\n"), "{text}");
        assert!(text.contains("thread `holder` is not waiting for any lock lockcheck knows"), "{text}");
        assert!(
            text.ends_with(
                "SUMMARY: stall: thread waiter waited 420 ms for config held by thread holder at src/app.rs:31:9"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_deadlock_bounds_each_hold_by_the_holder_s_own_wait() {
        let hang = Hang {
            threads: vec![
                thread(
                    "a",
                    Some(lock("ledger", Mode::Exclusive, 2)),
                    Some("b"),
                    vec![lock("accounts", Mode::Exclusive, 1)],
                ),
                thread(
                    "b",
                    Some(lock("accounts", Mode::Exclusive, 4)),
                    Some("a"),
                    vec![lock("ledger", Mode::Shared, 3)],
                ),
            ],
            threshold_ms: 300,
        };
        let text = Finding::ActualDeadlock(hang).to_string();
        assert!(text.contains("\n  `a` => `b` => `a`\n"), "{text}");
        // `b` published its holds while waiting: no last-reader caveat.
        assert!(text.contains("held by thread `b` for at least 420 ms, taken with read at src/app.rs:3:9\n"), "{text}");
    }
}
