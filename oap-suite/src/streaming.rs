//! Objects of any size: streamed puts and gets through the directory
//! store, a corrupted file, a full store, dropped transfers, and the
//! memory a transfer holds.

use std::io;
use std::path::Path;
use std::sync::Arc;

use futures_lite::future;
use oap_core::FrameType;
use oap_core::ObjectId;
use oap_core::client::RequestError;
use oap_core::connection::ConnectionConfig;
use oap_core::payload::{ErrorCode, Hello};
use oap_node::store::{ObjectReader, Staging};
use oap_node::{Client, ClientError, DirStore, GatewayConfig, MemStore, ObjectStore};

use crate::blocking_store::{Gate, GatedStore};
use crate::cases::{client, gateway_with, pattern, temp_dir};
use crate::pattern_store::{PatternReader, PatternStore, pattern_id};
use crate::{Harness, RawPeer};

/// Spans many credit windows: the initial 64 KiB, and the 4 MiB a window
/// may grow to, many times over.
const LARGE: usize = 12 * 1024 * 1024 + 4321;

/// The ERROR code a failed request carried.
fn failure_code(r: Result<impl std::fmt::Debug, ClientError>) -> ErrorCode {
    match r {
        Err(ClientError::Request(RequestError::Failed(e))) => e.code,
        other => panic!("expected an ERROR from the server, got {other:?}"),
    }
}

/// Files in `dir` whose name starts with `prefix`.
fn files_starting_with(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Put from a file and from a reader, get into a file, a writer and a
/// stream: all through the directory store, all byte for byte.
pub async fn large_objects_stream_through_the_directory_store(h: Harness) {
    let dir = temp_dir(&h, "stream");
    let store = DirStore::open(dir.join("store")).expect("store");
    let (_server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let c = client(&h, addr).await;

    let object = pattern(LARGE, 7);
    let src = dir.join("source.bin");
    std::fs::write(&src, &object).expect("source file");
    let mut sent = 0;
    let id = c
        .put_file_with("docs", "large", &src, |p| sent = p.bytes)
        .await
        .expect("put_file");
    assert_eq!(id, ObjectId::of(&object));
    assert_eq!(sent, LARGE as u64, "progress reports every byte sent");

    let out = dir.join("copy.bin");
    let mut received = 0;
    let len = c
        .get_to_file_with(id, &out, |p| {
            assert_eq!(p.total, LARGE as u64, "announced length");
            received = p.bytes;
        })
        .await
        .expect("get_to_file");
    assert_eq!((len, received), (LARGE as u64, LARGE as u64));
    assert!(std::fs::read(&out).expect("copy") == object, "file differs");
    assert!(
        files_starting_with(&dir, ".oap-get-").is_empty(),
        "temp left"
    );

    let mut sink = futures_lite::io::Cursor::new(Vec::new());
    let len = c.get_to_writer(id, &mut sink).await.expect("get_to_writer");
    assert_eq!(len, LARGE as u64);
    assert!(sink.into_inner() == object, "writer got other bytes");

    // A reader whose id the caller knows, and a stream of chunks back.
    let other = pattern(LARGE / 3, 9);
    let other_id = ObjectId::of(&other);
    let reader = futures_lite::io::Cursor::new(other.to_vec());
    let put = c.put_reader("docs", "other", other_id, other.len() as u64, reader);
    assert_eq!(put.await.expect("put_reader"), other_id);
    let mut stream = c.get_stream(other_id).expect("get_stream");
    let mut got = Vec::new();
    while let Some(chunk) = stream.chunk().await.expect("chunk") {
        got.extend_from_slice(&chunk);
    }
    assert_eq!(stream.verified_len(), Some(other.len() as u64));
    assert!(got == other, "stream differs");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A file changed on disk behind the store is never served as its
/// object: the get ends with an ERROR, `get_to_file` leaves nothing, the
/// file is quarantined and counted, and later gets find nothing.
pub async fn corrupted_file_is_quarantined_and_never_served(h: Harness) {
    let dir = temp_dir(&h, "rot");
    let store_dir = dir.join("store");
    let store = DirStore::open(&store_dir).expect("store");
    let (server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let c = client(&h, addr).await;
    let object = pattern(3 * 1024 * 1024 + 5, 3);
    let id = c.put_doc("docs", "rot", object.clone()).await.expect("put");

    let file = store_dir.join(id.to_hex());
    let mut bytes = std::fs::read(&file).expect("stored file");
    bytes[1_000_000] ^= 0x40;
    std::fs::write(&file, &bytes).expect("rot it");

    let out = dir.join("out.bin");
    let code = failure_code(c.get_to_file(id, &out).await);
    assert_eq!(code, ErrorCode::Internal);
    assert!(!out.exists(), "an unverified file was left at the target");
    assert!(
        files_starting_with(&dir, ".oap-get-").is_empty(),
        "temp left"
    );
    assert_eq!(server.services().metrics.corrupt_objects_total(), 1);
    assert!(!file.exists(), "the corrupted file is still in place");
    let quarantined = files_starting_with(&store_dir.join(".quarantine"), &id.to_hex());
    assert_eq!(quarantined.len(), 1, "not quarantined: {quarantined:?}");

    assert_eq!(failure_code(c.get(id).await), ErrorCode::NotFound);

    // Truncated to nothing: never read, so checked when opened.
    let empty_victim = c
        .put_doc("docs", "victim", pattern(1000, 8))
        .await
        .expect("put");
    std::fs::write(store_dir.join(empty_victim.to_hex()), b"").expect("truncate");
    assert_eq!(failure_code(c.get(empty_victim).await), ErrorCode::Internal);
    assert_eq!(server.services().metrics.corrupt_objects_total(), 2);
    // The real empty object is still served.
    let empty = c
        .put_doc("docs", "empty", bytes::Bytes::new())
        .await
        .expect("put");
    assert!(c.get(empty).await.expect("get").is_empty());
    // The connection and the node go on.
    let fresh = c
        .put_doc("docs", "fresh", object.clone())
        .await
        .expect("put");
    assert_eq!(c.get(fresh).await.expect("get"), object);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Dropping a streamed get or put, or a get or put future, cancels the
/// request on the wire: with one request allowed in flight, the next
/// request on the same connection is accepted by both sides, and a put
/// dropped before its last byte stored nothing. A store held at a gate
/// keeps the futures pending, so each is dropped mid-request for sure.
pub async fn dropped_transfers_free_their_requests_on_both_sides(h: Harness) {
    let dir = temp_dir(&h, "drop");
    let gate = Arc::new(Gate::default());
    gate.set(true);
    let store = GatedStore {
        dir: DirStore::open(&dir).expect("dir store"),
        gate: Arc::clone(&gate),
        gate_opens: true,
    };
    let (server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let config = ConnectionConfig {
        max_inflight: 1,
        ..ConnectionConfig::default()
    };
    let c = Client::connect(Arc::clone(&h.runtime), addr, config)
        .await
        .expect("connect");
    assert_eq!(c.negotiated().max_inflight, 1);
    let big = pattern(4 * 1024 * 1024, 1);
    let big_id = c.put_doc("docs", "big", big.clone()).await.expect("put");
    let small = pattern(100, 2);
    let small_id = c
        .put_doc("docs", "small", small.clone())
        .await
        .expect("put");

    let mut stream = c.get_stream(big_id).expect("get_stream");
    assert!(stream.chunk().await.expect("chunk").is_some());
    assert_eq!(c.open_requests(), 1);
    drop(stream);
    assert_eq!(c.open_requests(), 0, "the client kept the dropped get");
    assert_eq!(c.get(small_id).await.expect("next get"), small);

    let unsent = pattern(600 * 1024, 3);
    let unsent_id = ObjectId::of(&unsent);
    let len = unsent.len() as u64;
    let mut put = c
        .put_stream("docs", "dropped", unsent_id, len)
        .expect("put");
    put.write(unsent.slice(..100_000)).await.expect("write");
    drop(put);
    assert_eq!(c.open_requests(), 0, "the client kept the dropped put");
    assert_eq!(c.get(small_id).await.expect("get after drop"), small);
    let stored = dir.join(unsent_id.to_hex());
    assert!(!stored.exists(), "the dropped put stored something");

    // Held at the gate: the get waits for its object to open.
    gate.set(false);
    let before = gate.arrived();
    let mut get = Box::pin(c.get(big_id));
    assert!(future::poll_once(&mut get).await.is_none(), "get sent");
    gate.arrivals(before + 1).await;
    drop(get);
    assert_eq!(c.open_requests(), 0, "the client kept the dropped get");
    gate.set(true);
    assert_eq!(c.get(small_id).await.expect("get after drop"), small);

    // Held at the gate: the put waits for its commit.
    gate.set(false);
    let before = gate.arrived();
    let mut put = Box::pin(c.put_doc("docs", "held", pattern(300 * 1024, 4)));
    assert!(future::poll_once(&mut put).await.is_none(), "put sent");
    gate.arrivals(before + 1).await;
    drop(put);
    assert_eq!(c.open_requests(), 0, "the client kept the dropped put");
    gate.set(true);
    assert_eq!(c.get(small_id).await.expect("get after drop"), small);

    let metrics = server.services().metrics.encode();
    assert!(
        metrics.contains("inflight_requests 0"),
        "the server still counts requests in flight:\n{metrics}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A dropped get's cancel goes out at once: nothing else the client does
/// afterwards is needed to send it. The server here is a raw peer that
/// answers HELLO and never the get. The client's timeouts are off, so no
/// timer of its connection would wake it in time either (before the
/// harness's deadline fails the case).
pub async fn a_dropped_request_sends_its_cancel_without_another_call(h: Harness) {
    let config = ConnectionConfig {
        idle_timeout: None,
        request_timeout: None,
        frame_timeout: None,
        write_timeout: None,
        ..ConnectionConfig::default()
    };
    let (client_end, server_end) = (h.duplex)();
    let mut server = RawPeer::new(server_end);
    let answer_hello = async {
        let hello = server.recv().await.expect("read").expect("HELLO");
        assert_eq!(hello.typ, FrameType::Hello);
        let answer = Hello {
            max_frame: Some(1 << 20),
            max_inflight: Some(32),
            credit: Some(64 * 1024),
            ..Hello::legacy()
        };
        server.send_control(&answer).await.expect("answer HELLO");
    };
    let (c, ()) = future::zip(
        Client::over(Arc::clone(&h.runtime), client_end, config, "storage/1"),
        answer_hello,
    )
    .await;
    let c = c.expect("hello");

    let mut get = Box::pin(c.get(ObjectId::of(b"never answered")));
    assert!(future::poll_once(&mut get).await.is_none(), "get sent");
    let start = server.recv().await.expect("read").expect("START");
    assert_eq!(start.typ, FrameType::Start);
    drop(get);
    let cancel = server
        .recv_error()
        .await
        .expect("read")
        .expect("the cancel");
    assert_eq!(cancel.code, ErrorCode::Cancelled);
    assert_eq!(c.open_requests(), 0);
}

/// A store whose writes fail with "no space left" past a byte budget.
struct FullStore {
    inner: MemStore,
    room: u64,
}

struct FullStaging {
    inner: Box<dyn Staging>,
    room: u64,
}

impl ObjectStore for FullStore {
    fn begin(&self, obj: ObjectId, total_len: u64) -> io::Result<Box<dyn Staging>> {
        Ok(Box::new(FullStaging {
            inner: self.inner.begin(obj, total_len)?,
            room: self.room,
        }))
    }

    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn ObjectReader>>> {
        self.inner.open(obj)
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.inner.contains(obj)
    }
}

impl Staging for FullStaging {
    fn write(&mut self, bytes: bytes::Bytes) -> io::Result<()> {
        self.room = self
            .room
            .checked_sub(bytes.len() as u64)
            .ok_or(io::ErrorKind::StorageFull)?;
        self.inner.write(bytes)
    }

    fn commit(self: Box<Self>) -> io::Result<()> {
        self.inner.commit()
    }
}

/// A full store ends the put with `store_full`, keeps nothing of it, and
/// the node goes on serving. (`scripts/test.d` shows the same with a
/// real full file system under `oap serve`.)
pub async fn full_store_refuses_the_put_and_keeps_serving(h: Harness) {
    let inner = MemStore::new();
    let store = FullStore {
        inner: inner.clone(),
        room: 256 * 1024,
    };
    let (_server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let c = client(&h, addr).await;
    let code = failure_code(c.put_doc("docs", "huge", pattern(1 << 20, 4)).await);
    assert_eq!(code, ErrorCode::StoreFull);
    assert!(code.retryable());
    assert!(inner.is_empty(), "part of the refused object is visible");
    let small = pattern(1000, 5);
    let id = c
        .put_doc("docs", "small", small.clone())
        .await
        .expect("put");
    assert_eq!(c.get(id).await.expect("get"), small);
}

/// What the allocator says: bytes allocated now, and the most ever.
pub type AllocProbe = fn() -> (usize, usize);

/// The object moved by [`transfer_memory_is_bounded_by_the_window`]:
/// several times the bound, so a transfer that held it whole would fail.
pub const MEMORY_OBJECT: u64 = 96 * 1024 * 1024;

/// What client and server together may hold to move one object: a few
/// credit windows (each at most 4 MiB + 64 KiB), a read piece or two
/// (1 MiB each) and the drivers' buffers.
pub const MEMORY_BOUND: usize = 16 * 1024 * 1024;

/// Puts and gets a [`MEMORY_OBJECT`] (streamed from a generated reader
/// into a store that keeps only its length, and back into a stream whose
/// chunks are dropped) and asserts that the process's allocations never
/// rose more than [`MEMORY_BOUND`] above where they stood before: a
/// transfer that held the object whole, at either end, would need more.
/// Run it alone in its process with a counting global allocator (see
/// each runtime crate's `tests/memory.rs`).
pub async fn transfer_memory_is_bounded_by_the_window(h: Harness, probe: AllocProbe) {
    let store = PatternStore::new(11);
    let (_server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let c = client(&h, addr).await;
    let id = pattern_id(MEMORY_OBJECT, 11);
    // Warm up: buffers that live for the whole connection are allocated.
    let warm = pattern_id(1 << 20, 11);
    let reader = PatternReader::new(1 << 20, 11);
    c.put_reader("docs", "warm", warm, 1 << 20, reader)
        .await
        .expect("warm-up put");
    drain(&c, warm).await;

    let (before, _) = probe();
    let reader = PatternReader::new(MEMORY_OBJECT, 11);
    let put = c.put_reader("docs", "big", id, MEMORY_OBJECT, reader);
    assert_eq!(put.await.expect("put"), id);
    assert_eq!(drain(&c, id).await, MEMORY_OBJECT);
    let (_, peak) = probe();
    let held = peak.saturating_sub(before);
    assert!(
        held < MEMORY_BOUND,
        "moving a {MEMORY_OBJECT}-byte object held {held} bytes at the peak \
         (bound {MEMORY_BOUND})"
    );
}

/// Gets `id` and drops every chunk; returns the verified length.
async fn drain(c: &Client, id: ObjectId) -> u64 {
    let mut stream = c.get_stream(id).expect("get_stream");
    while stream.chunk().await.expect("chunk").is_some() {}
    stream.verified_len().expect("verified")
}
