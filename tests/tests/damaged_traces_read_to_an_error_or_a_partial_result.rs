use lockcheck::trace::{TraceData, TraceError, TraceReader};
use lockcheck_tests::traces::{load, run_child, temp_dir};

#[test]
fn damaged_traces_read_to_an_error_or_a_partial_result() {
    let run = run_child(env!("CARGO_BIN_EXE_trace_child"), &["threads", "300"], &[]);
    let bytes = std::fs::read(&run.path).unwrap();
    let (full, _) = load(&run.path);
    assert!(full.complete);
    let dir = temp_dir("damaged");
    let file = dir.join("damaged.lctrace");

    // Where each chunk starts (and, last, where the file ends).
    let mut starts = vec![];
    let mut reader = TraceReader::open(&run.path).unwrap();
    loop {
        starts.push(reader.offset() as usize);
        if reader.next().is_none() {
            break;
        }
    }

    // Cut short inside a chunk, as by a crash mid-write: a partial result with a truncation
    // warning. (Where a cut falls depends on the run's layout: one that falls between chunks
    // is the next case.)
    for cut in [bytes.len() - 1, bytes.len() * 2 / 3, bytes.len() / 2, 40] {
        let cut = if starts.contains(&cut) { cut + 1 } else { cut };
        std::fs::write(&file, &bytes[..cut]).unwrap();
        let data = TraceData::load(&file).unwrap();
        assert!(matches!(data.warning, Some(TraceError::Truncated { .. })), "cut at {cut}: {:?}", data.warning);
        assert!(!data.complete && data.events <= full.events);
        assert!(data.warning.unwrap().to_string().contains("truncated"));
    }

    // Cut between two chunks, as by a crash between two writes: every chunk before the cut,
    // and the trace says it is incomplete.
    let between = starts[starts.len() / 2];
    std::fs::write(&file, &bytes[..between]).unwrap();
    let data = TraceData::load(&file).unwrap();
    assert!(!data.complete && data.events <= full.events, "cut between chunks at {between}");

    // A flipped byte in the middle of a chunk's payload: everything before the damaged chunk,
    // then a warning. (A chunk's 9-byte frame, kind, length and checksum, is not itself
    // checksummed: a length damaged to run past the end reads as a truncation.)
    let middle = bytes.len() / 2;
    let chunk = starts.windows(2).find(|w| w[1] > middle).expect("a chunk spans the middle");
    let middle = middle.max(chunk[0] + 9);
    assert!(middle < chunk[1], "the middle chunk has a payload");
    let mut bad = bytes.clone();
    bad[middle] ^= 0xa5;
    std::fs::write(&file, &bad).unwrap();
    let data = TraceData::load(&file).unwrap();
    let Some(warning) = &data.warning else { panic!("corruption noticed") };
    assert!(matches!(warning, TraceError::Corrupt { offset, .. } if *offset <= middle as u64), "{warning}");
    assert!(data.header.is_some());

    // Not a trace, the wrong version, an empty file: clear errors.
    std::fs::write(&file, b"not a trace at all").unwrap();
    assert!(matches!(TraceData::load(&file), Err(TraceError::BadMagic)));
    let mut future = bytes.clone();
    future[8] = 0xff;
    std::fs::write(&file, &future).unwrap();
    assert!(matches!(TraceData::load(&file), Err(TraceError::UnsupportedVersion(255))));
    std::fs::write(&file, b"").unwrap();
    assert!(matches!(TraceReader::open(&file), Err(TraceError::Truncated { offset: 0 })));
    assert!(matches!(TraceData::load(dir.join("missing")), Err(TraceError::Io(_))));
}
