//! A directory of content-addressed files.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use oap_core::ObjectId;
use oap_core::object_id::ObjectHasher;

use super::{CorruptObject, ObjectReader, ObjectStore, Staging};

/// Objects as files named by their hex digest in one directory.
///
/// A put is written to a temporary file in the same directory, fsynced,
/// and renamed to its final name only on commit, so a reader never sees a
/// partial object and a failed upload leaves nothing behind (temporary
/// files are removed on drop, and stale ones when the store opens).
///
/// Reads re-hash the file as it streams: a file whose bytes no longer
/// match its name is moved aside into `.quarantine/`, never served again,
/// and the read that would have completed it fails with
/// [`CorruptObject`].
#[derive(Debug)]
pub struct DirStore {
    dir: PathBuf,
    counter: Arc<AtomicU64>,
}

const TMP_PREFIX: &str = ".partial-";

/// Where corrupted files are moved, inside the store's directory.
pub(super) const QUARANTINE_DIR: &str = ".quarantine";

/// The most a single read takes from the file, whatever the caller asks.
const READ_MAX: usize = 1 << 20;

impl DirStore {
    /// Opens (creating if needed) the store in `dir`, removing temporary
    /// files a crash may have left.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir,
            counter: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn final_path(&self, obj: &ObjectId) -> PathBuf {
        self.dir.join(obj.to_hex())
    }

    /// Where a corrupted copy of `obj` goes: unique, so two corruptions
    /// of one object never collide.
    fn quarantine_path(&self, obj: &ObjectId) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(QUARANTINE_DIR)
            .join(format!("{}-{}-{n}", obj.to_hex(), std::process::id()))
    }
}

struct DirStaging {
    file: Option<File>,
    tmp: PathBuf,
    dest: PathBuf,
}

impl ObjectStore for DirStore {
    fn begin(&self, obj: ObjectId, _total_len: u64) -> io::Result<Box<dyn Staging>> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let tmp = self.dir.join(format!(
            "{TMP_PREFIX}{}-{}-{n}",
            std::process::id(),
            obj.to_hex()
        ));
        let file = File::create(&tmp)?;
        Ok(Box::new(DirStaging {
            file: Some(file),
            tmp,
            dest: self.final_path(&obj),
        }))
    }

    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn ObjectReader>>> {
        let path = self.final_path(obj);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let mut reader = DirReader {
            file,
            obj: *obj,
            len,
            remaining: len,
            hasher: ObjectHasher::new(),
            path,
            quarantine: self.quarantine_path(obj),
        };
        // An empty file is never read, so it is checked here: a file
        // truncated to nothing must not pass for the empty object.
        if len == 0 && !obj.verify(b"") {
            return Err(reader.corrupt());
        }
        Ok(Some(Box::new(reader)))
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.final_path(obj).is_file()
    }

    /// Opens, reads and commits go to the blocking pool: reads can wait on
    /// the disk, commits on an fsync.
    fn blocks(&self) -> bool {
        true
    }

    /// Writes land in the page cache: they stay on the connection's task.
    fn writes_block(&self) -> bool {
        false
    }
}

impl Staging for DirStaging {
    fn write(&mut self, bytes: Bytes) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(&bytes),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }

    fn commit(mut self: Box<Self>) -> io::Result<()> {
        let file = self.file.take().ok_or(io::ErrorKind::BrokenPipe)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.tmp, &self.dest)?;
        // Make the rename itself durable.
        if let Some(dir) = self.dest.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for DirStaging {
    fn drop(&mut self) {
        // Not committed (or commit failed before the rename): leave nothing.
        if self.tmp.exists() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A stored file being read and re-hashed: disks rot, and files can be
/// changed behind the store's back.
struct DirReader {
    file: File,
    obj: ObjectId,
    len: u64,
    remaining: u64,
    hasher: ObjectHasher,
    path: PathBuf,
    quarantine: PathBuf,
}

impl DirReader {
    /// Moves the corrupted file aside so it is never served again, and
    /// says so.
    fn corrupt(&mut self) -> io::Error {
        self.remaining = 0;
        if let Some(dir) = self.quarantine.parent() {
            let _ = fs::create_dir_all(dir);
        }
        // If the move fails (another reader moved it first), the file is
        // gone from its name anyway or will be caught by the next read.
        let _ = fs::rename(&self.path, &self.quarantine);
        CorruptObject { obj: self.obj }.into_io()
    }
}

impl ObjectReader for DirReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn remaining(&self) -> u64 {
        self.remaining
    }

    fn read(&mut self, max: usize) -> io::Result<Bytes> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(max)
            .min(READ_MAX);
        if want == 0 {
            return Ok(Bytes::new());
        }
        let mut buf = BytesMut::zeroed(want);
        let mut filled = 0;
        while filled < want {
            match self.file.read(&mut buf[filled..]) {
                // Shorter than when it was opened: truncated under us.
                Ok(0) => return Err(self.corrupt()),
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.hasher.update(&buf);
        self.remaining -= want as u64;
        if self.remaining == 0 && !self.hasher.finalize().matches(&self.obj) {
            return Err(self.corrupt());
        }
        Ok(buf.freeze())
    }
}
