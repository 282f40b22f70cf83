//! Authenticated tenants and permissions over real sockets.

use std::sync::Arc;

use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_core::payload::ErrorCode;
use oap_core::server::{Permissions, Tenant, Tenants, token_hash};
use oap_node::{ByteQuotas, Client, ClientError, DirStore, GatewayConfig, MemStore, ObjectStore};

use crate::Harness;
use crate::cases::{gateway_with, pattern};

const WRITER_TOKEN: &str = "writer-token-5b0c1a9e";
const READER_TOKEN: &str = "reader-token-77d2e4f0";

async fn connect(
    h: &Harness,
    addr: std::net::SocketAddr,
    token: &str,
) -> Result<Client, ClientError> {
    let config = ConnectionConfig {
        token: Some(token.to_owned()),
        ..ConnectionConfig::default()
    };
    Client::connect(Arc::clone(&h.runtime), addr, config).await
}

/// A node that admits no anonymous peers, with a tenant that may put and
/// get and one that may only get: the writer's token puts and gets, a wrong
/// token is refused with `unauthorized`, and the reader is refused a put
/// with `unauthorized` on that request only and can still get.
pub async fn tenants_authenticate_by_token_and_permissions_hold_per_request(h: Harness) {
    let tenants = Tenants::new(Permissions::NONE)
        .with(Tenant::with_token(
            "writer",
            token_hash(WRITER_TOKEN),
            Permissions::PUT.union(Permissions::GET),
        ))
        .and_then(|t| {
            t.with(Tenant::with_token(
                "reader",
                token_hash(READER_TOKEN),
                Permissions::GET,
            ))
        })
        .expect("two tenants");
    let config = GatewayConfig {
        tenants: Arc::new(tenants),
        ..GatewayConfig::default()
    };
    let (server, addr) = gateway_with(&h, config, Arc::new(MemStore::new())).await;

    let writer = connect(&h, addr, WRITER_TOKEN).await.expect("writer");
    let doc = pattern(100_000, 5);
    let id = writer
        .put_doc("docs", "a", doc.clone())
        .await
        .expect("the writer may put");
    assert_eq!(writer.get(id).await.expect("and get"), doc);

    // A wrong token: the server closes with `unauthorized` right after
    // HELLO, so either the connect or the first request says so.
    let refused = match connect(&h, addr, "not-a-token").await {
        Err(e) => e,
        Ok(c) => c.get(id).await.expect_err("a wrong token gets nothing"),
    };
    assert_eq!(refused.code(), Some(ErrorCode::Unauthorized), "{refused}");
    assert!(!refused.to_string().contains("not-a-token"), "{refused}");

    let reader = connect(&h, addr, READER_TOKEN).await.expect("reader");
    let denied = reader
        .put_doc("docs", "b", pattern(10, 1))
        .await
        .expect_err("the reader may not put");
    assert_eq!(denied.code(), Some(ErrorCode::Unauthorized), "{denied}");
    assert!(!denied.is_retryable());
    assert_eq!(
        reader.get(id).await.expect("the reader may still get"),
        doc,
        "the connection went on after the denial"
    );
    let unknown = ObjectId::of(b"never stored");
    assert!(reader.get(unknown).await.is_err());

    let metrics = server.services().metrics.clone();
    assert!(metrics.tenants().bytes_in("writer") > 100_000);
    assert!(metrics.tenants().bytes_out("reader") > 100_000);
    let text = metrics.encode();
    assert!(
        text.contains("rejected_total{reason=\"unauthorized\"} 2"),
        "one refused HELLO, one refused put:\n{text}"
    );
    assert!(
        !text.contains("tenant=\"not-a-token\""),
        "only configured tenants get labels"
    );
}

/// A tenant with `max_stored_bytes` of 100,000 over a directory store whose
/// usage journal is in the same directory: puts are charged when they first
/// store an object; one that would pass the limit is refused with
/// `store_full` before any byte is stored; storing an object again is free;
/// and after a restart (a new server, quotas reopened from the journal) the
/// usage, and so the refusal, still holds.
pub async fn byte_quota_is_refused_before_storage_and_survives_a_restart(h: Harness) {
    const LIMIT: u64 = 100_000;
    let dir = crate::cases::temp_dir(&h, "byte-quota");
    std::fs::create_dir_all(&dir).expect("store directory");
    let journal = dir.join(".usage");
    let tenants = Arc::new(
        Tenants::new(Permissions::NONE)
            .with(Tenant::with_token(
                "small",
                token_hash(WRITER_TOKEN),
                Permissions::PUT.union(Permissions::GET),
            ))
            .expect("one tenant"),
    );
    let limits = [("small".to_owned(), LIMIT)].into_iter().collect();
    let node = |quotas: ByteQuotas| {
        let config = GatewayConfig {
            tenants: Arc::clone(&tenants),
            byte_quotas: Some(Arc::new(quotas)),
            ..GatewayConfig::default()
        };
        let store = Arc::new(DirStore::open(&dir).expect("dir store"));
        (config, store)
    };

    let quotas = ByteQuotas::new(&tenants, &limits)
        .with_journal(&journal)
        .expect("journal");
    let (config, store) = node(quotas);
    let (server, addr) = gateway_with(&h, config, store.clone()).await;
    let c = connect(&h, addr, WRITER_TOKEN).await.expect("connect");
    let first = pattern(60_000, 1);
    let first_id = c.put_doc("docs", "1", first.clone()).await.expect("fits");
    let charged = server
        .config()
        .byte_quotas
        .as_ref()
        .map(|q| q.stored("small"));
    assert_eq!(charged, Some(60_000));

    let over = pattern(60_000, 2);
    let refused = c
        .put_doc("docs", "2", over.clone())
        .await
        .expect_err("60,000 more would pass 100,000");
    assert_eq!(refused.code(), Some(ErrorCode::StoreFull), "{refused}");
    assert!(
        refused.to_string().contains("max_stored_bytes"),
        "the reason is worded: {refused}"
    );
    assert!(!store.contains(&ObjectId::of(&over)), "nothing stored");
    c.put_doc("docs", "1 again", first.clone())
        .await
        .expect("an object already stored costs nothing");
    let rest = pattern(40_000, 3);
    c.put_doc("docs", "3", rest)
        .await
        .expect("exactly the limit");
    assert_eq!(
        server
            .config()
            .byte_quotas
            .as_ref()
            .map(|q| q.stored("small")),
        Some(LIMIT)
    );
    drop(c);
    server.shutdown();
    server.wait_for_open_connections(0).await;

    // A restart: new quotas from the same journal, a new server.
    let quotas = ByteQuotas::new(&tenants, &limits)
        .with_journal(&journal)
        .expect("journal reopened");
    assert_eq!(quotas.stored("small"), LIMIT, "usage survived the restart");
    let (config, store) = node(quotas);
    let (_server, addr) = gateway_with(&h, config, store.clone()).await;
    let c = connect(&h, addr, WRITER_TOKEN).await.expect("connect");
    let refused = c
        .put_doc("docs", "4", pattern(1, 4))
        .await
        .expect_err("still at the limit after the restart");
    assert_eq!(refused.code(), Some(ErrorCode::StoreFull), "{refused}");
    assert_eq!(c.get(first_id).await.expect("reads go on"), first);
    let _ = std::fs::remove_dir_all(&dir);
}
