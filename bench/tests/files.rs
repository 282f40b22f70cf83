//! The files case's own pieces: the object pattern written in pieces, the
//! hashed copy between files, and the source file it starts from.

use oap_bench::large;

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
