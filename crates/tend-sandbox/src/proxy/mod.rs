//! tend's allowlist proxy: the only way out of a sandbox whose task lists `[sandbox] network`
//! domains. It speaks HTTP `CONNECT` (for https and anything else over TCP) and plain-HTTP
//! forwarding, lets through only the listed domains (`*.example.com` for subdomains), never an
//! IP literal, and connects only to public addresses whatever a name resolves to. Every
//! decision is recorded for the transcript.
//!
//! One [`Proxy`] serves a run; each shell command gets its own [`ProxySession`] (a listener of
//! its own), so each command's decisions are its own.

mod allow;
mod http;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

pub use allow::AddressPolicy;

/// How long the proxy waits for a client's request head, and for an upstream connection.
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// Turns a host name into addresses.
pub trait Resolve: Send + Sync + fmt::Debug {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>>;
}

/// The system's resolver (`getaddrinfo`, on tokio's blocking pool).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Fixed answers, for tests and demos: a name not in the table does not resolve.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver(pub HashMap<String, Vec<IpAddr>>);

impl Resolve for StaticResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        let found = self.0.get(host).map(|ips| {
            ips.iter()
                .map(|ip| SocketAddr::new(*ip, port))
                .collect::<Vec<_>>()
        });
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "unknown host"))
        })
    }
}

/// What the proxy lets through.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Listed domains: `crates.io`, `*.github.com`.
    pub allow: Vec<String>,
    pub resolver: Arc<dyn Resolve>,
    pub addresses: AddressPolicy,
}

impl ProxyConfig {
    /// The allowlist with the system resolver and public addresses only.
    pub fn new(allow: Vec<String>) -> ProxyConfig {
        ProxyConfig {
            allow,
            resolver: Arc::new(SystemResolver),
            addresses: AddressPolicy::PublicOnly,
        }
    }
}

/// One decision of the proxy, for the transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxyDecision {
    /// `CONNECT`, `GET`, …
    pub method: String,
    pub host: String,
    pub port: u16,
    pub verdict: Verdict,
    /// Why, for anything but a clean `allowed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Listed, and the connection was made.
    Allowed,
    /// Not listed, an IP literal, or resolving only to non-public addresses.
    Denied,
    /// Listed, but the name did not resolve or the server did not answer.
    Failed,
}

/// The proxy of one run. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Proxy {
    config: Arc<ProxyConfig>,
}

/// Where a session listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

/// One command's listener; stops (and drops its connections) when dropped.
#[derive(Debug)]
pub struct ProxySession {
    endpoint: Endpoint,
    log: Arc<Mutex<Vec<ProxyDecision>>>,
    task: JoinHandle<()>,
    /// The private folder of a Unix socket, removed with the session.
    dir: Option<PathBuf>,
}

impl ProxySession {
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The decisions so far, in order.
    pub fn decisions(&self) -> Vec<ProxyDecision> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for ProxySession {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Proxy {
    pub fn new(config: ProxyConfig) -> Proxy {
        Proxy {
            config: Arc::new(config),
        }
    }

    pub fn allow(&self) -> &[String] {
        &self.config.allow
    }

    /// Listens on a Unix socket in a new private folder under `parent` (mode 0700). Must be
    /// called within a tokio runtime.
    #[cfg(unix)]
    pub fn listen_unix(&self, parent: &Path) -> io::Result<ProxySession> {
        use std::os::unix::fs::DirBuilderExt;
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = parent.join(format!("tend-proxy-{}-{n}", std::process::id()));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        let path = dir.join("proxy.sock");
        let listener = match tokio::net::UnixListener::bind(&path) {
            Ok(listener) => listener,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(err);
            }
        };
        let log = Arc::default();
        let task = tokio::spawn(accept_loop(
            UnixAccept(listener),
            self.config.clone(),
            Arc::clone(&log),
        ));
        Ok(ProxySession {
            endpoint: Endpoint::Unix(path),
            log,
            task,
            dir: Some(dir),
        })
    }

    /// Listens on 127.0.0.1 at a free port. Must be called within a tokio runtime.
    pub fn listen_tcp(&self) -> io::Result<ProxySession> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = TcpListener::from_std(std_listener)?;
        let log = Arc::default();
        let task = tokio::spawn(accept_loop(
            TcpAccept(listener),
            self.config.clone(),
            Arc::clone(&log),
        ));
        Ok(ProxySession {
            endpoint: Endpoint::Tcp(addr),
            log,
            task,
            dir: None,
        })
    }
}

trait Accept: Send + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept(&self) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

struct TcpAccept(TcpListener);
impl Accept for TcpAccept {
    type Stream = TcpStream;
    async fn accept(&self) -> io::Result<TcpStream> {
        self.0.accept().await.map(|(s, _)| s)
    }
}

#[cfg(unix)]
struct UnixAccept(tokio::net::UnixListener);
#[cfg(unix)]
impl Accept for UnixAccept {
    type Stream = tokio::net::UnixStream;
    async fn accept(&self) -> io::Result<tokio::net::UnixStream> {
        self.0.accept().await.map(|(s, _)| s)
    }
}

async fn accept_loop<A: Accept>(
    listener: A,
    config: Arc<ProxyConfig>,
    log: Arc<Mutex<Vec<ProxyDecision>>>,
) {
    // Dropping this loop (the session ends) drops the set, which aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    connections.spawn(serve(stream, config.clone(), Arc::clone(&log)));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn record(log: &Mutex<Vec<ProxyDecision>>, decision: ProxyDecision) {
    if let Ok(mut log) = log.lock() {
        log.push(decision);
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut client: S,
    config: Arc<ProxyConfig>,
    log: Arc<Mutex<Vec<ProxyDecision>>>,
) {
    let Ok(Ok((head, rest))) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut client)).await
    else {
        return;
    };
    let request = match http::parse(&head) {
        Ok(r) => r,
        Err(why) => {
            let _ = client
                .write_all(&http::answer(400, "Bad Request", &why))
                .await;
            return;
        }
    };
    let decide = |verdict, reason: Option<String>| ProxyDecision {
        method: request.method.clone(),
        host: request.host.clone(),
        port: request.port,
        verdict,
        reason,
    };
    if let Some(why) = allow::refusal(&request.host, &config.allow) {
        record(&log, decide(Verdict::Denied, Some(why.clone())));
        let _ = client
            .write_all(&http::answer(403, "Forbidden", &why))
            .await;
        return;
    }
    let upstream = match connect(&config, &request.host, request.port).await {
        Ok(stream) => stream,
        Err((verdict, why)) => {
            record(&log, decide(verdict, Some(why.clone())));
            let (status, text) = match verdict {
                Verdict::Denied => (403, "Forbidden"),
                Verdict::Allowed | Verdict::Failed => (502, "Bad Gateway"),
            };
            let _ = client.write_all(&http::answer(status, text, &why)).await;
            return;
        }
    };
    record(&log, decide(Verdict::Allowed, None));
    let mut upstream = upstream;
    let greeting: &[u8] = if request.is_connect() {
        b"HTTP/1.1 200 Connection established\r\n\r\n"
    } else {
        b""
    };
    if client.write_all(greeting).await.is_err()
        || upstream.write_all(&request.upstream_head).await.is_err()
        || upstream.write_all(&rest).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// The head (through the blank line) and whatever followed it in the same reads.
async fn read_head<S: AsyncRead + Unpin>(client: &mut S) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let n = client.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = http::head_end(&buf) {
            let rest = buf.split_off(end);
            return Ok((buf, rest));
        }
        if buf.len() > http::MAX_HEAD {
            return Err(io::ErrorKind::InvalidData.into());
        }
    }
}

/// Resolves and connects to the first permitted address.
async fn connect(
    config: &ProxyConfig,
    host: &str,
    port: u16,
) -> Result<TcpStream, (Verdict, String)> {
    let addrs = config
        .resolver
        .resolve(host, port)
        .await
        .map_err(|e| (Verdict::Failed, format!("{host} does not resolve: {e}")))?;
    let permitted: Vec<SocketAddr> = addrs
        .iter()
        .copied()
        .filter(|a| config.addresses.permits(a.ip()))
        .collect();
    if permitted.is_empty() {
        let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        return Err((
            Verdict::Denied,
            format!(
                "{host} resolves only to addresses the proxy does not reach ({})",
                shown.join(", ")
            ),
        ));
    }
    let mut last = String::from("no address");
    for addr in permitted {
        match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: timed out"),
        }
    }
    Err((Verdict::Failed, format!("cannot reach {host}: {last}")))
}
