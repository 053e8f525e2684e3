//! A counting TCP proxy in front of the scripted model server: every byte a client sends
//! passes through it, and each HTTP/1.1 request is cut out of the stream (head, then a
//! `content-length` or chunked body) and recorded as it was on the wire. The model server's
//! own records hold parsed JSON; the proxy holds what was actually sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    pub method: String,
    pub path: String,
    /// Everything on the wire for this request: request line, headers, body framing, body.
    pub wire_bytes: usize,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

#[derive(Debug)]
enum Framing {
    Head,
    Length {
        head: Head,
        remaining: usize,
    },
    Chunked {
        head: Head,
    },
    /// No usable framing: the rest of the connection is this request's body.
    UntilClose {
        head: Head,
    },
}

#[derive(Debug)]
struct Head {
    method: String,
    path: String,
    consumed: usize,
    body: Vec<u8>,
}

impl Head {
    fn finish(self) -> WireRequest {
        WireRequest {
            method: self.method,
            path: self.path,
            wire_bytes: self.consumed,
            body: self.body,
        }
    }
}

/// Cuts HTTP/1.1 requests out of a client's byte stream, fed in arbitrary pieces.
#[derive(Debug)]
pub struct Splitter {
    buf: Vec<u8>,
    state: Framing,
}

impl Default for Splitter {
    fn default() -> Splitter {
        Splitter {
            buf: Vec::new(),
            state: Framing::Head,
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(text: &str, consumed: usize) -> Framing {
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let path = first.next().unwrap_or_default().to_owned();
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let head = Head {
        method,
        path,
        consumed,
        body: Vec::new(),
    };
    match (chunked, length) {
        (true, _) => Framing::Chunked { head },
        (false, Some(remaining)) => Framing::Length { head, remaining },
        // A request without a body (GET and friends) is complete with its head.
        (false, None) if matches!(head.method.as_str(), "GET" | "HEAD" | "DELETE" | "OPTIONS") => {
            Framing::Length { head, remaining: 0 }
        }
        (false, None) => Framing::UntilClose { head },
    }
}

impl Splitter {
    /// Takes the next piece of the stream; returns the requests it completed.
    pub fn feed(&mut self, data: &[u8]) -> Vec<WireRequest> {
        self.buf.extend_from_slice(data);
        let mut done = Vec::new();
        loop {
            let state = std::mem::replace(&mut self.state, Framing::Head);
            let (next, progressed) = self.step(state, &mut done);
            self.state = next;
            if !progressed {
                return done;
            }
        }
    }

    /// The connection ended: a request read until the close is complete now.
    pub fn close(self) -> Option<WireRequest> {
        match self.state {
            Framing::UntilClose { mut head } => {
                head.consumed += self.buf.len();
                head.body.extend_from_slice(&self.buf);
                Some(head.finish())
            }
            Framing::Head | Framing::Length { .. } | Framing::Chunked { .. } => None,
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        self.buf.drain(..n).collect()
    }

    fn step(&mut self, state: Framing, done: &mut Vec<WireRequest>) -> (Framing, bool) {
        match state {
            Framing::Head => match find(&self.buf, b"\r\n\r\n") {
                Some(end) => {
                    let raw = self.take(end + 4);
                    let text = String::from_utf8_lossy(&raw[..end]).into_owned();
                    (parse_head(&text, raw.len()), true)
                }
                None => (Framing::Head, false),
            },
            Framing::Length {
                mut head,
                remaining,
            } => {
                let n = remaining.min(self.buf.len());
                let piece = self.take(n);
                head.consumed += n;
                head.body.extend_from_slice(&piece);
                if remaining - n == 0 {
                    done.push(head.finish());
                    (Framing::Head, true)
                } else {
                    (
                        Framing::Length {
                            head,
                            remaining: remaining - n,
                        },
                        false,
                    )
                }
            }
            Framing::Chunked { mut head } => {
                let Some(eol) = find(&self.buf, b"\r\n") else {
                    return (Framing::Chunked { head }, false);
                };
                let size_text = String::from_utf8_lossy(&self.buf[..eol]).into_owned();
                let size_hex = size_text.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size_hex, 16).unwrap_or(0);
                // The last chunk is `0\r\n` and the empty trailer line.
                let need = if size == 0 {
                    eol + 4
                } else {
                    eol + 2 + size + 2
                };
                if self.buf.len() < need {
                    return (Framing::Chunked { head }, false);
                }
                let raw = self.take(need);
                head.consumed += raw.len();
                if size == 0 {
                    done.push(head.finish());
                    (Framing::Head, true)
                } else {
                    head.body.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
                    (Framing::Chunked { head }, true)
                }
            }
            Framing::UntilClose { head } => (Framing::UntilClose { head }, false),
        }
    }
}

/// A running proxy: `url()` for the client, `take()` for what it sent.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    records: Arc<Mutex<Vec<WireRequest>>>,
    task: JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let records = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn({
            let records = Arc::clone(&records);
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(relay(client, upstream, Arc::clone(&records)));
                }
            }
        });
        Ok(Proxy {
            addr,
            records,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The requests recorded so far, in the order they were complete.
    pub fn requests(&self) -> Vec<WireRequest> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, records: Arc<Mutex<Vec<WireRequest>>>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    let down = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
    });
    let mut splitter = Splitter::default();
    let mut buf = vec![0u8; 64 * 1024];
    let push = |done: Vec<WireRequest>| {
        records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(done);
    };
    loop {
        let n = match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to_server.write_all(&buf[..n]).await.is_err() {
            break;
        }
        push(splitter.feed(&buf[..n]));
    }
    push(splitter.close().into_iter().collect());
    let _ = to_server.shutdown().await;
    let _ = down.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn request(method: &str, path: &str, wire: &str, body: &str) -> WireRequest {
        WireRequest {
            method: method.into(),
            path: path.into(),
            wire_bytes: wire.len(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn requests_fed_byte_by_byte_and_back_to_back() {
        let first = "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
        let second = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
        let third = "POST /v1/messages HTTP/1.1\r\ncontent-length: 2\r\n\r\n{}";
        let stream = format!("{first}{second}{third}");
        let mut whole = Splitter::default();
        let at_once = whole.feed(stream.as_bytes());
        let mut split = Splitter::default();
        let mut by_byte = Vec::new();
        for b in stream.as_bytes() {
            by_byte.extend(split.feed(&[*b]));
        }
        let want = vec![
            request("POST", "/v1/messages", first, "{\"a\":1}"),
            request("GET", "/v1/models", second, ""),
            request("POST", "/v1/messages", third, "{}"),
        ];
        assert_eq!(at_once, want);
        assert_eq!(by_byte, want);
    }

    #[test]
    fn chunked_bodies_are_put_together() {
        let wire = "POST /v1/messages HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n";
        let mut s = Splitter::default();
        let (a, b) = wire.split_at(60);
        let mut got = s.feed(a.as_bytes());
        got.extend(s.feed(b.as_bytes()));
        assert_eq!(
            got,
            vec![request("POST", "/v1/messages", wire, "{\"a\":1}")]
        );
    }

    #[test]
    fn a_body_without_framing_ends_with_the_connection() {
        let wire = "POST /x HTTP/1.1\r\n\r\nabc";
        let mut s = Splitter::default();
        assert_eq!(s.feed(wire.as_bytes()), vec![]);
        assert_eq!(s.close(), Some(request("POST", "/x", wire, "abc")));
    }
}
