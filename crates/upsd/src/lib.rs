//! `nut-upsd`: upsd, the NUT data server, as a library with a thin binary.
//!
//! ```text
//!  TCP/TLS clients ──lines──▶ Session (per client) ──▶ reply bytes (one write per batch)
//!                                  │  ▲
//!                                  ▼  │ queries, LOGIN counts, tracking ids, FSD latch
//!  driver sockets ──lines──▶     Server (UPS table, users, driver mirrors, timers)
//!                  ◀─ DUMPALL, PING, SET, INSTCMD ─┘
//! ```
//!
//! [`session`] and [`server`] are sans-IO: they see tokenized lines and `Instant`s, never a
//! socket or a clock, and are unit-tested as transcripts; the idle limit and the MAXCONN
//! policy are theirs too ([`Server::handle_accept`], [`Server::handle_timeout`]). [`shell`] is the tokio
//! (current-thread) runtime around them: listeners, client tasks, driver-socket tasks,
//! STARTTLS, signals, reload and the systemd watchdog. [`cli`] and [`daemon`] hold the
//! command line and the start-up order; the process plumbing (PID file, detaching, logging,
//! sd_notify, runtime directory, privileges) is `nut_daemon`'s. [`config`] reads the files
//! with `nut_core::conf` (ups.conf, upsd.conf, upsd.users, cmdvartab): a file with errors
//! stops startup (and is ignored, keeping the running configuration, on reload).
//!
//! # Request line limit
//!
//! A request line may hold at most [`MAX_REQUEST_LINE`] bytes (before its LF). A longer line
//! is answered `ERR INVALID-ARGUMENT` once its LF arrives; its bytes are never stored, so a
//! client cannot make the server hold more than a few KiB per connection. (upsd 2.8.0
//! truncates each word at 512 bytes and goes on; a 1 MiB line there gets whatever the
//! truncated words mean.)
//!
//! # Deliberate differences from upsd 2.8.0
//!
//! * `INSTCMD <ups> <cmd> <param>`: the parameter is forwarded to the driver quoted, so a
//!   parameter with spaces stays one argument (docs/nut-behaviour.md §12 item 2).
//! * `SET VAR` on a variable with ranges: the value must be a whole decimal number inside a
//!   range (upsd uses `atoi`, accepting `12abc` as 12 and `130.5` as 130) (§12 item 5).
//! * `GET TYPE` keeps upsd's `NUMBER` for variables without the STRING flag (§12 item 4):
//!   clients decide on it, so it is not changed.
//! * Over-long request lines, see above.
//! * MAXCONN: when it is reached, the client without valid credentials whose last complete
//!   request is the oldest is disconnected to make room ([`server::Server::make_room`]);
//!   clients with valid USERNAME and PASSWORD are never evicted, so idle connections cannot
//!   lock upsmon out. Only when all have them is a new client disconnected at once (upsd
//!   accepts it and never reads from it). The listen backlog is 1024 instead of 16.
//! * `FORCESSL yes` (a nut-rs addition, needs CERTFILE): USERNAME, PASSWORD and privileged
//!   commands are refused with `ACCESS-DENIED` on connections that did not STARTTLS.
//! * Every `ACCESS-DENIED` is logged with the user, the peer and the request (never a
//!   password); those lines and repeated USERNAME/PASSWORD/LOGIN lines are throttled
//!   ([`server::LOG_BURST`] per [`server::LOG_WINDOW`], then counted).
//! * Bounded queues: at most [`server::DRIVER_QUEUE_LIMIT`] bytes wait for a driver (then
//!   SET/INSTCMD fail), at most [`server::TRACKING_LIMIT`] tracking ids are kept.
//! * After a parse error (e.g. `#` inside quotes) upsd also drops the rest of that `read()`;
//!   we answer the following complete lines.
//! * TLS is rustls: CERTFILE is one PEM file with the certificate chain and the key
//!   (OpenSSL-build semantics); NSS databases and CERTIDENT are not supported; only TLS 1.2
//!   and 1.3 exist, so DISABLE_WEAK_SSL changes nothing. CERTREQUEST checks client
//!   certificates against CERTPATH (a PEM file or a directory of `.pem`/`.crt` files).
//! * A LISTEN address that cannot be bound is logged and skipped as long as one listener
//!   works (nut#723); none at all is fatal. LISTEN and TLS changes need a restart, as in
//!   upsd.
//! * Started as root without `-u`, upsd switches to the `nut` account (Debian's build
//!   default) after binding its listeners and reading CERTFILE. As in upsd, the account is
//!   looked up before `-r` chroots, a missing one is fatal (exit 67), and the PID file is
//!   written after dropping privileges.
//! * The PID file is `flock`ed while upsd runs: a second instance is refused on one line
//!   that names the running PID (upsd 2.8.0: two lines, no PID, and it trusts a stale
//!   file's PID if that number was recycled); a stale file is taken over silently; `-c`
//!   only signals a PID file that is locked (or `-P`). A missing PID directory is created
//!   (0770, root:nut when root) instead of failing with "No such file or directory".
//! * Backgrounded, the launcher exits only once upsd is ready (with upsd's exit code if the
//!   start-up fails); upsd 2.8.0's parent exits at the fork.
//! * With `WATCHDOG_USEC` set (systemd's `WatchdogSec=`), upsd sends `WATCHDOG=1` every half
//!   interval.
//! * No periodic wake-up: upsd 2.8.0 looks at its timers every 2 s; ours sleeps until the
//!   next deadline the [`Server`] reports (a PING to a silent driver, a client's idle limit,
//!   a tracking id's expiry), so an idle upsd with nothing due does not wake at all. A silent
//!   client is dropped 60 s after its last bytes ([`server::IDLE_TIMEOUT`]; tests shorten it
//!   with [`config::IDLE_TIMEOUT_ENV`]).

pub mod cli;
pub mod config;
pub mod daemon;
pub mod server;
pub mod session;
pub mod shell;
pub mod ups;

pub use server::{Server, Settings};
pub use session::{Session, SessionAction};

/// The longest request line accepted, in bytes before the LF (see the crate docs).
pub const MAX_REQUEST_LINE: usize = 8192;
