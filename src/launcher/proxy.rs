//! Trusted proxy headers: the names the launcher knows, and the settings
//! from `WARPDRIVE_TRUST_PROXY_HEADERS` and `WARPDRIVE_TRUST_PROXY`.

use std::collections::BTreeMap;

use super::error::Error;

/// Proxy headers the launcher accepts in `WARPDRIVE_TRUST_PROXY_HEADERS`
/// (the names mod_wsgi knows, plus `Forwarded` for the middleware).
pub const PROXY_HEADERS: &[&str] = &[
    "X-Forwarded-For",
    "X-Client-IP",
    "X-Real-IP",
    "X-Forwarded-Host",
    "X-Host",
    "X-Forwarded-Server",
    "X-Forwarded-Port",
    "X-Forwarded-Proto",
    "X-Forwarded-Scheme",
    "X-Scheme",
    "X-Forwarded-HTTPS",
    "X-Forwarded-SSL",
    "X-HTTPS",
    "X-Url-Scheme",
    "X-Forwarded-Script-Name",
    "X-Script-Name",
    "Forwarded",
];

/// The proxy family: every header a proxy may set to describe the client's
/// connection. From a peer outside `WARPDRIVE_TRUST_PROXY` none of them
/// reaches the app, on any server (the `warpdrive_wsgi` middleware removes
/// them, and for mod_wsgi Apache unsets them; see
/// [`crate::launcher::support`]). The middleware holds the same list.
pub const PROXY_FAMILY: &[&str] = &[
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-Port",
    "X-Forwarded-Prefix",
    "X-Forwarded-Server",
    "X-Forwarded-By",
    "X-Forwarded-Protocol",
    "X-Forwarded-Ssl",
    "X-Forwarded-Scheme",
    "X-Forwarded-HTTPS",
    "X-Forwarded-Script-Name",
    "Forwarded",
    "X-Real-IP",
    "X-Client-IP",
    "X-Host",
    "X-Scheme",
    "X-HTTPS",
    "X-Url-Scheme",
    "Front-End-Https",
    "X-Script-Name",
    "HTTPS",
];

/// The headers waitress itself clears from peers it does not trust (its
/// `clear_untrusted_proxy_headers`, on by default).
pub const WAITRESS_CLEARS: &[&str] = &[
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-By",
    "Forwarded",
];

/// Known headers mod_wsgi-express itself cannot trust.
pub const MOD_WSGI_UNTRUSTABLE: &[&str] = &["Forwarded"];

/// The canonical spelling of a known proxy header (`x-forwarded-for` →
/// `X-Forwarded-For`), ignoring case and surrounding spaces; `None` if the
/// name is not in [`PROXY_HEADERS`]. Every reader of header names (the
/// environment, `.warpdrive/application`, `init`'s flags) goes through it.
pub fn canonical_header(name: &str) -> Option<&'static str> {
    let name = name.trim();
    PROXY_HEADERS
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(name))
}

/// Trusted proxy settings from `WARPDRIVE_TRUST_PROXY_HEADERS` and
/// `WARPDRIVE_TRUST_PROXY`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proxy {
    /// Canonical header names, e.g. `X-Forwarded-For`.
    pub headers: Vec<String>,
    /// Peer addresses or CIDRs allowed to send them; empty means any peer.
    pub peers: Vec<String>,
}

impl Proxy {
    /// `WARPDRIVE_TRUST_PROXY_HEADERS` and `WARPDRIVE_TRUST_PROXY`, validated.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Proxy, Error> {
        let list = |name: &str| -> Vec<String> {
            env.get(name)
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut headers = Vec::new();
        for h in list("WARPDRIVE_TRUST_PROXY_HEADERS") {
            let canonical = canonical_header(&h).ok_or_else(|| {
                Error::bad(format!(
                    "WARPDRIVE_TRUST_PROXY_HEADERS: unknown header {h:?}; use a comma list of {}",
                    PROXY_HEADERS.join(", ")
                ))
            })?;
            headers.push(canonical.to_string());
        }
        let peers = list("WARPDRIVE_TRUST_PROXY");
        for p in &peers {
            if p.parse::<std::net::IpAddr>().is_err() && p.parse::<ipnet::IpNet>().is_err() {
                return Err(Error::bad(format!(
                    "WARPDRIVE_TRUST_PROXY: {p:?} is not an IP address or CIDR (e.g. 10.0.0.0/8)"
                )));
            }
        }
        Ok(Proxy { headers, peers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonicalised() {
        assert_eq!(canonical_header("x-forwarded-for"), Some("X-Forwarded-For"));
        assert_eq!(canonical_header(" FORWARDED "), Some("Forwarded"));
        assert_eq!(canonical_header("X-Forwarded-Prefix"), None);
        assert_eq!(canonical_header(""), None);
    }

    #[test]
    fn every_trustable_header_is_in_the_family() {
        for h in PROXY_HEADERS.iter().chain(WAITRESS_CLEARS) {
            assert!(
                PROXY_FAMILY.iter().any(|f| f.eq_ignore_ascii_case(h)),
                "{h}"
            );
        }
    }
}
