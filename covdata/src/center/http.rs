//! One HTTP/1.1 exchange with the center over a fresh TCP connection:
//! hyper's client connection on tokio, every step under one deadline.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;

/// A center's address: `http://HOST:PORT` (plain http only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CenterUrl {
    /// The URL as given, without a trailing `/`, for messages.
    pub url: String,
    /// `HOST:PORT` to connect to and to send as `Host`.
    pub authority: String,
    /// A path prefix (a reverse proxy's), without a trailing `/`.
    pub prefix: String,
}

impl CenterUrl {
    /// Parses `http://host[:port][/prefix]`; the port defaults to 80.
    pub fn parse(url: &str) -> Result<CenterUrl, String> {
        let trimmed = url.trim_end_matches('/');
        let Some(rest) = trimmed.strip_prefix("http://") else {
            return Err(if trimmed.starts_with("https://") {
                format!("{url}: https is not supported (put TLS in a proxy in front of the center and give its http address)")
            } else {
                format!("{url}: not an http:// URL")
            });
        };
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("{url}: needs http://HOST:PORT"));
        }
        let authority = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'))
        {
            let port = authority.rsplit_once(':').expect("checked").1;
            if port.parse::<u16>().is_err() {
                return Err(format!("{url}: bad port {port:?}"));
            }
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(CenterUrl {
            url: trimmed.to_string(),
            authority,
            prefix: prefix.to_string(),
        })
    }
}

/// An answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as a one-line reason, for errors.
    pub fn reason(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let line = text.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            self.status.to_string()
        } else {
            format!("{} {}", self.status.as_u16(), line)
        }
    }
}

/// Sends one request to `center` and reads the answer (at most `limit`
/// bytes of body), all within `deadline`. Errors are one line, without
/// the URL (callers add it).
#[allow(clippy::too_many_arguments)]
pub async fn exchange(
    center: &CenterUrl,
    method: Method,
    path_and_query: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: Bytes,
    limit: usize,
    deadline: Duration,
) -> Result<Answer, String> {
    let run = async {
        let stream = tokio::net::TcpStream::connect(&center.authority)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake failed: {e}"))?;
        let conn = tokio::spawn(conn);
        let mut req = Request::builder()
            .method(method)
            .uri(format!("{}{}", center.prefix, path_and_query))
            .header(HOST, &center.authority);
        if let Some(t) = token {
            let value = HeaderValue::from_str(&format!("Bearer {t}"))
                .map_err(|_| "the token has characters a header cannot carry".to_string())?;
            req = req.header(AUTHORIZATION, value);
        }
        if let Some(ct) = content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| format!("bad request: {e}"))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let (parts, body) = resp.into_parts();
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|e| format!("reading the answer failed: {e}"))?
            .to_bytes();
        conn.abort();
        Ok(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    };
    match tokio::time::timeout(deadline, run).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {}", show_duration(deadline))),
    }
}

/// `1.5 s`, `250 ms`: a duration for messages.
pub fn show_duration(d: Duration) -> String {
    if d.as_millis() < 1000 || d.as_millis() % 1000 != 0 {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", d.as_secs())
    }
}

/// Parses `5s`, `500ms`, `2m`, `1h` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (like 5s, 500ms, 2m)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("{s:?} is not a duration (like 5s, 500ms, 2m)")),
    };
    if !secs.is_finite() || !(0.0..=1e9).contains(&secs) {
        return Err(format!("{s:?} is not a duration (like 5s, 500ms, 2m)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = CenterUrl::parse("http://127.0.0.1:7777/").unwrap();
        assert_eq!(
            (u.url.as_str(), u.authority.as_str(), u.prefix.as_str()),
            ("http://127.0.0.1:7777", "127.0.0.1:7777", "")
        );
        let u = CenterUrl::parse("http://center/cov").unwrap();
        assert_eq!(
            (u.authority.as_str(), u.prefix.as_str()),
            ("center:80", "/cov")
        );
        assert_eq!(
            CenterUrl::parse("http://[::1]:9").unwrap().authority,
            "[::1]:9"
        );
        assert!(CenterUrl::parse("https://x").unwrap_err().contains("https"));
        assert!(CenterUrl::parse("x:1").is_err());
        assert!(CenterUrl::parse("http://h:port").is_err());
        assert!(CenterUrl::parse("http://").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5x").is_err());
        assert_eq!(show_duration(Duration::from_millis(5000)), "5 s");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1500 ms");
    }
}
