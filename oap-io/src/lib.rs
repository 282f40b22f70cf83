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
//! * [`async_io_rt`] — TCP and timers on `async-io`/`async-net`, shared by
//!   the smol and async-std runtimes.

pub mod async_io_rt;
pub mod driver;
pub mod framed;
pub mod join;
pub mod runtime;

pub use driver::{ConnectionDriver, Endpoint, EndpointHandle, WeakEndpointHandle};
pub use framed::FramedStream;
pub use join::{Join, duplex};
pub use runtime::{AsyncStream, BoxFuture, BoxStream, Listener, Runtime, run_blocking};
