//! The little HTTP the proxy speaks: a request head (`CONNECT host:port` or a plain request with
//! an absolute `http://` URL), and its own short answers.

/// The largest request head the proxy reads.
pub const MAX_HEAD: usize = 64 * 1024;

/// What a client asked the proxy for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub host: String,
    pub port: u16,
    /// For a plain request: the head to send upstream (origin-form target, hop-by-hop and
    /// proxy headers removed, `Connection: close`). Empty for `CONNECT`.
    pub upstream_head: Vec<u8>,
}

impl Request {
    pub fn is_connect(&self) -> bool {
        self.method == "CONNECT"
    }
}

/// Where the head ends (just past the blank line), if it has.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Parses a request head (through its blank line). The error is for a `400` answer.
pub fn parse(head: &[u8]) -> Result<Request, String> {
    let text = std::str::from_utf8(head).map_err(|_| "the request head is not UTF-8".to_owned())?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("malformed request line {first:?}"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(format!("unsupported protocol {version:?}"));
    }
    if method == "CONNECT" {
        let (host, port) = authority(target, None)?;
        return Ok(Request {
            method: method.to_owned(),
            host,
            port,
            upstream_head: Vec::new(),
        });
    }
    let lower = target.to_ascii_lowercase();
    let Some(rest) = lower
        .strip_prefix("http://")
        .map(|_| &target["http://".len()..])
    else {
        return Err(if lower.starts_with("https://") {
            "use CONNECT for https URLs (set HTTPS_PROXY)".to_owned()
        } else {
            format!("a proxy request needs an absolute http:// URL, not {target:?}")
        });
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (auth, path) = rest.split_at(end);
    let (host, port) = authority(auth, Some(80))?;
    let path = match path {
        "" => "/".to_owned(),
        p if p.starts_with('?') => format!("/{p}"),
        p => p.to_owned(),
    };
    let mut out = format!("{method} {path} {version}\r\n");
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let hop = matches!(
            name.as_str(),
            "proxy-connection" | "proxy-authorization" | "connection" | "keep-alive"
        );
        if !hop {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    Ok(Request {
        method: method.to_owned(),
        host,
        port,
        upstream_head: out.into_bytes(),
    })
}

/// `host:port` (IPv6 in brackets); `default` when the port may be left out.
fn authority(auth: &str, default: Option<u16>) -> Result<(String, u16), String> {
    let bad = || format!("bad host {auth:?}");
    let (host, port) = if let Some(v6) = auth.strip_prefix('[') {
        let (host, rest) = v6.split_once(']').ok_or_else(bad)?;
        (host, rest.strip_prefix(':'))
    } else {
        match auth.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (auth, None),
        }
    };
    let port = match (port, default) {
        (Some(p), _) => p.parse::<u16>().map_err(|_| bad())?,
        (None, Some(d)) => d,
        (None, None) => return Err(format!("{auth:?} has no port")),
    };
    if host.is_empty() || host.contains(['@', '/', ' ']) {
        return Err(bad());
    }
    Ok((super::allow::normalize(host), port))
}

/// A complete short answer from the proxy itself.
pub fn answer(status: u16, reason: &str, body: &str) -> Vec<u8> {
    let body = format!("tend sandbox proxy: {body}\n");
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         X-Tend-Sandbox: proxy\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn connect_requests() {
        let req = parse(b"CONNECT crates.io:443 HTTP/1.1\r\nHost: crates.io:443\r\n\r\n").unwrap();
        assert_eq!(
            req,
            Request {
                method: "CONNECT".into(),
                host: "crates.io".into(),
                port: 443,
                upstream_head: Vec::new()
            }
        );
        assert_eq!(
            parse(b"CONNECT [::1]:22 HTTP/1.1\r\n\r\n").unwrap().host,
            "::1"
        );
        assert_eq!(
            parse(b"CONNECT crates.io HTTP/1.1\r\n\r\n"),
            Err("\"crates.io\" has no port".to_owned())
        );
    }

    #[test]
    fn plain_requests_are_rewritten_to_origin_form() {
        let req = parse(
            b"GET http://Example.COM:8080/a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\n\
              Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic x\r\nAccept: */*\r\n\r\n",
        )
        .unwrap();
        assert_eq!(req.host, "example.com");
        assert_eq!(req.port, 8080);
        assert_eq!(
            String::from_utf8(req.upstream_head).unwrap(),
            "GET /a/b?c=d HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        );
        let req = parse(b"HEAD http://example.com?q HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(req.port, 80);
        assert_eq!(
            String::from_utf8(req.upstream_head).unwrap(),
            "HEAD /?q HTTP/1.0\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn bad_requests() {
        for (head, why) in [
            (&b"GET /x HTTP/1.1\r\n\r\n"[..], "absolute http:// URL"),
            (b"GET https://x.io/ HTTP/1.1\r\n\r\n", "use CONNECT"),
            (b"GET http://user@x.io/ HTTP/1.1\r\n\r\n", "bad host"),
            (b"GET http://x.io/ SPDY/3\r\n\r\n", "unsupported protocol"),
            (b"NONSENSE\r\n\r\n", "malformed request line"),
        ] {
            let err = parse(head).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
    }

    #[test]
    fn head_end_finds_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nbody"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
