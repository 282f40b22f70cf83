//! `oap put`: uploads files and prints the id the server confirmed.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use oap_core::ObjectId;

use crate::args::PutArgs;
use crate::connect::{client_error, connect};

/// Files at least this large get a progress bar (on a terminal only):
/// smaller ones finish before a bar would be readable.
const PROGRESS_THRESHOLD: u64 = 8 * 1024 * 1024;

/// Progress is shown only for large files and only when stderr is a
/// terminal (piped output stays clean).
fn wants_progress(len: u64) -> bool {
    len >= PROGRESS_THRESHOLD && io::stderr().is_terminal()
}

/// A byte progress bar for `len` bytes, or nothing (see [`wants_progress`]).
fn progress(len: u64, what: &str) -> Option<ProgressBar> {
    if !wants_progress(len) {
        return None;
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    Some(bar)
}

/// Reads the whole file (the client SDK sends an object from memory,
/// because its id must be known before the first frame goes out).
fn read_file(path: &Path) -> Result<Bytes> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress(len, &format!("reading {}", path.display()));
    let mut data = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        data.extend_from_slice(&buf[..n]);
        if let Some(bar) = &bar {
            bar.inc(n as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(Bytes::from(data))
}

/// Uploads every file in order; stops at the first failure.
pub async fn run(args: &PutArgs) -> Result<()> {
    let client = connect(&args.server).await?;
    let mut out = io::stdout().lock();
    for path in &args.files {
        let data = read_file(path)?;
        let local = ObjectId::of(&data);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // The SDK sends the object as one request with no byte callback, so
        // a spinner (not a byte bar) shows that the upload is under way.
        let spinner = wants_progress(data.len() as u64).then(|| {
            let s = ProgressBar::new_spinner();
            s.set_message(format!("uploading {}", path.display()));
            s.enable_steady_tick(Duration::from_millis(100));
            s
        });
        let len = data.len();
        let result = client.put_doc("files", &name, data).await;
        if let Some(s) = spinner {
            s.finish_and_clear();
        }
        let id = result
            .map_err(client_error)
            .with_context(|| format!("put {} failed", path.display()))?;
        if id != local {
            bail!(
                "put {}: the server confirmed {id}, but the file's id is {local}",
                path.display()
            );
        }
        tracing::info!(file = %path.display(), bytes = len, %id, "stored");
        writeln!(out, "{id}")?;
        out.flush()?;
    }
    client.close();
    Ok(())
}
