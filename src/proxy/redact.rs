//! Replacing an injected secret that a response echoes back with the placeholder the child
//! knows, in headers, in whole bodies and in bodies that stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::Frame;
use hyper::header::{HeaderMap, HeaderValue};
use memchr::memmem;
use zeroize::Zeroizing;

use super::http::{Body, BoxError};

/// Replaces `secret` in every header value.
pub fn headers(headers: &mut HeaderMap, secret: &[u8], placeholder: &[u8]) {
    if secret.is_empty() {
        return;
    }
    let finder = memmem::Finder::new(secret);
    let mut unfixable = Vec::new();
    for (name, value) in headers.iter_mut() {
        if finder.find(value.as_bytes()).is_some() {
            let (out, _) = replace(&finder, value.as_bytes(), placeholder, value.len());
            match HeaderValue::from_bytes(&out) {
                Ok(v) => *value = v,
                // Fail closed: a header that cannot hold the placeholder goes, secret and all.
                Err(_) => unfixable.push(name.clone()),
            }
        }
    }
    for name in unfixable {
        headers.remove(name);
    }
}

/// Replaces `secret` in a whole body.
pub fn whole(body: Bytes, secret: &[u8], placeholder: &[u8]) -> Bytes {
    let finder = memmem::Finder::new(secret);
    if secret.is_empty() || finder.find(&body).is_none() {
        return body;
    }
    Bytes::from(replace(&finder, &body, placeholder, body.len()).0)
}

/// Copies `buf[..until]` with every match that starts before `until` replaced; returns the
/// copy and where in `buf` it stopped (past `until` when a match straddles it).
fn replace(finder: &memmem::Finder<'_>, buf: &[u8], with: &[u8], until: usize) -> (Vec<u8>, usize) {
    let n = finder.needle().len();
    let mut out = Vec::with_capacity(until);
    let mut pos = 0;
    for m in finder.find_iter(buf) {
        if m >= until {
            break;
        }
        out.extend_from_slice(&buf[pos..m]);
        out.extend_from_slice(with);
        pos = m + n;
    }
    let end = until.max(pos);
    out.extend_from_slice(&buf[pos..end]);
    (out, end)
}

/// A body with the secret replaced as it streams. Only a chunk's end that could be the start of
/// the secret waits for the next chunk (so a secret split across chunks is still found);
/// everything else goes on at once, so streamed events are not delayed.
pub struct Stream {
    inner: Body,
    secret: Zeroizing<Vec<u8>>,
    placeholder: Vec<u8>,
    held: Vec<u8>,
    trailers: Option<Frame<Bytes>>,
    done: bool,
}

impl Stream {
    /// Wraps `inner`.
    pub fn new(inner: Body, secret: &[u8], placeholder: &[u8]) -> Self {
        Stream {
            inner,
            secret: Zeroizing::new(secret.to_vec()),
            placeholder: placeholder.to_vec(),
            held: Vec::new(),
            trailers: None,
            done: false,
        }
    }

    /// What can be sent now; everything when `last`.
    fn drain(&mut self, last: bool) -> Bytes {
        let buf = std::mem::take(&mut self.held);
        if self.secret.is_empty() {
            return Bytes::from(buf);
        }
        let finder = memmem::Finder::new(self.secret.as_slice());
        let until = if last {
            buf.len()
        } else {
            buf.len() - partial_match(&buf, &self.secret)
        };
        let (out, end) = replace(&finder, &buf, &self.placeholder, until);
        self.held = buf[end..].to_vec();
        Bytes::from(out)
    }
}

impl hyper::body::Body for Stream {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if let Some(t) = this.trailers.take() {
            return Poll::Ready(Some(Ok(t)));
        }
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        this.held.extend_from_slice(&data);
                        let out = this.drain(false);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(mut trailers) => {
                        if let Some(t) = trailers.trailers_mut() {
                            headers(t, &this.secret, &this.placeholder);
                        }
                        let out = this.drain(true);
                        if out.is_empty() {
                            return Poll::Ready(Some(Ok(trailers)));
                        }
                        this.trailers = Some(trailers);
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                },
                Poll::Ready(None) => {
                    this.done = true;
                    let out = this.drain(true);
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(out))));
                    }
                }
            }
        }
    }
}

/// The length of the longest end of `buf` that is a proper start of `secret`.
fn partial_match(buf: &[u8], secret: &[u8]) -> usize {
    let Some(&last) = buf.last() else {
        return 0;
    };
    (1..secret.len().min(buf.len() + 1))
        .rev()
        .find(|&k| secret[k - 1] == last && buf.ends_with(&secret[..k]))
        .unwrap_or(0)
}

/// A gRPC body (each message framed by a flag byte and a 4-byte length) with the secrets
/// replaced inside each message and its length set again: replacing bytes in the stream would
/// break the framing. A compressed message cannot be searched, so it ends the body with an
/// error rather than pass unread (injected requests ask for none).
pub struct GrpcMessages {
    inner: Body,
    secrets: Vec<Zeroizing<Vec<u8>>>,
    placeholder: Vec<u8>,
    held: Zeroizing<Vec<u8>>,
    done: bool,
}

impl GrpcMessages {
    /// Wraps `inner`.
    pub fn new<'a>(
        inner: Body,
        secrets: impl Iterator<Item = &'a [u8]>,
        placeholder: &[u8],
    ) -> Self {
        GrpcMessages {
            inner,
            secrets: secrets.map(|s| Zeroizing::new(s.to_vec())).collect(),
            placeholder: placeholder.to_vec(),
            held: Zeroizing::new(Vec::new()),
            done: false,
        }
    }

    /// The next whole message, redacted and framed again, if one has arrived.
    fn next_message(&mut self) -> Result<Option<Bytes>, BoxError> {
        let Some(head) = self.held.get(..5) else {
            return Ok(None);
        };
        let flag = head[0];
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if self.held.len() < 5 + len {
            return Ok(None);
        }
        if flag & 1 == 1 {
            return Err(
                "authsome cannot search a compressed gRPC message for an echoed credential, so it ended the answer"
                    .into(),
            );
        }
        let message = Bytes::copy_from_slice(&self.held[5..5 + len]);
        self.held.drain(..5 + len);
        let message = self
            .secrets
            .iter()
            .fold(message, |m, secret| whole(m, secret, &self.placeholder));
        let len = u32::try_from(message.len()).map_err(|_| "a gRPC message outgrew 4 GiB")?;
        let mut out = Vec::with_capacity(5 + message.len());
        out.push(flag);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&message);
        Ok(Some(Bytes::from(out)))
    }
}

impl hyper::body::Body for GrpcMessages {
    type Data = Bytes;
    type Error = BoxError;

    // An answer with no messages (a gRPC error is one: its status in the headers) goes out as
    // one HEADERS frame that ends the stream, which is what gRPC clients read it as.
    fn is_end_stream(&self) -> bool {
        self.held.is_empty() && (self.done || self.inner.is_end_stream())
    }

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            match this.next_message() {
                Ok(Some(message)) => return Poll::Ready(Some(Ok(Frame::data(message)))),
                Ok(None) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
            if this.done {
                if !this.held.is_empty() {
                    return Poll::Ready(Some(Err("a gRPC message was cut short".into())));
                }
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.done = true,
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => this.held.extend_from_slice(&data),
                    Err(mut trailers) => {
                        if !this.held.is_empty() {
                            return Poll::Ready(Some(Err("a gRPC message was cut short".into())));
                        }
                        if let Some(t) = trailers.trailers_mut() {
                            for secret in &this.secrets {
                                headers(t, secret, &this.placeholder);
                            }
                        }
                        this.done = true;
                        return Poll::Ready(Some(Ok(trailers)));
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[test]
    fn whole_bodies_and_headers() {
        let b = whole(Bytes::from_static(b"a sk-1 b sk-1"), b"sk-1", b"PH");
        assert_eq!(&b[..], b"a PH b PH");
        let mut h = HeaderMap::new();
        h.insert("x-echo", HeaderValue::from_static("Bearer sk-1"));
        headers(&mut h, b"sk-1", b"PH");
        assert_eq!(h["x-echo"], "Bearer PH");
    }

    /// A body that yields fixed chunks.
    struct Chunks(std::collections::VecDeque<Bytes>);

    impl hyper::body::Body for Chunks {
        type Data = Bytes;
        type Error = BoxError;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    #[test]
    fn only_a_possible_start_of_the_secret_waits() {
        assert_eq!(partial_match(b"data: hello\n\n", b"secret-42"), 0);
        assert_eq!(partial_match(b"xx secr", b"secret-42"), 4);
        assert_eq!(partial_match(b"xx secret-4", b"secret-42"), 8);
        assert_eq!(partial_match(b"s", b"secret-42"), 1);
        assert_eq!(partial_match(b"", b"secret-42"), 0);
        // A chunk with nothing that could begin the secret goes on whole, at once.
        let mut s = Stream::new(
            http_body_util::Empty::new().map_err(|n| match n {}).boxed(),
            b"secret-42",
            b"<ph>",
        );
        s.held = b"event: one\n\n".to_vec();
        assert_eq!(&s.drain(false)[..], b"event: one\n\n");
        assert!(s.held.is_empty());
    }

    #[test]
    fn a_secret_split_across_chunks_is_found() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let text = b"xx secret-42 yy secret-42";
        for split in 0..=text.len() {
            let (a, b) = text.split_at(split);
            let chunks = [a, b].map(Bytes::copy_from_slice).into_iter().collect();
            let s = Stream::new(Chunks(chunks).boxed(), b"secret-42", b"<ph>");
            let out = rt.block_on(s.collect()).unwrap().to_bytes();
            assert_eq!(&out[..], b"xx <ph> yy <ph>", "split at {split}");
        }
    }
}
