//! `oap get`: downloads one object and writes it only after its full
//! digest has been verified.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::args::GetArgs;
use crate::connect::{client_error, connect};

/// Writes `data` to `path` atomically: readers never see a partial file,
/// and a failure leaves whatever was at `path` untouched.
fn write_atomically(path: &Path, data: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".oap-get-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(data)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot rename into {}", path.display()))?;
    Ok(())
}

/// Fetches `args.id` and writes it to `-o` or stdout.
pub async fn run(args: &GetArgs) -> Result<()> {
    let client = connect(&args.server).await?;
    let data = client
        .get(args.id)
        .await
        .map_err(client_error)
        .with_context(|| format!("get {} failed", args.id))?;
    client.close();
    // The SDK already refuses bytes whose digest differs; checking again
    // here costs one hash and keeps this command correct on its own.
    if !args.id.verify(&data) {
        bail!("digest mismatch: the bytes received are not {}", args.id);
    }
    match &args.output {
        Some(path) if path != Path::new("-") => write_atomically(path, &data)?,
        _ => {
            let mut out = io::stdout().lock();
            out.write_all(&data).context("cannot write to stdout")?;
            out.flush().context("cannot write to stdout")?;
        }
    }
    tracing::info!(id = %args.id, bytes = data.len(), "fetched");
    Ok(())
}
