//! Put and get of large objects over loopback TCP, BLAKE3 verification on
//! at both ends (the client hashes to name the object, the server verifies
//! it, the client verifies the get).
//!
//! The gets are dropped as they arrive, as a consumer that writes them on
//! would, rather than piled up until the end: the baseline's receiver keeps
//! nothing either, and keeping every object would measure the bench's own
//! appetite for fresh memory. Their bytes are still checked: each id must
//! be the digest of the object put (before the clock starts), the client
//! hands out only bytes matching the id, each length is checked, and the
//! last object is compared byte for byte after the clock stops.

use bytes::Bytes;
use oap_core::ObjectId;
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

        if ids
            .iter()
            .zip(&objects)
            .any(|(id, o)| *id != ObjectId::of(o))
        {
            return Err("the server confirmed another id than the object's digest".into());
        }
        let baseline = crate::baseline::hashed_tcp_copy(size, iterations)?.measure;
        server.reset_peak();
        let watch = Measure::start(Some(&server));
        let mut last = Bytes::new();
        for id in &ids {
            last = client.get(*id).await?;
            if last.len() != size {
                return Err("a get returned another length than was put".into());
            }
        }
        let get = row(
            "get",
            watch.stop(),
            server.memory().map(|m| m.peak),
            baseline,
        );

        if objects.last().is_some_and(|o| *o != last) {
            return Err("a get returned other bytes than were put".into());
        }
        Ok(vec![put, get])
    })?
}
