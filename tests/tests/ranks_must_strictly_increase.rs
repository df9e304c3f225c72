//! SCENARIOS.md family G: along one thread's held locks, ranks must strictly increase; a
//! violation is reported at the acquisition, before blocking. Ranks do not mask the graph.

use lockcheck::{Graph, Mutex};
use lockcheck_tests::{rank_violations, the_deadlock};

#[test]
fn g1_increasing_ranks_are_clean() {
    let (low, high) = (Mutex::ranked("g1-low", 10, ()), Mutex::ranked("g1-high", 20, ()));
    let _low = low.lock();
    let _high = high.lock();
    assert!(rank_violations("g1-high").is_empty());
}

#[test]
fn g2_decreasing_ranks_violate_at_the_first_time() {
    let (low, high) = (Mutex::ranked("g2-low", 10, ()), Mutex::ranked("g2-high", 20, ()));
    let _high = high.lock();
    let _low = low.lock();
    let found = rank_violations("g2-low");
    assert_eq!(found.len(), 1);
    let v = &found[0];
    assert_eq!(v.lock.rank, Some(10));
    assert_eq!(v.held.len(), 1);
    assert_eq!(v.held[0].lock.class, "g2-high");
    assert_eq!(v.held[0].lock.rank, Some(20));
    assert!(v.site.file.ends_with("ranks_must_strictly_increase.rs"));
    let text = lockcheck::Finding::RankViolation(v.clone()).to_string();
    assert!(text.contains("LOCK RANK VIOLATION") && text.contains("g2-high"), "{text}");
}

#[test]
fn g3_equal_ranks_held_together_violate() {
    let (a, b) = (Mutex::ranked("g3-a", 5, ()), Mutex::ranked("g3-b", 5, ()));
    let _a = a.lock();
    let _b = b.lock();
    assert_eq!(rank_violations("g3-b").len(), 1);
}

#[test]
fn g4_a_released_low_rank_does_not_hide_a_held_high_one() {
    let (r10, r20, r30) =
        (Mutex::ranked("g4-10", 10, ()), Mutex::ranked("g4-20", 20, ()), Mutex::ranked("g4-30", 30, ()));
    let g10 = r10.lock();
    let _g30 = r30.lock();
    drop(g10);
    let _g20 = r20.lock();
    let found = rank_violations("g4-20");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].held.iter().map(|h| h.lock.class.as_str()).collect::<Vec<_>>(), ["g4-30"]);
}

#[test]
fn g4_a_repeated_violation_is_one_finding_with_a_count() {
    let (low, high) = (Mutex::ranked("g4r-low", 1, ()), Mutex::ranked("g4r-high", 2, ()));
    for _ in 0..3 {
        let _high = high.lock();
        let _low = low.lock();
    }
    let found = rank_violations("g4r-low");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].count, 3);
}

#[test]
fn g5_ranks_do_not_mask_unranked_cycles() {
    let (r1, r2) = (Mutex::ranked("g5-r1", 1, ()), Mutex::ranked("g5-r2", 2, ()));
    let (a, b) = (Mutex::named("g5-a", ()), Mutex::named("g5-b", ()));
    {
        let _r1 = r1.lock();
        let _r2 = r2.lock();
    }
    {
        let _a = a.lock();
        let _b = b.lock();
    }
    {
        let _b = b.lock();
        let _a = a.lock();
    }
    assert!(rank_violations("g5-r2").is_empty());
    the_deadlock(&["g5-a", "g5-b"], Graph::Instance);
}
