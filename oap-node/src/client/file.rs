//! Puts from files and gets into files, streamed: the file is read or
//! written piece by piece on the runtime's blocking pool, as the
//! connection's credit allows, so memory never follows the file's size.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_io::{Runtime, run_blocking};

use super::transfer::{Progress, piece};
use super::{Client, ClientError};

/// Runs `work` on `value` on the blocking pool and hands `value` back with
/// the result (a panic there is reported as an error).
async fn on_pool<T: Send + 'static, R: Send + 'static>(
    runtime: &dyn Runtime,
    mut value: T,
    work: impl FnOnce(&mut T) -> io::Result<R> + Send + 'static,
) -> Result<(T, R), ClientError> {
    let done = run_blocking(runtime, move || {
        let r = work(&mut value);
        (value, r)
    })
    .await;
    match done {
        Some((value, Ok(r))) => Ok((value, r)),
        Some((_, Err(e))) => Err(ClientError::local(e)),
        None => Err(ClientError::local(io::Error::other(
            "file work panicked on the blocking pool",
        ))),
    }
}

/// Bytes read per step of the hash pass: large enough for BLAKE3's
/// multi-threaded mode to spread each step over every core, small enough
/// that the pass holds a fixed buffer whatever the file's size.
const HASH_PIECE: usize = 8 << 20;

/// The id and length of the file at `path`, hashed with BLAKE3 on all
/// cores through one fixed buffer. (Memory-mapping the file would hash as
/// fast but map every page of it into the process: its resident size then
/// grows to the file's size, as the bench's put rows measured.)
async fn hash_file(runtime: &dyn Runtime, path: &Path) -> Result<(ObjectId, u64), ClientError> {
    let (_, (obj, len)) = on_pool(runtime, path.to_path_buf(), |path| {
        let mut file = File::open(&*path)?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0; HASH_PIECE];
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if filled == 0 {
                break;
            }
            hasher.update_rayon(&buf[..filled]);
        }
        let len = hasher.count();
        Ok((ObjectId::from_bytes(*hasher.finalize().as_bytes()), len))
    })
    .await?;
    Ok((obj, len))
}

pub(super) async fn put_file(
    client: &Client,
    collection: &str,
    id: &str,
    path: &Path,
    mut progress: impl FnMut(Progress),
) -> Result<ObjectId, ClientError> {
    let runtime = &*client.runtime;
    let (obj, len) = hash_file(runtime, path).await?;
    let mut file = File::open(path).map_err(ClientError::local)?;
    let mut put = client.put_stream(collection, id, obj, len)?;
    let mut sent = 0;
    while sent < len {
        let room = put.room().await;
        if room == 0 {
            break;
        }
        let n = piece(room.min(len - sent));
        let buf;
        (file, buf) = on_pool(runtime, file, move |f| {
            let mut buf = vec![0; n];
            f.read_exact(&mut buf)?;
            Ok(buf)
        })
        .await?;
        sent += n as u64;
        put.write(Bytes::from(buf)).await?;
        progress(Progress {
            bytes: sent,
            total: len,
        });
    }
    put.finish().await
}

pub(super) async fn get_to_file(
    client: &Client,
    obj: ObjectId,
    path: &Path,
    mut progress: impl FnMut(Progress),
) -> Result<u64, ClientError> {
    let runtime = &*client.runtime;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // In the target's directory, so the final rename stays on one file
    // system; removed on drop unless persisted.
    let mut tmp = tempfile::Builder::new()
        .prefix(".oap-get-")
        .tempfile_in(&dir)
        .map_err(ClientError::local)?;
    let mut stream = client.get_stream(obj)?;
    let mut received = 0;
    while let Some(chunk) = stream.chunk().await? {
        received += chunk.len() as u64;
        (tmp, ()) = on_pool(runtime, tmp, move |t| t.write_all(&chunk)).await?;
        let total = stream.announced_len().unwrap_or(received);
        progress(Progress {
            bytes: received,
            total,
        });
    }
    let len = stream.verified_len().ok_or(ClientError::UnknownRequest)?;
    let target = path.to_path_buf();
    on_pool(runtime, Some(tmp), move |t| {
        let t = t.take().ok_or(io::ErrorKind::NotFound)?;
        t.as_file().sync_all()?;
        t.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })
    .await?;
    Ok(len)
}
