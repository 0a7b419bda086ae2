//! A lingering close for the connections the proxy answers before it has read their request
//! body (a 413 for a body past the cap, a refusal): the answer is sent and the write side shut,
//! then what the client is still sending is read and dropped for a little while before the
//! socket closes. Closing a socket with unread data makes the kernel send a reset, and a client
//! still writing its body then loses the answer it was sent (Python's requests reports
//! "connection reset" instead of the 413). nginx's `lingering_close` does the same.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// How long a closing connection keeps reading what its client still sends.
pub const LINGER: Duration = Duration::from_secs(5);

/// An I/O stream whose shutdown drains the read side (until end of stream, an error or
/// [`LINGER`]) after shutting the write side.
pub struct Linger<T> {
    inner: T,
    state: State,
}

enum State {
    Open,
    /// The write side is shut; reading until this fires.
    Draining(Pin<Box<Sleep>>),
    Closed,
}

impl<T> Linger<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        Linger {
            inner,
            state: State::Open,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Linger<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Linger<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Open => {
                    ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                    this.state = State::Draining(Box::pin(tokio::time::sleep(LINGER)));
                }
                State::Draining(deadline) => {
                    if deadline.as_mut().poll(cx).is_ready() {
                        this.state = State::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 8192];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf)) {
                        Ok(()) if !buf.filled().is_empty() => {}
                        // End of stream or a failed read: nothing more will come.
                        _ => this.state = State::Closed,
                    }
                }
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn shutdown_reads_what_the_peer_still_sends_until_it_closes() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut ours = Linger::new(ours);
        let peer = tokio::spawn(async move {
            // More than the pipe holds: this only completes if the closing side reads it.
            theirs.write_all(&[7u8; 4096]).await.unwrap();
            let mut answer = Vec::new();
            theirs.read_to_end(&mut answer).await.unwrap();
            drop(theirs);
            answer
        });
        ours.write_all(b"413").await.unwrap();
        ours.shutdown().await.unwrap();
        // Without the drain the peer's write would now fail on a closed pipe.
        drop(ours);
        assert_eq!(peer.await.unwrap(), b"413");
    }
}
