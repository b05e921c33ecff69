//! The HTTP listener: hyper's HTTP/1.1 server under our own accept loop, so that a crowd of
//! slow or idle clients cannot take nut-web off the air.
//!
//! * **Header-read timeout**: a client has [`Limits::header_timeout`] to send a complete
//!   request head (and an idle keep-alive connection as long to start the next one), then
//!   the connection is closed. axum's own `serve` runs hyper without a timer, which silently
//!   disables hyper's timeout.
//! * **Connection cap**: at most [`Limits::max_connections`] connections at once, kept below
//!   the process's descriptor limit so that accepting never fails for lack of descriptors.
//!   When the cap is reached, the oldest connection that is not inside a request (idle, or
//!   still dribbling its request head) is closed to make room, so a health check or a
//!   scrape gets through even while the cap is filled with half-sent requests. Only when
//!   every connection is inside a request is the newcomer turned away (`503`).
//! * **Graceful stop**: when `shutdown` completes, stop accepting, let the requests in
//!   progress finish, close idle connections.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower_service::Service;

/// Default for [`Limits::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Default for [`Limits::max_connections`] (lowered to fit the descriptor limit).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Descriptors kept free for everything but HTTP clients: the listener, standard streams,
/// the connections to the NUT servers, the log.
const RESERVED_FDS: u64 = 32;
/// The cap never goes below this, however low the descriptor limit.
const MIN_CONNECTIONS: usize = 8;
/// Pause after a failed `accept` (e.g. EMFILE) instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// Minimum time between two "connection cap reached" log lines.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// How many clients, and how slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time allowed for a request head.
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
        }
    }
}

/// `wanted` connections, or fewer when the soft descriptor limit `nofile` leaves less room
/// (every connection is one descriptor, `RESERVED_FDS` stay free).
pub fn fit_to_descriptors(wanted: usize, nofile: u64) -> usize {
    let room = usize::try_from(nofile.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
    wanted.min(room).max(MIN_CONNECTIONS)
}

/// The process's soft descriptor limit (`None` if it cannot be read).
pub fn descriptor_limit() -> Option<u64> {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
}

/// One open connection, as the accept loop sees it.
struct Slot {
    /// Inside a request (between a complete head and the end of the handler).
    busy: Arc<AtomicBool>,
    /// Wakes the connection's task to close it.
    evict: Arc<Notify>,
}

/// Every open connection by accept order (the oldest first).
#[derive(Default)]
struct Registry {
    slots: Mutex<BTreeMap<u64, Slot>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Make room for one more connection under `cap`: `false` when every connection is busy.
    fn make_room(&self, cap: usize) -> bool {
        let mut slots = self.lock();
        if slots.len() < cap {
            return true;
        }
        let idle = slots
            .iter()
            .find(|(_, slot)| !slot.busy.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match idle.and_then(|id| slots.remove(&id)) {
            Some(slot) => {
                slot.evict.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Clears the busy flag when a request's handler ends, however it ends.
struct BusyGuard(Arc<AtomicBool>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Forgets a connection when its task ends, however it ends.
struct Forget {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Forget {
    fn drop(&mut self) {
        self.registry.lock().remove(&self.id);
    }
}

/// What a client gets when every connection is inside a request.
const BUSY_REPLY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
content-length: 20\r\nconnection: close\r\n\r\ntoo many connections\n";

/// Serve `app` on `listener` until `shutdown` completes, then finish the requests in
/// progress.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry::default());
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut next_id: u64 = 0;
    let mut last_complaint: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        if !registry.make_room(limits.max_connections) {
            // Best effort: the socket is fresh, so the short reply fits its buffer.
            let _ = stream.try_write(BUSY_REPLY);
            if last_complaint.is_none_or(|t| t.elapsed() >= LOG_EVERY) {
                tracing::warn!(
                    "{} connections, all inside a request: turning {peer} away",
                    limits.max_connections
                );
                last_complaint = Some(Instant::now());
            }
            continue;
        }
        next_id += 1;
        let id = next_id;
        let busy = Arc::new(AtomicBool::new(false));
        let evict = Arc::new(Notify::new());
        registry.lock().insert(
            id,
            Slot {
                busy: busy.clone(),
                evict: evict.clone(),
            },
        );
        let forget = Forget {
            registry: registry.clone(),
            id,
        };
        let service = request_service(app.clone(), busy);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _forget = forget;
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!("connection from {peer}: {e}");
                    }
                }
                () = evict.notified() => {
                    tracing::debug!("closing idle connection from {peer} to make room");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The router as a hyper service that marks its connection busy while a handler runs.
fn request_service(
    app: Router,
    busy: Arc<AtomicBool>,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Future<Output = Result<axum::response::Response, std::convert::Infallible>>
             + Send
             + 'static,
> + Clone {
    hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        busy.store(true, Ordering::Relaxed);
        let guard = BusyGuard(busy.clone());
        let mut app = app.clone();
        async move {
            let response = app.call(request.map(axum::body::Body::new)).await;
            drop(guard);
            response
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_the_descriptor_limit() {
        assert_eq!(fit_to_descriptors(256, 1024), 256);
        assert_eq!(fit_to_descriptors(256, 64), 32);
        assert_eq!(fit_to_descriptors(256, 16), MIN_CONNECTIONS);
        assert_eq!(fit_to_descriptors(10, u64::MAX), 10);
    }

    #[test]
    fn room_is_made_by_closing_the_oldest_idle_connection() {
        let registry = Registry::default();
        let mut evictions = Vec::new();
        for id in 1..=3 {
            let slot = Slot {
                busy: Arc::new(AtomicBool::new(id == 1)),
                evict: Arc::new(Notify::new()),
            };
            evictions.push(slot.evict.clone());
            registry.lock().insert(id, slot);
        }
        assert!(registry.make_room(4), "below the cap");
        assert_eq!(registry.lock().len(), 3);
        // At the cap: #1 is busy, so #2 (the oldest idle one) goes.
        assert!(registry.make_room(3));
        assert_eq!(registry.lock().keys().copied().collect::<Vec<_>>(), [1, 3]);
        registry
            .lock()
            .get(&3)
            .unwrap()
            .busy
            .store(true, Ordering::Relaxed);
        assert!(!registry.make_room(2), "everyone is busy");
    }
}
