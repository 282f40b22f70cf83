//! A put on its way into the bucket: one PUT for a small object, a
//! multipart upload for a large one, completed only at commit.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_node::store::Staging;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};
use tokio::task::JoinHandle;

use crate::Shared;

/// Parts of one upload being sent at once: the next part fills while the
/// previous ones travel. With the part filling, a put holds three parts.
const PARTS_IN_FLIGHT: usize = 2;

/// An object being received into the bucket (see the crate's docs).
pub(crate) struct S3Staging {
    shared: Arc<Shared>,
    obj: ObjectId,
    /// Bytes not sent yet: less than a part.
    buf: Vec<Bytes>,
    buf_len: usize,
    /// The multipart upload, once the object outgrew one part; `None`
    /// again once completed (or handed to its abort).
    upload: Option<Box<dyn MultipartUpload>>,
    in_flight: VecDeque<JoinHandle<io::Result<()>>>,
}

impl S3Staging {
    pub(crate) fn new(shared: Arc<Shared>, obj: ObjectId) -> Self {
        Self {
            shared,
            obj,
            buf: Vec::new(),
            buf_len: 0,
            upload: None,
            in_flight: VecDeque::new(),
        }
    }

    /// Sends one part, starting the upload with the first, and waits for
    /// the oldest part first when [`PARTS_IN_FLIGHT`] are on their way.
    fn send_part(&mut self, part: PutPayload) -> io::Result<()> {
        if self.in_flight.len() >= PARTS_IN_FLIGHT {
            self.wait_oldest()?;
        }
        let upload = match &mut self.upload {
            Some(upload) => upload,
            None => {
                let client = Arc::clone(&self.shared.client);
                let key = self.shared.key(&self.obj);
                let started = self.shared.run("CreateMultipartUpload", async move {
                    client.put_multipart(&key).await
                })?;
                self.upload.insert(started)
            }
        };
        let sending = self.shared.start("UploadPart", upload.put_part(part));
        self.in_flight.push_back(sending);
        Ok(())
    }

    fn take_buf(&mut self) -> PutPayload {
        self.buf_len = 0;
        PutPayload::from_iter(std::mem::take(&mut self.buf))
    }

    fn wait_oldest(&mut self) -> io::Result<()> {
        match self.in_flight.pop_front() {
            Some(part) => self.shared.wait(part),
            None => Ok(()),
        }
    }
}

impl Staging for S3Staging {
    fn write(&mut self, bytes: Bytes) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        // Kept as received, not copied into one large buffer: a part is a
        // list of the connection's chunks, sent one after the other. One
        // large buffer per part, freed on another thread, stayed in the
        // allocator's arenas: the node's resident memory grew to twice
        // what its parts held (measured: 120 MiB against 68 MiB for a
        // 1 GiB put).
        self.buf_len += bytes.len();
        self.buf.push(bytes);
        if self.buf_len >= self.shared.part_size {
            let part = self.take_buf();
            self.send_part(part)?;
        }
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> io::Result<()> {
        let rest_len = self.buf_len;
        let rest = self.take_buf();
        let Some(_) = &self.upload else {
            // Small enough for one PUT, visible only once it succeeded.
            let client = Arc::clone(&self.shared.client);
            let key = self.shared.key(&self.obj);
            return self
                .shared
                .run("PUT", async move { client.put(&key, rest).await })
                .map(drop);
        };
        if rest_len > 0 {
            // The last part may be smaller than S3's least.
            self.send_part(rest)?;
        }
        while !self.in_flight.is_empty() {
            self.wait_oldest()?;
        }
        let Some(mut upload) = self.upload.take() else {
            return Ok(());
        };
        self.shared
            .run("CompleteMultipartUpload", async move {
                match upload.complete().await {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        let _ = upload.abort().await;
                        Err(e)
                    }
                }
            })
            .map(drop)
    }
}

impl Drop for S3Staging {
    /// Not committed (a bad digest, a cancelled put, a failed part): the
    /// upload is aborted, so its parts do not linger in the bucket. Never
    /// visible either way: S3 shows an object only once completed.
    fn drop(&mut self) {
        let Some(mut upload) = self.upload.take() else {
            return;
        };
        let parts = std::mem::take(&mut self.in_flight);
        let timeout = self.shared.timeout;
        let obj = self.obj;
        self.shared.handle.spawn(async move {
            // Parts still travelling would otherwise land after the abort.
            for part in parts {
                let _ = part.await;
            }
            match tokio::time::timeout(timeout, upload.abort()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!(%obj, error = %e, "cannot abort an upload"),
                Err(_) => tracing::debug!(%obj, "aborting an upload timed out"),
            }
        });
    }
}
