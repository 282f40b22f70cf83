//! `oap id`: object ids computed locally, streaming (constant memory).

use std::io::{self, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use oap_core::ObjectId;
use oap_core::object_id::ObjectHasher;

use crate::args::IdArgs;

/// Hashes everything `reader` yields.
pub(crate) fn hash_reader(mut reader: impl Read) -> io::Result<ObjectId> {
    let mut hasher = ObjectHasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hasher.finalize()),
            Ok(n) => {
                hasher.update(&buf[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The id of the file at `path` (`-`: stdin).
pub(crate) fn hash_path(path: &Path) -> Result<ObjectId> {
    if path == Path::new("-") {
        return hash_reader(io::stdin().lock()).context("cannot read stdin");
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    hash_reader(file).with_context(|| format!("cannot read {}", path.display()))
}

/// Prints one id per file, in order (the same output `oap put` gives).
pub(crate) fn run(args: &IdArgs) -> Result<()> {
    let mut out = io::stdout().lock();
    for path in &args.files {
        let id = hash_path(path)?;
        writeln!(out, "{id}")?;
    }
    out.flush()?;
    Ok(())
}
