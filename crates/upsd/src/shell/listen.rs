//! Binding the LISTEN addresses (before privileges are dropped).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use socket2::{Domain, Protocol, Socket, Type};

use nut_core::conf::upsd_conf::{Listen, ListenAddr};
use nut_daemon::family::Family;

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

/// The addresses of one LISTEN line: `*` means the IPv6 and the IPv4 wildcard, bound
/// separately; a host name resolves to every address (upsd 2.8.0 binds only the first one
/// that works). `None` when the name does not resolve.
fn expand(l: &Listen, family: Option<Family>) -> Option<Vec<SocketAddr>> {
    let wanted = |ip: &IpAddr| family.is_none_or(|f| f.admits(ip));
    let addrs: Vec<IpAddr> = match &l.addr {
        ListenAddr::Any => vec![
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        ],
        ListenAddr::Host(host) => match host.trim_matches(['[', ']']).parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => (host.as_str(), l.port)
                .to_socket_addrs()
                .map(|found| found.map(|a| a.ip()).collect())
                .unwrap_or_default(),
        },
    };
    if addrs.is_empty() {
        return None;
    }
    Some(
        addrs
            .into_iter()
            .filter(wanted)
            .map(|ip| SocketAddr::new(ip, l.port))
            .collect(),
    )
}

/// Whether a LISTEN line may fail without consequence: a built-in default (line 0) or
/// `localhost`.
fn is_optional(l: &Listen) -> bool {
    l.line == 0 || configured_name(l) == "localhost"
}

/// A LISTEN line's address as the administrator wrote it (`*`, `localhost`, `::1`).
fn configured_name(l: &Listen) -> String {
    match &l.addr {
        ListenAddr::Any => "*".to_owned(),
        ListenAddr::Host(host) => host.clone(),
    }
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

/// Bind every address of the LISTEN lines, in upsd 2.8.0's order: the configured lines from
/// the last to the first (upsd keeps them in a list it prepends to), the built-in defaults
/// (127.0.0.1, then ::1) as they are. Each line is logged once under its configured name,
/// as upsd logs it: `listening on localhost port 3493`, or `not listening on localhost port
/// 3493` when none of its addresses could be bound (the reasons are debug lines).
pub fn bind_all(listen: &[Listen], family: Option<Family>) -> Bound {
    let mut bound = Bound {
        listeners: Vec::new(),
        messages: Vec::new(),
        some_failed: false,
    };
    let configured = listen.iter().any(|l| l.line != 0);
    let ordered: Vec<&Listen> = if configured {
        listen.iter().rev().collect()
    } else {
        listen.iter().collect()
    };
    for l in ordered {
        let mut ok = false;
        let name = configured_name(l);
        let addrs = expand(l, family).unwrap_or_else(|| {
            tracing::debug!("{name}: cannot resolve the address");
            Vec::new()
        });
        // A built-in default excluded by `-4`/`-6` is not listened on, and not mentioned.
        if addrs.is_empty() && l.line == 0 {
            continue;
        }
        for addr in addrs {
            match bind_one(addr) {
                Ok(listener) => {
                    bound.listeners.push(listener);
                    ok = true;
                }
                Err(e) => tracing::debug!("bind {addr}: {}", nut_daemon::log::strerror(&e)),
            }
        }
        let port = l.port;
        if ok {
            bound
                .messages
                .push(format!("listening on {name} port {port}"));
        } else {
            bound
                .messages
                .push(format!("not listening on {name} port {port}"));
            bound.some_failed |= !is_optional(l);
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
        let all = expand(&l[0], None).unwrap();
        assert_eq!(
            all,
            ["[::]:1".parse().unwrap(), "0.0.0.0:1".parse().unwrap()]
        );
        let v4 = expand(&l[0], Some(Family::V4)).unwrap();
        assert_eq!(v4, ["0.0.0.0:1".parse().unwrap()]);
        let defaults = nut_core::conf::UpsdConf::default().listeners();
        assert_eq!(defaults.len(), 2);
        assert!(defaults.iter().all(is_optional), "defaults are optional");
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
        // Bound from the last line to the first, each named as configured.
        assert_eq!(
            b.messages,
            [
                "not listening on 192.0.2.1 port 3493".to_owned(),
                format!("listening on 127.0.0.1 port {free}"),
            ]
        );
    }
}
