//! `oap serve`: the gateway, the kernel services and admin HTTP in one
//! process, stopped gracefully by Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use kernel_core::supervisor::{Exit, RestartPolicy, Supervisor};
use kernel_core::{Config, KernelEvent};
use oap_node::{DirStore, Gateway, GatewayConfig, MemStore, ObjectStore, Services};
use oap_store_s3::{S3Config, S3Store};
use tokio::sync::watch;

use crate::accepting::Accepting;
use crate::admin::{self, AdminState};
use crate::args::{DEFAULT_ADMIN, DEFAULT_LISTEN, ServeArgs, StoreSpec};
use crate::reload::{self, ReloadableTls, Reloader, TlsFiles};
use crate::signals::StopSignals;

/// The file in a `dir:` store's directory that keeps each tenant's stored
/// bytes across restarts.
const USAGE_JOURNAL: &str = ".usage";

/// The supervised service: the gateway's accept loop.
const GATEWAY_SERVICE: &str = "gateway";

/// Loads `--config` (with `OAP_*` overrides) or, without one, the defaults
/// with `OAP_*` overrides; either way validated.
pub(crate) fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p).with_context(|| format!("cannot load config {}", p.display())),
        None => Config::from_sources("", std::env::vars())
            .context("invalid configuration in the OAP_* environment"),
    }
}

fn open_store(args: &ServeArgs) -> Result<Arc<dyn ObjectStore>> {
    Ok(match &args.store {
        StoreSpec::Mem => Arc::new(MemStore::new()),
        StoreSpec::Dir(dir) => Arc::new(
            DirStore::open(dir)
                .with_context(|| format!("cannot open store directory {}", dir.display()))?,
        ),
        StoreSpec::S3 { bucket, prefix } => {
            let mut config = S3Config::new(bucket);
            config.prefix.clone_from(prefix);
            config.endpoint.clone_from(&args.s3_endpoint);
            config.region.clone_from(&args.s3_region);
            config.timeout = Duration::from_millis(args.s3_timeout_ms);
            Arc::new(S3Store::new(config).context("cannot set up the S3 store")?)
        }
    })
}

/// How often `serve` asks the store whether it can serve (`/readyz`).
const STORE_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Keeps the `store` service's health current: asks the store every
/// [`STORE_CHECK_EVERY`] on the blocking pool (a network store's check is a
/// round trip), one check at a time, and publishes a change on the bus.
fn watch_store(store: Arc<dyn ObjectStore>, services: &Services, ok_at_start: bool) {
    let bus = services.bus.clone();
    tokio::spawn(async move {
        let mut was_ok = ok_at_start;
        loop {
            tokio::time::sleep(STORE_CHECK_EVERY).await;
            let store = Arc::clone(&store);
            let checked = tokio::task::spawn_blocking(move || store.check()).await;
            let error = match checked {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(e) => Some(format!("the check panicked: {e}")),
            };
            let ok = error.is_none();
            if ok != was_ok {
                match &error {
                    Some(error) => tracing::warn!(%error, "store unavailable: not ready"),
                    None => tracing::info!("store available again: ready"),
                }
                bus.publish_lossy(KernelEvent::Health {
                    service: "store".to_owned(),
                    ok,
                });
                was_ok = ok;
            }
        }
    });
}

/// Whether `ev` is about one of the node's own services (those `/readyz`
/// requires, and the supervised gateway), not a peer's application.
fn node_service(ev: &KernelEvent) -> bool {
    match ev {
        KernelEvent::Health { service, .. } | KernelEvent::ServiceCrashed { service, .. } => {
            admin::REQUIRED.contains(&service.as_str()) || service == GATEWAY_SERVICE
        }
        KernelEvent::ConfigUpdated { .. } | KernelEvent::Shutdown => false,
    }
}

/// Logs every bus event and keeps the health map current from it.
fn watch_bus(services: &Services) {
    // Every connection publishes a `Health` under its peer's name, logged
    // at debug only. Unless debug is on, the bus keeps them from this task:
    // waking it for each would cost every connection a wake-up of a thread
    // that connection workers do not otherwise touch.
    let peer_health_logged = tracing::enabled!(tracing::Level::DEBUG);
    let mut rx = services.bus.subscribe_filtered(move |ev| {
        peer_health_logged || node_service(ev) || !matches!(ev, KernelEvent::Health { .. })
    });
    let health = services.health.clone();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    match &ev {
                        KernelEvent::ServiceCrashed { service, reason } => {
                            tracing::warn!(service, reason, "service crashed");
                        }
                        // One per connection: not for info, where a busy
                        // node's log would be nothing else.
                        KernelEvent::Health { .. } => tracing::debug!(event = ?ev, "bus"),
                        other => tracing::info!(event = ?other, "bus"),
                    }
                    // Only the node's own services enter the health table:
                    // each connection's HELLO publishes `Health` under a
                    // name the peer chose, which must not become a
                    // permanent key (it would grow /readyz without bound).
                    if node_service(&ev) {
                        health.apply(&ev);
                    }
                    if ev == KernelEvent::Shutdown {
                        return;
                    }
                }
                // Lagging is a normal outcome (the metrics count it).
                Err(kernel_core::bus::RecvError::Lagged { missed }) => {
                    tracing::warn!(missed, "bus watcher lagged");
                }
                Err(kernel_core::bus::RecvError::Closed) => return,
            }
        }
    });
}

/// Runs the node until Ctrl-C.
pub(crate) async fn run(args: &ServeArgs) -> Result<()> {
    let config = load_config(args.config.as_deref())?;
    // Flags win over the config file; without a file the documented
    // command-line defaults apply.
    let from_file = args.config.is_some();
    let listen = args.listen.unwrap_or(if from_file {
        config.listen_addr
    } else {
        DEFAULT_LISTEN.parse()?
    });
    let admin_addr = args.admin.unwrap_or(if from_file {
        config.admin_addr
    } else {
        DEFAULT_ADMIN.parse()?
    });

    let services = Services::new(config.bus_capacity);
    services.health.set("config", true);
    watch_bus(&services);

    let store = open_store(args)?;
    // A store that cannot serve at start is not ready; the watcher tells
    // when it can.
    let store_ok = match tokio::task::spawn_blocking({
        let store = Arc::clone(&store);
        move || store.check()
    })
    .await?
    {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "store unavailable: not ready");
            false
        }
    };
    services.health.set("store", store_ok);
    watch_store(Arc::clone(&store), &services, store_ok);

    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(ReloadableTls::load(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: args.tls_client_ca.clone(),
        })?),
        _ => None,
    };

    // The anonymous policy's default depends on the address actually
    // listened on (a flag may override `listen_addr`).
    let mut gateway_config = GatewayConfig::from_kernel_at(&config, listen);
    let anonymous = config.anonymous_policy(listen);
    tracing::info!(
        anonymous = %anonymous,
        tenants = config.tenants.len(),
        "authentication"
    );
    if let StoreSpec::Dir(dir) = &args.store {
        // Stored bytes per tenant survive a restart with the objects.
        let tenants = &gateway_config.tenants;
        let journal = dir.join(USAGE_JOURNAL);
        let quotas = oap_node::server::byte_quotas_from_kernel(&config, tenants)
            .with_journal(&journal)
            .with_context(|| format!("cannot open the usage journal {}", journal.display()))?;
        gateway_config.byte_quotas = Some(Arc::new(quotas));
    }
    let grace = gateway_config.shutdown_grace;
    let runtime = runtime_tokio::runtime();
    let server = Gateway::new(
        Arc::clone(&runtime),
        gateway_config,
        store,
        services.clone(),
    );
    let admin_listener = tokio::net::TcpListener::bind(admin_addr)
        .await
        .with_context(|| format!("cannot listen on {admin_addr} (admin)"))?;
    let admin_addr: SocketAddr = admin_listener.local_addr()?;

    let reloader = Arc::new(
        Reloader::new(
            args.config.clone(),
            listen,
            config.clone(),
            server.clone(),
            services.clone(),
        )?
        .with_tls(tls.clone()),
    );
    // Installed before the node can be seen ready: a SIGHUP before it would
    // kill the process.
    reload::on_sighup(Arc::clone(&reloader))?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let admin_task = tokio::spawn(admin::serve(
        admin_listener,
        AdminState {
            health: services.health.clone(),
            metrics: services.metrics.clone(),
            reloader: Some(reloader),
        },
        stop_rx,
    ));
    services.health.set("admin", true);

    let upgrade = tls.map(|t| runtime_tokio::tls::reloadable_acceptor(t.config()));
    let scheme = if upgrade.is_some() { "oap+tls" } else { "oap" };
    // SIGINT and SIGTERM handlers are installed before the node can be
    // seen ready: a signal before them would kill the process instead of
    // draining.
    let mut stop = StopSignals::install().await?;
    let workers = args.workers();
    let mut accepting = Accepting::start(&server, listen, workers, upgrade)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let oap_addr = accepting.local_addr();
    services.health.set("listener", true);
    // The accept loop is the supervised service: if it ever ends on its
    // own, it is rebound and restarted with backoff, and given up on (exit
    // 1) when it crash-loops.
    let mut supervisor =
        Supervisor::with_metrics(u64::from(std::process::id()), services.metrics.clone());
    supervisor.add_service(GATEWAY_SERVICE, RestartPolicy::from(&config.supervisor));

    // Tests and scripts read these two lines to find the ports.
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "oap listening on {scheme}://{oap_addr}")?;
        writeln!(out, "admin listening on http://{admin_addr}")?;
        out.flush()?;
    }
    tracing::info!(
        %oap_addr,
        %admin_addr,
        store = ?args.store,
        workers = workers.map_or(0, NonZeroUsize::get),
        "serving"
    );

    let signal = loop {
        let reason = tokio::select! {
            signal = stop.next() => break signal?,
            reason = accepting.ended() => reason,
        };
        services.health.set("listener", false);
        tracing::error!(%reason, "gateway stopped");
        supervisor.on_exit(GATEWAY_SERVICE, Exit::Crashed(reason), Instant::now())?;
        while let Some(ev) = supervisor.poll_event() {
            services.bus.publish_lossy(ev);
        }
        let Some(at) = supervisor.poll_timeout() else {
            let _ = stop_tx.send(true);
            anyhow::bail!("the gateway keeps failing; giving up");
        };
        tokio::select! {
            signal = stop.next() => break signal?,
            () = tokio::time::sleep_until(at.into()) => {}
        }
        if supervisor.poll_restart(Instant::now()).is_some() {
            accepting
                .restart(oap_addr)
                .await
                .with_context(|| format!("cannot listen on {oap_addr} again"))?;
            services.health.set("listener", true);
        }
    };
    services.health.set("listener", false);
    supervisor.shutdown();

    eprintln!(
        "oap: {signal}: shutting down (waiting up to {grace:?} for open requests; \
         Ctrl-C again to force)"
    );
    // The handlers stay installed, so without this a second signal would
    // be ignored for the whole grace period.
    tokio::spawn(async move {
        if stop.next().await.is_ok() {
            eprintln!("oap: forced stop");
            std::process::exit(130);
        }
    });
    tracing::info!(%signal, "publishing Shutdown");
    services.bus.publish_lossy(KernelEvent::Shutdown);
    // The gateway hears Shutdown on the bus, stops accepting and drains.
    accepting
        .stopped()
        .await
        .context("the gateway failed while stopping")?;
    // Open connections close when their requests end, or are forced closed
    // after the grace period; the margin covers the forced close itself.
    let drained = tokio::time::timeout(
        grace + Duration::from_secs(1),
        server.wait_for_open_connections(0),
    )
    .await
    .is_ok();
    if !drained {
        tracing::warn!("connections still open after the grace period");
    }
    accepting.finish().await;
    let _ = stop_tx.send(true);
    let _ = admin_task.await;
    eprintln!("oap: stopped");
    Ok(())
}
