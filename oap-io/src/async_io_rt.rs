//! Timers and TCP on `async-io` / `async-net`: runtime-neutral pieces that
//! the smol and async-std adapters share (both run `futures-io` streams).

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use crate::{BoxFuture, BoxStream, Listener};

/// A future completing at `deadline`, driven by async-io's reactor.
pub fn sleep_until(deadline: Instant) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        async_io::Timer::at(deadline).await;
    })
}

/// Binds a TCP listener.
pub fn bind(addr: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Listener>>> {
    Box::pin(async move {
        let l = async_net::TcpListener::bind(addr).await?;
        Ok(Box::new(TcpListener(l)) as Box<dyn Listener>)
    })
}

/// Connects over TCP, with Nagle off (frames are already batched).
pub fn connect(addr: SocketAddr) -> BoxFuture<'static, io::Result<BoxStream>> {
    Box::pin(async move {
        let s = async_net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Box::new(s) as BoxStream)
    })
}

struct TcpListener(async_net::TcpListener);

impl Listener for TcpListener {
    fn accept(&self) -> BoxFuture<'_, io::Result<(BoxStream, SocketAddr)>> {
        Box::pin(async move {
            let (s, peer) = self.0.accept().await?;
            s.set_nodelay(true)?;
            Ok((Box::new(s) as BoxStream, peer))
        })
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
