//! Fetching a provider's media from a URL that came from outside (a callback, a status answer,
//! a redirect): every such URL is hostile until checked.
//!
//! A URL is fetched only when it is
//! - on a **trusted origin** — the provider's configured API (scheme, host and port as the
//!   operator wrote them, whatever address it has: the operator chose it), or an origin the
//!   operator added (`MYLOWARE_*_MEDIA_ORIGINS`, e.g. a local fake's file host); or
//! - `https`, on one of the provider's **documented file hosts** (`replicate.delivery`, …), by
//!   name, resolving only to public addresses: no loopback, private, link-local, unique-local,
//!   CGNAT, multicast or reserved address, IPv4-mapped or NAT64 forms of them included. The
//!   addresses are checked where the connection is made (a resolver that drops the others), so
//!   a name that changes its answer between the check and the fetch gains nothing.
//!
//! Redirects are followed by hand, each hop checked the same way; the provider's credential is
//! sent only to its configured API origin. At most [`MAX_MEDIA_BYTES`] are read.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use myloware::ports::{ByteSource, Media, ProviderError};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::http::{check, transport};

/// Largest media file fetched from a provider (a clip, a render).
pub const MAX_MEDIA_BYTES: usize = 512 * 1024 * 1024;

/// An origin: scheme, host, port.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of `url` (`None` without a host).
    pub fn of(url: &Url) -> Option<Origin> {
        Some(Origin {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// The origin of the URL `s` (`None` if it is not one).
    pub fn parse(s: &str) -> Option<Origin> {
        Url::parse(s).ok().as_ref().and_then(Origin::of)
    }
}

/// Where one provider's media may come from.
#[derive(Debug, Clone, Default)]
pub struct MediaPolicy {
    /// Trusted origins (the configured API's, and any the operator added).
    origins: Vec<Origin>,
    /// Documented file hosts: exact names, or `*.suffix` for any subdomain.
    hosts: Vec<String>,
}

impl MediaPolicy {
    /// Media from the API at `base` and, over https to public addresses, from `hosts`.
    pub fn new(base: &str, hosts: &[&str]) -> Self {
        Self {
            origins: Origin::parse(base).into_iter().collect(),
            hosts: hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
        }
    }

    /// Also trust these origins (operator configuration: `MYLOWARE_*_MEDIA_ORIGINS`).
    pub fn with_origins<'a>(mut self, origins: impl IntoIterator<Item = &'a str>) -> Self {
        self.origins.extend(origins.into_iter().filter_map(Origin::parse));
        self
    }

    fn trusts(&self, url: &Url) -> bool {
        Origin::of(url).is_some_and(|o| self.origins.contains(&o))
    }

    fn names_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|p| match p.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => p == host,
        })
    }

    /// The checks that need no network: the URL's form, scheme and host.
    fn check_form(&self, url: &Url) -> Result<(), String> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a URL with credentials in it".into());
        }
        if self.trusts(url) {
            return Ok(());
        }
        if url.scheme() != "https" {
            return Err(format!("{} is not https", url.scheme()));
        }
        match url.host() {
            None => Err("no host".into()),
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => {
                Err("an address instead of the provider's host name".into())
            }
            Some(url::Host::Domain(d)) if self.names_host(&d.to_ascii_lowercase()) => Ok(()),
            Some(url::Host::Domain(d)) => Err(format!("{d} is not one of the provider's hosts")),
        }
    }

    /// Whether `url` may be fetched: its form, scheme and host, and the addresses its host
    /// resolves to now. The reason when not.
    pub async fn check(&self, url: &str) -> Result<Url, String> {
        let parsed = Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
        self.check_form(&parsed).map_err(|why| format!("refusing {}: {why}", shown(&parsed)))?;
        if self.trusts(&parsed) {
            return Ok(parsed);
        }
        let host = parsed.host_str().unwrap_or_default();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("refusing {}: {host} does not resolve ({e})", shown(&parsed)))?
            .collect();
        if let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
            return Err(format!(
                "refusing {}: {host} resolves to {}, which is not a public address",
                shown(&parsed),
                bad.ip()
            ));
        }
        Ok(parsed)
    }

    /// The host names whose addresses are not checked (the trusted origins'), for the resolver.
    fn trusted_names(&self) -> BTreeSet<String> {
        self.origins.iter().map(|o| o.host.clone()).collect()
    }
}

/// A URL as it may be logged: scheme, host and path, no query (it may hold a signature).
fn shown(url: &Url) -> String {
    format!("{}://{}{}", url.scheme(), url.host_str().unwrap_or(""), url.path())
}

/// Whether `ip` is a public unicast address (see the module doc for what is not).
pub fn is_public(ip: IpAddr) -> bool {
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
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return is_public_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link local
        || (s[0] & 0xffc0) == 0xfec0 // site local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x2001 && s[1] == 0) // Teredo
        || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
}

/// Resolves names for media fetches, dropping every address that is not public — except for
/// the trusted origins' hosts, whose addresses the operator chose.
#[derive(Debug)]
struct PublicOnly {
    trusted: BTreeSet<String>,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let trusted = self.trusted.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| trusted || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A provider's credential header, sent only to the provider's own API origin.
#[derive(Clone)]
pub struct Credential {
    /// Header name (`Authorization`, `x-goog-api-key`).
    pub header: &'static str,
    /// Its value.
    pub value: String,
    /// The origin it may go to (the configured base URL's).
    origin: Option<Origin>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential({} for {:?})", self.header, self.origin)
    }
}

impl Credential {
    /// `header: value` for the origin of `base`.
    pub fn for_base(header: &'static str, value: String, base: &str) -> Self {
        Self { header, value, origin: Origin::parse(base) }
    }

    fn applies_to(&self, url: &Url) -> bool {
        self.origin.is_some() && Origin::of(url) == self.origin
    }
}

/// Fetches one provider's media under its [`MediaPolicy`].
#[derive(Debug, Clone)]
pub struct MediaFetcher {
    http: reqwest::Client,
    policy: Arc<MediaPolicy>,
}

impl MediaFetcher {
    /// A fetcher for `policy`: its own client, no automatic redirects, the public-only resolver.
    pub fn new(policy: MediaPolicy) -> Self {
        let resolver = PublicOnly { trusted: policy.trusted_names() };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(READ_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(resolver))
            .build()
            .expect("media HTTP client");
        Self { http, policy: Arc::new(policy) }
    }

    /// Whether `url` may be fetched (see [`MediaPolicy::check`]).
    pub async fn check(&self, url: &str) -> Result<(), String> {
        self.policy.check(url).await.map(|_| ())
    }

    /// [`MediaFetcher::check`], then the URL's redirects followed with HEAD requests, each hop
    /// checked (`cred` only on the API's origin): a URL that redirects somewhere refused is
    /// refused before it is recorded. A host that cannot be reached now is not refused here:
    /// the download checks every hop again and fails closed.
    pub async fn check_hops(&self, url: &str, cred: Option<&Credential>) -> Result<(), String> {
        let mut url = url.to_owned();
        for _ in 0..4 {
            let parsed = self.policy.check(&url).await?;
            let mut req = self.http.head(parsed.clone()).timeout(Duration::from_secs(5));
            if let Some(c) = cred.filter(|c| c.applies_to(&parsed)) {
                req = req.header(c.header, &c.value);
            }
            let Ok(resp) = req.send().await else { return Ok(()) };
            if !resp.status().is_redirection() {
                return Ok(());
            }
            let location = resp.headers().get("location").and_then(|l| l.to_str().ok());
            let location = location.ok_or("a redirect without Location")?;
            url = parsed.join(location).map_err(|e| format!("bad redirect: {e}"))?.to_string();
        }
        Err("too many redirects".into())
    }

    /// Open `url` for reading: each hop checked, redirects by hand (at most three), `cred` only
    /// on the API's origin. The body is read as it arrives, at most [`MAX_MEDIA_BYTES`], each
    /// chunk within [`READ_TIMEOUT`]. A refused URL is a terminal error.
    pub async fn fetch(
        &self,
        url: &str,
        cred: Option<&Credential>,
        what: &str,
    ) -> Result<Media, ProviderError> {
        let mut url = url.to_owned();
        for _ in 0..4 {
            let parsed = self
                .policy
                .check(&url)
                .await
                .map_err(|why| ProviderError::Terminal(format!("{what}: {why}")))?;
            let mut req = self.http.get(parsed.clone());
            if let Some(c) = cred.filter(|c| c.applies_to(&parsed)) {
                req = req.header(c.header, &c.value);
            }
            let resp = req.send().await.map_err(transport)?;
            if resp.status().is_redirection() {
                let location =
                    resp.headers().get("location").and_then(|l| l.to_str().ok()).ok_or_else(
                        || ProviderError::Terminal(format!("{what}: redirect without Location")),
                    )?;
                url = parsed
                    .join(location)
                    .map_err(|e| ProviderError::Terminal(format!("{what}: bad redirect: {e}")))?
                    .to_string();
                continue;
            }
            let resp = check(resp, what).await?;
            if resp.content_length().is_some_and(|n| n > MAX_MEDIA_BYTES as u64) {
                return Err(ProviderError::Terminal(format!(
                    "{what}: larger than {MAX_MEDIA_BYTES} bytes"
                )));
            }
            return Ok(Box::new(Download { resp, seen: 0, what: what.to_owned() }));
        }
        Err(ProviderError::Terminal(format!("{what}: too many redirects")))
    }
}

/// How long a download may go without a byte.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A response body being read, capped.
struct Download {
    resp: reqwest::Response,
    seen: usize,
    what: String,
}

#[async_trait::async_trait]
impl ByteSource for Download {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProviderError> {
        let Some(chunk) = self.resp.chunk().await.map_err(transport)? else {
            return Ok(None);
        };
        self.seen += chunk.len();
        if self.seen > MAX_MEDIA_BYTES {
            return Err(ProviderError::Terminal(format!(
                "{}: larger than {MAX_MEDIA_BYTES} bytes",
                self.what
            )));
        }
        Ok(Some(chunk.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:0001::1",
            "2001:db8::1",
            "ff02::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private} counted as public");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public} counted as not public");
        }
    }

    #[tokio::test]
    async fn urls_are_refused_by_form_before_any_lookup() {
        let p = MediaPolicy::new(
            "https://api.replicate.com",
            &["replicate.delivery", "*.replicate.delivery"],
        );
        for (url, why) in [
            ("http://replicate.delivery/x.mp4", "not https"),
            ("https://127.0.0.1/x.mp4", "an address"),
            ("https://[::ffff:127.0.0.1]/x.mp4", "an address"),
            ("https://169.254.169.254/latest/meta-data", "an address"),
            ("https://evil.example/x.mp4", "not one of the provider's hosts"),
            ("https://replicate.delivery.evil.example/x.mp4", "not one of the provider's hosts"),
            ("https://user:pw@replicate.delivery/x.mp4", "credentials"),
            ("file:///etc/passwd", "not https"),
            ("https://api.replicate.com:8443/x", "not one of the provider's hosts"),
        ] {
            let err = p.check(url).await.unwrap_err();
            assert!(err.contains(why), "{url}: {err}");
        }
        // The configured API's origin is trusted as configured, even on a local address.
        let local = MediaPolicy::new("http://127.0.0.1:9090", &[]);
        assert!(local.check("http://127.0.0.1:9090/v1/videos/v/content").await.is_ok());
        assert!(local.check("http://127.0.0.1:9091/other").await.is_err(), "another port");
        let added = MediaPolicy::new("https://api.replicate.com", &[])
            .with_origins(["http://localhost:9090"]);
        assert!(added.check("http://localhost:9090/replicate/files/a.mp4").await.is_ok());
    }

    #[tokio::test]
    async fn a_documented_host_that_resolves_to_a_local_address_is_refused() {
        // `localhost` stands in for a provider host name an attacker pointed at 127.0.0.1.
        let p = MediaPolicy::new("https://api.example", &["localhost"]);
        let err = p.check("https://localhost/x.mp4").await.unwrap_err();
        assert!(err.contains("not a public address"), "{err}");
    }
}
