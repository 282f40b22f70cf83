//! Objects of any size, from a file and into a file: put with
//! [`Client::put_file`], get with [`Client::get_to_file`], and get into a
//! sink that keeps nothing ([`Client::get_stream`], every chunk dropped),
//! into a server whose store is a [`oap_node::DirStore`].
//!
//! The source file is written once per size ([`SourceFile`]), in pieces,
//! into a temporary directory removed afterwards. Each row runs right
//! after its baseline: the hashed TCP copy between files
//! ([`crate::baseline::hashed_file_copy`]) for put and get, the in-memory
//! hashed TCP copy ([`crate::baseline::hashed_tcp_copy`]) for the sink.
//! Each row also has the peak resident memory of the client (this process)
//! and of the server, each reset when the row begins.
//!
//! Bytes are checked outside the clock: the put must confirm the digest
//! computed while the source was written, the file got must hash to it
//! again, and the sink must have seen the object's length, verified.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_node::Client;
use tempfile::TempDir;

use crate::baseline;
use crate::report::{LargeRow, Measure};
use crate::rt::RuntimeKind;
use crate::server::Launcher;

/// A source file of the [`crate::large::object`] pattern in a temporary
/// directory, which also holds the stores and the copies; all removed on
/// drop.
pub struct SourceFile {
    dir: TempDir,
    path: PathBuf,
    size: usize,
    id: ObjectId,
}

impl SourceFile {
    /// Writes a file of `size` bytes in a new temporary directory (under
    /// the system's temporary directory), in pieces of about 1 MiB, hashing
    /// it on the way, and syncs it so its write-back does not spill into
    /// the measurements.
    pub fn create(size: usize) -> io::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("oap-bench-files-")
            .tempdir()?;
        let path = dir.path().join("source");
        let mut out = Hashing {
            file: File::create(&path)?,
            hasher: blake3::Hasher::new(),
        };
        crate::large::write_object(&mut out, size as u64, 1)?;
        out.file.sync_all()?;
        let id = ObjectId::from_bytes(*out.hasher.finalize().as_bytes());
        Ok(Self {
            dir,
            path,
            size,
            id,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its length.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Its object id (BLAKE3 digest).
    pub fn id(&self) -> ObjectId {
        self.id
    }

    /// A path beside the source for a file or directory named `name`.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Writes to a file and hashes what it writes.
struct Hashing {
    file: File,
    hasher: blake3::Hasher,
}

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// The hashed TCP copy between files, from `source` to a scratch file that
/// is removed afterwards.
pub fn file_copy_baseline(source: &SourceFile) -> io::Result<LargeRow> {
    let dest = source.scratch("baseline-copy");
    let row = baseline::hashed_file_copy(source.path(), &dest);
    std::fs::remove_file(&dest)?;
    row
}

/// Put, get into a file and get into a sink of `source` on `kind`, against
/// a fresh server with a directory store beside the source (removed
/// afterwards); one row each, each next to its baseline.
pub fn run(
    kind: RuntimeKind,
    launcher: &Launcher,
    source: &SourceFile,
) -> Result<Vec<LargeRow>, crate::Error> {
    let store = source.scratch(&format!("store-{}", kind.name()));
    let rows = run_in(kind, launcher, source, &store);
    let removed = std::fs::remove_dir_all(&store);
    let rows = rows?;
    removed?;
    Ok(rows)
}

fn run_in(
    kind: RuntimeKind,
    launcher: &Launcher,
    source: &SourceFile,
    store: &Path,
) -> Result<Vec<LargeRow>, crate::Error> {
    let server = launcher.start_with_store_dir(kind, store)?;
    let size = source.size();
    let got = source.scratch("got");
    kind.block_on(async {
        let client =
            Client::connect(kind.runtime(), server.addr(), ConnectionConfig::default()).await?;
        let row = |op, measure, baseline| LargeRow {
            runtime: kind.name(),
            op,
            size,
            iterations: 1,
            measure,
            server_peak: server.memory().map(|m| m.peak),
            baseline: Some(baseline),
        };

        let baseline = file_copy_baseline(source)?.measure;
        server.reset_peak();
        let watch = Measure::start(Some(&server));
        let id = client.put_file("bench", "files", source.path()).await?;
        let put = row("put", watch.stop(), baseline);
        if id != source.id() {
            return Err("the server confirmed another id than the file's digest".into());
        }

        let baseline = file_copy_baseline(source)?.measure;
        server.reset_peak();
        let watch = Measure::start(Some(&server));
        let len = client.get_to_file(id, &got).await?;
        let get = row("get", watch.stop(), baseline);
        let again = hash_file(&got);
        std::fs::remove_file(&got)?;
        if len != size as u64 || again? != id {
            return Err("a get into a file wrote other bytes than were put".into());
        }

        let baseline = baseline::hashed_tcp_copy(size, 1)?.measure;
        server.reset_peak();
        let watch = Measure::start(Some(&server));
        let mut stream = client.get_stream(id)?;
        let mut received = 0;
        while let Some(chunk) = stream.chunk().await? {
            received += chunk.len();
        }
        let sink = row("get, sink", watch.stop(), baseline);
        if received != size || stream.verified_len() != Some(size as u64) {
            return Err("a streamed get delivered another length than was put".into());
        }
        Ok(vec![put, get, sink])
    })?
}

/// The object id of the file at `path`, hashed again by the bench (not by
/// the SDK under test).
fn hash_file(path: &Path) -> io::Result<ObjectId> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_mmap_rayon(path)?;
    Ok(ObjectId::from_bytes(*hasher.finalize().as_bytes()))
}
