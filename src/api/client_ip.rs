//! The client's address, as rate limits and logs see it. The socket peer is the client unless
//! it is one of `server.trusted_proxies`; then the forwarding headers are read from the right
//! (the hop nearest to us) and the first address that is not itself a trusted proxy is the
//! client. Headers from anyone else are ignored, so a client cannot pick its own address.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// A trusted proxy: one address or a CIDR block.
pub type Net = IpNet;

/// Parses `server.trusted_proxies` (`10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`).
pub fn parse_proxies(entries: &[String]) -> anyhow::Result<Vec<Net>> {
    entries
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| anyhow::anyhow!("server.trusted_proxies: {s:?} is neither an IP address nor a CIDR block"))
        })
        .collect()
}

/// The client address of `req` (see the module documentation); `None` without a socket peer
/// (in-process test requests).
pub fn client_ip(req: &HttpRequest, proxies: &[Net]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    Some(resolve(peer, req.headers(), proxies))
}

fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &[Net]) -> IpAddr {
    let trusted = |ip: &IpAddr| proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_hops(headers).into_iter().rev() {
        client = hop;
        if !trusted(&hop) {
            break;
        }
    }
    client
}

/// The addresses of the forwarding chain, client first: `Forwarded: for=…` when present (RFC
/// 7239), otherwise `X-Forwarded-For`. Entries that are not addresses (obfuscated names,
/// `unknown`) end the chain there.
fn forwarded_hops(headers: &HeaderMap) -> Vec<IpAddr> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").filter_map(|v| v.to_str().ok()).collect();
    let raw: Vec<String> = if !forwarded.is_empty() {
        forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (key, value) = pair.trim().split_once('=')?;
                    key.trim().eq_ignore_ascii_case("for").then(|| value.trim().to_owned())
                })
            })
            .collect()
    } else {
        headers
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect()
    };
    let mut hops = Vec::with_capacity(raw.len());
    for entry in raw {
        match parse_hop(&entry) {
            Some(ip) => hops.push(ip),
            // An unparseable hop: nothing to its left can be trusted either.
            None => hops.clear(),
        }
    }
    hops
}

/// `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim().trim_matches('"');
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    entry.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse().ok()))
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        assert_eq!(resolve(ip("203.0.113.9"), &h, &[]), ip("203.0.113.9"));
        let proxies = parse_proxies(&["10.0.0.0/8".into()]).unwrap_or_default();
        assert_eq!(resolve(ip("203.0.113.9"), &h, &proxies), ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxies_are_skipped_from_the_right() {
        let proxies = parse_proxies(&["10.0.0.0/8".into(), "192.168.1.1".into()]).unwrap_or_default();
        // The client forged the first entry; the proxy appended the real one.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 192.168.1.1")]);
        assert_eq!(resolve(ip("10.1.2.3"), &h, &proxies), ip("198.51.100.7"));
        let h = headers(&[("forwarded", "for=198.51.100.8;proto=https, for=\"[2001:db8::1]:443\"")]);
        assert_eq!(resolve(ip("10.1.2.3"), &h, &proxies), ip("2001:db8::1"));
        // No header: the proxy itself.
        assert_eq!(resolve(ip("10.1.2.3"), &HeaderMap::new(), &proxies), ip("10.1.2.3"));
    }

    #[test]
    fn bad_entries_are_refused_at_start() {
        assert!(parse_proxies(&["10.0.0.0/33".into()]).is_err());
        assert!(parse_proxies(&["proxy.local".into()]).is_err());
        assert_eq!(parse_proxies(&["::1".into(), " ".into()]).map(|v| v.len()).unwrap_or(0), 1);
    }
}
