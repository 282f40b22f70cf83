//! The gateway's log, as an operator reads it: a span per connection with
//! the peer's address and, after HELLO, its tenant and negotiated limits;
//! one event for each refused request, protocol violation, timeout and
//! close, with its reason. A real server on loopback, a real `fmt`
//! subscriber writing into a buffer this test reads.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oap_core::ObjectId;
use oap_core::frame::{FrameEncoder, FrameType};
use oap_core::payload::{ControlPayload, ErrorCode, Hello};
use oap_core::server::{Permissions, Tenants};
use runtime_tokio::GatewayConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Everything the subscriber wrote.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// The lines that contain every one of `needles`.
    fn lines_with(&self, needles: &[&str]) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().expect("log")).into_owned();
        text.lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_owned)
            .collect()
    }
}

/// A raw peer: HELLO, then `then`, then reads until the server closes.
async fn raw_peer(addr: SocketAddr, then: &[u8]) -> SocketAddr {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let hello = FrameEncoder::default()
        .to_bytes(FrameType::Hello, &Hello::legacy().encode())
        .expect("hello");
    s.write_all(&hello).await.expect("write");
    s.write_all(then).await.expect("write");
    let mut sink = Vec::new();
    let _ = s.read_to_end(&mut sink).await;
    s.local_addr().expect("addr")
}

#[test]
fn connections_log_refusals_violations_timeouts_and_closes_in_their_span() {
    let log = Log::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let mut config = GatewayConfig {
                // Anonymous peers may get, not put.
                tenants: Arc::new(Tenants::new(Permissions::GET)),
                ..GatewayConfig::default()
            };
            config.connection.idle_timeout = Some(Duration::from_millis(300));
            let gateway = runtime_tokio::bind("127.0.0.1:0".parse().expect("addr"), config)
                .await
                .expect("bind");
            let addr = gateway.local_addr().expect("bound");
            let server = gateway.clone();
            tokio::spawn(async move { server.serve().await });

            // A refused request: info, in a span that names the tenant and
            // the limits HELLO settled.
            let client = runtime_tokio::connect(addr).await.expect("connect");
            let refused = client
                .put_doc("docs", "a", bytes::Bytes::from_static(b"x"))
                .await
                .expect_err("anonymous may not put");
            assert_eq!(refused.code(), Some(ErrorCode::Unauthorized));
            let lines = log.lines_with(&["INFO", "request refused", "code=unauthorized"]);
            assert_eq!(lines.len(), 1, "{lines:?}");
            for field in [
                "conn{",
                "peer=127.0.0.1:",
                "tenant=anonymous",
                "max_frame=",
                "credit=",
            ] {
                assert!(lines[0].contains(field), "{field} missing: {}", lines[0]);
            }
            drop(client);

            // A protocol violation: the close says which rule, and who.
            let peer = raw_peer(addr, &[9, 3, 0, 0, 0, 0]).await;
            let lines = log.lines_with(&[
                "INFO",
                &format!("peer={peer}"),
                "closed: the peer broke the protocol",
                "code=bad_version",
            ]);
            assert_eq!(lines.len(), 1, "{lines:?}");

            // A peer that says nothing after HELLO: closed at the idle
            // timeout, with the reason.
            let peer = raw_peer(addr, &[]).await;
            let lines = log.lines_with(&[
                "INFO",
                &format!("peer={peer}"),
                "closed: timed out",
                "connection idle",
            ]);
            assert_eq!(lines.len(), 1, "{lines:?}");

            // An orderly connection logs nothing at info: a get of an
            // object that is not there is an answer, not an incident.
            let client = runtime_tokio::connect(addr).await.expect("connect");
            let _ = client.get(ObjectId::of(b"nothing")).await;
            drop(client);
            let conns = log.lines_with(&["conn{"]).len();
            assert_eq!(conns, 3, "one info line per incident, none per frame");
        });
}
