//! The simulation loop: two connections, two links, one virtual clock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use oap_core::connection::{Connection, ConnectionConfig, ConnectionStats, Event};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::checker::CreditChecker;
use crate::link::{Link, LinkStats};
use crate::{ClientApp, Clock, FaultPlan, InvariantViolation, ServerApp};

/// Steps without the clock advancing before the run is declared stuck.
const MAX_STEPS_PER_INSTANT: u64 = 100_000;

/// Everything about a run except the seed and the applications.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Client connection settings.
    pub client: ConnectionConfig,
    /// Server connection settings.
    pub server: ConnectionConfig,
    /// Faults on bytes from client to server.
    pub uplink: FaultPlan,
    /// Faults on bytes from server to client.
    pub downlink: FaultPlan,
    /// Virtual time by which every request must have ended.
    pub deadline: Duration,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            client: ConnectionConfig::default(),
            server: ConnectionConfig::default(),
            uplink: FaultPlan::reliable(),
            downlink: FaultPlan::reliable(),
            deadline: Duration::from_secs(600),
        }
    }
}

impl Scenario {
    /// The same fault plan in both directions.
    pub fn with_faults(mut self, plan: FaultPlan) -> Self {
        self.uplink = plan.clone();
        self.downlink = plan;
        self
    }
}

/// What a finished run observed.
#[derive(Debug)]
pub struct Report {
    /// The client application, with its results.
    pub client: ClientApp,
    /// The server application, with what it stored.
    pub server: ServerApp,
    /// Virtual time the run took.
    pub elapsed: Duration,
    /// Loop iterations.
    pub steps: u64,
    /// Client connection counters.
    pub client_stats: ConnectionStats,
    /// Server connection counters.
    pub server_stats: ConnectionStats,
    /// What the client→server link did.
    pub uplink: LinkStats,
    /// What the server→client link did.
    pub downlink: LinkStats,
    /// Highest `buffered_input` either side reached.
    pub peak_buffered: u64,
}

struct Side {
    conn: Connection,
    checker: CreditChecker,
    link: Link,
    link_closed: bool,
}

/// One seeded run of a client and a server.
pub struct Simulation {
    seed: u64,
    scenario: Scenario,
    clock: Clock,
    rng: StdRng,
    client: Side,
    server: Side,
    client_app: ClientApp,
    server_app: ServerApp,
    steps: u64,
    peak_buffered: u64,
}

impl Simulation {
    /// Sets up a run; nothing happens until [`Simulation::run`].
    pub fn new(
        seed: u64,
        scenario: Scenario,
        client_app: ClientApp,
        server_app: ServerApp,
    ) -> Self {
        let clock = Clock::new(Instant::now());
        let now = clock.now();
        let side = |config: &ConnectionConfig, conn, name, plan: &FaultPlan| Side {
            conn,
            checker: CreditChecker::new(name, config.window_growth),
            link: Link::new(plan.clone()),
            link_closed: false,
        };
        Self {
            seed,
            client: side(
                &scenario.client,
                Connection::client(scenario.client.clone(), now),
                "client",
                &scenario.uplink,
            ),
            server: side(
                &scenario.server,
                Connection::server(scenario.server.clone(), now),
                "server",
                &scenario.downlink,
            ),
            scenario,
            clock,
            rng: StdRng::seed_from_u64(seed),
            client_app,
            server_app,
            steps: 0,
            peak_buffered: 0,
        }
    }

    /// Runs to quiescence, checking invariants after every step. The error
    /// names the seed, so the failing run can be replayed.
    pub fn run(mut self) -> Result<Report, InvariantViolation> {
        let seed = self.seed;
        self.run_inner()
            .map_err(|v| InvariantViolation(format!("seed {seed}: {v}")))?;
        Ok(Report {
            elapsed: self.clock.elapsed(),
            steps: self.steps,
            client_stats: self.client.conn.stats().clone(),
            server_stats: self.server.conn.stats().clone(),
            uplink: self.client.link.stats,
            downlink: self.server.link.stats,
            peak_buffered: self.peak_buffered,
            client: self.client_app,
            server: self.server_app,
        })
    }

    fn run_inner(&mut self) -> Result<(), InvariantViolation> {
        let mut same_instant = 0u64;
        loop {
            self.steps += 1;
            let now = self.clock.now();
            let mut progressed = self.drive_client(now)?;
            progressed |= self.drive_server(now)?;
            progressed |= deliver(&mut self.client, &mut self.server, now);
            progressed |= deliver(&mut self.server, &mut self.client, now);
            self.check_invariants()?;
            if progressed {
                same_instant += 1;
                if same_instant > MAX_STEPS_PER_INSTANT {
                    return Err(InvariantViolation(
                        "no progress in virtual time (livelock)".into(),
                    ));
                }
                continue;
            }
            same_instant = 0;
            let next = [
                self.client.link.next_due(),
                self.server.link.next_due(),
                self.client.conn.poll_timeout(),
                self.server.conn.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { break };
            if next.saturating_duration_since(self.clock.now()) > self.scenario.deadline
                || self.clock.elapsed() > self.scenario.deadline
            {
                return Err(InvariantViolation(format!(
                    "requests still open after {:?} of virtual time",
                    self.clock.elapsed()
                )));
            }
            self.clock.advance_to(next);
            let now = self.clock.now();
            self.client.conn.handle_timeout(now);
            self.server.conn.handle_timeout(now);
        }
        self.check_liveness()
    }

    fn drive_client(&mut self, now: Instant) -> Result<bool, InvariantViolation> {
        let mut acted = false;
        loop {
            let mut round = false;
            while let Some(ev) = self.client.conn.poll_event() {
                round = true;
                if let Event::Connected(n) = &ev {
                    self.client.checker.set_initial(n.credit);
                }
                self.client_app.on_event(&mut self.client.conn, &ev)?;
            }
            round |= self.client_app.tick(&mut self.client.conn, now)?;
            if self.client_app.done() && !self.client.conn.is_closed() {
                self.client.conn.close(None);
                round = true;
            }
            round |= transmit(
                &mut self.client,
                now,
                &mut self.rng,
                &self.client_app.consumed,
            )?;
            if !round {
                return Ok(acted);
            }
            acted = true;
        }
    }

    fn drive_server(&mut self, now: Instant) -> Result<bool, InvariantViolation> {
        let mut acted = false;
        loop {
            let mut round = false;
            while let Some(ev) = self.server.conn.poll_event() {
                round = true;
                if let Event::Connected(n) = &ev {
                    self.server.checker.set_initial(n.credit);
                }
                self.server_app.on_event(&mut self.server.conn, &ev)?;
            }
            round |= self.server_app.tick(&mut self.server.conn)?;
            round |= transmit(
                &mut self.server,
                now,
                &mut self.rng,
                &self.server_app.consumed,
            )?;
            if !round {
                return Ok(acted);
            }
            acted = true;
        }
    }

    fn check_invariants(&mut self) -> Result<(), InvariantViolation> {
        for (name, side) in [("client", &self.client), ("server", &self.server)] {
            let conn = &side.conn;
            let buffered = conn.buffered_input();
            self.peak_buffered = self.peak_buffered.max(buffered);
            if buffered > conn.buffered_input_bound() {
                return Err(InvariantViolation(format!(
                    "{name}: {buffered} bytes buffered, above the bound {}",
                    conn.buffered_input_bound()
                )));
            }
            if let Some(n) = conn.negotiated() {
                if conn.open_requests() > n.max_inflight as usize {
                    return Err(InvariantViolation(format!(
                        "{name}: {} requests open, max_inflight {}",
                        conn.open_requests(),
                        n.max_inflight
                    )));
                }
            }
        }
        Ok(())
    }

    fn check_liveness(&self) -> Result<(), InvariantViolation> {
        if !self.client_app.done() {
            return Err(InvariantViolation(format!(
                "quiescent with {} of {} puts unresolved",
                self.client_app.objects().len() - self.client_app.results.len(),
                self.client_app.objects().len()
            )));
        }
        for (name, side) in [("client", &self.client), ("server", &self.server)] {
            if side.conn.open_requests() != 0 {
                return Err(InvariantViolation(format!(
                    "{name}: {} requests never ended",
                    side.conn.open_requests()
                )));
            }
        }
        Ok(())
    }
}

/// Drains one side's transmit queue into its link.
fn transmit(
    side: &mut Side,
    now: Instant,
    rng: &mut StdRng,
    consumed: &BTreeMap<u64, u64>,
) -> Result<bool, InvariantViolation> {
    let mut buf = Vec::new();
    while let Some(t) = side.conn.poll_transmit(now, &mut buf) {
        if let Some(body) = t.body {
            buf.extend_from_slice(&body);
        }
    }
    let wrote = !buf.is_empty();
    if wrote {
        let frames = side.link.send(now, &buf, rng);
        side.checker.sent(&frames, consumed)?;
    }
    if side.conn.is_closed() && !side.link_closed {
        side.link.close();
        side.link_closed = true;
        return Ok(true);
    }
    Ok(wrote)
}

/// Delivers what `from`'s link has due to `to`.
fn deliver(from: &mut Side, to: &mut Side, now: Instant) -> bool {
    let mut acted = false;
    if let Some(bytes) = from.link.take_due(now) {
        to.checker.delivered(&bytes);
        to.conn.handle_input(now, &bytes);
        acted = true;
    }
    if from.link.take_eof() {
        to.conn.handle_eof(now);
        acted = true;
    }
    acted
}
