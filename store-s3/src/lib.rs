//! An OAP/1 object store on any S3-compatible service: AWS S3, Garage,
//! MinIO. Gateways that keep their objects here hold no state of their
//! own beyond their connections, so any number of them can serve one
//! bucket (see `docs/deploy.md`).
//!
//! - **Puts** stream as DATA arrives: an object's first part of
//!   [`S3Config::part_size`] bytes is buffered; a smaller object goes up in
//!   one PUT at commit, a larger one as a multipart upload, each part sent
//!   as it fills, at most two travelling at once. The upload is completed
//!   only in [`Staging::commit`], which the gateway calls after the
//!   object's digest verified; a put dropped
//!   before (a bad digest, a cancelled request, a dying gateway) is
//!   aborted. An incomplete multipart upload is invisible in S3, so
//!   nothing unverified is ever visible under an object's key.
//! - **Gets** read ranges of at most [`S3Config::range_size`] bytes, only
//!   as far as the gateway asks, and re-hash the bytes on the way: bytes
//!   that do not match their id fail the read that would complete the
//!   object ([`CorruptObject`]), and the object is moved aside under
//!   `PREFIX.quarantine/` so it is never served again and a new put can
//!   replace it.
//! - **Existence** is a HEAD. An object the bucket already holds at the
//!   right length is not uploaded again.
//! - **Failures** (unreachable, refused, slower than [`S3Config::timeout`])
//!   are [`StoreUnavailable`]: the gateway ends that request with the
//!   retryable ERROR `unavailable` and keeps serving.
//!
//! The store's calls block; [`ObjectStore::blocks`] says so, and the
//! gateway makes them on its runtime's blocking pool. The S3 client
//! (object_store, on tokio) runs on a small tokio runtime the store owns,
//! so the gateway itself may run on any runtime.
//!
//! ```no_run
//! use std::sync::Arc;
//! use oap_store_s3::{S3Config, S3Store};
//!
//! // Endpoint, region and credentials from the AWS_* environment.
//! let store = S3Store::new(S3Config::new("my-bucket"))?;
//! let store: Arc<dyn oap_node::ObjectStore> = Arc::new(store);
//! # Ok::<(), std::io::Error>(())
//! ```

#![forbid(unsafe_code)]

mod config;
mod reader;
mod staging;

pub use config::{MIN_PART_SIZE, S3Config};

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use oap_core::ObjectId;
use oap_node::store::{CorruptObject, ObjectReader, ObjectStore, Staging, StoreUnavailable};
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStoreExt};
use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;

use reader::S3Reader;
use staging::S3Staging;

/// Objects in an S3 bucket, one key per object: `PREFIX` followed by the
/// object's hex digest. See the crate's documentation.
pub struct S3Store {
    shared: Arc<Shared>,
    /// Owned so it lives as long as the store; shut down without waiting
    /// on drop (dropping a runtime inside another one's task would panic).
    runtime: Option<Runtime>,
}

/// What the store, its stagings and its readers share.
struct Shared {
    client: Arc<dyn object_store::ObjectStore>,
    prefix: String,
    part_size: usize,
    range_size: usize,
    timeout: Duration,
    handle: Handle,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("client", &self.shared.client.to_string())
            .field("prefix", &self.shared.prefix)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// A store on the bucket `config` names. Makes no request: a bucket
    /// that cannot be reached shows in [`ObjectStore::check`] and in each
    /// request's result, never here.
    ///
    /// # Errors
    /// The configuration is incomplete or invalid (no region where one is
    /// needed, a malformed endpoint), or the store's runtime cannot start.
    pub fn new(config: S3Config) -> io::Result<Self> {
        let client = config.build().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("S3 configuration: {e}"),
            )
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("oap-s3")
            .enable_all()
            .build()?;
        let prefix = match config.prefix.trim_matches('/') {
            "" => String::new(),
            p => format!("{p}/"),
        };
        Ok(Self {
            shared: Arc::new(Shared {
                client: Arc::new(client),
                prefix,
                part_size: config.part_size,
                range_size: config.range_size,
                timeout: config.timeout,
                handle: runtime.handle().clone(),
            }),
            runtime: Some(runtime),
        })
    }

    /// The key object `obj` is stored under.
    pub fn key(&self, obj: &ObjectId) -> String {
        self.shared.key(obj).to_string()
    }
}

impl Drop for S3Store {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Shared {
    fn key(&self, obj: &ObjectId) -> Path {
        Path::from(format!("{}{}", self.prefix, obj.to_hex()))
    }

    /// Where a corrupted copy of `obj` goes.
    fn quarantine_key(&self, obj: &ObjectId) -> Path {
        Path::from(format!("{}.quarantine/{}", self.prefix, obj.to_hex()))
    }

    /// Starts `op` on the store's runtime, bounded by the timeout.
    fn start<T: Send + 'static>(
        &self,
        what: &'static str,
        op: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> JoinHandle<io::Result<T>> {
        let timeout = self.timeout;
        self.handle.spawn(async move {
            match tokio::time::timeout(timeout, op).await {
                Ok(result) => result.map_err(|e| to_io(what, e)),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("S3 {what}: no answer within {timeout:?}"),
                )),
            }
        })
    }

    /// Waits on this thread (the gateway's blocking pool) for an operation
    /// [`Shared::start`] started.
    fn wait<T: Send + 'static>(&self, op: JoinHandle<io::Result<T>>) -> io::Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.handle.spawn(async move {
            let _ = tx.send(op.await);
        });
        match rx.recv() {
            Ok(Ok(result)) => result,
            // The task panicked, or the runtime is shutting down.
            Ok(Err(_)) | Err(_) => Err(unavailable("call", "the S3 client stopped")),
        }
    }

    /// Runs `op` on the store's runtime within the timeout and waits for
    /// it on this thread.
    fn run<T: Send + 'static>(
        &self,
        what: &'static str,
        op: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> io::Result<T> {
        self.wait(self.start(what, op))
    }

    /// The object's metadata (`None`: not stored).
    fn head(&self, obj: &ObjectId) -> io::Result<Option<ObjectMeta>> {
        let client = Arc::clone(&self.client);
        let key = self.key(obj);
        match self.run("HEAD", async move { client.head(&key).await }) {
            Ok(meta) => Ok(Some(meta)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Moves a corrupted copy of `obj` aside, best effort, and returns the
    /// error that reports it.
    fn quarantine(&self, obj: &ObjectId) -> io::Error {
        let client = Arc::clone(&self.client);
        let (key, aside) = (self.key(obj), self.quarantine_key(obj));
        let moved = self.run("quarantine", async move {
            client.copy(&key, &aside).await?;
            client.delete(&key).await
        });
        if let Err(e) = moved {
            // Caught again by the next read, which fails the same way.
            tracing::warn!(obj = %obj, error = %e, "cannot move a corrupted object aside");
        }
        CorruptObject { obj: *obj }.into_io()
    }
}

/// object_store's error in io terms: a missing object is
/// [`io::ErrorKind::NotFound`], anything else [`StoreUnavailable`] (the
/// request may succeed later; the message goes to the log).
fn to_io(what: &'static str, e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        other => unavailable(what, &other.to_string()),
    }
}

fn unavailable(what: &'static str, reason: &str) -> io::Error {
    StoreUnavailable {
        reason: format!("S3 {what}: {reason:.300}"),
    }
    .into_io()
}

impl ObjectStore for S3Store {
    fn begin(&self, obj: ObjectId, _total_len: u64) -> io::Result<Box<dyn Staging>> {
        Ok(Box::new(S3Staging::new(Arc::clone(&self.shared), obj)))
    }

    /// One HEAD: stored already at the right length, nothing to upload. A
    /// copy rotted behind the store's back is caught on read and moved
    /// aside, after which a put stores the object again.
    fn begin_if_absent(
        &self,
        obj: ObjectId,
        total_len: u64,
    ) -> io::Result<Option<Box<dyn Staging>>> {
        match self.shared.head(&obj)? {
            Some(meta) if meta.size == total_len => Ok(None),
            _ => self.begin(obj, total_len).map(Some),
        }
    }

    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn ObjectReader>>> {
        let Some(meta) = self.shared.head(obj)? else {
            return Ok(None);
        };
        let reader = S3Reader::new(Arc::clone(&self.shared), *obj, meta);
        // An empty object is never read, so it is checked here: an object
        // emptied behind the store's back must not pass for the empty one.
        if reader.len() == 0 && !obj.verify(b"") {
            return Err(self.shared.quarantine(obj));
        }
        Ok(Some(Box::new(reader)))
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.shared.head(obj).is_ok_and(|m| m.is_some())
    }

    /// Lists a prefix no object has: an empty answer means the bucket is
    /// there and the credentials work; any error (no such bucket, refused
    /// credentials, no answer) means the store cannot serve.
    fn check(&self) -> io::Result<()> {
        let client = Arc::clone(&self.shared.client);
        let probe = Path::from(format!("{}.oap-readiness-probe", self.shared.prefix));
        self.shared
            .run("LIST", async move {
                client.list_with_delimiter(Some(&probe)).await
            })
            .map(drop)
    }

    fn blocks(&self) -> bool {
        true
    }
}
