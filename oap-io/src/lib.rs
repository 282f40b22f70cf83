//! The shared async driver of OAP/1.
//!
//! Everything protocol-shaped lives in `oap-core`; everything
//! runtime-shaped (spawn, timers, TCP, TLS) is supplied through the small
//! [`Runtime`] trait. This crate is the glue written once between them:
//! [`ConnectionDriver`] pumps one connection over any `futures-io` stream.
//!
//! * [`runtime`] — the [`Runtime`] trait a runtime crate implements.
//! * [`driver`] — the driver future and the [`Endpoint`] trait through
//!   which an application reacts to events.
//! * [`join`] — a separate reader and writer seen as one stream.
//! * [`framed`] — raw frames over a stream, for tools and tests.
//!
//! Raw frames through an in-memory pipe, as tools and tests script a peer:
//!
//! ```
//! use oap_core::frame::FrameType;
//! use oap_core::payload::{ControlPayload, Hello};
//! use oap_io::{FramedStream, duplex};
//!
//! futures_lite::future::block_on(async {
//!     let (a, b) = duplex(4096);
//!     let (mut a, mut b) = (FramedStream::new(a), FramedStream::new(b));
//!     a.send(&Hello::legacy().to_frame()).await?;
//!     let frame = b.recv().await?.expect("one frame");
//!     assert_eq!(frame.typ, FrameType::Hello);
//!     assert_eq!(Hello::decode(&frame.payload).ok(), Some(Hello::legacy()));
//!     Ok::<(), std::io::Error>(())
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

pub mod driver;
pub mod framed;
pub mod join;
pub mod runtime;

pub use driver::{ConnectionDriver, Endpoint, EndpointHandle, WeakEndpointHandle};
pub use framed::FramedStream;
pub use join::{Join, duplex};
pub use runtime::{AsyncStream, BoxFuture, BoxStream, Listener, Runtime, run_blocking};
