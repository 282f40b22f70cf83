//! The driver's detach path: the stream goes back to the application and
//! the endpoint hears that its driver stopped, once.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use oap_core::connection::{Connection, ConnectionConfig};
use oap_io::{BoxStream, ConnectionDriver, Endpoint, EndpointHandle, duplex};

mod common;
use common::Inline;

/// An endpoint that wants its stream back at once and counts how often
/// the driver reports its exit.
struct Detaching {
    conn: Connection,
    exits: Arc<AtomicUsize>,
}

impl Endpoint for Detaching {
    fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    fn handle_events(&mut self, _now: Instant) {
        while self.conn.poll_event().is_some() {}
    }

    fn wants_detach(&self) -> bool {
        true
    }

    fn on_driver_exit(&mut self, error: Option<&io::Error>) {
        assert!(error.is_none(), "a detach is no transport failure");
        self.exits.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn detaching_hands_the_stream_back_and_reports_the_exit_exactly_once() {
    let runtime = Arc::new(Inline::default());
    let (ours, _peer) = duplex(4096);
    let exits = Arc::new(AtomicUsize::new(0));
    let handle = EndpointHandle::new(Detaching {
        conn: Connection::server(ConnectionConfig::default(), Instant::now()),
        exits: Arc::clone(&exits),
    });
    let returned: Arc<Mutex<Option<BoxStream>>> = Arc::default();
    let slot = Arc::clone(&returned);
    let driver = ConnectionDriver::new(runtime, ours, handle.clone())
        .on_detach(move |io| *slot.lock().expect("slot") = Some(io));

    futures_lite::future::block_on(driver).expect("a detach ends the driver with Ok");

    assert!(
        returned.lock().expect("slot").is_some(),
        "stream handed back"
    );
    assert!(handle.is_finished());
    assert_eq!(exits.load(Ordering::SeqCst), 1, "on_driver_exit runs once");
}
