//! The reference the scale case is compared with: a plain TCP server that
//! does what the gateway does on the wire and nothing else, and the client
//! connections that time it.
//!
//! For each connection the server reads the HELLO's bytes and writes the
//! gateway's recorded answer, then, until the client closes, reads a
//! put's bytes and writes the gateway's recorded answer to a put. It
//! counts bytes and never looks at them: no frame parsing, no JSON, no
//! hashing, no store. It follows the same [`Script`] as the churn case's
//! reference, with many puts on a connection instead of one.
//!
//! Unlike the churn case's reference (blocking threads in the bench
//! process), it is async on the `oap-io` [`Runtime`] the gateway runs on,
//! with a task per connection as the gateway has, in a child process of its
//! own (`oap-bench serve <runtime> --reference <script>`, see
//! [`crate::server`]): so its sockets, scheduler and thread count are the
//! gateway's, and its CPU time comes from `/proc` as the gateway's does.
//! What is left between the two is the protocol's work.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use oap_io::{BoxStream, Listener, Runtime};
use smol::io::{AsyncReadExt, AsyncWriteExt};

use crate::churn::reference::Script;

/// Accepts connections on `listener` and serves each in a task of its own
/// on `runtime`, following `script`, until accepting fails.
pub async fn serve(
    runtime: Arc<dyn Runtime>,
    listener: Box<dyn Listener>,
    script: Arc<Script>,
) -> io::Result<()> {
    loop {
        // The runtime's `accept` sets the socket options the gateway's
        // connections get (no Nagle), so both servers pay for them.
        let (stream, _) = listener.accept().await?;
        let script = script.clone();
        runtime.spawn(Box::pin(async move {
            // A connection that fails (a client that went away mid-put)
            // ends alone, as a gateway connection would; the client sees
            // the missing answer and fails the run.
            let _ = connection(stream, &script).await;
        }));
    }
}

/// One connection: the HELLO, then puts until the client closes.
async fn connection(mut stream: BoxStream, script: &Script) -> io::Result<()> {
    let mut buf = vec![0u8; script.hello_len.max(script.put_len)];
    stream.read_exact(&mut buf[..script.hello_len]).await?;
    write(&mut stream, &script.replies.hello).await?;
    while read_put(&mut stream, &mut buf[..script.put_len]).await? {
        write(&mut stream, &script.replies.put).await?;
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes; `false` if the stream ended before the
/// first of them (the client is done), an error if it ended in between.
async fn read_put(stream: &mut BoxStream, buf: &mut [u8]) -> io::Result<bool> {
    let first = stream.read(buf).await?;
    if first == 0 && !buf.is_empty() {
        return Ok(false);
    }
    stream.read_exact(&mut buf[first..]).await?;
    Ok(true)
}

/// Writes all of `bytes` and flushes: a `BoxStream` may buffer (TCP
/// streams do not, so the flush costs nothing there).
async fn write(stream: &mut BoxStream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// A client connection to the reference, past its HELLO, with room for
/// one answer to a put.
pub struct Connection {
    stream: BoxStream,
    answer: Vec<u8>,
}

impl Connection {
    /// Connects to `addr` through `runtime`, writes `hello` and reads the
    /// answer `script` says the server gives, failing if it is any other.
    pub async fn open(
        runtime: &dyn Runtime,
        addr: SocketAddr,
        hello: &[u8],
        script: &Script,
    ) -> io::Result<Self> {
        let mut stream = runtime.connect(addr).await?;
        write(&mut stream, hello).await?;
        let mut answer = vec![0u8; script.replies.hello.len()];
        stream.read_exact(&mut answer).await?;
        if answer != script.replies.hello {
            return Err(io::Error::other("the reference answered HELLO otherwise"));
        }
        answer.resize(script.replies.put.len(), 0);
        Ok(Self { stream, answer })
    }

    /// Writes `put` and reads exactly as many bytes as the script's answer
    /// to a put has, into [`Connection::answer`]: the timed part, so it
    /// neither allocates nor compares.
    pub async fn put(&mut self, put: &[u8]) -> io::Result<()> {
        write(&mut self.stream, put).await?;
        self.stream.read_exact(&mut self.answer).await
    }

    /// What the server answered to the last put.
    pub fn answer(&self) -> &[u8] {
        &self.answer
    }
}
