//! Admin HTTP (hyper 1.x): `/healthz`, `/readyz`, `/metrics`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use kernel_core::{HealthState, Metrics};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The services `/readyz` requires, each marked healthy in [`HealthState`]
/// by `serve` once it is up: the configuration was loaded and validated, the
/// store opened, the OAP listener bound and serving, this admin listener
/// bound. The table holds only the node's own services: the applications
/// clients announce in HELLO reach the bus, never this table (a peer-chosen
/// name must not become a permanent entry).
pub(crate) const REQUIRED: [&str; 4] = ["config", "store", "listener", "admin"];

/// What the admin endpoints read.
#[derive(Clone)]
pub(crate) struct AdminState {
    /// Readiness of every service.
    pub health: HealthState,
    /// The Prometheus registry.
    pub metrics: Metrics,
    /// What `POST /reload` runs (none: 404).
    pub reloader: Option<std::sync::Arc<crate::reload::Reloader>>,
}

/// Status and JSON body of `/readyz`.
pub(crate) fn readiness(health: &HealthState) -> (StatusCode, String) {
    let snap = health.snapshot();
    let not_ready: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|s| snap.services.get(*s) != Some(&true))
        .collect();
    let body = if not_ready.is_empty() {
        serde_json::json!({ "ready": true, "services": snap.services })
    } else {
        serde_json::json!({
            "ready": false,
            "reason": format!("not ready: {}", not_ready.join(", ")),
            "services": snap.services,
        })
    };
    let status = if not_ready.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, format!("{body}\n"))
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from(body)));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

fn route(state: &AdminState, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    const JSON: &str = "application/json";
    const TEXT: &str = "text/plain; charset=utf-8";
    if req.uri().path() == "/reload" {
        return reload(state, req.method());
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(StatusCode::METHOD_NOT_ALLOWED, TEXT, "GET only\n".into());
    }
    match req.uri().path() {
        "/healthz" => reply(StatusCode::OK, TEXT, "ok\n".into()),
        "/readyz" => {
            let (status, body) = readiness(&state.health);
            reply(status, JSON, body)
        }
        "/metrics" => reply(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            state.metrics.encode(),
        ),
        _ => reply(StatusCode::NOT_FOUND, TEXT, "not found\n".into()),
    }
}

/// `POST /reload`: reloads the configuration (like SIGHUP) and says how it
/// went: 200 with the version in force, or 400 with the reason (the previous
/// configuration stays).
fn reload(state: &AdminState, method: &Method) -> Response<Full<Bytes>> {
    const TEXT: &str = "text/plain; charset=utf-8";
    let Some(reloader) = &state.reloader else {
        return reply(StatusCode::NOT_FOUND, TEXT, "not found\n".into());
    };
    if method != Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, TEXT, "POST only\n".into());
    }
    let outcome = reloader.reload();
    let answer = match &outcome {
        Ok(crate::reload::Reloaded::Updated(v)) => {
            reply(StatusCode::OK, TEXT, format!("reloaded: version {v}\n"))
        }
        Ok(crate::reload::Reloaded::Unchanged(v)) => {
            reply(StatusCode::OK, TEXT, format!("unchanged: version {v}\n"))
        }
        Err(e) => reply(
            StatusCode::BAD_REQUEST,
            TEXT,
            format!("reload refused, the previous configuration stays: {e:#}\n"),
        ),
    };
    crate::reload::report(outcome, "POST /reload");
    answer
}

/// Resolves once `stop` is true (or its sender is gone). The borrow
/// `wait_for` returns is dropped here so callers' futures stay `Send`.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Serves admin HTTP on `listener` until `stop` turns true; each
/// connection runs in its own task and is closed gracefully on stop.
pub(crate) async fn serve(
    listener: TcpListener,
    state: AdminState,
    mut stop: watch::Receiver<bool>,
) {
    let state = Arc::new(state);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = stopped(&mut stop) => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of descriptors or a reset before accept: keep serving.
                tracing::warn!(error = %e, "admin accept failed");
                continue;
            }
        };
        let state = Arc::clone(&state);
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let res = route(&state, &req);
                async move { Ok::<_, Infallible>(res) }
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                r = conn.as_mut() => r,
                () = stopped(&mut stop) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "admin connection ended");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readyz_is_503_with_a_reason_until_every_required_service_is_up() {
        let health = HealthState::new();
        let (status, body) = readiness(&health);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("\"ready\":false"), "{body}");
        assert!(body.contains("config, store, listener, admin"), "{body}");

        for s in REQUIRED {
            health.set(s, true);
        }
        health.set("listener", false);
        let (status, body) = readiness(&health);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("not ready: listener"), "{body}");

        health.set("listener", true);
        assert_eq!(readiness(&health).0, StatusCode::OK);
        // A client application reported unhealthy does not gate readiness.
        health.set("demo/1", false);
        assert_eq!(readiness(&health).0, StatusCode::OK);
    }
}
