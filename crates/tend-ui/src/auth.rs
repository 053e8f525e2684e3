//! Who may use the dashboard, and how each request proves it.
//!
//! - The server listens on 127.0.0.1 only, and answers only requests whose `Host` is
//!   `127.0.0.1:PORT` or `localhost:PORT` (a page on another site that points a name of its
//!   own at 127.0.0.1, DNS rebinding, gets 403).
//! - The install's key (`<state>/ui-token`) opens a session: `tend ui` prints a link carrying
//!   it; the server answers with a session cookie (HttpOnly, SameSite=Strict) and sends the
//!   browser on to the same page without the key in its address. Every other request needs
//!   that cookie. The cookie is a random session id with a MAC under the key, so sessions
//!   outlive a daemon restart and the server keeps no session table.
//! - Every action is a POST carrying the session's CSRF token (a MAC of the session id under
//!   the key, embedded in the page's forms), from a page of the dashboard itself (`Origin`,
//!   else `Referer`, checked).
//! - Every answer carries a strict Content-Security-Policy (no inline scripts, nothing from
//!   elsewhere), `X-Frame-Options: DENY`, `nosniff` and `Referrer-Policy: same-origin` (no
//!   address leaves for another site; `no-referrer` would make browsers send `Origin: null`
//!   with the dashboard's own form posts, which the origin check then refuses).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::install::random_hex;
use crate::pages::error_page;

/// The install's key and the addresses the server answers to.
pub struct Guard {
    key: Vec<u8>,
    token: String,
    hosts: [String; 2],
    origins: [String; 2],
    cookie: String,
}

/// A request's verified session, for the handlers (their forms carry its CSRF token).
#[derive(Debug, Clone)]
pub struct Session {
    pub csrf: String,
}

impl Session {
    /// Whether a form's token is this session's.
    pub fn accepts(&self, token: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

impl Guard {
    pub fn new(token: &str, port: u16) -> Guard {
        Guard {
            key: token.as_bytes().to_vec(),
            token: token.to_owned(),
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
            origins: [
                format!("http://127.0.0.1:{port}"),
                format!("http://localhost:{port}"),
            ],
            // Cookies ignore ports: two tend homes on one machine must not share one.
            cookie: format!("tend_session_{port}"),
        }
    }

    fn mac(&self, purpose: &str, id: &str) -> String {
        // HMAC takes keys of any length: this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key) else {
            return String::new();
        };
        mac.update(purpose.as_bytes());
        mac.update(b":");
        mac.update(id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn session(&self, id: &str) -> Session {
        Session {
            csrf: self.mac("csrf", id),
        }
    }

    /// The session a cookie names, if its MAC is right.
    fn session_from_cookie(&self, headers: &HeaderMap) -> Option<Session> {
        let prefix = format!("{}=", self.cookie);
        for value in headers.get_all(header::COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            for part in text.split(';') {
                let Some(value) = part.trim().strip_prefix(&prefix) else {
                    continue;
                };
                let Some((id, mac)) = value.split_once('.') else {
                    continue;
                };
                let want = self.mac("session", id);
                if !want.is_empty() && bool::from(want.as_bytes().ct_eq(mac.as_bytes())) {
                    return Some(self.session(id));
                }
            }
        }
        None
    }

    fn host_ok(&self, headers: &HeaderMap) -> bool {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| self.hosts.iter().any(|ok| ok == h))
    }

    /// A state-changing request must come from one of the dashboard's own pages.
    fn origin_ok(&self, headers: &HeaderMap) -> bool {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("");
            return self.origins.iter().any(|ok| ok == origin);
        }
        headers
            .get(header::REFERER)
            .and_then(|r| r.to_str().ok())
            .is_some_and(|r| {
                self.origins.iter().any(|ok| {
                    r.strip_prefix(ok.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
                })
            })
    }
}

/// The `token` query parameter, if any.
fn query_token(uri: &Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "token").then(|| v.to_owned())
    })
}

/// The address without its `token` parameter (other parameters kept).
fn without_token(uri: &Uri) -> String {
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("token="))
        .collect();
    if rest.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), rest.join("&"))
    }
}

fn forbidden(why: &str) -> Response {
    error_page(StatusCode::FORBIDDEN, why)
}

/// Security headers on every answer, then the Host check, the session, and for actions the
/// origin check (the CSRF token is checked by each action's handler, which reads the form).
pub async fn protect(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let mut response = check(&guard, request, next).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        if name == header::CACHE_CONTROL && headers.contains_key(header::CACHE_CONTROL) {
            continue;
        }
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn check(guard: &Guard, mut request: Request, next: Next) -> Response {
    if !guard.host_ok(request.headers()) {
        return forbidden(
            "This dashboard answers only at 127.0.0.1 or localhost, on its own port.",
        );
    }
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD && method != Method::POST {
        return error_page(StatusCode::METHOD_NOT_ALLOWED, "Not here.");
    }
    if request.uri().path().starts_with("/assets/") || request.uri().path() == "/favicon.ico" {
        return next.run(request).await;
    }
    if let Some(token) = query_token(request.uri()) {
        if method != Method::GET || !bool::from(token.as_bytes().ct_eq(guard.token.as_bytes())) {
            return forbidden("This link's key is not this install's. Run `tend ui` again.");
        }
        let Ok(id) = random_hex(16) else {
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot make a session: no randomness from the system.",
            );
        };
        let cookie = format!(
            "{}={id}.{}; Path=/; HttpOnly; SameSite=Strict",
            guard.cookie,
            guard.mac("session", &id)
        );
        let mut response = Redirect::to(&without_token(request.uri())).into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return response;
    }
    let Some(session) = guard.session_from_cookie(request.headers()) else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            "Open the dashboard with `tend ui`: its link carries this install's key.",
        );
    };
    if method == Method::POST && !guard.origin_ok(request.headers()) {
        return forbidden("Actions are accepted only from the dashboard's own pages.");
    }
    request.extensions_mut().insert(session);
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn tokens_leave_the_address_and_sessions_verify() {
        let uri: Uri = "/runs/x?token=abc&page=2".parse().unwrap();
        assert_eq!(query_token(&uri).as_deref(), Some("abc"));
        assert_eq!(without_token(&uri), "/runs/x?page=2");
        let uri: Uri = "/?token=abc".parse().unwrap();
        assert_eq!(without_token(&uri), "/");

        let guard = Guard::new(&"a".repeat(64), 8080);
        let mac = guard.mac("session", "id1");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; tend_session_8080=id1.{mac}")).unwrap(),
        );
        let session = guard.session_from_cookie(&headers).unwrap();
        assert!(session.accepts(&guard.mac("csrf", "id1")));
        assert!(!session.accepts(&guard.mac("csrf", "id2")));
        assert!(!session.accepts(""));
        // A session id with another's MAC, or a cookie of another port, is nobody's.
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("tend_session_8080=id2.{mac}")).unwrap(),
        );
        assert!(guard.session_from_cookie(&headers).is_none());
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("tend_session_8081=id1.{mac}")).unwrap(),
        );
        assert!(guard.session_from_cookie(&headers).is_none());
    }

    #[test]
    fn only_the_dashboard_s_own_origin_may_act() {
        let guard = Guard::new(&"a".repeat(64), 8080);
        let with = |name: header::HeaderName, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_str(value).unwrap());
            h
        };
        assert!(guard.origin_ok(&with(header::ORIGIN, "http://127.0.0.1:8080")));
        assert!(guard.origin_ok(&with(header::ORIGIN, "http://localhost:8080")));
        assert!(!guard.origin_ok(&with(header::ORIGIN, "http://127.0.0.1:8081")));
        assert!(!guard.origin_ok(&with(header::ORIGIN, "null")));
        assert!(!guard.origin_ok(&with(header::ORIGIN, "http://evil.example")));
        assert!(guard.origin_ok(&with(header::REFERER, "http://127.0.0.1:8080/approvals")));
        assert!(!guard.origin_ok(&with(
            header::REFERER,
            "http://127.0.0.1:8080.evil.example/"
        )));
        assert!(!guard.origin_ok(&HeaderMap::new()));
        assert!(guard.host_ok(&with(header::HOST, "localhost:8080")));
        assert!(!guard.host_ok(&with(header::HOST, "rebound.example:8080")));
        assert!(!guard.host_ok(&with(header::HOST, "127.0.0.1")));
    }
}
