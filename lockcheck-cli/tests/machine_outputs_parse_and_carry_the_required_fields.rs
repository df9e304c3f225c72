//! JSON, SARIF 2.1.0 and GitHub annotations, from the real binary on a real trace.

mod common;

use common::{lockcheck, record, temp_dir, TraceBuilder};
use lockcheck::{HeldLock, LockRef, Misuse, Mode, Site};
use serde_json::Value;

#[test]
fn json_output_parses() {
    let traces = record("pipeline", &[]);
    let run = lockcheck(&["report", "--format", "json", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let kinds: Vec<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"rank_violation"), "{kinds:?}");
    assert_eq!(json["events_lost"], 0);
    assert!(json["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_has_version_driver_and_located_results() {
    let traces = record("bank", &[]);
    let run = lockcheck(&["check", "--format", "sarif", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "lockcheck");
    let result = &run0["results"][0];
    assert_eq!(result["ruleId"], "potential-deadlock");
    assert_eq!(result["level"], "error");
    assert!(result["message"]["text"].as_str().unwrap().contains("ledger"));
    let location = &result["locations"][0]["physicalLocation"];
    assert!(location["artifactLocation"]["uri"].as_str().unwrap().ends_with("bank.rs"));
    assert!(location["region"]["startLine"].as_u64().unwrap() > 0);
    assert!(!result["relatedLocations"].as_array().unwrap().is_empty(), "every edge's sites");
}

#[test]
fn github_annotations_escape_their_fields() {
    let dir = temp_dir("github");
    let mut trace = TraceBuilder::default();
    trace.thread("main");
    trace.finding(lockcheck::Finding::Misuse(Misuse {
        what: "held at thread exit\n(guard leaked)".into(),
        thread: "main".into(),
        held: HeldLock {
            lock: LockRef { class: "100%".into(), instance: None, rank: None },
            mode: Mode::Exclusive,
            site: Site { file: "src/a,b:c.rs".into(), line: 7, column: 3 },
        },
    }));
    trace.edge("x", "y", "main", 1);
    trace.edge("y", "x", "main", 1);
    let path = dir.join("t.lctrace");
    trace.write(&path);
    let run = lockcheck(&["check", "--format", "github", path.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("::error file=src/orders.rs,line=11,col=9,title=")), "{lines:#?}");
    let misuse = lines.iter().find(|l| l.starts_with("::warning file=src/a%2Cb%3Ac.rs,line=7,col=3,")).unwrap();
    assert!(
        misuse.ends_with("::lock misuse: held at thread exit (100%25, thread main) at src/a,b:c.rs:7:3"),
        "{misuse}"
    );
}

#[test]
fn github_messages_are_the_one_line_summary() {
    let traces = record("bank", &[]);
    let run = lockcheck(&["check", "--format", "github", traces.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let error = run.stdout.lines().find(|l| l.starts_with("::error ")).unwrap();
    let (_, message) = error.split_once("::potential deadlock: ").expect("the message is the summary");
    assert!(message.starts_with("ledger => account => ledger (2 locks, "), "{error}");
    assert!(!error.contains("%0A") && !error.contains("====="), "one line, no banner: {error}");
}
