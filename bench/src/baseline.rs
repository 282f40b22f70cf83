//! The baseline every large-object case is compared with: the same bytes
//! copied over loopback TCP with plain blocking sockets, BLAKE3 hashed by
//! the sender as it writes and by the receiver as it reads. Nothing a
//! protocol does can beat this on the same machine.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::report::{LargeRow, Measure};

/// Chunk written and read per call, the storage streaming size.
const CHUNK: usize = 64 * 1024;

/// Copies `iterations` objects of `size` bytes over one loopback connection
/// per object and checks both ends hashed the same bytes.
pub fn hashed_tcp_copy(size: usize, iterations: u32) -> io::Result<LargeRow> {
    let object = crate::large::object(size, 0);
    let (result, measure) = Measure::of(None, || -> io::Result<()> {
        for _ in 0..iterations {
            copy_once(&object)?;
        }
        Ok(())
    });
    result?;
    Ok(LargeRow {
        runtime: "baseline",
        op: "tcp copy + b3",
        size,
        iterations,
        measure,
        server_peak: None,
        baseline: None,
    })
}

/// Reference: BLAKE3 of the objects on one thread, as a put's client must
/// do before its first DATA frame (the id goes in every DATA header).
pub fn hash_only(size: usize, iterations: u32) -> LargeRow {
    let object = crate::large::object(size, 0);
    let ((), measure) = Measure::of(None, || {
        for _ in 0..iterations {
            std::hint::black_box(blake3::hash(std::hint::black_box(&object)));
        }
    });
    reference("b3 hash, 1 thread", size, iterations, measure)
}

/// Reference: copying the objects into newly allocated memory, as a
/// receiver that keeps an object must (page faults included).
pub fn copy_to_new_memory(size: usize, iterations: u32) -> LargeRow {
    let object = crate::large::object(size, 0);
    let ((), measure) = Measure::of(None, || {
        for _ in 0..iterations {
            std::hint::black_box(std::hint::black_box(&object).to_vec());
        }
    });
    reference("copy to new memory", size, iterations, measure)
}

fn reference(op: &'static str, size: usize, iterations: u32, measure: Measure) -> LargeRow {
    LargeRow {
        runtime: "reference",
        op,
        size,
        iterations,
        measure,
        server_peak: None,
        baseline: None,
    }
}

fn copy_once(object: &[u8]) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let receiver = std::thread::spawn(move || -> io::Result<blake3::Hash> {
        let (mut s, _) = listener.accept()?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match s.read(&mut buf)? {
                0 => return Ok(hasher.finalize()),
                n => {
                    hasher.update(&buf[..n]);
                }
            }
        }
    });
    let mut s = TcpStream::connect(addr)?;
    let mut hasher = blake3::Hasher::new();
    for chunk in object.chunks(CHUNK) {
        hasher.update(chunk);
        s.write_all(chunk)?;
    }
    s.shutdown(Shutdown::Write)?;
    let received = receiver
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    if received != hasher.finalize() {
        return Err(io::Error::other("baseline copy corrupted the bytes"));
    }
    Ok(())
}
