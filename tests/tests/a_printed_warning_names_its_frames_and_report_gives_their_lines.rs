//! A potential deadlock printed in-process (`LOCKCHECK_ON_CYCLE=warn`) shows each stack frame
//! by its function, named from the symbol table (loading the debug info for files and lines
//! would cost the process a tenth of a second and tens of MiB in a debug build); the sites of
//! both acquisitions keep their file, line and column. `lockcheck::report()`, which its caller
//! asks for, gives every frame its file and line.

use std::time::Duration;

use lockcheck::Mutex;
use lockcheck_tests::child;

static SHELF: Mutex<u32> = Mutex::named("shelf", 0);
static TILL: Mutex<u32> = Mutex::named("till", 0);

#[inline(never)]
fn shelf_then_till() {
    let _shelf = SHELF.lock();
    child::expect_site(file!(), line!() + 1);
    *TILL.lock() += 1;
}

#[inline(never)]
fn till_then_shelf() {
    let _till = TILL.lock();
    *SHELF.lock() += 1;
}

fn scenario() {
    shelf_then_till();
    till_then_shelf();
    println!("{}", lockcheck::report());
}

/// The frames of the first `stack (innermost first):` list in `text`.
fn first_stack(text: &str) -> Vec<&str> {
    let after = text.split("stack (innermost first):\n").nth(1).unwrap_or_default();
    after.lines().take_while(|l| l.starts_with("      #")).map(str::trim).collect()
}

#[test]
fn a_printed_warning_names_its_frames_and_report_gives_their_lines() {
    if child::is_child() {
        return scenario();
    }
    let out = child::run(
        "a_printed_warning_names_its_frames_and_report_gives_their_lines",
        &[("LOCKCHECK_ON_CYCLE", "warn")],
        Duration::from_secs(20),
    );
    out.check(out.succeeded(), "the child ends normally");
    out.check(out.stderr.contains("lockcheck: POTENTIAL DEADLOCK"), "the warning is printed");
    for site in out.expected_sites() {
        out.check(out.stderr.contains(&site), &format!("the warning names the site {site}"));
    }
    let printed = first_stack(&out.stderr);
    let locker = ["::till_then_shelf", "::shelf_then_till"];
    let starts_at_locker = printed.first().is_some_and(|f| locker.iter().any(|l| f.ends_with(l)));
    out.check(starts_at_locker, "the printed stack starts at the function that locked");
    out.check(printed.iter().all(|frame| !frame.contains(" at ")), "printed frames are function names only");
    let reported = first_stack(&out.stdout);
    let file = " at tests/a_printed_warning_names_its_frames_and_report_gives_their_lines.rs:";
    out.check(reported.first().is_some_and(|f| f.contains(file)), "report() gives the frame's file and line");
    let functions: Vec<&str> = reported.iter().map(|f| f.split(" at ").next().unwrap_or_default()).collect();
    out.check(functions == printed, "both show the same frames");
}
