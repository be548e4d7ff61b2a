//! The outbound HTTP client: one pooled reqwest client that never follows a redirect, never
//! uses a proxy, gives up after the delivery timeout, reads at most 2 KiB of any answer, and —
//! unless private targets are allowed — connects only to public addresses, checked on the
//! addresses DNS actually returned (so a name rebound to 127.0.0.1 is refused too).

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use reqwest::{
    Client, StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
    header::{HeaderMap, RETRY_AFTER},
    redirect,
};
use url::{Host, Url};

use crate::infra::targets::{Lookup, is_public};

/// How much of a receiver's answer is kept in the log.
pub const RESPONSE_EXCERPT_BYTES: usize = 2048;

/// What one POST came to.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub response_excerpt: Option<String>,
    pub retry_after: Option<Duration>,
    pub duration_ms: i64,
}

impl AttemptResult {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The attempt's outcome class, as `/metrics` counts them: `2xx` to `5xx` by the answer's
    /// status, else `timeout`, `refused` (the target's address or URL is not allowed),
    /// `not_sent` (the webhook was disabled, or the outcome could not be recorded) or
    /// `connection` (no answer: refused connection, reset, TLS).
    pub fn class(&self) -> &'static str {
        let error = self.error.as_deref().unwrap_or_default();
        match self.status {
            _ if error.starts_with("timed out") => "timeout",
            Some(200..=299) => "2xx",
            Some(300..=399) => "3xx",
            Some(400..=499) => "4xx",
            Some(_) => "5xx",
            None if error.starts_with("refused") => "refused",
            None if error.starts_with("not sent") => "not_sent",
            None => "connection",
        }
    }

    fn refused(why: String) -> Self {
        Self {
            status: None,
            error: Some(why),
            response_excerpt: None,
            retry_after: None,
            duration_ms: 0,
        }
    }
}

/// Resolves names and keeps only public addresses.
struct PublicOnly(Lookup);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let lookup = self.0.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> = lookup(host.clone(), 0)
                .await?
                .into_iter()
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| is_public(a.ip()))
                .collect();
            if public.is_empty() {
                let shown = resolved
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default();
                return Err(format!(
                    "refused: `{host}` resolves to {shown}, a private or reserved address"
                )
                .into());
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

pub struct Sender {
    client: Client,
    allow_private: bool,
    timeout: Duration,
}

impl Sender {
    pub fn new(timeout: Duration, allow_private: bool, lookup: Lookup) -> anyhow::Result<Self> {
        // reqwest is built without a bundled crypto provider; use ring, which sqlx already links.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(redirect::Policy::none())
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("kaanha-gateway/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(PublicOnly(lookup));
        }
        Ok(Self {
            client: builder.build()?,
            allow_private,
            timeout,
        })
    }

    /// POSTs `body` with `headers`. Never errors: every way of failing is an attempt result.
    pub async fn post(&self, url: &str, headers: HeaderMap, body: String) -> AttemptResult {
        let url = match self.check_target(url) {
            Ok(url) => url,
            Err(why) => return AttemptResult::refused(why),
        };
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .headers(headers)
            .body(body)
            .send()
            .await;
        let mut result = match sent {
            Ok(response) => self.read_answer(response).await,
            Err(err) => AttemptResult::refused(self.describe(&err)),
        };
        result.duration_ms = started.elapsed().as_millis() as i64;
        result
    }

    /// The URL was checked when the webhook was saved; check again, as the policy or the
    /// stored row may have changed since. Names are checked on resolution (`PublicOnly`).
    fn check_target(&self, raw: &str) -> Result<Url, String> {
        let url = Url::parse(raw)
            .map_err(|err| format!("refused: `{raw}` is not a valid URL ({err})"))?;
        if self.allow_private {
            return Ok(url);
        }
        if url.scheme() != "https" {
            return Err("refused: only https URLs are delivered to".into());
        }
        let literal = match url.host() {
            Some(Host::Ipv4(ip)) => Some(ip.into()),
            Some(Host::Ipv6(ip)) => Some(ip.into()),
            _ => None,
        };
        if let Some(ip) = literal.filter(|ip| !is_public(*ip)) {
            return Err(format!("refused: {ip} is a private or reserved address"));
        }
        Ok(url)
    }

    async fn read_answer(&self, mut response: reqwest::Response) -> AttemptResult {
        let status = response.status();
        let retry_after = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        )
        .then(|| {
            response
                .headers()
                .get(RETRY_AFTER)?
                .to_str()
                .ok()
                .and_then(parse_retry_after)
        })
        .flatten();
        let location = status
            .is_redirection()
            .then(|| {
                response
                    .headers()
                    .get(reqwest::header::LOCATION)?
                    .to_str()
                    .ok()
                    .map(str::to_owned)
            })
            .flatten();
        let mut excerpt = Vec::new();
        let mut error = None;
        while excerpt.len() < RESPONSE_EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => excerpt.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    // A 2xx whose body then breaks still counts as received: the receiver
                    // answered. Anything else keeps its status and notes the broken body.
                    if !status.is_success() {
                        error = Some(format!("answer body unreadable: {}", self.describe(&err)));
                    }
                    break;
                }
            }
        }
        excerpt.truncate(RESPONSE_EXCERPT_BYTES);
        if error.is_none() && !status.is_success() {
            error = Some(match (status.is_redirection(), location) {
                (true, Some(to)) => format!("redirect to {to} not followed"),
                (true, None) => "redirect not followed".to_owned(),
                _ => format!("receiver answered {status}"),
            });
        }
        AttemptResult {
            status: Some(status.as_u16()),
            error,
            response_excerpt: (!excerpt.is_empty())
                .then(|| String::from_utf8_lossy(&excerpt).into_owned()),
            retry_after,
            duration_ms: 0,
        }
    }

    /// A sentence for the log: what went wrong, without reqwest's wrapping.
    fn describe(&self, err: &reqwest::Error) -> String {
        if err.is_timeout() {
            return format!(
                "timed out after {}",
                humantime::format_duration(self.timeout)
            );
        }
        let mut innermost: &dyn std::error::Error = err;
        let mut refusal = None;
        while let Some(source) = innermost.source() {
            innermost = source;
            if source.to_string().starts_with("refused:") {
                refusal = Some(source.to_string());
            }
        }
        if let Some(refusal) = refusal {
            return refusal;
        }
        let kind = if err.is_connect() {
            "could not connect"
        } else {
            "request failed"
        };
        format!("{kind}: {innermost}")
    }
}

/// Parses a `Retry-After` value: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod retry_after_tests {
    use std::time::Duration;

    use super::parse_retry_after;

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
