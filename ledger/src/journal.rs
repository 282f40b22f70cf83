//! A file that keeps stored bytes per tenant across restarts.
//!
//! Append-only lines `TENANT BYTES\n`, one per committed object. Opening
//! replays it into totals and rewrites it as one line per tenant (through
//! a temporary file, fsynced, then renamed), so it is bounded by the
//! objects stored since the last start plus the tenants.
//!
//! Lines are appended without an fsync each: a process crash loses
//! nothing (the kernel has the bytes), a power loss may lose the last
//! lines, which then under-count. A torn last line is skipped on replay.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// The usage journal (see the module docs).
#[derive(Debug)]
pub struct UsageJournal {
    path: PathBuf,
    file: File,
}

impl UsageJournal {
    /// Opens (creating if needed) the journal at `path`, returning it and
    /// the stored bytes per tenant it recorded, and compacts it.
    ///
    /// # Errors
    /// The file cannot be read, rewritten or reopened.
    pub fn open(path: impl Into<PathBuf>) -> io::Result<(Self, BTreeMap<String, u64>)> {
        let path = path.into();
        let totals = match File::open(&path) {
            Ok(f) => replay(BufReader::new(f))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        compact(&path, &totals)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok((Self { path, file }, totals))
    }

    /// Where the journal is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that `tenant` stored `bytes` more. `tenant` must not contain
    /// whitespace (tenant names never do).
    ///
    /// # Errors
    /// The append failed.
    pub fn record(&mut self, tenant: &str, bytes: u64) -> io::Result<()> {
        debug_assert!(!tenant.contains(char::is_whitespace));
        // One write per line, so concurrent readers never see half of one.
        self.file
            .write_all(format!("{tenant} {bytes}\n").as_bytes())
    }
}

fn replay(reader: impl BufRead) -> io::Result<BTreeMap<String, u64>> {
    let mut totals = BTreeMap::<String, u64>::new();
    for line in reader.split(b'\n') {
        let line = line?;
        // A line cut short by a crash (or anything unreadable) is skipped.
        let Some((tenant, bytes)) = std::str::from_utf8(&line)
            .ok()
            .and_then(|l| l.split_once(' '))
            .and_then(|(t, b)| Some((t, b.parse::<u64>().ok()?)))
        else {
            continue;
        };
        let total = totals.entry(tenant.to_owned()).or_default();
        *total = total.saturating_add(bytes);
    }
    Ok(totals)
}

fn compact(path: &Path, totals: &BTreeMap<String, u64>) -> io::Result<()> {
    let tmp = path.with_extension("compacting");
    let mut f = File::create(&tmp)?;
    for (tenant, bytes) in totals {
        f.write_all(format!("{tenant} {bytes}\n").as_bytes())?;
    }
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself must survive a power loss.
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_survive_reopening_and_the_file_is_compacted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usage");
        let (mut j, totals) = UsageJournal::open(&path).unwrap();
        assert!(totals.is_empty());
        j.record("a", 10).unwrap();
        j.record("b", 7).unwrap();
        j.record("a", 5).unwrap();
        drop(j);
        // A crash mid-append leaves a torn line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"a 99").unwrap();
        f.write_all(b"9\nb").unwrap();
        drop(f);
        let (_j, totals) = UsageJournal::open(&path).unwrap();
        assert_eq!(totals.get("a"), Some(&(15 + 999)));
        assert_eq!(totals.get("b"), Some(&7), "the torn `b` line is skipped");
        assert_eq!(fs::read_to_string(&path).unwrap(), "a 1014\nb 7\n");
    }
}
