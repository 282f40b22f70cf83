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

/// Runs `work` on `value` on the blocking pool, starting at once (not
/// when the future is first polled, so the caller can do something else
/// meanwhile), and hands `value` back with the result. A panic there is
/// reported as an error.
fn on_pool<T: Send + 'static, R: Send + 'static>(
    runtime: &dyn Runtime,
    mut value: T,
    work: impl FnOnce(&mut T) -> io::Result<R> + Send + 'static,
) -> impl std::future::Future<Output = Result<(T, R), ClientError>> + Send + 'static {
    let done = run_blocking(runtime, move || {
        let r = work(&mut value);
        (value, r)
    });
    async move {
        match done.await {
            Some((value, Ok(r))) => Ok((value, r)),
            Some((_, Err(e))) => Err(ClientError::local(e)),
            None => Err(ClientError::local(io::Error::other(
                "file work panicked on the blocking pool",
            ))),
        }
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
    let tmp = tempfile::Builder::new()
        .prefix(".oap-get-")
        .tempfile_in(&dir)
        .map_err(ClientError::local)?;
    let mut stream = client.get_stream(obj)?;
    let mut received = 0;
    // Write-behind: each chunk's write runs on the pool while the next
    // chunk arrives; at most one write is in flight, so the file's side
    // holds one chunk.
    let mut writing = None;
    let mut idle = Some(tmp);
    loop {
        let chunk = match stream.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => {
                // Let the write in flight finish, so the temporary file it
                // holds is gone (dropped) before the caller hears of it.
                if let Some(write) = writing.take() {
                    let _ = write.await;
                }
                return Err(e);
            }
        };
        received += chunk.len() as u64;
        if let Some(write) = writing.take() {
            let (done, ()) = write.await?;
            idle = Some(done);
        }
        let file = idle.take().ok_or(ClientError::UnknownRequest)?;
        writing = Some(on_pool(runtime, file, move |t| t.write_all(&chunk)));
        let total = stream.announced_len().unwrap_or(received);
        progress(Progress {
            bytes: received,
            total,
        });
    }
    if let Some(write) = writing.take() {
        let (done, ()) = write.await?;
        idle = Some(done);
    }
    let tmp = idle.ok_or(ClientError::UnknownRequest)?;
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
