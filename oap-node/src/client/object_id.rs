//! The id of an object about to be put. The protocol names the object
//! (its full BLAKE3) in the first DATA frame, so a put hashes everything
//! before sending anything; for a large object that is the longest step,
//! and it must not stall the executor or the connection.

use bytes::Bytes;
use oap_core::ObjectId;
use oap_io::{Runtime, run_blocking};

/// Objects this large or larger are hashed on the runtime's blocking pool
/// with BLAKE3's multi-threaded mode; smaller ones are hashed inline, where
/// a hop to another thread would cost more than the hash.
pub(crate) const OFFLOAD_AT: usize = 1 << 20;

/// BLAKE3 of `bytes`, computed off the executor (and on several cores) when
/// the object is large.
pub(crate) async fn object_id(runtime: &dyn Runtime, bytes: &Bytes) -> ObjectId {
    if bytes.len() < OFFLOAD_AT {
        return ObjectId::of(bytes);
    }
    let data = bytes.clone();
    let id = run_blocking(runtime, move || {
        let mut hasher = blake3::Hasher::new();
        hasher.update_rayon(&data);
        ObjectId::from_bytes(*hasher.finalize().as_bytes())
    })
    .await;
    // No id only if the work panicked on the pool: hash here instead.
    id.unwrap_or_else(|| ObjectId::of(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct InlineRuntime;

    impl Runtime for InlineRuntime {
        fn now(&self) -> std::time::Instant {
            std::time::Instant::now()
        }
        fn sleep_until(&self, _: std::time::Instant) -> oap_io::BoxFuture<'static, ()> {
            Box::pin(std::future::pending())
        }
        fn spawn(&self, _: oap_io::BoxFuture<'static, ()>) {}
        fn bind(
            &self,
            _: std::net::SocketAddr,
        ) -> oap_io::BoxFuture<'static, std::io::Result<Box<dyn oap_io::Listener>>> {
            Box::pin(std::future::ready(Err(
                std::io::ErrorKind::Unsupported.into()
            )))
        }
        fn connect(
            &self,
            _: std::net::SocketAddr,
        ) -> oap_io::BoxFuture<'static, std::io::Result<oap_io::BoxStream>> {
            Box::pin(std::future::ready(Err(
                std::io::ErrorKind::Unsupported.into()
            )))
        }
    }

    #[test]
    fn large_objects_hashed_in_parallel_get_the_same_id() {
        // Not a power of two of chunks, so BLAKE3's tree is uneven.
        for len in [OFFLOAD_AT - 1, OFFLOAD_AT, 3 * OFFLOAD_AT + 12_345] {
            let bytes: Bytes = (0..len).map(|i| (i * 7 % 253) as u8).collect();
            let id = futures_lite::future::block_on(object_id(&InlineRuntime, &bytes));
            assert_eq!(id, ObjectId::of(&bytes), "{len} bytes");
        }
    }
}
