//! The async client SDK: one connection, many concurrent requests.

mod endpoint;
mod file;
mod object_id;
mod transfer;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::poll_fn;
use oap_core::ObjectId;
use oap_core::client::{ClientEvent, ClientSession, RequestError};
use oap_core::connection::{
    CommandError, ConnectionConfig, ConnectionStats, Negotiated, RequestId, Violation,
};
use oap_core::payload::ErrorCode;
use oap_io::{BoxStream, ConnectionDriver, EndpointHandle, FramedStream, Runtime};

use crate::TlsError;
use endpoint::ClientEndpoint;
use transfer::RequestGuard;
pub use transfer::{ObjectStream, Progress, PutStream};

/// Why a client call failed. Cheap to clone; match on the variant.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The transport failed (connect, read or write).
    #[error("transport: {0}")]
    Io(Arc<io::Error>),
    /// TLS could not be set up with the server, or the server is not where
    /// TLS was (or was not) expected: the problem in words, with the fix.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Reading or writing the caller's side of a transfer failed: the file,
    /// reader or writer an object came from or went to.
    #[error("local: {0}")]
    Local(Arc<io::Error>),
    /// The connection refused the command (e.g. `max_inflight` reached).
    #[error("command refused: {0}")]
    Command(#[from] CommandError),
    /// The request ended badly (an ERROR from the server, a digest
    /// mismatch, an unconfirmed put, the wrong object).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The connection closed: with the error that closed it, if any,
    /// whether the server closed it, and the rule the server broke when
    /// this side closed it for that.
    #[error("connection closed{}", match .error { Some(e) => format!(": {} ({:.120})", e.code, e.msg), None => String::new() })]
    Closed {
        /// The ERROR that closed it (none for an orderly close).
        error: Option<oap_core::payload::ErrorEnvelope>,
        /// Whether the server closed it.
        by_peer: bool,
        /// What the server did wrong, when this side closed the connection
        /// for it (`error` is then the ERROR sent to the server).
        violation: Option<Violation>,
    },
    /// [`Client::into_io`] while requests are still open.
    #[error("requests are still open")]
    RequestsOpen,
    /// The request is not known to this client (it already ended).
    #[error("no such request")]
    UnknownRequest,
    /// The object's length does not fit this platform's memory (a get into
    /// one `Bytes` of an object larger than `usize`).
    #[error("the object does not fit in memory: use a streaming get")]
    TooLargeForMemory,
    /// [`Client::connect`] (plaintext TCP) was given a token for a
    /// non-loopback address: refused before connecting, so the token never
    /// leaves the machine in clear.
    #[error(
        "refusing to send a token in plaintext to {addr}: connect over TLS \
         (`oap --tls-ca FILE`, or the runtime's Client::connect_tls_with), \
         or to a loopback address"
    )]
    PlaintextToken {
        /// The address that was refused.
        addr: SocketAddr,
    },
}

impl From<io::Error> for ClientError {
    /// [`ClientError::Tls`] when `e` carries a TLS failure (a TLS stream's
    /// read or write), else [`ClientError::Io`].
    fn from(e: io::Error) -> Self {
        match TlsError::from_io(&e) {
            Some(tls) => Self::Tls(tls),
            None => Self::Io(Arc::new(e)),
        }
    }
}

impl ClientError {
    /// A failure of the caller's own file, reader or writer.
    pub(crate) fn local(e: io::Error) -> Self {
        Self::Local(Arc::new(e))
    }

    /// The protocol error code behind the failure: the server's ERROR for
    /// the request or the connection, or `too_many_inflight` when this
    /// side refused to open another request.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Request(RequestError::Failed(env)) => Some(env.code),
            Self::Request(RequestError::Violated(v)) => Some(v.code()),
            Self::Closed {
                error: Some(env), ..
            } => Some(env.code),
            Self::Command(CommandError::TooManyInflight) => Some(ErrorCode::TooManyInflight),
            _ => None,
        }
    }

    /// Whether trying the same request again later, on the same
    /// connection, may succeed: it was refused for now (`quota_exhausted`,
    /// `busy`, `too_many_inflight`, `unavailable`) and the connection is
    /// still open.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Request(RequestError::Failed(env)) => RETRYABLE.contains(&env.code),
            Self::Command(CommandError::TooManyInflight) => true,
            _ => false,
        }
    }
}

/// The codes [`ClientError::is_retryable`] retries.
const RETRYABLE: [ErrorCode; 4] = [
    ErrorCode::QuotaExhausted,
    ErrorCode::Busy,
    ErrorCode::TooManyInflight,
    ErrorCode::Unavailable,
];

/// Bounded exponential backoff for [`Client::with_retries`]: the first
/// retry waits `first_delay`, each later one twice the one before, never
/// more than `max_delay`; at most `max_tries` tries in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry.
    pub first_delay: Duration,
    /// Longest wait between two tries.
    pub max_delay: Duration,
    /// Most tries, the first included (1: never retry).
    pub max_tries: u32,
}

impl Default for RetryPolicy {
    /// 50 ms doubling to 2 s, 8 tries: about 5 s of waiting at most.
    fn default() -> Self {
        Self {
            first_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            max_tries: 8,
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub const NEVER: Self = Self {
        first_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        max_tries: 1,
    };

    /// The wait before retry number `retry` (0 for the first retry).
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX);
        self.first_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// An OAP/1 client connection.
///
/// Calls take `&self`, so many requests can run at once on one connection
/// (up to the negotiated `max_inflight`; beyond it a call fails with
/// [`CommandError::TooManyInflight`]). Dropping the client closes the
/// connection.
///
/// The connection is driven by a task on the client's runtime. For many
/// small requests, issue them from tasks on that runtime too: awaited from
/// a thread blocked outside it (a `block_on` in `main`), every batch of
/// results crosses from the runtime's thread to the blocked one and back,
/// which `oap-bench` measured at about twice the CPU per 1 KiB object.
pub struct Client {
    handle: EndpointHandle<ClientEndpoint>,
    runtime: Arc<dyn Runtime>,
    negotiated: Negotiated,
    detached: Arc<DetachSlot>,
}

/// Where the driver leaves the stream when [`Client::into_io`] asks for it.
#[derive(Default)]
struct DetachSlot {
    stream: std::sync::Mutex<Option<BoxStream>>,
    ready: event_listener::Event,
}

impl Client {
    /// Connects over TCP to `addr` and completes HELLO, announcing
    /// `config.app_proto_id` (default `"oap/1"`), `config.tenant` and
    /// `config.token`.
    ///
    /// # Errors
    /// [`ClientError::PlaintextToken`], before any connection attempt, when
    /// `config.token` is set and `addr` is not a loopback address: this is
    /// plaintext TCP, and a token must go over TLS ([`Client::over`] a TLS
    /// stream). Otherwise transport and HELLO failures.
    pub async fn connect(
        runtime: Arc<dyn Runtime>,
        addr: SocketAddr,
        config: ConnectionConfig,
    ) -> Result<Self, ClientError> {
        check_plaintext_token(addr, &config)?;
        let stream = runtime.connect(addr).await?;
        let app = config
            .app_proto_id
            .clone()
            .unwrap_or_else(|| "oap/1".to_owned());
        Self::over(runtime, stream, config, &app).await
    }

    /// Runs a client over an established stream (TLS, a pipe, ...) and
    /// completes HELLO announcing `app_proto_id`.
    pub async fn over<S>(
        runtime: Arc<dyn Runtime>,
        stream: S,
        config: ConnectionConfig,
        app_proto_id: &str,
    ) -> Result<Self, ClientError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let session = ClientSession::hello(config, app_proto_id, runtime.now());
        let handle = EndpointHandle::new(ClientEndpoint::new(session));
        let detached = Arc::new(DetachSlot::default());
        let slot = Arc::clone(&detached);
        let stream: BoxStream = Box::new(stream);
        let driver = ConnectionDriver::new(Arc::clone(&runtime), stream, handle.clone()).on_detach(
            move |io| {
                *slot.stream.lock().unwrap_or_else(|p| p.into_inner()) = Some(io);
                slot.ready.notify(usize::MAX);
            },
        );
        runtime.spawn(Box::pin(async move {
            let _ = driver.await;
        }));
        let negotiated = poll_fn(|cx| handle.peek(|ep| ep.poll_connected(cx))).await?;
        Ok(Self {
            handle,
            runtime,
            negotiated,
            detached,
        })
    }

    /// Runs `op` (which starts one request, e.g. `|| client.put_doc(…)`)
    /// and, while it fails with a retryable error
    /// ([`ClientError::is_retryable`]: `quota_exhausted`, `busy`,
    /// `too_many_inflight`, `unavailable`), runs it again after `policy`'s backoff, timed
    /// by the runtime's clock. Returns the first success, the first error
    /// that is not retryable, or the last error once `policy.max_tries`
    /// tries were made.
    pub async fn with_retries<T, F, Fut>(
        &self,
        policy: &RetryPolicy,
        mut op: F,
    ) -> Result<T, ClientError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ClientError>>,
    {
        let mut tries = 1;
        loop {
            match op().await {
                Err(e) if e.is_retryable() && tries < policy.max_tries => {
                    let wait = policy.delay(tries - 1);
                    self.runtime.sleep_until(self.runtime.now() + wait).await;
                    tries += 1;
                }
                done => return done,
            }
        }
    }

    /// The limits settled by HELLO.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// What the connection counted so far: bytes and frames each way,
    /// objects verified, ERRORs by code.
    pub fn stats(&self) -> ConnectionStats {
        self.handle
            .peek(|ep| ep.session.connection().stats().clone())
    }

    /// Requests open on the connection right now (at most the negotiated
    /// `max_inflight`). A request whose future or stream was dropped no
    /// longer counts.
    pub fn open_requests(&self) -> usize {
        self.handle
            .peek(|ep| ep.session.connection().open_requests())
    }

    /// Puts `bytes` as document `doc_id` of `collection`; resolves with the id
    /// the server confirmed having stored. Objects of 1 MiB or more are
    /// hashed on the runtime's blocking pool, on all cores
    /// ([`Runtime::spawn_blocking`]). Dropping the future cancels the put
    /// on the wire. For objects that should not sit in memory whole, see
    /// [`Client::put_file`], [`Client::put_reader`] and
    /// [`Client::put_stream`].
    pub async fn put_doc(
        &self,
        collection: &str,
        doc_id: &str,
        bytes: Bytes,
    ) -> Result<ObjectId, ClientError> {
        // Hashed before taking the connection's lock: the driver and other
        // requests go on meanwhile.
        let obj = object_id::object_id(&*self.runtime, &bytes).await;
        let now = self.runtime.now();
        let rid = self
            .handle
            .with(|ep| ep.put_doc(now, collection, doc_id, obj, bytes))?;
        RequestGuard::new(&self.handle, rid).put_result().await
    }

    /// Opens a put of object `obj`, `len` bytes long, whose bytes the
    /// caller writes into the returned [`PutStream`] (the id must be known
    /// before the first byte goes out: the first DATA frame names it).
    pub fn put_stream(
        &self,
        collection: &str,
        doc_id: &str,
        obj: ObjectId,
        len: u64,
    ) -> Result<PutStream, ClientError> {
        let now = self.runtime.now();
        let rid = self
            .handle
            .with(|ep| ep.put_stream(now, collection, doc_id, obj, len))?;
        Ok(PutStream::new(RequestGuard::new(&self.handle, rid)))
    }

    /// Puts the `len` bytes `reader` yields as object `obj` (whose id the
    /// caller already knows), reading only as much as the server's credit
    /// takes: memory stays bounded by the window, whatever `len`.
    pub async fn put_reader<R: AsyncRead + Unpin>(
        &self,
        collection: &str,
        doc_id: &str,
        obj: ObjectId,
        len: u64,
        mut reader: R,
    ) -> Result<ObjectId, ClientError> {
        use futures_lite::AsyncReadExt;
        let mut put = self.put_stream(collection, doc_id, obj, len)?;
        let mut left = len;
        while left > 0 {
            let room = put.room().await;
            if room == 0 {
                break;
            }
            let n = transfer::piece(room.min(left));
            let mut buf = vec![0; n];
            reader
                .read_exact(&mut buf)
                .await
                .map_err(ClientError::local)?;
            left -= n as u64;
            put.write(Bytes::from(buf)).await?;
        }
        put.finish().await
    }

    /// Puts the file at `path`: one pass hashes it (with BLAKE3's
    /// multi-threaded mode, on the blocking pool, through a fixed 8 MiB
    /// buffer), a second streams it as the server's credit allows. Memory stays bounded by the window,
    /// whatever the file's size.
    pub async fn put_file(
        &self,
        collection: &str,
        doc_id: &str,
        path: &Path,
    ) -> Result<ObjectId, ClientError> {
        self.put_file_with(collection, doc_id, path, |_| {}).await
    }

    /// [`Client::put_file`], calling `progress` after each piece sent (for
    /// a progress bar).
    pub async fn put_file_with(
        &self,
        collection: &str,
        doc_id: &str,
        path: &Path,
        progress: impl FnMut(Progress),
    ) -> Result<ObjectId, ClientError> {
        file::put_file(self, collection, doc_id, path, progress).await
    }

    /// Gets object `obj`; resolves with its bytes only if they are exactly
    /// that object, whole and verified. The object is collected in memory:
    /// for objects of any size use [`Client::get_stream`],
    /// [`Client::get_to_writer`] or [`Client::get_to_file`]. Dropping the
    /// future cancels the get on the wire.
    pub async fn get(&self, obj: ObjectId) -> Result<Bytes, ClientError> {
        let now = self.runtime.now();
        let rid = self.handle.with(|ep| ep.get(now, obj))?;
        match RequestGuard::new(&self.handle, rid).result().await? {
            ClientEvent::GetDone { result, .. } => Ok(result?),
            _ => Err(ClientError::UnknownRequest),
        }
    }

    /// Gets object `obj` as a stream of chunks, read only as the caller
    /// takes them (so memory is bounded by the window). Every chunk is
    /// provisional until [`ObjectStream::chunk`] returns `Ok(None)`, which
    /// it does only once the whole object verified. Dropping the stream
    /// cancels the get on the wire.
    pub fn get_stream(&self, obj: ObjectId) -> Result<ObjectStream, ClientError> {
        let now = self.runtime.now();
        let rid = self.handle.with(|ep| ep.get_stream(now, obj))?;
        Ok(ObjectStream::new(RequestGuard::new(&self.handle, rid)))
    }

    /// Gets object `obj` into `writer`; resolves with its length only if
    /// the whole object verified. What was written before the result is
    /// provisional: on an error the caller must discard it (see
    /// [`Client::get_to_file`], which does).
    pub async fn get_to_writer<W: AsyncWrite + Unpin>(
        &self,
        obj: ObjectId,
        mut writer: W,
    ) -> Result<u64, ClientError> {
        use futures_lite::AsyncWriteExt;
        let mut stream = self.get_stream(obj)?;
        while let Some(chunk) = stream.chunk().await? {
            writer.write_all(&chunk).await.map_err(ClientError::local)?;
        }
        writer.flush().await.map_err(ClientError::local)?;
        stream.verified_len().ok_or(ClientError::UnknownRequest)
    }

    /// Gets object `obj` into the file at `path`: the bytes go to a
    /// temporary file in the same directory, which is synced and renamed
    /// to `path` only after the whole object verified. On any error
    /// nothing is left at `path` (an existing file there is untouched).
    pub async fn get_to_file(&self, obj: ObjectId, path: &Path) -> Result<u64, ClientError> {
        self.get_to_file_with(obj, path, |_| {}).await
    }

    /// [`Client::get_to_file`], calling `progress` after each piece
    /// received (for a progress bar).
    pub async fn get_to_file_with(
        &self,
        obj: ObjectId,
        path: &Path,
        progress: impl FnMut(Progress),
    ) -> Result<u64, ClientError> {
        file::get_to_file(self, obj, path, progress).await
    }

    /// Opens request `req_id` with operation `op` and waits for the
    /// server's ACK; resolves with the request and the credit it granted.
    /// Dropping the future before the ACK cancels the request on the wire.
    pub async fn start(&self, req_id: u64, op: &str) -> Result<(RequestId, u64), ClientError> {
        let now = self.runtime.now();
        let rid = self.handle.with(|ep| ep.start(now, req_id, op))?;
        let guard = RequestGuard::new(&self.handle, rid);
        let credit = poll_fn(|cx| self.handle.peek(|ep| ep.poll_accepted(rid, cx))).await?;
        // Accepted: from here on the caller drives the request itself.
        guard.disarm();
        Ok((rid, credit))
    }

    /// Subscribes to kernel events matching `topic` (`health`,
    /// `health/<service>`, `config`, `crashed`, `shutdown`, `*`).
    pub fn subscribe(&self, topic: &str) -> Result<Subscription, ClientError> {
        let now = self.runtime.now();
        let id = self.handle.with(|ep| ep.subscribe(now, topic))?;
        Ok(Subscription {
            handle: self.handle.clone(),
            id,
        })
    }

    /// Stops the driver and returns the stream for raw frames (after
    /// HELLO, e.g. to script a peer by hand). Only when no request is open;
    /// bytes the peer sent that were not yet processed are lost.
    pub async fn into_io(self) -> Result<FramedStream<BoxStream>, ClientError> {
        self.handle.with(|ep| ep.request_detach())?;
        loop {
            let ready = self.detached.ready.listen();
            // Read before looking in the slot: the driver fills the slot
            // before it reports finished, so a finished driver with an
            // empty slot really ended without detaching.
            let finished = self.handle.is_finished();
            if let Some(io) = self
                .detached
                .stream
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                let max_frame = self.negotiated.max_frame;
                return Ok(FramedStream::with_max_frame(io, max_frame));
            }
            if finished {
                return Err(ClientError::Closed {
                    error: None,
                    by_peer: false,
                    violation: None,
                });
            }
            ready.await;
        }
    }

    /// Closes the connection after flushing what is queued.
    pub fn close(&self) {
        self.handle.with(|ep| ep.session.connection().close(None));
    }
}

/// Refuses a token over plaintext TCP to anything but loopback.
fn check_plaintext_token(addr: SocketAddr, config: &ConnectionConfig) -> Result<(), ClientError> {
    if config.token.is_some() && !addr.ip().is_loopback() {
        return Err(ClientError::PlaintextToken { addr });
    }
    Ok(())
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.handle.is_finished() {
            self.close();
        }
    }
}

/// A stream of event messages (JSON) from a subscription. Dropping it ends
/// the subscription.
pub struct Subscription {
    handle: EndpointHandle<ClientEndpoint>,
    id: RequestId,
}

impl Subscription {
    /// The next message: a kernel event as JSON, or `{"missed":N}` when
    /// this subscriber was too slow for N events. `None` once the
    /// subscription or connection ended.
    pub async fn next(&mut self) -> Option<Bytes> {
        let id = self.id;
        poll_fn(|cx| {
            self.handle.peek(|ep| match ep.poll_message(id, cx) {
                Poll::Ready(m) => Poll::Ready(m),
                Poll::Pending => Poll::Pending,
            })
        })
        .await
    }

    /// Why the subscription ended, once [`Subscription::next`] returned
    /// `None`: the server's ERROR for it (`busy` when the server serves as
    /// many subscriptions as it may, `unauthorized` without the
    /// `subscribe` permission, ...) or the connection's close. `None` while
    /// it is open, and after an orderly end.
    pub fn error(&self) -> Option<ClientError> {
        self.handle.peek(|ep| ep.subscription_error(self.id))
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let id = self.id;
        self.handle.with(|ep| ep.unsubscribe(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_backoff_doubles_from_50_ms_to_a_2_s_ceiling_over_8_tries() {
        let p = RetryPolicy::default();
        let waits: Vec<u64> = (0..p.max_tries - 1)
            .map(|r| p.delay(r).as_millis() as u64)
            .collect();
        assert_eq!(waits, [50, 100, 200, 400, 800, 1600, 2000]);
        assert_eq!(p.delay(40), Duration::from_secs(2), "no overflow");
    }

    #[test]
    fn only_refusals_for_now_are_retryable() {
        let failed = |code| {
            ClientError::Request(RequestError::Failed(oap_core::payload::ErrorEnvelope::new(
                code, "x",
            )))
        };
        for code in RETRYABLE {
            assert!(failed(code).is_retryable(), "{code}");
        }
        for code in [
            ErrorCode::Unauthorized,
            ErrorCode::BadDigest,
            ErrorCode::NotFound,
        ] {
            assert!(!failed(code).is_retryable(), "{code}");
        }
        assert!(ClientError::Command(CommandError::TooManyInflight).is_retryable());
        let closed = ClientError::Closed {
            error: Some(oap_core::payload::ErrorEnvelope::new(ErrorCode::Busy, "x")),
            by_peer: true,
            violation: None,
        };
        assert!(!closed.is_retryable(), "a closed connection cannot retry");
        assert_eq!(closed.code(), Some(ErrorCode::Busy));
    }

    #[test]
    fn a_token_goes_over_plaintext_only_to_loopback() {
        let with_token = ConnectionConfig {
            token: Some("t".into()),
            ..ConnectionConfig::default()
        };
        let public: SocketAddr = "192.0.2.1:9444".parse().unwrap();
        let err = check_plaintext_token(public, &with_token).unwrap_err();
        assert!(err.to_string().contains("--tls-ca"), "{err}");
        assert!(check_plaintext_token("127.0.0.1:9444".parse().unwrap(), &with_token).is_ok());
        assert!(check_plaintext_token("[::1]:9444".parse().unwrap(), &with_token).is_ok());
        assert!(check_plaintext_token(public, &ConnectionConfig::default()).is_ok());
    }
}
