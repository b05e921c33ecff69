//! Binding the LISTEN addresses (before privileges are dropped).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

use crate::cli::Family;
use nut_core::conf::upsd_conf::{Listen, ListenAddr};

/// Listen backlog. upsd uses 16; a deeper queue lets bursts of thousands of clients
/// connect without SYN retries (the kernel caps it at somaxconn).
const BACKLOG: i32 = 1024;

/// The outcome of binding every LISTEN line.
#[derive(Debug)]
pub struct Bound {
    /// The listeners that work.
    pub listeners: Vec<std::net::TcpListener>,
    /// Log lines (`listening on …`, `not listening on …`).
    pub messages: Vec<String>,
    /// Whether an address other than a default localhost alias failed.
    pub some_failed: bool,
}

/// The addresses to bind: `*` means the IPv6 and the IPv4 wildcard, bound separately; host
/// names resolve to every address. Pass `UpsdConf::listeners()` (defaults included).
fn expand(listen: &[Listen], family: Option<Family>) -> Vec<(String, SocketAddr, bool)> {
    let mut out = Vec::new();
    let wanted = |ip: &IpAddr| match family {
        Some(Family::V4) => ip.is_ipv4(),
        Some(Family::V6) => ip.is_ipv6(),
        None => true,
    };
    for l in listen {
        let (name, addrs): (String, Vec<IpAddr>) = match &l.addr {
            ListenAddr::Any => (
                "*".to_owned(),
                vec![
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                ],
            ),
            ListenAddr::Host(host) => {
                let addrs = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
                    Ok(ip) => vec![ip],
                    Err(_) => (host.as_str(), l.port)
                        .to_socket_addrs()
                        .map(|found| found.map(|a| a.ip()).collect())
                        .unwrap_or_default(),
                };
                (host.clone(), addrs)
            }
        };
        // A built-in default (line 0) or `localhost` may fail without consequence.
        let optional = l.line == 0 || name == "localhost";
        if addrs.is_empty() {
            out.push((name, SocketAddr::from(([0, 0, 0, 0], 0)), optional));
            continue;
        }
        for ip in addrs.into_iter().filter(wanted) {
            out.push((name.clone(), SocketAddr::new(ip, l.port), optional));
        }
    }
    out
}

fn bind_one(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        // Dual-stack wildcards would collide with the separate IPv4 socket.
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Bind every address of the LISTEN lines.
pub fn bind_all(listen: &[Listen], family: Option<Family>) -> Bound {
    let mut bound = Bound {
        listeners: Vec::new(),
        messages: Vec::new(),
        some_failed: false,
    };
    for (name, addr, optional) in expand(listen, family) {
        let shown = if addr.port() == 0 {
            name.clone()
        } else {
            addr.ip().to_string()
        };
        let port = addr.port();
        match (addr.port() != 0).then(|| bind_one(addr)) {
            Some(Ok(listener)) => {
                bound
                    .messages
                    .push(format!("listening on {shown} port {port}"));
                bound.listeners.push(listener);
            }
            Some(Err(e)) => {
                bound
                    .messages
                    .push(format!("not listening on {shown} port {port}: {e}"));
                bound.some_failed |= !optional;
            }
            None => {
                bound.messages.push(format!(
                    "not listening on {name}: cannot resolve the address"
                ));
                bound.some_failed |= !optional;
            }
        }
    }
    bound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listen(addr: ListenAddr, port: u16) -> Listen {
        let conf = format!(
            "LISTEN {} {port}\n",
            match &addr {
                ListenAddr::Any => "*".to_owned(),
                ListenAddr::Host(h) => h.clone(),
            }
        );
        let (c, _) = nut_core::conf::parse_upsd_conf(conf, "upsd.conf")
            .unwrap()
            .into_parts();
        c.listeners().remove(0)
    }

    #[test]
    fn star_is_both_wildcards_and_family_filters() {
        let l = [listen(ListenAddr::Any, 1)];
        let all: Vec<SocketAddr> = expand(&l, None).into_iter().map(|e| e.1).collect();
        assert_eq!(
            all,
            ["[::]:1".parse().unwrap(), "0.0.0.0:1".parse().unwrap()]
        );
        let v4: Vec<SocketAddr> = expand(&l, Some(Family::V4))
            .into_iter()
            .map(|e| e.1)
            .collect();
        assert_eq!(v4, ["0.0.0.0:1".parse().unwrap()]);
        let defaults = nut_core::conf::UpsdConf::default().listeners();
        let expanded = expand(&defaults, None);
        assert_eq!(expanded.len(), 2);
        assert!(expanded.iter().all(|e| e.2), "defaults are optional");
    }

    #[test]
    fn unbindable_address_is_reported_but_others_work() {
        let free = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let l = [
            listen(ListenAddr::Host("127.0.0.1".into()), free),
            listen(ListenAddr::Host("192.0.2.1".into()), 3493),
        ];
        let b = bind_all(&l, None);
        assert_eq!(b.listeners.len(), 1, "{:?}", b.messages);
        assert!(b.some_failed);
        assert!(b.messages[1].starts_with("not listening on 192.0.2.1 port 3493"));
    }
}
