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

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::OnceLock;

use bytes::Bytes;
use oap_core::ObjectId;
use oap_core::connection::ConnectionConfig;
use oap_node::Client;

use crate::report::{LargeRow, Measure};
use crate::rt::RuntimeKind;
use crate::server::Launcher;

/// `size` bytes, different for every `seed` (the bytes [`write_object`]
/// writes).
pub fn object(size: usize, seed: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(size);
    for piece in pieces(size as u64, seed) {
        v.extend_from_slice(&piece);
    }
    v
}

/// Writes the bytes of [`object`]`(size, seed)` to `out` in pieces of
/// about 1 MiB, never holding the whole object: for files of any size.
pub fn write_object(out: &mut impl Write, size: u64, seed: u64) -> io::Result<()> {
    for piece in pieces(size, seed) {
        out.write_all(&piece)?;
    }
    Ok(())
}

/// The object's bytes as consecutive pieces. A 251-byte pattern (prime,
/// so it never lines up with chunk sizes), copied rather than computed per
/// byte (setup should not dominate), with the seed mixed into the first 8
/// bytes.
fn pieces(size: u64, seed: u64) -> impl Iterator<Item = Cow<'static, [u8]>> {
    const PERIOD: usize = 251;
    // Whole periods, so every piece starts where the pattern does.
    static PIECE: OnceLock<Vec<u8>> = OnceLock::new();
    let piece = PIECE.get_or_init(|| (0..=250u8).cycle().take(PERIOD * 4096).collect());
    let mut left = size;
    let mut first = true;
    std::iter::from_fn(move || {
        if left == 0 {
            return None;
        }
        let n = usize::try_from(left).map_or(piece.len(), |l| l.min(piece.len()));
        left -= n as u64;
        let bytes = &piece[..n];
        if !std::mem::take(&mut first) {
            return Some(Cow::Borrowed(bytes));
        }
        let mut head = bytes.to_vec();
        for (b, s) in head.iter_mut().zip(seed.to_le_bytes()) {
            *b ^= s;
        }
        Some(Cow::Owned(head))
    })
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
