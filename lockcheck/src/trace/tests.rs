use super::*;
use crate::analysis::report::{Edge, Finding, HeldLock, LockRef, Misuse};

fn site(line: u32) -> Site {
    Site { file: "src/bank.rs".into(), line, column: 9 }
}

fn every_event_kind() -> Vec<Event> {
    let ev = |lock, mode, kind| Event { thread: 3, lock, mode, kind };
    let holder = Some(Holder { thread: 3, site: 0 });
    vec![
        ev(1, Mode::Exclusive, EventKind::Acquired { site: 0, wait_ns: None, stack: None, holder: None }),
        ev(2, Mode::Shared, EventKind::Acquired { site: 1, wait_ns: Some(1_500), stack: None, holder: None }),
        ev(2, Mode::Shared, EventKind::Released { hold_ns: None }),
        ev(1, Mode::Exclusive, EventKind::Released { hold_ns: Some(u64::MAX) }),
        ev(400_000, Mode::Upgradable, EventKind::TryFailed { site: 2 }),
        ev(7, Mode::Permit, EventKind::TimedOut { site: 3, wait_ns: 10_000_000, stack: None, holder: None }),
        ev(
            7,
            Mode::SharedRecursive,
            EventKind::Acquired { site: u32::MAX, wait_ns: Some(0), stack: None, holder: None },
        ),
        ev(1, Mode::Exclusive, EventKind::Acquired { site: 0, wait_ns: Some(2_000_000), stack: Some(0), holder }),
        ev(1, Mode::Exclusive, EventKind::Acquired { site: 0, wait_ns: Some(30_000), stack: Some(0), holder: None }),
        ev(2, Mode::Shared, EventKind::Acquired { site: 1, wait_ns: Some(40_000), stack: None, holder }),
        ev(
            7,
            Mode::Permit,
            EventKind::TimedOut {
                site: 3,
                wait_ns: 5,
                stack: Some(u32::MAX),
                holder: Some(Holder { thread: u32::MAX, site: u32::MAX }),
            },
        ),
        ev(7, Mode::Permit, EventKind::Acquired { site: 3, wait_ns: None, stack: Some(1), holder: None }),
    ]
}

fn stack() -> StackDecl {
    StackDecl {
        id: 0,
        frames: vec!["bank::transfer at src/bank.rs:40".into(), "bank::main at src/main.rs:7".into(), String::new()],
    }
}

fn edge() -> OrderEdge {
    let lock = |class: &str| LockRef { class: class.into(), instance: None, rank: Some(2) };
    OrderEdge {
        from: "accounts".into(),
        to: "ledger".into(),
        held_modes: OrderEdge::mode_bit(Mode::Exclusive),
        acquired_modes: OrderEdge::mode_bit(Mode::Shared) | OrderEdge::mode_bit(Mode::Exclusive),
        gates: vec!["bank".into()],
        count: 42,
        multi_thread: true,
        first: Edge {
            from: lock("accounts"),
            to: lock("ledger"),
            from_mode: Mode::Exclusive,
            to_mode: Mode::Shared,
            thread: "main".into(),
            from_site: site(1),
            to_site: site(2),
            stack: vec!["bank::transfer at src/bank.rs:2".into()],
            stack_id: Some(7),
        },
    }
}

fn finding() -> Finding {
    Finding::Misuse(Misuse {
        what: "leaked".into(),
        thread: "worker".into(),
        held: HeldLock {
            lock: LockRef { class: "ledger".into(), instance: Some(2), rank: None },
            mode: Mode::Exclusive,
            site: site(3),
        },
    })
}

/// A trace holding one chunk of every kind, and an unknown one in the middle.
fn module() -> ModuleDecl {
    ModuleDecl { id: 2, path: "/src/bank/target/debug/bank".into(), bias: 0x5555_0000_0000, build_id: vec![0xab; 20] }
}

fn raw_stack() -> RawStackDecl {
    let frames = vec![
        RawFrame { module: Some(2), address: 0x1234 },
        RawFrame { module: None, address: u64::MAX },
        RawFrame { module: Some(0), address: 0 },
    ];
    RawStackDecl { id: 7, frames }
}

fn sample() -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new()).unwrap();
    w.header(&Header {
        program: "bank".into(),
        pid: 4242,
        start_unix_ns: 1 << 60,
        hold_sample: 64,
        ring_capacity: 16384,
        cwd: "/src/bank".into(),
    })
    .unwrap();
    w.thread(&ThreadDecl { id: 3, name: "worker-1".into() }).unwrap();
    w.class(&ClassDecl {
        id: 0,
        label: "accounts".into(),
        named: true,
        kind: LockKind::RwLock,
        rank: Some(2),
        site: Some(site(1)),
    })
    .unwrap();
    w.class(&ClassDecl {
        id: 1,
        label: "src/bank.rs:5:9".into(),
        named: false,
        kind: LockKind::Semaphore,
        rank: None,
        site: None,
    })
    .unwrap();
    w.lock(&LockDecl { id: 1, class: 0, kind: LockKind::RwLock, rank: Some(2) }).unwrap();
    w.site(&SiteDecl { id: 0, site: site(10) }).unwrap();
    w.raw(200, b"from the future").unwrap();
    w.stack(&stack()).unwrap();
    w.stack(&StackDecl { id: 1, frames: Vec::new() }).unwrap();
    w.module(&module()).unwrap();
    w.raw_stack(&raw_stack()).unwrap();
    let mut batch = BatchEncoder::new(3);
    for e in every_event_kind() {
        batch.push(&e);
    }
    w.events(&batch, 99).unwrap();
    w.dropped(&[(3, 17), (0, 1)]).unwrap();
    w.counters(&[(1, LockCounters { acquisitions: 9, contended: 2, wait_ns: 1_500 })]).unwrap();
    w.findings(&[finding()]).unwrap();
    w.edges(&[edge()]).unwrap();
    w.own_time(&OwnTime { wait_stacks: 3, wait_stack_ns: 31_000 }).unwrap();
    w.end().unwrap();
    w.into_inner()
}

#[test]
fn every_chunk_and_event_kind_round_trips() {
    let bytes = sample();
    let chunks: Vec<Chunk> = TraceReader::new(&bytes[..]).unwrap().map(Result::unwrap).collect();
    assert_eq!(chunks.len(), 18);
    assert!(
        matches!(&chunks[0], Chunk::Header(h) if h.pid == 4242 && h.program == "bank" && h.start_unix_ns == 1 << 60)
    );
    assert!(matches!(&chunks[3], Chunk::Class(c) if c.kind == LockKind::Semaphore && c.site.is_none() && !c.named));
    assert!(matches!(&chunks[6], Chunk::Unknown { kind: 200, len: 15 }));
    assert!(matches!(&chunks[7], Chunk::Stack(s) if *s == stack()));
    assert!(matches!(&chunks[8], Chunk::Stack(s) if s.id == 1 && s.frames.is_empty()));
    assert!(matches!(&chunks[9], Chunk::Module(m) if *m == module()));
    assert!(matches!(&chunks[10], Chunk::RawStack(s) if *s == raw_stack()));
    let Chunk::Events(batch) = &chunks[11] else { panic!("events expected, got {:?}", chunks[11]) };
    assert_eq!((batch.thread, batch.time_ns, batch.count), (3, 99, every_event_kind().len() as u64));
    let events: Vec<Event> = batch.events().map(Result::unwrap).collect();
    assert_eq!(events, every_event_kind());

    let data = TraceData::read_with(TraceReader::new(&bytes[..]).unwrap(), |data, e| {
        assert_eq!(data.threads[&e.thread], "worker-1", "declarations precede events");
    })
    .unwrap();
    assert!(data.complete && data.warning.is_none());
    assert_eq!(data.events, every_event_kind().len() as u64);
    assert_eq!(data.stacks[&0], stack().frames);
    assert!(data.stacks[&1].is_empty());
    assert_eq!(data.modules[&2], module());
    assert_eq!(data.raw_stacks[&7], raw_stack().frames);
    assert_eq!(data.header.as_ref().unwrap().cwd, "/src/bank");
    assert_eq!(data.own_time, OwnTime { wait_stacks: 3, wait_stack_ns: 31_000 });
    assert_eq!(data.events_lost(), 18);
    assert_eq!(data.class_of(1).unwrap().label, "accounts");
    // Version 5: the counters chunk's count (of dropped acquisitions, 2) plus the events'.
    let waited = |e: &Event| e.lock == 1 && matches!(e.kind, EventKind::Acquired { wait_ns: Some(_), .. });
    assert_eq!(data.counters[&1].contended, 2 + every_event_kind().iter().filter(|e| waited(e)).count() as u64);
    assert_eq!(data.sites[&0], site(10));
    assert_eq!(data.findings, vec![finding()]);
    assert_eq!(data.edges, vec![edge()]);
    assert_eq!(OrderEdge::modes(data.edges[0].acquired_modes), vec![Mode::Exclusive, Mode::Shared]);
}

#[test]
fn a_trace_cut_anywhere_reads_up_to_its_last_complete_chunk() {
    let bytes = sample();
    let full = TraceData::read_with(TraceReader::new(&bytes[..]).unwrap(), |_, _| {}).unwrap();
    for cut in PREAMBLE_LEN as usize..bytes.len() {
        let data = TraceData::read_with(TraceReader::new(&bytes[..cut]).unwrap(), |_, _| {}).unwrap();
        let mut reader = TraceReader::new(&bytes[..cut]).unwrap();
        let whole = reader.by_ref().take_while(Result::is_ok).count();
        let ends_on_boundary = reader.offset() == cut as u64;
        match &data.warning {
            None => assert!(ends_on_boundary, "cut at {cut} read silently"),
            Some(TraceError::Truncated { offset }) => assert_eq!(*offset, reader.offset()),
            Some(other) => panic!("cut at {cut}: {other}"),
        }
        assert!(data.events == 0 || data.events == full.events, "batches are all or nothing");
        assert!(whole <= 18);
    }
    assert!(matches!(TraceReader::new(&bytes[..5]), Err(TraceError::Truncated { offset: 0 })));
    assert!(matches!(TraceReader::new(&[][..]), Err(TraceError::Truncated { offset: 0 })));
}

#[test]
fn corruption_is_reported_with_its_offset() {
    let bytes = sample();
    // Flip one byte inside every chunk's payload in turn: the checksum catches each.
    let offsets: Vec<u64> = {
        let mut reader = TraceReader::new(&bytes[..]).unwrap();
        let mut at = vec![reader.offset()];
        while let Some(Ok(_)) = reader.next() {
            at.push(reader.offset());
        }
        at
    };
    for pair in offsets.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        if end - start == FRAME_LEN {
            continue;
        }
        let mut bad = bytes.clone();
        bad[end as usize - 1] ^= 0x55;
        let data = TraceData::read_with(TraceReader::new(&bad[..]).unwrap(), |_, _| {}).unwrap();
        assert!(
            matches!(data.warning, Some(TraceError::Corrupt { offset, .. }) if offset == start),
            "flip before {end}: {:?}",
            data.warning
        );
    }
}

#[test]
fn bad_preambles_and_huge_lengths_are_errors() {
    let mut bytes = sample();
    assert!(matches!(TraceReader::new(&b"GIF89a........"[..]), Err(TraceError::BadMagic)));
    bytes[8] = 9;
    assert!(matches!(TraceReader::new(&bytes[..]), Err(TraceError::UnsupportedVersion(9))));
    bytes[8] = VERSION as u8;
    // A 4 GiB length in the first chunk's frame: refused before anything is allocated.
    let at = PREAMBLE_LEN as usize;
    bytes[at + 1..at + 5].copy_from_slice(&u32::MAX.to_le_bytes());
    let err = TraceReader::new(&bytes[..]).unwrap().next().unwrap().unwrap_err();
    assert!(matches!(err, TraceError::Corrupt { offset, .. } if offset == PREAMBLE_LEN), "{err}");
}

#[test]
fn garbage_inside_a_valid_frame_is_corrupt_not_a_panic() {
    // Well-framed chunks whose payloads lie: huge counts, bad codes, trailing bytes.
    let payloads: [(u8, &[u8]); 10] = [
        (kind::DROPPED, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        (kind::COUNTERS, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (kind::EVENTS, &[1, 0, 2, 7, 0]),
        (kind::CLASS, &[0, 1, b'x', 0, 9, 0, 0]),
        (kind::FINDINGS, b"[{\"kind\":\"nope\"}]"),
        (kind::THREAD, &[1, 1, b'a', 0]),
        // A stack claiming 2^35 frames, one frame running past the chunk, a frame that is
        // not UTF-8, and a byte after the last frame.
        (kind::STACK, &[0, 0x80, 0x80, 0x80, 0x80, 0x01, 0]),
        (kind::STACK, &[0, 1, 9, b'f']),
        (kind::STACK, &[0, 1, 1, 0xff]),
        (kind::STACK, &[0, 1, 1, b'f', 0]),
    ];
    for (kind, payload) in payloads {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.raw(kind, payload).unwrap();
        let bytes = w.into_inner();
        let data = TraceData::read_with(TraceReader::new(&bytes[..]).unwrap(), |_, _| {}).unwrap();
        assert!(matches!(data.warning, Some(TraceError::Corrupt { .. })), "kind {kind}: {:?}", data.warning);
    }
}

#[test]
fn a_batch_claiming_more_events_than_it_holds_ends_in_an_error() {
    let mut w = TraceWriter::new(Vec::new()).unwrap();
    // Sequence 0, thread 1, time 0, u64::MAX events, then one real event.
    let mut payload = vec![0, 1, 0];
    payload.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    payload.extend_from_slice(&[writer::code::RELEASED, 2]);
    w.raw(kind::EVENTS, &payload).unwrap();
    let bytes = w.into_inner();
    let Some(Ok(Chunk::Events(batch))) = TraceReader::new(&bytes[..]).unwrap().next() else { panic!("a batch") };
    assert_eq!(batch.count, u64::MAX);
    let _ = batch.events().size_hint();
    let events: Vec<_> = batch.events().collect();
    assert_eq!(events.len(), 2);
    assert!(events[0].is_ok() && matches!(events[1], Err(TraceError::Corrupt { .. })));
}

#[test]
fn wait_extras_are_only_valid_where_a_thread_waited() {
    // Sequence 0, thread 1, time 0, one event: its first byte, lock delta 0 (same lock bit
    // off), then the fields (site, wait; stack + 1, holder thread + 1, holder site).
    let batch = |event: &[u8]| {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        let mut payload = vec![0, 1, 0, 1];
        payload.extend_from_slice(event);
        w.raw(kind::EVENTS, &payload).unwrap();
        w.into_inner()
    };
    let first_event = |bytes: &[u8]| {
        let Some(Ok(Chunk::Events(b))) = TraceReader::new(bytes).unwrap().next() else { panic!("a batch") };
        let event = b.events().next().unwrap();
        event
    };
    let extras = writer::code::WAIT_EXTRAS;
    // A release with a stack: corrupt.
    assert!(first_event(&batch(&[writer::code::RELEASED | extras, 0, 0, 0])).is_err());
    // A holder whose site is missing: corrupt.
    assert!(first_event(&batch(&[writer::code::ACQUIRED_AFTER_WAIT | extras, 0, 0, 5, 0, 1])).is_err());
    let ok = first_event(&batch(&[writer::code::ACQUIRED_AFTER_WAIT | extras, 0, 0, 5, 0, 3, 4])).unwrap();
    assert_eq!(
        ok.kind,
        EventKind::Acquired { site: 0, wait_ns: Some(5), stack: None, holder: Some(Holder { thread: 2, site: 4 }) }
    );
}

#[test]
fn version_1_traces_still_read_without_stacks_or_holders() {
    let plain: Vec<Event> = every_event_kind()
        .into_iter()
        .filter(|e| {
            !matches!(e.kind, EventKind::Acquired { stack: Some(_), .. } | EventKind::Acquired { holder: Some(_), .. })
        })
        .filter(|e| {
            !matches!(e.kind, EventKind::TimedOut { stack: Some(_), .. } | EventKind::TimedOut { holder: Some(_), .. })
        })
        .collect();
    let write = |events: &[Event]| {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        let mut batch = BatchEncoder::new(3);
        for e in events {
            batch.push(e);
        }
        w.events(&batch, 0).unwrap();
        as_version(1, w.into_inner())
    };
    let bytes = write(&plain);
    let mut reader = TraceReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.version(), 1);
    let Some(Ok(Chunk::Events(batch))) = reader.next() else { panic!("a batch") };
    assert_eq!(batch.events().collect::<Result<Vec<_>, _>>().unwrap(), plain);

    // Bit 7 meant nothing in version 1: a file setting it is damaged, not a version 2 file.
    let bytes = write(&every_event_kind());
    let data = TraceData::read_with(TraceReader::new(&bytes[..]).unwrap(), |_, _| {}).unwrap();
    assert!(matches!(data.warning, Some(TraceError::Corrupt { .. })), "{:?}", data.warning);
}

/// A trace as format `version` would frame it: the version in its preamble, events chunks
/// without the sequence number that version 4 added, every chunk's checksum recomputed the way
/// that version computes it.
fn as_version(version: u16, bytes: Vec<u8>) -> Vec<u8> {
    let mut out = bytes[..PREAMBLE_LEN as usize].to_vec();
    out[8..10].copy_from_slice(&version.to_le_bytes());
    let mut at = PREAMBLE_LEN as usize;
    while at < bytes.len() {
        let kind = bytes[at];
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        let mut payload = &bytes[at + FRAME_LEN as usize..at + FRAME_LEN as usize + len];
        if kind == kind::EVENTS && version < 4 {
            // The sequence number is one varint: its bytes up to the first without bit 7.
            let end = payload.iter().position(|b| b & 0x80 == 0).unwrap();
            payload = &payload[end + 1..];
        }
        out.push(kind);
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&super::codec::checksum(version, payload).to_le_bytes());
        out.extend_from_slice(payload);
        at += FRAME_LEN as usize + len;
    }
    out
}

/// `sample()` with its header as versions before 4 wrote it: without the working directory
/// (the string that ends its payload).
fn sample_with_old_header() -> Vec<u8> {
    let mut bytes = sample();
    let at = PREAMBLE_LEN as usize;
    let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
    let cwd = 1 + "/src/bank".len();
    bytes.drain(at + FRAME_LEN as usize + len - cwd..at + FRAME_LEN as usize + len);
    bytes[at + 1..at + 5].copy_from_slice(&((len - cwd) as u32).to_le_bytes());
    bytes
}

#[test]
fn version_2_traces_still_read_with_their_checksum() {
    let bytes = as_version(2, sample_with_old_header());
    let mut reader = TraceReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.version(), 2);
    let chunks: Vec<Chunk> = reader.by_ref().collect::<Result<_, _>>().unwrap();
    let current: Vec<Chunk> = TraceReader::new(&sample()[..]).unwrap().collect::<Result<_, _>>().unwrap();
    // The same chunks (batches by their events: their offsets moved with the header).
    let describe = |chunks: &[Chunk]| -> Vec<String> {
        let describe = |c: &Chunk| match c {
            Chunk::Events(b) => {
                format!("events {} {} {} {:?}", b.thread, b.time_ns, b.count, b.events().collect::<Vec<_>>())
            }
            Chunk::Header(h) => format!("{:?}", Header { cwd: String::new(), ..h.clone() }),
            other => format!("{other:?}"),
        };
        chunks.iter().map(describe).collect()
    };
    assert_eq!(describe(&chunks), describe(&current));
    // A version 3 checksum in a version 2 file is damage, and the other way round.
    let mut mislabelled = sample();
    mislabelled[8..10].copy_from_slice(&2u16.to_le_bytes());
    let err = TraceReader::new(&mislabelled[..]).unwrap().next().unwrap().unwrap_err();
    assert!(matches!(err, TraceError::Corrupt { .. }), "{err}");
}

#[test]
fn a_stack_declared_after_the_events_naming_it_is_still_the_traces() {
    // The recorder symbolises stacks on a thread of its own, so a stack chunk can follow the
    // batch that names it; a trace cut before it names a stack it never declares.
    let mut w = TraceWriter::new(Vec::new()).unwrap();
    let mut batch = BatchEncoder::new(3);
    let waited = EventKind::Acquired { site: 0, wait_ns: Some(30_000), stack: Some(0), holder: None };
    batch.push(&Event { thread: 3, lock: 1, mode: Mode::Exclusive, kind: waited });
    w.events(&batch, 0).unwrap();
    let cut = w.into_inner();
    let mut w = TraceWriter::new(cut.clone()).unwrap();
    w.stack(&stack()).unwrap();
    let mut whole = w.into_inner();
    // The second writer wrote a preamble of its own after the first file: drop it.
    whole.drain(cut.len()..cut.len() + PREAMBLE_LEN as usize);

    let mut named = Vec::new();
    let data = TraceData::read_with(TraceReader::new(&whole[..]).unwrap(), |_, e| named.push(e.kind)).unwrap();
    assert_eq!(named, [waited]);
    assert_eq!(data.stacks.get(&0), Some(&stack().frames));
    assert!(data.warning.is_none());

    let data = TraceData::read_with(TraceReader::new(&cut[..]).unwrap(), |_, _| {}).unwrap();
    assert!(data.stacks.is_empty() && data.warning.is_none(), "named, never declared: not an error");
}

#[test]
fn the_stress_chunk_round_trips_and_the_last_one_counts() {
    let thread = StressThread { name: "worker".into(), index: 1, points: 40, delays: 5, delay_ns: 9_000, digest: 77 };
    let early = Stress { seed: 42, depth: 3, noise_one_in: 8, threads: Vec::new() };
    let late = Stress { threads: vec![thread], ..early.clone() };
    let mut w = TraceWriter::new(Vec::new()).unwrap();
    w.stress(&early).unwrap();
    w.stress(&late).unwrap();
    let bytes = w.into_inner();
    let data = TraceData::read_with(TraceReader::new(&bytes[..]).unwrap(), |_, _| {}).unwrap();
    assert!(data.warning.is_none());
    assert_eq!(data.stress, Some(late));
}
