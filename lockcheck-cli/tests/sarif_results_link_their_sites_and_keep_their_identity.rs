//! SARIF 2.1.0 results carry what code-scanning tools show and track: the one-line summary
//! as the message, linking (`[text](id)`) every site of every edge, which are the result's
//! `relatedLocations`; the interleaving that deadlocks as a `codeFlow` with one `threadFlow`
//! per thread, ordered by `executionOrder`; and `partialFingerprints` that stay the same from
//! one run to the next.

mod common;

use common::{lockcheck, order_trace, record, temp_dir};
use serde_json::Value;

/// The first result of `check --format sarif` on `traces`.
fn first_result(traces: &str) -> Value {
    let run = lockcheck(&["check", "--format", "sarif", traces]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    sarif["runs"][0]["results"][0].clone()
}

fn fingerprint(result: &Value) -> &str {
    result["partialFingerprints"]["lockcheck/v1"].as_str().unwrap_or_else(|| panic!("no fingerprint: {result:#}"))
}

#[test]
fn sarif_results_link_their_sites_and_keep_their_identity() {
    let bank = record("bank", &[]);
    let result = first_result(bank.to_str().unwrap());
    assert_eq!(result["ruleId"], "potential-deadlock");

    let text = result["message"]["text"].as_str().unwrap();
    assert!(!text.contains('\n') && !text.contains("====="), "one line, no banner: {text}");
    assert!(text.starts_with("potential deadlock: ledger => account => ledger (2 locks, "), "{text}");

    // Two edges, two sites each; the message links every one of them by id.
    let related = result["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 4, "{result:#}");
    for (id, location) in (1..).zip(related) {
        assert_eq!(location["id"], id, "{location:#}");
        assert!(location["message"]["text"].is_string(), "{location:#}");
        assert!(location["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().ends_with("bank.rs"));
        assert!(text.contains(&format!("]({id})")), "the message links related location {id}: {text}");
    }
    assert!(text.contains("[ledger](1) then [account](2)"), "{text}");

    // One thread flow per thread: every thread takes its first lock, then every one waits.
    let flows = result["codeFlows"][0]["threadFlows"].as_array().unwrap();
    assert_eq!(flows.len(), 2, "{result:#}");
    let orders: Vec<Vec<u64>> = flows
        .iter()
        .map(|f| f["locations"].as_array().unwrap().iter().map(|l| l["executionOrder"].as_u64().unwrap()).collect())
        .collect();
    assert_eq!(orders, [[1, 3], [2, 4]]);
    assert_eq!(flows[0]["id"], "auditor", "{result:#}");
    let waits = flows[0]["locations"][1]["location"]["message"]["text"].as_str().unwrap();
    assert_eq!(waits, "lock(account): waits");

    // Another run of the bank (another teller may be first, counts may differ) is the same
    // finding; another cycle is not.
    let again = first_result(record("bank", &[]).to_str().unwrap());
    assert_eq!(fingerprint(&result), fingerprint(&again));
    assert_eq!(fingerprint(&result).len(), 16);
    let dir = temp_dir("sarif-other");
    order_trace(&dir, "xy", "x", "y");
    order_trace(&dir, "yx", "y", "x");
    assert_ne!(fingerprint(&result), fingerprint(&first_result(dir.to_str().unwrap())));
}
