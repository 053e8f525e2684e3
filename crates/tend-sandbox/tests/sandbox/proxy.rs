//! The allowlist proxy: directly over its socket, and from inside each mechanism with curl.
//! "Listed domains" resolve (through the test's own resolver) to a server on this machine's
//! loopback; nothing here leaves the machine.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pretty_assertions::assert_eq;
use tend_sandbox::proxy::{AddressPolicy, Endpoint, StaticResolver};
use tend_sandbox::{
    DenialKind, MechanismKind, Proxy, ProxyConfig, ProxyDecision, SandboxPolicy, Verdict,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{Fx, working};

/// A tiny HTTP server on 127.0.0.1 that answers `hello` and remembers request lines.
struct Upstream {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    accepted: Arc<AtomicUsize>,
}

async fn upstream() -> Upstream {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let accepted = Arc::new(AtomicUsize::new(0));
    let (reqs, acc) = (Arc::clone(&requests), Arc::clone(&accepted));
    tokio::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            acc.fetch_add(1, Ordering::SeqCst);
            let reqs = Arc::clone(&reqs);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                let text = String::from_utf8_lossy(&got);
                reqs.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_owned());
                let _ = conn
                    .write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n",
                    )
                    .await;
            });
        }
    });
    Upstream {
        port,
        requests,
        accepted,
    }
}

fn proxy(addresses: AddressPolicy) -> Proxy {
    let loopback = vec![IpAddr::V4(Ipv4Addr::LOCALHOST)];
    let resolver = StaticResolver(HashMap::from([
        ("allowed.test".to_owned(), loopback.clone()),
        ("api.wild.test".to_owned(), loopback.clone()),
        ("denied.test".to_owned(), loopback),
    ]));
    Proxy::new(ProxyConfig {
        allow: vec!["allowed.test".into(), "*.wild.test".into()],
        resolver: Arc::new(resolver),
        addresses,
    })
}

async fn ask(session: &tend_sandbox::proxy::ProxySession, request: String) -> String {
    let Endpoint::Unix(path) = session.endpoint() else {
        panic!("not a unix socket")
    };
    let mut conn = tokio::net::UnixStream::connect(path).await.unwrap();
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).await.unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn decision(
    method: &str,
    host: &str,
    port: u16,
    verdict: Verdict,
    reason: Option<&str>,
) -> ProxyDecision {
    ProxyDecision {
        method: method.into(),
        host: host.into(),
        port,
        verdict,
        reason: reason.map(str::to_owned),
    }
}

#[tokio::test]
async fn listed_domains_pass_others_are_refused_and_every_decision_is_logged() {
    let up = upstream().await;
    let port = up.port;
    let dir = tempfile::tempdir().unwrap();
    let session = proxy(AddressPolicy::Any).listen_unix(dir.path()).unwrap();

    let plain = ask(
        &session,
        format!("GET http://allowed.test:{port}/x?y HTTP/1.1\r\nHost: allowed.test\r\nProxy-Connection: keep-alive\r\n\r\n"),
    )
    .await;
    assert!(plain.ends_with("\r\n\r\nhello\n"), "{plain}");

    let tunnel = ask(
        &session,
        format!("CONNECT api.wild.test:{port} HTTP/1.1\r\n\r\nGET /t HTTP/1.1\r\nHost: x\r\n\r\n"),
    )
    .await;
    assert!(
        tunnel.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK"),
        "{tunnel}"
    );

    let refused = ask(
        &session,
        "CONNECT denied.test:443 HTTP/1.1\r\n\r\n".to_owned(),
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 403 Forbidden"), "{refused}");
    assert!(refused.contains(
        "denied.test is not in the task's [sandbox] network (allowed.test, *.wild.test)"
    ));

    let literal = ask(
        &session,
        format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\n\r\n"),
    )
    .await;
    assert!(literal.starts_with("HTTP/1.1 403 Forbidden"), "{literal}");

    let bad = ask(&session, "GET /relative HTTP/1.1\r\n\r\n".to_owned()).await;
    assert!(bad.starts_with("HTTP/1.1 400 Bad Request"), "{bad}");

    assert_eq!(
        *up.requests.lock().unwrap(),
        vec!["GET /x?y HTTP/1.1".to_owned(), "GET /t HTTP/1.1".to_owned()]
    );
    assert_eq!(
        session.decisions(),
        vec![
            decision("GET", "allowed.test", port, Verdict::Allowed, None),
            decision("CONNECT", "api.wild.test", port, Verdict::Allowed, None),
            decision(
                "CONNECT",
                "denied.test",
                443,
                Verdict::Denied,
                Some(
                    "denied.test is not in the task's [sandbox] network (allowed.test, *.wild.test)"
                )
            ),
            decision(
                "GET",
                "127.0.0.1",
                port,
                Verdict::Denied,
                Some(
                    "127.0.0.1 is an IP address; the proxy only reaches domain names listed in the task's [sandbox] network"
                )
            ),
        ]
    );
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused_before_connecting() {
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let session = proxy(AddressPolicy::PublicOnly)
        .listen_unix(dir.path())
        .unwrap();
    let answer = ask(
        &session,
        format!("CONNECT allowed.test:{} HTTP/1.1\r\n\r\n", up.port),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden"), "{answer}");
    assert_eq!(
        session.decisions()[0].reason.as_deref(),
        Some("allowed.test resolves only to addresses the proxy does not reach (127.0.0.1)")
    );
    assert_eq!(up.accepted.load(Ordering::SeqCst), 0);
}

/// curl inside each mechanism: the listed name works (plain and tunnelled), an unlisted one is
/// refused by the proxy, and the host's loopback is out of reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_inside_each_sandbox() {
    let up = upstream().await;
    let port = up.port;
    let fx = Fx::new();
    for kind in [MechanismKind::Bubblewrap, MechanismKind::Landlock] {
        let policy = SandboxPolicy {
            network: vec!["allowed.test".into(), "*.wild.test".into()],
            ..fx.policy()
        };
        let sb = fx.sandbox_with_proxy(working(kind), policy, proxy(AddressPolicy::Any));
        let run = |script: String| tokio::task::block_in_place(|| fx.run(&sb, &script));

        let ran = run(format!("curl -sS http://allowed.test:{port}/plain"));
        assert_eq!(ran.stdout, "hello\n", "{}: {ran:?}", kind.name());
        assert_eq!(
            ran.report.proxy,
            vec![decision(
                "GET",
                "allowed.test",
                port,
                Verdict::Allowed,
                None
            )]
        );

        let ran = run(format!(
            "curl -sS --proxytunnel http://api.wild.test:{port}/tunnel"
        ));
        assert_eq!(ran.stdout, "hello\n", "{}: {ran:?}", kind.name());

        let ran = run("curl -sS https://denied.test/".to_owned());
        assert_eq!(ran.code, Some(56), "{}: {ran:?}", kind.name());
        assert_eq!(ran.denial_kinds(), [DenialKind::Proxy]);
        assert_eq!(ran.report.proxy[0].verdict, Verdict::Denied);

        // Straight at the host's loopback, around the proxy.
        let ran = run(format!(
            "curl -sS --noproxy '*' http://127.0.0.1:{port}/direct"
        ));
        assert_ne!(ran.code, Some(0), "{}: {ran:?}", kind.name());
        assert_eq!(ran.denial_kinds(), [DenialKind::Network], "{ran:?}");
        assert_eq!(ran.report.proxy, vec![]);
    }
    assert!(
        !up.requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains("direct")),
        "a direct request reached the host"
    );
}
