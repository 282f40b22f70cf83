//! `oap put`: streams files (or standard input) to the server and prints
//! the id it confirmed for each.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use oap_node::{ClientError, RetryPolicy};

use crate::args::PutArgs;
use crate::connect::{client_error, connect};
use crate::progress::TransferBar;

/// Copies standard input into a temporary file: an object's id must be
/// known before its first DATA frame, so the input is hashed whole before
/// it is sent, and standard input can be read only once.
async fn spool_stdin() -> Result<tempfile::TempPath> {
    tokio::task::spawn_blocking(|| -> Result<tempfile::TempPath> {
        let mut tmp = tempfile::Builder::new()
            .prefix("oap-put-stdin-")
            .tempfile()
            .context("cannot create a temporary file for standard input")?;
        io::copy(&mut io::stdin().lock(), &mut tmp).context("cannot read standard input")?;
        tmp.as_file().sync_data().ok();
        Ok(tmp.into_temp_path())
    })
    .await
    .context("reading standard input")?
}

/// A put failure, worded for the file it was about.
fn put_error(e: ClientError, shown: &str) -> anyhow::Error {
    match e {
        ClientError::Local(io) => anyhow::anyhow!("cannot read {shown}: {io}"),
        other => client_error(other).context(format!("put {shown} failed")),
    }
}

/// Uploads every file in order (`-` is standard input), retrying a put
/// refused for now with bounded backoff; stops at the first failure.
pub(crate) async fn run(args: &PutArgs) -> Result<()> {
    let client = connect(&args.server).await?;
    let mut out = io::stdout().lock();
    for path in &args.files {
        let stdin = path == Path::new("-");
        let spooled = if stdin {
            Some(spool_stdin().await?)
        } else {
            None
        };
        let (file, name, shown): (PathBuf, String, String) = match &spooled {
            Some(tmp) => (tmp.to_path_buf(), "stdin".into(), "standard input".into()),
            None => {
                match std::fs::metadata(path) {
                    Err(e) => bail!("cannot open {}: {e}", path.display()),
                    Ok(m) if !m.is_file() => bail!("cannot open {}: not a file", path.display()),
                    Ok(_) => {}
                }
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (path.clone(), name, path.display().to_string())
            }
        };
        let bar = RefCell::new(TransferBar::new(format!("put {shown}")));
        // A put refused for now (quota_exhausted, busy, too_many_inflight)
        // is tried again with backoff instead of ending the run.
        let id = client
            .with_retries(&RetryPolicy::default(), || {
                client.put_file_with("files", &name, &file, |p| bar.borrow_mut().update(p))
            })
            .await
            .map_err(|e| put_error(e, &shown))?;
        drop(bar);
        tracing::info!(file = %shown, %id, "stored");
        writeln!(out, "{id}")?;
        out.flush()?;
    }
    client.close();
    Ok(())
}
