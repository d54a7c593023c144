//! Name resolution for the blocking transport.
//!
//! ureq resolves a request's host before it looks for a pooled connection,
//! and under a deadline its default resolver runs each lookup on a new
//! thread (so that a hanging `getaddrinfo` cannot outlive the deadline).
//! For an IP literal, such as a loopback sandbox or an upstream on the LAN,
//! that thread was most of what a request cost: a submit took a fifth longer
//! than over reqwest, which skips the lookup for literals. Host names still
//! go through ureq's resolver, deadline and all.

use std::net::{IpAddr, SocketAddr};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;
use ureq::Error;

/// An IP literal is its own address; a name goes to ureq's resolver.
#[derive(Debug, Default)]
pub(crate) struct LiteralsFirst {
    names: DefaultResolver,
}

/// The socket address `uri` names by an IP literal, if it does.
fn literal_address(uri: &Uri) -> Option<SocketAddr> {
    let host = uri.host()?;
    let ip: IpAddr = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
        .parse()
        .ok()?;
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some(SocketAddr::new(ip, port))
}

impl Resolver for LiteralsFirst {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, Error> {
        match literal_address(uri) {
            Some(address) => {
                let mut addresses = self.empty();
                addresses.push(address);
                Ok(addresses)
            }
            None => self.names.resolve(uri, config, timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(uri: &str) -> Option<SocketAddr> {
        literal_address(&uri.parse().unwrap())
    }

    #[test]
    fn ip_literals_are_their_own_addresses() {
        assert_eq!(
            address("http://127.0.0.1:8080/x"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(
            address("http://127.0.0.1/x"),
            Some("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            address("https://10.0.0.7/x"),
            Some("10.0.0.7:443".parse().unwrap())
        );
        assert_eq!(
            address("http://[::1]:9/x"),
            Some("[::1]:9".parse().unwrap())
        );
    }

    #[test]
    fn names_are_left_to_the_resolver() {
        assert_eq!(address("http://localhost:8080/x"), None);
        assert_eq!(address("https://api.example.com/x"), None);
        assert_eq!(address("http://127.0.0.1.nip.io/x"), None);
    }
}
