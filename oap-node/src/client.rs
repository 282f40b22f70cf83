//! The async client SDK: one connection, many concurrent requests.

mod endpoint;
mod object_id;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future::poll_fn;
use oap_core::ObjectId;
use oap_core::client::{ClientEvent, ClientSession, RequestError};
use oap_core::connection::{CommandError, ConnectionConfig, Negotiated, RequestId};
use oap_io::{BoxStream, ConnectionDriver, EndpointHandle, FramedStream, Runtime};

use endpoint::ClientEndpoint;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The transport failed (connect, TLS, read or write).
    #[error("transport: {0}")]
    Io(#[from] io::Error),
    /// The connection refused the command (e.g. `max_inflight` reached).
    #[error("command refused: {0}")]
    Command(#[from] CommandError),
    /// The request ended badly (an ERROR from the server, a digest
    /// mismatch, an unconfirmed put).
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The connection closed.
    #[error("connection closed: {0}")]
    Closed(String),
}

/// An OAP/1 client connection.
///
/// Calls take `&self`, so many requests can run at once on one connection
/// (up to the negotiated `max_inflight`; beyond it a call fails with
/// [`CommandError::TooManyInflight`]). Dropping the client closes the
/// connection.
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
    /// `config.app_proto_id` (default `"oap/1"`) and `config.tenant`.
    pub async fn connect(
        runtime: Arc<dyn Runtime>,
        addr: SocketAddr,
        config: ConnectionConfig,
    ) -> Result<Self, ClientError> {
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

    /// The limits settled by HELLO.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// Puts `bytes` as document `id` of `collection`; resolves with the id
    /// the server confirmed having stored. Objects of 1 MiB or more are
    /// hashed on the runtime's blocking pool, on all cores
    /// ([`Runtime::spawn_blocking`]).
    pub async fn put_doc(
        &self,
        collection: &str,
        id: &str,
        bytes: Bytes,
    ) -> Result<ObjectId, ClientError> {
        // Hashed before taking the connection's lock: the driver and other
        // requests go on meanwhile.
        let obj = object_id::object_id(&*self.runtime, &bytes).await;
        let now = self.runtime.now();
        let rid = self
            .handle
            .with(|ep| ep.put_doc(now, collection, id, obj, bytes))?;
        match self.wait(rid).await? {
            ClientEvent::PutDone { result, .. } => Ok(result?),
            other => Err(ClientError::Closed(format!("unexpected {other:?}"))),
        }
    }

    /// Gets object `obj`; resolves with its bytes only if their full
    /// digest matches `obj`.
    pub async fn get(&self, obj: ObjectId) -> Result<Bytes, ClientError> {
        let now = self.runtime.now();
        let rid = self.handle.with(|ep| ep.get(now, obj))?;
        match self.wait(rid).await? {
            ClientEvent::GetDone { result, .. } => Ok(result?),
            other => Err(ClientError::Closed(format!("unexpected {other:?}"))),
        }
    }

    /// Opens request `req_id` with operation `method` and waits for the
    /// server's ACK; resolves with the request and the credit it granted.
    pub async fn start(&self, req_id: u64, method: &str) -> Result<(RequestId, u64), ClientError> {
        let now = self.runtime.now();
        let rid = self.handle.with(|ep| ep.start(now, req_id, method))?;
        let credit = poll_fn(|cx| self.handle.peek(|ep| ep.poll_accepted(rid, cx))).await?;
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
                return Err(ClientError::Closed(
                    "the connection ended before detaching".into(),
                ));
            }
            ready.await;
        }
    }

    /// Closes the connection after flushing what is queued.
    pub fn close(&self) {
        self.handle.with(|ep| ep.session.connection().close(None));
    }

    fn wait(&self, rid: RequestId) -> impl Future<Output = Result<ClientEvent, ClientError>> + '_ {
        poll_fn(move |cx| self.handle.peek(|ep| ep.poll_result(rid, cx)))
    }
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
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let id = self.id;
        self.handle.with(|ep| ep.unsubscribe(id));
    }
}
