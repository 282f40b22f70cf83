//! The baseline every large-object case is compared with: the same bytes
//! copied over loopback TCP with plain blocking sockets, BLAKE3 hashed by
//! the sender as it writes and by the receiver as it reads. Nothing a
//! protocol does can beat this on the same machine.
//!
//! [`hashed_tcp_copy`] copies from memory into nothing; [`hashed_file_copy`]
//! copies from a file into a file, synced at the end, as a put from a file
//! and a get into a file must.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;

use crate::report::{LargeRow, Measure};

/// Chunk written and read per call, the storage streaming size.
const CHUNK: usize = 64 * 1024;

/// Copies `iterations` objects of `size` bytes over one loopback connection
/// per object and checks both ends hashed the same bytes.
pub fn hashed_tcp_copy(size: usize, iterations: u32) -> io::Result<LargeRow> {
    let object = crate::large::object(size, 0);
    let (result, measure) = Measure::of(None, || -> io::Result<()> {
        for _ in 0..iterations {
            copy_once(|send| object.chunks(CHUNK).try_for_each(send), io::sink())?;
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

/// Copies the file at `source` over one loopback connection into a new
/// file at `dest`, read and written in 64 KiB pieces, and syncs `dest`
/// before the clock stops; checks both ends hashed the same bytes.
pub fn hashed_file_copy(source: &Path, dest: &Path) -> io::Result<LargeRow> {
    let size = usize::try_from(std::fs::metadata(source)?.len()).map_err(io::Error::other)?;
    let (result, measure) = Measure::of(None, || -> io::Result<()> {
        let mut file = File::open(source)?;
        let copy = copy_once(
            |send| {
                let mut buf = vec![0u8; CHUNK];
                loop {
                    match file.read(&mut buf)? {
                        0 => return Ok(()),
                        n => send(&buf[..n])?,
                    }
                }
            },
            File::create(dest)?,
        )?;
        copy.sync_all()
    });
    result?;
    Ok(LargeRow {
        runtime: "baseline",
        op: "file copy + b3",
        size,
        iterations: 1,
        measure,
        server_peak: None,
        baseline: None,
    })
}

/// One object over one loopback connection. `send` hands the object to
/// the function it is given, piece by piece; each piece is hashed and
/// written to the socket. The receiver hashes what arrives and writes it
/// to `sink`, which comes back once both digests matched.
fn copy_once<W: Write + Send + 'static>(
    send: impl FnOnce(&mut dyn FnMut(&[u8]) -> io::Result<()>) -> io::Result<()>,
    mut sink: W,
) -> io::Result<W> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let receiver = std::thread::spawn(move || -> io::Result<(blake3::Hash, W)> {
        let (mut s, _) = listener.accept()?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; CHUNK];
        loop {
            match s.read(&mut buf)? {
                0 => return Ok((hasher.finalize(), sink)),
                n => {
                    hasher.update(&buf[..n]);
                    sink.write_all(&buf[..n])?;
                }
            }
        }
    });
    let mut s = TcpStream::connect(addr)?;
    let mut hasher = blake3::Hasher::new();
    send(&mut |chunk| {
        hasher.update(chunk);
        s.write_all(chunk)
    })?;
    s.shutdown(Shutdown::Write)?;
    let (received, sink) = receiver
        .join()
        .map_err(|_| io::Error::other("receiver panicked"))??;
    if received != hasher.finalize() {
        return Err(io::Error::other("baseline copy corrupted the bytes"));
    }
    Ok(sink)
}
