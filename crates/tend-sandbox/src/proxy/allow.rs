//! Which hosts and addresses the proxy lets through.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A host as the client named it, lowercased, without a trailing dot or IPv6 brackets.
pub fn normalize(host: &str) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// Why a host is not let through, or `None` when `allow` lists it (`example.com` exactly,
/// `*.example.com` for its subdomains).
pub fn refusal(host: &str, allow: &[String]) -> Option<String> {
    if host.parse::<IpAddr>().is_ok() {
        return Some(format!(
            "{host} is an IP address; the proxy only reaches domain names listed in the task's \
             [sandbox] network"
        ));
    }
    let listed = allow
        .iter()
        .any(|pattern| match pattern.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => host == pattern,
        });
    if listed {
        None
    } else if allow.is_empty() {
        Some(format!(
            "{host} is not reachable: the task's [sandbox] network lists no domains"
        ))
    } else {
        Some(format!(
            "{host} is not in the task's [sandbox] network ({})",
            allow.join(", ")
        ))
    }
}

/// Which resolved addresses the proxy connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPolicy {
    /// Public unicast addresses only: never this machine, the local network, link-local
    /// (cloud metadata services) or other special ranges, whatever a name resolves to.
    PublicOnly,
    /// Whatever the resolver says (tests with a resolver of their own).
    Any,
}

impl AddressPolicy {
    pub fn permits(self, ip: IpAddr) -> bool {
        match self {
            AddressPolicy::Any => true,
            AddressPolicy::PublicOnly => is_public(ip),
        }
    }
}

fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        // Shared address space (carrier-grade NAT).
        || (a == 100 && (64..128).contains(&b))
        // IETF protocol assignments.
        || (a == 192 && b == 0 && c == 0)
        // Benchmarking.
        || (a == 198 && (18..20).contains(&b))
        // Reserved.
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_public_v4(v4);
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // Unique local fc00::/7, link-local fe80::/10, documentation 2001:db8::/32.
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        // IPv4-compatible (deprecated) ::a.b.c.d.
        || segments[..6] == [0, 0, 0, 0, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn exact_and_wildcard_domains() {
        let allow = list(&["crates.io", "*.github.com"]);
        assert_eq!(refusal("crates.io", &allow), None);
        assert_eq!(refusal("api.github.com", &allow), None);
        assert_eq!(refusal("a.b.github.com", &allow), None);
        assert_eq!(
            refusal("github.com", &allow).as_deref(),
            Some("github.com is not in the task's [sandbox] network (crates.io, *.github.com)")
        );
        assert!(refusal("static.crates.io", &allow).is_some());
        assert!(refusal("evilgithub.com", &allow).is_some());
        assert!(refusal("crates.io.evil.com", &allow).is_some());
        assert_eq!(
            refusal("example.com", &[]).as_deref(),
            Some("example.com is not reachable: the task's [sandbox] network lists no domains")
        );
    }

    #[test]
    fn ip_literals_are_refused_even_when_listed() {
        let allow = list(&["127.0.0.1", "::1"]);
        for host in ["127.0.0.1", "::1", "10.0.0.1"] {
            assert!(
                refusal(host, &allow).unwrap().contains("is an IP address"),
                "{host}"
            );
        }
    }

    #[test]
    fn normalizing() {
        assert_eq!(normalize("Crates.IO."), "crates.io");
        assert_eq!(normalize("[::1]"), "::1");
    }

    #[test]
    fn only_public_addresses_by_default() {
        let private = [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "::127.0.0.1",
        ];
        for ip in private {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!AddressPolicy::PublicOnly.permits(ip), "{ip}");
            assert!(AddressPolicy::Any.permits(ip), "{ip}");
        }
        for ip in [
            "151.101.1.1",
            "2a04:4e42::1",
            "::ffff:151.101.1.1",
            "64:ff9b::9765:101",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(AddressPolicy::PublicOnly.permits(ip), "{ip}");
        }
    }
}
