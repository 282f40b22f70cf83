//! Authenticated tenants and permissions over real sockets.

use std::sync::Arc;

use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_core::gateway::{Permissions, Tenant, Tenants, token_hash};
use oap_core::payload::ErrorCode;
use oap_node::{Client, ClientError, GatewayConfig, MemStore};

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
        .with(Tenant {
            name: "writer".into(),
            token_hash: Some(token_hash(WRITER_TOKEN)),
            certificate_name: None,
            permissions: Permissions::PUT.union(Permissions::GET),
            quota: None,
        })
        .and_then(|t| {
            t.with(Tenant {
                name: "reader".into(),
                token_hash: Some(token_hash(READER_TOKEN)),
                certificate_name: None,
                permissions: Permissions::GET,
                quota: None,
            })
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
