//! Where webhooks may point. The user's document says "must be HTTPS, publicly accessible":
//! a customer-typed URL must never make the gateway call into its own network (SSRF).

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    sync::Arc,
    time::Duration,
};

use url::{Host, Url};

const MAX_URL_LEN: usize = 2048;
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Resolves a host name to its addresses. The system's resolver in production; tests give
/// their own to play DNS tricks (a name that changes its answer between checks) on loopback.
pub type Lookup = Arc<dyn Fn(String, u16) -> Resolving + Send + Sync>;

/// A lookup in progress.
pub type Resolving =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;

/// The operating system's resolver.
pub fn system_lookup() -> Lookup {
    Arc::new(|name, port| {
        Box::pin(async move {
            Ok(tokio::net::lookup_host((name.as_str(), port))
                .await?
                .map(|a| a.ip())
                .collect())
        })
    })
}

#[derive(Clone)]
pub struct TargetPolicy {
    /// `KAANHA_ALLOW_PRIVATE_TARGETS`: `http` and private addresses allowed (development, tests,
    /// a local n8n).
    pub allow_private: bool,
    /// `KAANHA_ALLOWED_PORTS`: the ports a webhook URL may name; empty: any.
    pub allowed_ports: Vec<u16>,
    pub lookup: Lookup,
}

impl TargetPolicy {
    /// Checks a webhook URL; the error is a sentence for the person who typed it.
    pub async fn check(&self, raw: &str) -> Result<Url, String> {
        let url = self.check_syntax(raw)?;
        if self.allow_private {
            return Ok(url);
        }
        match url.host() {
            Some(Host::Ipv4(ip)) => refuse_private(IpAddr::V4(ip), None)?,
            Some(Host::Ipv6(ip)) => refuse_private(IpAddr::V6(ip), None)?,
            Some(Host::Domain(name)) => {
                let port = url.port_or_known_default().unwrap_or(443);
                for ip in resolve(&self.lookup, name, port).await? {
                    refuse_private(ip, Some(name))?;
                }
            }
            None => return Err("must name a host".into()),
        }
        Ok(url)
    }

    fn check_syntax(&self, raw: &str) -> Result<Url, String> {
        if raw.len() > MAX_URL_LEN {
            return Err(format!("must be at most {MAX_URL_LEN} characters"));
        }
        let url = Url::parse(raw.trim()).map_err(|err| format!("is not a valid URL ({err})"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private => {}
            "http" => return Err("must use https: deliveries carry customer data".into()),
            other => return Err(format!("must be an https URL, not `{other}:`")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain a user name or password".into());
        }
        if url.host().is_none() {
            return Err("must name a host".into());
        }
        let port = url.port_or_known_default().unwrap_or(443);
        if !self.allowed_ports.is_empty() && !self.allowed_ports.contains(&port) {
            let allowed: Vec<String> = self.allowed_ports.iter().map(u16::to_string).collect();
            return Err(format!(
                "names port {port}; this gateway delivers only to ports {}",
                allowed.join(", ")
            ));
        }
        Ok(url)
    }
}

async fn resolve(lookup: &Lookup, name: &str, port: u16) -> Result<Vec<IpAddr>, String> {
    let name_lower = name.to_ascii_lowercase();
    if name_lower == "localhost" || name_lower.ends_with(".localhost") {
        return Err(format!(
            "points at `{name}`, this machine; it must be publicly accessible"
        ));
    }
    let lookup = tokio::time::timeout(RESOLVE_TIMEOUT, lookup(name.to_owned(), port));
    let addrs: Vec<IpAddr> = match lookup.await {
        Ok(Ok(addrs)) => addrs,
        Ok(Err(_)) | Err(_) => Vec::new(),
    };
    if addrs.is_empty() {
        return Err(format!("names host `{name}`, which could not be resolved"));
    }
    Ok(addrs)
}

fn refuse_private(ip: IpAddr, name: Option<&str>) -> Result<(), String> {
    if is_public(ip) {
        return Ok(());
    }
    Err(match name {
        Some(name) => format!(
            "names host `{name}`, which resolves to {ip}, a private or reserved address; it must be publicly accessible"
        ),
        None => {
            format!("points at {ip}, a private or reserved address; it must be publicly accessible")
        }
    })
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata lives there), shared, reserved, documentation or multicast — in any IPv6 disguise.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                    // "this network", incl. 0.0.0.0
        || ip.is_private()                      // 10/8, 172.16/12, 192.168/16
        || ip.is_loopback()                     // 127/8
        || ip.is_link_local()                   // 169.254/16, cloud metadata
        || (a == 100 && (64..128).contains(&b)) // 100.64/10 carrier-grade NAT
        || (a == 192 && b == 0 && c == 0)       // 192.0.0/24 IETF protocol assignments
        || ip.is_documentation()                // 192.0.2/24, 198.51.100/24, 203.0.113/24
        || (a == 192 && b == 88 && c == 99)     // 192.88.99/24 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19))   // 198.18/15 benchmarking
        || ip.is_multicast()                    // 224/4
        || a >= 240) // 240/4 reserved and 255.255.255.255
}

/// IPv6: global unicast (`2000::/3`) only, less the IANA special-purpose blocks in it, plus the
/// well-known NAT64 prefix, which reaches the IPv4 address it embeds (judged as IPv4). IPv4
/// written as IPv6 (`::ffff:a.b.c.d`, `::a.b.c.d`) is refused: resolvers give IPv4 addresses as
/// IPv4, so only a crafted URL spells them that way.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052), reaches the embedded IPv4 address.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::from(
            ((segments[6] as u32) << 16) | segments[7] as u32,
        ));
    }
    let special: [(u16, u16, u32); 5] = [
        (0x2001, 0x0000, 23), // IETF protocol assignments: Teredo, benchmarking, ORCHID, ...
        (0x2001, 0x0db8, 32), // documentation
        (0x2002, 0x0000, 16), // 6to4
        (0x3fff, 0x0000, 20), // documentation (RFC 9637)
        (0x5f00, 0x0000, 16), // SRv6 segment identifiers (RFC 9602)
    ];
    let top = ((segments[0] as u32) << 16) | segments[1] as u32;
    let in_block = |(hi, lo, len): (u16, u16, u32)| {
        let mask = u32::MAX << (32 - len);
        top & mask == (((hi as u32) << 16) | lo as u32) & mask
    };
    (segments[0] & 0xe000) == 0x2000 && !special.into_iter().any(in_block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().unwrap())
    }

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::7f00:1",
            "2002:7f00:1::",
            "2001:db8::1",
            "64:ff9b:1::a00:1",
            "::ffff:0:808:808",
            "100::1",
            "2001:2::1",
            "2001:10::1",
            "3fff::1",
            "5f00::1",
            "fec0::1",
            "ff02::1",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(!public(ip), "{ip} must not count as public");
        }
    }

    #[test]
    fn ordinary_internet_addresses_are_public() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "64:ff9b::808:808",
        ] {
            assert!(public(ip), "{ip} is public");
        }
    }

    #[tokio::test]
    async fn every_spelling_of_loopback_is_refused_without_a_lookup() {
        let policy = TargetPolicy {
            allow_private: false,
            allowed_ports: Vec::new(),
            lookup: system_lookup(),
        };
        for url in [
            "https://127.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/hook",
            "https://good.com@127.0.0.1/",
            "http://93.184.216.34/",
            "ftp://93.184.216.34/",
        ] {
            assert!(policy.check(url).await.is_err(), "{url} must be refused");
        }
        assert!(policy.check("https://93.184.216.34/hook").await.is_ok());
    }

    #[tokio::test]
    async fn allowing_private_targets_admits_http_and_loopback_but_not_other_schemes() {
        let policy = TargetPolicy {
            allow_private: true,
            allowed_ports: Vec::new(),
            lookup: system_lookup(),
        };
        assert!(policy.check("http://127.0.0.1:9/hook").await.is_ok());
        assert!(policy.check("file:///etc/passwd").await.is_err());
    }

    #[tokio::test]
    async fn a_port_allow_list_refuses_other_ports() {
        let policy = TargetPolicy {
            allow_private: false,
            allowed_ports: vec![443, 8443],
            lookup: system_lookup(),
        };
        assert!(policy.check("https://93.184.216.34/hook").await.is_ok());
        assert!(
            policy
                .check("https://93.184.216.34:8443/hook")
                .await
                .is_ok()
        );
        let refused = policy
            .check("https://93.184.216.34:6379/")
            .await
            .unwrap_err();
        assert!(refused.contains("port 6379"), "{refused}");
    }
}
