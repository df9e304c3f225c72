//! The report as a SARIF 2.1.0 log (OASIS, "Static Analysis Results Interchange Format"), the
//! form code-scanning tools read. Section numbers below are the specification's.
//!
//! Each finding is one `result`:
//! - `message.text` is the finding's one-line summary, and links every site it involves with
//!   the embedded-link syntax `[text](id)` (§3.11.6) to the result's `relatedLocations`
//!   (§3.27.22), each with its own `id` and message; `locations` is the primary site;
//! - a lock-order cycle carries the interleaving that would deadlock as one `codeFlow`
//!   (§3.36) with a `threadFlow` per thread (§3.37) whose locations have `executionOrder`
//!   (§3.38.11): every thread takes its first lock, then every thread waits for its second;
//! - `partialFingerprints` (§3.27.17) identify the finding across runs by what does not vary
//!   between them: its rule and lock classes, not counts, threads, lines or which graph found
//!   it.

use lockcheck::merge::cycle_key;
use lockcheck::{Cycle, Edge, Finding, Report, Site};
use serde_json::{json, Value};

use super::{level, one_line, rule, RULES};
use crate::suppress::Suppressed;

/// The fingerprint's key: a new way of computing it gets a new version (§3.27.17).
const FINGERPRINT: &str = "lockcheck/v1";

/// The report as a SARIF log: one result per finding (suppressed ones with their
/// justification), lost events and damaged traces as run properties.
pub(super) fn sarif(report: &Report, suppressed: &[Suppressed], warnings: &[String]) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(id, description)| json!({ "id": id, "name": id, "shortDescription": { "text": description } }))
        .collect();
    let all = report.findings.iter().map(|f| (f, None)).chain(suppressed.iter().map(|s| (&s.finding, Some(&s.reason))));
    let results: Vec<Value> = all
        .map(|(finding, reason)| {
            let mut result = result(finding);
            if let Some(reason) = reason {
                result["suppressions"] = json!([{ "kind": "external", "justification": reason }]);
            }
            result
        })
        .collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "lockcheck",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/lockcheck/lockcheck",
            "rules": rules,
        }},
        "results": results,
    });
    if report.events_lost > 0 {
        run["properties"] = json!({ "eventsLost": report.events_lost });
    }
    if !warnings.is_empty() {
        run["properties"]["warnings"] = json!(warnings);
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// One finding as a SARIF result.
fn result(finding: &Finding) -> Value {
    let (rule_id, _) = rule(finding);
    let related = related(finding);
    let mut text = escape(&one_line(finding));
    if !related.is_empty() {
        text += &format!("; {}", links(finding, &related));
    }
    let mut result = json!({
        "ruleId": rule_id,
        "level": level(finding),
        "message": { "text": text },
        "locations": finding.primary_site().map(|s| vec![location(s, None)]).unwrap_or_default(),
        "partialFingerprints": { FINGERPRINT: fingerprint(finding) },
    });
    if !related.is_empty() {
        let related: Vec<Value> = (1..)
            .zip(&related)
            .map(|(id, (site, what))| {
                let mut loc = location(site, Some(what));
                loc["id"] = json!(id);
                loc
            })
            .collect();
        result["relatedLocations"] = json!(related);
    }
    if let Finding::PotentialDeadlock(cycle) = finding {
        result["codeFlows"] = json!([code_flow(cycle)]);
    }
    result
}

/// A SARIF location at `site`, with a message if given.
fn location(site: &Site, message: Option<&str>) -> Value {
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": { "uri": site.file },
            "region": { "startLine": site.line, "startColumn": site.column }
        }
    });
    if let Some(message) = message {
        location["message"] = json!({ "text": message });
    }
    location
}

/// Every site the finding involves beside its primary one, with what happened there; the
/// related location ids are their positions, from 1.
fn related(finding: &Finding) -> Vec<(&Site, String)> {
    match finding {
        Finding::PotentialDeadlock(c) => c
            .edges
            .iter()
            .flat_map(|e| {
                let (from, to) = (&e.from.class, &e.to.class);
                [
                    (&e.from_site, format!("thread `{}` takes `{from}`", e.thread)),
                    (&e.to_site, format!("then `{to}` while holding `{from}`")),
                ]
            })
            .collect(),
        Finding::SelfDeadlock(s) => vec![(&s.held.site, format!("`{}` first taken here", s.lock.class))],
        Finding::RankViolation(r) => {
            r.held.iter().map(|h| (&h.site, format!("`{}` held, taken here", h.lock))).collect()
        }
        Finding::ActualDeadlock(h) | Finding::Stall(h) => h
            .threads
            .iter()
            .flat_map(|t| {
                t.holds.iter().map(move |l| (&l.site, format!("`{}` held by thread `{}`", l.lock.class, t.thread)))
            })
            .collect(),
        Finding::FailedAssertion(a) => {
            a.held.iter().map(|h| (&h.site, format!("`{}` held, taken here", h.lock))).collect()
        }
        Finding::Misuse(_) => Vec::new(),
    }
}

/// The clause of the message that links to every related location, in their order.
fn links(finding: &Finding, related: &[(&Site, String)]) -> String {
    let link = |id: usize, text: &str| format!("[{}]({id})", escape(text));
    match finding {
        Finding::PotentialDeadlock(c) => {
            let edges: Vec<String> = c
                .edges
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let (from, to) = (link(2 * i + 1, &e.from.class), link(2 * i + 2, &e.to.class));
                    format!("thread `{}` took {from} then {to}", escape(&e.thread))
                })
                .collect();
            edges.join(", ")
        }
        Finding::SelfDeadlock(_) => format!("already held since {}", link(1, "its first acquisition")),
        _ => {
            let held: Vec<String> = (1..).zip(related).map(|(id, (site, _))| link(id, &site.to_string())).collect();
            format!("held: {}", held.join(", "))
        }
    }
}

/// The interleaving that would deadlock: thread `i` takes its edge's `from` at step `i + 1`
/// and waits for its `to` at step `n + i + 1`. Thread flows are named by thread when every
/// edge has its own, else by letter (one thread took several orders: the deadlock needs
/// others), as in the text report.
fn code_flow(cycle: &Cycle) -> Value {
    let n = cycle.edges.len();
    let mut threads: Vec<&str> = cycle.edges.iter().map(|e| e.thread.as_str()).collect();
    threads.sort_unstable();
    threads.dedup();
    let real_names = threads.len() == n;
    let step = |site: &Site, text: String, order: usize| json!({ "location": location(site, Some(&text)), "executionOrder": order });
    let flows: Vec<Value> = (b'A'..)
        .zip(&cycle.edges)
        .enumerate()
        .map(|(i, (letter, e)): (usize, (u8, &Edge))| {
            let id = if real_names { e.thread.clone() } else { char::from(letter).to_string() };
            let (take, wait) = (e.from_mode.verb(), e.to_mode.verb());
            json!({
                "id": id,
                "message": { "text": format!("thread {id}") },
                "locations": [
                    step(&e.from_site, format!("{take}({})", e.from.class), i + 1),
                    step(&e.to_site, format!("{wait}({}): waits", e.to.class), n + i + 1),
                ],
            })
        })
        .collect();
    let mut message = "minimal interleaving that would deadlock".to_owned();
    if let Some(gate) = &cycle.guarded_by {
        message += &format!(" without `{}`", gate.class);
    }
    json!({ "message": { "text": message }, "threadFlows": flows })
}

/// What identifies `finding` from one run to the next: its rule and the lock classes (and
/// modes) it is about. A hash, so the value stays short whatever the class labels.
fn fingerprint(finding: &Finding) -> String {
    let (rule_id, _) = rule(finding);
    let mut parts: Vec<String> = vec![rule_id.to_owned()];
    match finding {
        Finding::PotentialDeadlock(c) => parts.extend(cycle_key(c)),
        Finding::SelfDeadlock(s) => {
            parts.extend([s.lock.class.clone(), s.held.mode.verb().to_owned(), s.mode.verb().to_owned()])
        }
        Finding::RankViolation(r) => {
            let mut held: Vec<String> = r.held.iter().map(|h| h.lock.class.clone()).collect();
            held.sort();
            parts.push(r.lock.class.clone());
            parts.extend(held);
        }
        Finding::ActualDeadlock(h) | Finding::Stall(h) => {
            let mut waited: Vec<String> =
                h.threads.iter().filter_map(|t| t.waits_for.as_ref()).map(|w| w.lock.class.clone()).collect();
            waited.sort();
            parts.extend(waited);
        }
        Finding::Misuse(m) => {
            parts.extend([m.what.lines().next().unwrap_or_default().to_owned(), m.held.lock.class.clone()])
        }
        Finding::FailedAssertion(a) => {
            // Its file, not its line: an assertion is identified by what and where, and lines
            // move with every edit above them.
            parts.extend([a.assertion.name().to_owned(), a.site.file.clone()]);
            parts.extend(a.lock.as_ref().map(|l| l.class.clone()));
        }
    }
    format!("{:016x}", fnv1a(parts.join("\u{1f}").as_bytes()))
}

/// 64-bit FNV-1a (Fowler, Noll, Vo): stable across Rust releases and platforms, which std's
/// `DefaultHasher` does not promise.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Plain message text, with the square brackets that would read as links escaped (§3.11.6).
fn escape(text: &str) -> String {
    text.replace('[', "\\[").replace(']', "\\]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use lockcheck::{HeldLock, LockRef, Mode, RankViolation};

    fn held(class: &str, rank: u32, line: u32) -> HeldLock {
        let lock = LockRef { class: class.into(), instance: None, rank: Some(rank) };
        HeldLock { lock, mode: Mode::Exclusive, site: Site { file: "src/q.rs".into(), line, column: 5 } }
    }

    #[test]
    fn a_rank_violation_links_every_held_lock() {
        let violation = Finding::RankViolation(RankViolation {
            lock: LockRef { class: "queue".into(), instance: None, rank: Some(10) },
            site: Site { file: "src/q.rs".into(), line: 30, column: 9 },
            thread: "flusher".into(),
            held: vec![held("cache", 20, 12), held("stats[0]", 30, 14)],
            count: 3,
        });
        let result = result(&violation);
        let text = result["message"]["text"].as_str().unwrap();
        assert!(text.ends_with("; held: [src/q.rs:12:5](1), [src/q.rs:14:5](2)"), "{text}");
        assert_eq!(result["relatedLocations"][1]["message"]["text"], "`stats[0] (rank 30)` held, taken here");
        assert!(result.get("codeFlows").is_none());
        let mut fewer_times = violation.clone();
        if let Finding::RankViolation(r) = &mut fewer_times {
            (r.count, r.thread, r.site.line) = (1, "other".into(), 31);
        }
        assert_eq!(fingerprint(&violation), fingerprint(&fewer_times), "counts, threads and lines do not count");
    }

    #[test]
    fn brackets_in_names_do_not_read_as_links() {
        assert_eq!(escape("stats[0]"), "stats\\[0\\]");
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // From the FNV reference test suite (draft-eastlake-fnv, appendix C).
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
