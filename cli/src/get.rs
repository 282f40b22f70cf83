//! `oap get`: streams one object into a file, or to standard output, and
//! lets nothing out before its full digest verified.

use std::cell::RefCell;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result};
use oap_node::{ClientError, RetryPolicy};

use crate::args::GetArgs;
use crate::connect::{client_error, connect};
use crate::progress::TransferBar;

/// A get failure, worded for where the object was going.
fn get_error(e: ClientError, id: &oap_core::ObjectId, dest: &str) -> anyhow::Error {
    match e {
        ClientError::Local(io) => anyhow::anyhow!("cannot write {dest}: {io}"),
        other => client_error(other).context(format!("get {id} failed")),
    }
}

/// Fetches `args.id` into `-o FILE` (a temporary file beside it, renamed
/// after verification) or to stdout (through a private temporary file,
/// copied out only after verification: stdout cannot take bytes back).
pub(crate) async fn run(args: &GetArgs) -> Result<()> {
    let client = connect(&args.server).await?;
    let to_file = args.output.as_deref().filter(|p| *p != Path::new("-"));
    let spool;
    let (target, dest) = match to_file {
        Some(path) => (path.to_path_buf(), path.display().to_string()),
        None => {
            spool = tempfile::tempdir().context("cannot create a temporary directory")?;
            (spool.path().join("object"), "a temporary file".to_owned())
        }
    };
    let bar = RefCell::new(TransferBar::new(format!("get {}", args.id)));
    let len = client
        .with_retries(&RetryPolicy::default(), || {
            client.get_to_file_with(args.id, &target, |p| bar.borrow_mut().update(p))
        })
        .await
        .map_err(|e| get_error(e, &args.id, &dest))?;
    drop(bar);
    client.close();
    if to_file.is_none() {
        let mut file = std::fs::File::open(&target).context("cannot reopen the object")?;
        let mut out = io::stdout().lock();
        io::copy(&mut file, &mut out).context("cannot write to stdout")?;
        out.flush().context("cannot write to stdout")?;
    }
    tracing::info!(id = %args.id, bytes = len, "fetched");
    Ok(())
}
