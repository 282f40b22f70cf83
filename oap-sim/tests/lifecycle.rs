//! Whole request life cycles between a real client and server.

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_sim::{ClientApp, FaultPlan, PutResult, Report, Scenario, ServerApp, Simulation};

fn pattern(len: usize, salt: u8) -> Bytes {
    Bytes::from(
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ salt)
            .collect::<Vec<u8>>(),
    )
}

fn run(scenario: Scenario, client: ClientApp, server: ServerApp) -> Report {
    Simulation::new(7, scenario, client, server)
        .run()
        .unwrap_or_else(|v| panic!("{v}"))
}

fn assert_stored(r: &Report) {
    for (i, obj) in r.client.objects().iter().enumerate() {
        assert_eq!(
            r.client.results.get(&i),
            Some(&PutResult::Stored),
            "object {i}"
        );
        let id = ObjectId::of(obj);
        assert_eq!(
            r.server.stored.get(&id).map(|b| &b[..]),
            Some(&obj[..]),
            "object {i} stored byte-identical"
        );
    }
}

#[test]
fn one_byte_64k_1mib_plus_one_and_16mib_objects() {
    let objects = vec![
        pattern(1, 1),
        pattern(64 * 1024, 2),
        pattern(1024 * 1024 + 1, 3),
        pattern(16 * 1024 * 1024, 4),
    ];
    let r = run(
        Scenario::default().with_faults(FaultPlan::network()),
        ClientApp::new(objects, 1),
        ServerApp::new(),
    );
    assert_stored(&r);
    assert_eq!(r.server_stats.objects_verified, 4);
    // 16 MiB through a window that starts at 64 KiB and grows while the
    // sender waits for credit: credit was returned many times, yet far
    // fewer than the 512 ACKs a fixed 64 KiB window would need.
    let acks = r.server_stats.frames_out;
    assert!((10..250).contains(&acks), "{acks} frames");
    assert!(r.peak_buffered <= 1_048_576 + 6 + 65_536 * 32 + (4 << 20));
}

#[test]
fn thirty_two_concurrent_requests_interleave() {
    let objects: Vec<Bytes> = (0..32)
        .map(|i| pattern(100_000 + i * 997, i as u8))
        .collect();
    let r = run(
        Scenario::default().with_faults(FaultPlan::network()),
        ClientApp::new(objects, 32),
        ServerApp::new(),
    );
    assert_stored(&r);
    assert_eq!(r.client.local_inflight_refusals, 0);
    assert_eq!(r.client_stats.requests_started, 32);
}

#[test]
fn a_33rd_concurrent_request_waits_for_a_free_slot() {
    let objects: Vec<Bytes> = (0..33).map(|i| pattern(70_000, i as u8)).collect();
    let r = run(
        Scenario::default(),
        ClientApp::new(objects, 33),
        ServerApp::new(),
    );
    assert_stored(&r);
    assert!(
        r.client.local_inflight_refusals > 0,
        "the 33rd start was refused locally"
    );
    assert!(r.server_stats.rejects.is_empty());
}

#[test]
fn both_sides_send_a_megabyte_at_once_through_small_credit() {
    let small = ConnectionConfig {
        credit: 8 * 1024,
        max_frame: 4096,
        data_chunk: 4096,
        ..ConnectionConfig::default()
    };
    let scenario = Scenario {
        client: small.clone(),
        server: small,
        ..Scenario::default()
    }
    .with_faults(FaultPlan::network());
    let response = pattern(1 << 20, 0xAA);
    let r = run(
        scenario,
        ClientApp::new(vec![pattern(1 << 20, 0x55), pattern(1 << 20, 0x66)], 2),
        ServerApp::new().responding_with(response.clone()),
    );
    assert_stored(&r);
    assert_eq!(r.client.received, vec![ObjectId::of(&response); 2]);
}

#[test]
fn rejected_requests_end_with_the_servers_code() {
    let r = run(
        Scenario::default(),
        ClientApp::new(vec![pattern(10, 1), pattern(0, 2)], 2),
        ServerApp::new().rejecting_with(oap_core::payload::ErrorCode::QuotaExhausted),
    );
    for i in 0..2 {
        assert_eq!(
            r.client.results.get(&i),
            Some(&PutResult::Failed(
                oap_core::payload::ErrorCode::QuotaExhausted
            ))
        );
    }
    assert!(r.server.stored.is_empty());
}
