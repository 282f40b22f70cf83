//! A directory of content-addressed files.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use oap_core::ObjectId;

use super::{ObjectStore, Staging};

/// Objects as files named by their hex digest in one directory.
///
/// A put is written to a temporary file in the same directory, fsynced,
/// and renamed to its final name only on commit, so a reader never sees a
/// partial object and a failed upload leaves nothing behind (temporary
/// files are removed on drop, and stale ones when the store opens).
#[derive(Debug)]
pub struct DirStore {
    dir: PathBuf,
    counter: AtomicU64,
}

const TMP_PREFIX: &str = ".partial-";

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
            counter: AtomicU64::new(0),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn final_path(&self, obj: &ObjectId) -> PathBuf {
        self.dir.join(obj.to_hex())
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

    fn get(&self, obj: &ObjectId) -> io::Result<Option<Bytes>> {
        match fs::read(self.final_path(obj)) {
            // Disks rot: the digest is checked again on every read.
            Ok(bytes) if obj.verify(&bytes) => Ok(Some(Bytes::from(bytes))),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.final_path(obj).is_file()
    }

    /// Reads and fsyncs go to the blocking pool. Writes of arriving bytes
    /// stay on the connection's task: they land in the page cache.
    fn blocks(&self) -> bool {
        true
    }
}

impl Staging for DirStaging {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(bytes),
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
