//! A store whose commits wait on a disk must not stall the connection
//! that committed, nor the others sharing its thread.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use event_listener::Event;
use futures_lite::future;
use oap_core::ObjectId;
use oap_node::store::Staging;
use oap_node::{DirStore, GatewayConfig, ObjectStore};

use crate::Harness;
use crate::cases::{client, gateway_with, pattern, temp_dir};

/// Holds every commit until opened, and says when one is waiting.
#[derive(Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
    waiting: AtomicUsize,
    arrived: Event,
}

impl Gate {
    /// Blocks the calling (pool) thread until [`Gate::open`].
    pub(crate) fn pass(&self) {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        self.arrived.notify(usize::MAX);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        while !*open {
            open = self.opened.wait(open).unwrap_or_else(|p| p.into_inner());
        }
    }

    pub(crate) fn set(&self, open: bool) {
        *self.open.lock().unwrap_or_else(|p| p.into_inner()) = open;
        self.opened.notify_all();
    }

    pub(crate) async fn someone_waiting(&self) {
        self.arrivals(1).await;
    }

    /// How many calls have reached the gate so far.
    pub(crate) fn arrived(&self) -> usize {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Waits until `n` calls in all have reached the gate.
    pub(crate) async fn arrivals(&self, n: usize) {
        loop {
            let arrived = self.arrived.listen();
            if self.waiting.load(Ordering::SeqCst) >= n {
                return;
            }
            arrived.await;
        }
    }
}

/// A directory store whose commits (and, if asked, opens) pass through
/// a [`Gate`].
pub(crate) struct GatedStore {
    pub(crate) dir: DirStore,
    pub(crate) gate: Arc<Gate>,
    pub(crate) gate_opens: bool,
}

struct GatedStaging {
    inner: Box<dyn Staging>,
    gate: Arc<Gate>,
}

impl ObjectStore for GatedStore {
    fn begin(&self, obj: ObjectId, total_len: u64) -> io::Result<Box<dyn Staging>> {
        Ok(Box::new(GatedStaging {
            inner: self.dir.begin(obj, total_len)?,
            gate: Arc::clone(&self.gate),
        }))
    }

    fn open(&self, obj: &ObjectId) -> io::Result<Option<Box<dyn oap_node::store::ObjectReader>>> {
        if self.gate_opens {
            self.gate.pass();
        }
        self.dir.open(obj)
    }

    fn contains(&self, obj: &ObjectId) -> bool {
        self.dir.contains(obj)
    }

    fn blocks(&self) -> bool {
        self.dir.blocks()
    }
}

impl Staging for GatedStaging {
    fn write(&mut self, bytes: bytes::Bytes) -> io::Result<()> {
        self.inner.write(bytes)
    }

    fn commit(self: Box<Self>) -> io::Result<()> {
        self.gate.pass();
        self.inner.commit()
    }
}

/// While one put's commit is stuck in the store, gets on the same
/// connection and on another one are served; the put completes once the
/// store lets it.
pub async fn blocking_store_keeps_connections_moving(h: Harness) {
    let dir = temp_dir(&h, "gated");
    let gate = Arc::new(Gate::default());
    gate.set(true);
    let store = GatedStore {
        dir: DirStore::open(&dir).expect("dir store"),
        gate: Arc::clone(&gate),
        gate_opens: false,
    };
    let (_server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let (a, b) = (client(&h, addr).await, client(&h, addr).await);

    let first = pattern(300_000, 1);
    let first_id = b
        .put_doc("docs", "first", first.clone())
        .await
        .expect("put");
    assert_eq!(b.get(first_id).await.expect("get"), first);

    gate.set(false);
    let second = pattern(200_000, 2);
    let mut put = Box::pin(a.put_doc("docs", "second", second.clone()));
    assert!(future::poll_once(&mut put).await.is_none(), "put sent");
    gate.someone_waiting().await;

    // A driver blocked in the commit would serve neither of these.
    assert_eq!(a.get(first_id).await.expect("get, same connection"), first);
    assert_eq!(b.get(first_id).await.expect("get, other connection"), first);
    assert!(
        future::poll_once(&mut put).await.is_none(),
        "the put answered before its commit ran"
    );

    gate.set(true);
    let second_id = put.await.expect("put after the commit");
    assert_eq!(second_id, ObjectId::of(&second));
    assert_eq!(a.get(second_id).await.expect("get"), second);
    let _ = std::fs::remove_dir_all(&dir);
}

/// One request cannot queue commits without end: a put carrying many small
/// objects while its store work is stuck gets ERROR `busy` once 16 of its
/// objects wait for their commit; the store's pool holds one batch of it
/// (a request's store work runs one batch at a time), and the server goes
/// on serving.
pub async fn one_request_cannot_queue_commits_without_end(h: Harness) {
    use oap_core::frame::FrameType;
    use oap_core::payload::{DataHeader, ErrorCode, Hello, Start, encode_data_payload};

    let dir = temp_dir(&h, "commit-cap");
    let gate = Arc::new(Gate::default());
    let store = GatedStore {
        dir: DirStore::open(&dir).expect("dir store"),
        gate: Arc::clone(&gate),
        gate_opens: false,
    };
    let (_server, addr) = gateway_with(&h, GatewayConfig::default(), Arc::new(store)).await;
    let mut p = crate::RawPeer::new(h.runtime.connect(addr).await.expect("connect"));
    p.send_control(&Hello::legacy()).await.expect("hello");
    let start = Start {
        corr_id: Some(1),
        op: Some("put".into()),
        ..Start::default()
    };
    p.send_control(&start).await.expect("start");
    for i in 0..40u8 {
        let body = [i];
        let header = DataHeader {
            corr_id: Some(1),
            ..DataHeader::whole(&body)
        };
        let payload = encode_data_payload(&header, &body).expect("pack");
        p.send(FrameType::Data, &payload).await.expect("data");
    }
    let e = p.recv_error().await.expect("read").expect("ERROR");
    assert_eq!((e.code, e.corr_id), (ErrorCode::Busy, Some(1)), "{}", e.msg);
    // Whatever of the refused request was in the store when it was
    // refused is all it ever sent there: at most 16 commits.
    gate.set(true);
    let c = client(&h, addr).await;
    let doc = pattern(1000, 3);
    let id = c.put_doc("docs", "after", doc.clone()).await.expect("put");
    assert_eq!(c.get(id).await.expect("get"), doc);
    let arrived = gate.arrived();
    assert!(
        (1..=17).contains(&arrived),
        "{arrived} commits: at most 16 of the refused request, and the later put's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
