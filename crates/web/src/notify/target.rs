//! Where a webhook may go. Anyone with an API key chooses the URL, so without
//! this guard a webhook would let them make the service call its own network
//! (the database, the cloud's metadata endpoint at 169.254.169.254). The URL is
//! checked when a job is accepted, for a clear 400, and again at every
//! delivery through [`PublicOnly`], because a name can resolve elsewhere by
//! then; redirects are never followed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Host;

/// Longest webhook URL kept.
const MAX_URL_CHARS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("`webhook_url` is not a usable URL: {0}")]
    Malformed(String),
    #[error("`webhook_url` must be an http or https URL")]
    Scheme,
    #[error("the webhook host `{0}` could not be resolved")]
    Unresolvable(String),
    #[error(
        "webhooks may not go to {0}: loopback, private, link-local and other non-public addresses are refused"
    )]
    NotPublic(IpAddr),
}

/// Checks the form of a webhook URL (http or https, a host, bounded length).
pub fn parse(raw: &str) -> Result<Url, TargetError> {
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(TargetError::Malformed(format!(
            "longer than {MAX_URL_CHARS} characters"
        )));
    }
    let url = Url::parse(raw).map_err(|e| TargetError::Malformed(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    if url.host().is_none() {
        return Err(TargetError::Malformed("it has no host".to_owned()));
    }
    Ok(url)
}

/// The accept-time check: the URL's form, and unless private targets are
/// allowed, every address its host resolves to must be public.
pub async fn check(raw: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = parse(raw)?;
    if allow_private {
        return Ok(url);
    }
    match url.host() {
        Some(Host::Ipv4(ip)) => public_or_refuse(IpAddr::V4(ip))?,
        Some(Host::Ipv6(ip)) => public_or_refuse(IpAddr::V6(ip))?,
        Some(Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name, port))
                .await
                .map_err(|_| TargetError::Unresolvable(name.to_owned()))?
                .collect();
            if addrs.is_empty() {
                return Err(TargetError::Unresolvable(name.to_owned()));
            }
            // Any private answer refuses: a name that mixes them is a rebinding setup.
            for addr in addrs {
                public_or_refuse(addr.ip())?;
            }
        }
        None => return Err(TargetError::Malformed("it has no host".to_owned())),
    }
    Ok(url)
}

/// The delivery-time check for hosts given as addresses, which never reach
/// the resolver.
pub fn check_literal(url: &Url) -> Result<(), TargetError> {
    match url.host() {
        Some(Host::Ipv4(ip)) => public_or_refuse(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => public_or_refuse(IpAddr::V6(ip)),
        _ => Ok(()),
    }
}

fn public_or_refuse(ip: IpAddr) -> Result<(), TargetError> {
    if is_public(ip) {
        Ok(())
    } else {
        Err(TargetError::NotPublic(ip))
    }
}

/// Whether an address is a public unicast one a webhook may reach.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        // "This network", carrier-grade NAT, benchmarking, reserved (240/4).
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach an IPv4 host.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_public_v4(v4);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        // Site-local (deprecated, still routed inside some networks).
        || (segments[0] & 0xffc0) == 0xfec0
        // Documentation, and the IPv4-compatible form (::a.b.c.d).
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || segments[..6] == [0, 0, 0, 0, 0, 0])
}

/// A resolver for the webhook client that hands reqwest only public
/// addresses, so the connection goes to an address that was checked, whatever
/// the name resolved to at accept time.
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(public_addrs(name.as_str().to_owned()))
    }
}

async fn public_addrs(host: String) -> Result<Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let public: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
        .await?
        .filter(|a| is_public(a.ip()))
        .collect();
    if public.is_empty() {
        return Err(
            format!("the webhook host `{host}` resolves to no public address; refused").into(),
        );
    }
    Ok(Box::new(public.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().expect("an address"))
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::127.0.0.1",
        ] {
            assert!(!public(s), "{s} must be refused");
        }
        for s in [
            "93.184.215.14",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(public(s), "{s} is public");
        }
    }

    #[test]
    fn only_http_and_https_urls_with_a_host() {
        assert!(parse("https://hooks.example.org/scribe").is_ok());
        assert!(matches!(
            parse("ftp://example.org/"),
            Err(TargetError::Scheme)
        ));
        assert!(matches!(
            parse("file:///etc/passwd"),
            Err(TargetError::Scheme)
        ));
        assert!(matches!(parse("not a url"), Err(TargetError::Malformed(_))));
    }

    #[tokio::test]
    async fn literal_and_numeric_forms_of_loopback_are_refused() {
        for raw in [
            "http://127.0.0.1:9/hook",
            "http://[::ffff:127.0.0.1]/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://localhost:8080/",
        ] {
            let refused = check(raw, false).await;
            assert!(
                matches!(refused, Err(TargetError::NotPublic(_))),
                "{raw}: {refused:?}"
            );
            assert!(check(raw, true).await.is_ok(), "{raw} with private allowed");
        }
    }
}
