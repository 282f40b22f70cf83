//! The files case's own pieces: the object pattern written in pieces, the
//! hashed copy between files, and the source file it starts from.

use oap_bench::baseline;
use oap_bench::files::SourceFile;
use oap_bench::large;
use oap_core::ObjectId;

#[test]
fn objects_written_in_pieces_are_the_objects_in_memory() {
    // Around the pattern's 251-byte period, the 8 seed bytes, and the
    // ~1 MiB pieces the writer uses.
    let piece = 251 * 4096;
    for size in [
        0,
        1,
        7,
        8,
        250,
        251,
        252,
        piece - 1,
        piece,
        piece + 1,
        3 * piece + 5,
    ] {
        for seed in [0, 1, u64::MAX] {
            let mut written = Vec::new();
            large::write_object(&mut written, size as u64, seed).expect("to a Vec");
            assert!(
                written == large::object(size, seed),
                "size {size}, seed {seed}"
            );
        }
    }
    assert_ne!(large::object(16, 1), large::object(16, 2));
    assert_eq!(large::object(300, 0)[251..260], large::object(300, 0)[0..9]);
}

#[test]
fn the_source_file_is_the_pattern_and_its_digest() {
    let size = 3 << 20;
    let source = SourceFile::create(size).expect("source file");
    let bytes = std::fs::read(source.path()).expect("read back");
    assert_eq!(bytes, large::object(size, 1));
    assert_eq!(source.size(), size);
    assert_eq!(source.id(), ObjectId::of(&bytes));
    let dir = source
        .path()
        .parent()
        .expect("in a directory")
        .to_path_buf();
    assert!(source.scratch("x").starts_with(&dir));
    // The case's baseline copies it and removes its scratch copy.
    let row = oap_bench::files::file_copy_baseline(&source).expect("copy");
    assert_eq!(row.size, size);
    assert!(!source.scratch("baseline-copy").exists());
    drop(source);
    assert!(!dir.exists(), "the temporary directory outlived the source");
}

#[test]
fn the_file_copy_baseline_arrives_byte_identical_with_a_sane_row() {
    let size = 3 << 20;
    let dir = tempfile::tempdir().expect("temporary directory");
    let (source, dest) = (dir.path().join("source"), dir.path().join("copy"));
    let mut file = std::fs::File::create(&source).expect("source");
    large::write_object(&mut file, size as u64, 7).expect("source written");
    drop(file);
    let row = baseline::hashed_file_copy(&source, &dest).expect("copy");
    assert_eq!(
        std::fs::read(&dest).expect("the copy"),
        large::object(size, 7)
    );
    assert_eq!((row.runtime, row.op), ("baseline", "file copy + b3"));
    assert_eq!((row.size, row.iterations), (size, 1));
    assert!(row.gbps().is_finite() && row.gbps() > 0.0, "{row:?}");
    assert!(row.baseline.is_none() && row.server_peak.is_none());
    if cfg!(target_os = "linux") {
        // The bench process's own peak: at least the copy's buffers, far
        // below a gigabyte for a 3 MiB copy.
        let peak = row.measure.client_peak.expect("peak from /proc");
        assert!(peak > 0 && peak < 1 << 30, "{peak}");
        assert!(row.cpu_per_gb().is_some());
    }
}

#[test]
fn the_in_memory_baseline_still_copies_whole_objects() {
    let row = baseline::hashed_tcp_copy((1 << 20) + 3, 2).expect("copy");
    assert_eq!(
        (row.runtime, row.op, row.iterations),
        ("baseline", "tcp copy + b3", 2)
    );
    assert!(row.gbps() > 0.0);
}
