//! Put and get of large objects over loopback TCP, BLAKE3 verification on
//! at both ends (the client hashes to name the object, the server verifies
//! it, the store re-verifies on the way out, the client verifies the get).

use bytes::Bytes;
use oap_core::connection::ConnectionConfig;
use oap_node::Client;

use crate::report::{LargeRow, Measure};
use crate::rt::RuntimeKind;
use crate::server::Launcher;

/// `size` bytes, different for every `seed`.
pub fn object(size: usize, seed: u64) -> Vec<u8> {
    // A 251-byte pattern (prime, so it never lines up with chunk sizes),
    // copied rather than computed per byte: setup should not dominate.
    let pattern: Vec<u8> = (0..251u8).collect();
    let mut v = Vec::with_capacity(size);
    while v.len() < size {
        let n = pattern.len().min(size - v.len());
        v.extend_from_slice(&pattern[..n]);
    }
    for (b, s) in v.iter_mut().zip(seed.to_le_bytes()) {
        *b ^= s;
    }
    v
}

/// Puts `iterations` distinct objects of `size` bytes on a fresh server,
/// then gets them back; one row for the puts, one for the gets. The
/// baseline runs right before each, so a busy machine slows both alike.
pub fn run(
    kind: RuntimeKind,
    launcher: &Launcher,
    size: usize,
    iterations: u32,
) -> Result<Vec<LargeRow>, crate::Error> {
    let server = launcher.start(kind)?;
    let objects: Vec<Bytes> = (0..iterations)
        .map(|i| Bytes::from(object(size, u64::from(i) + 1)))
        .collect();
    kind.block_on(async {
        let client =
            Client::connect(kind.runtime(), server.addr(), ConnectionConfig::default()).await?;
        let row = |op, measure, server_peak, baseline| LargeRow {
            runtime: kind.name(),
            op,
            size,
            iterations,
            measure,
            server_peak,
            baseline: Some(baseline),
        };

        let baseline = crate::baseline::hashed_tcp_copy(size, iterations)?.measure;
        server.reset_peak();
        let watch = Measure::start(Some(&server));
        let mut ids = Vec::new();
        for o in &objects {
            ids.push(client.put_doc("bench", "large", o.clone()).await?);
        }
        let put = row(
            "put",
            watch.stop(),
            server.memory().map(|m| m.peak),
            baseline,
        );

        let baseline = crate::baseline::hashed_tcp_copy(size, iterations)?.measure;
        server.reset_peak();
        let watch = Measure::start(Some(&server));
        let mut got = Vec::new();
        for id in &ids {
            got.push(client.get(*id).await?);
        }
        let get = row(
            "get",
            watch.stop(),
            server.memory().map(|m| m.peak),
            baseline,
        );

        if got != objects {
            return Err("a get returned other bytes than were put".into());
        }
        Ok(vec![put, get])
    })?
}
