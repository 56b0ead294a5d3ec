//! `COVWRAP_CENTER`: `http://host[:port][/prefix]`, nothing else.

use std::fmt;

/// A parsed center URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CenterUrl {
    /// Host as written: a name, an IPv4 address or `[v6]` without brackets.
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash ("" or "/covcenter").
    pub prefix: String,
    /// What the user wrote, for messages.
    pub text: String,
}

impl CenterUrl {
    /// Parses `text`; the error says what is wrong in a few words.
    pub fn parse(text: &str) -> Result<CenterUrl, &'static str> {
        let rest = match text.strip_prefix("http://") {
            Some(r) => r,
            None if text.starts_with("https://") => {
                return Err("https is not supported; put TLS in a sidecar or proxy")
            }
            None => return Err("it must start with http://"),
        };
        if text.len() > 1024 {
            return Err("too long");
        }
        if text.bytes().any(|b| b <= b' ' || b >= 0x7f) {
            return Err("it contains spaces or non-ASCII characters");
        }
        if rest.contains(['?', '#']) {
            return Err("a query or fragment is not allowed");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err("user information is not allowed (use COVWRAP_CENTER_TOKEN)");
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let end = v6.find(']').ok_or("unclosed [ in the host")?;
            let host = &v6[..end];
            if host.parse::<std::net::Ipv6Addr>().is_err() {
                return Err("bad IPv6 address");
            }
            (host, port_of(&v6[end + 1..])?)
        } else {
            match authority.rfind(':') {
                Some(i) => (&authority[..i], port_of(&authority[i..])?),
                None => (authority, 80),
            }
        };
        if host.is_empty() {
            return Err("no host");
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
        {
            return Err("bad host name");
        }
        let prefix = path.trim_end_matches('/');
        if prefix.contains("//") || prefix.split('/').any(|s| s == "." || s == "..") {
            return Err("bad path prefix");
        }
        Ok(CenterUrl {
            host: host.to_string(),
            port,
            prefix: prefix.to_string(),
            text: text.to_string(),
        })
    }

    /// The `Host` header's value.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// `:PORT` or "" (port 80).
fn port_of(s: &str) -> Result<u16, &'static str> {
    if s.is_empty() {
        return Ok(80);
    }
    let digits = s.strip_prefix(':').ok_or("junk after the host")?;
    if digits.is_empty() || digits.len() > 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("bad port");
    }
    match digits.parse::<u16>() {
        Ok(0) | Err(_) => Err("bad port"),
        Ok(p) => Ok(p),
    }
}

impl fmt::Display for CenterUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::CenterUrl;

    #[test]
    fn accepts_host_port_prefix_forms() {
        let u = CenterUrl::parse("http://127.0.0.1:7777").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("127.0.0.1", 7777, "")
        );
        let u = CenterUrl::parse("http://center.svc.local/cov/v/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("center.svc.local", 80, "/cov/v")
        );
        assert_eq!(u.host_header(), "center.svc.local");
        let u = CenterUrl::parse("http://[::1]:9000/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("::1", 9000, "")
        );
        assert_eq!(u.host_header(), "[::1]:9000");
    }

    #[test]
    fn refuses_everything_else_with_a_reason() {
        for (bad, why) in [
            ("https://c:1", "https"),
            ("c:7777", "http://"),
            ("http://", "no host"),
            ("http://:80", "no host"),
            ("http://h:0", "bad port"),
            ("http://h:65536", "bad port"),
            ("http://h:12x", "bad port"),
            ("http://h:", "bad port"),
            ("http://u:p@h:1", "user information"),
            ("http://h:1/a?b", "query"),
            ("http://h h:1", "spaces"),
            ("http://[::1:1", "unclosed"),
            ("http://[zz]:1", "IPv6"),
            ("http://h_1:1", "host name"),
            ("http://h:1/../x", "prefix"),
        ] {
            let e = CenterUrl::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
