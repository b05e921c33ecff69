//! One task per UPS: connect to the driver's Unix socket, feed its lines to the server, write
//! what the server queued for it, and reconnect when the driver goes away.

use std::rc::Rc;
use std::time::{Duration, Instant};

use nut_core::token::{Limits, Tokenizer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::Shared;
use crate::ups::UpsKey;

/// Pause between connection attempts to a driver that is not there.
const RECONNECT_PAUSE: Duration = Duration::from_secs(1);

pub(super) async fn run(
    shared: Rc<Shared>,
    key: UpsKey,
    socket: String,
    mut rx: mpsc::Receiver<String>,
) {
    let path = shared.statepath.join(&socket);
    let shown = path.display().to_string();
    loop {
        match UnixStream::connect(&path).await {
            Ok(stream) => {
                shared
                    .server
                    .borrow_mut()
                    .driver_connected(key, &socket, Instant::now());
                // DUMPALL is queued now; drain it into our channel before reading.
                shared.pump();
                serve(&shared, key, stream, &mut rx).await;
                shared
                    .server
                    .borrow_mut()
                    .driver_disconnected(key, Instant::now());
                shared.pump();
            }
            Err(e) => {
                shared.server.borrow_mut().driver_connect_failed(
                    key,
                    &shown,
                    &nut_daemon::log::strerror(&e),
                    Instant::now(),
                );
                shared.pump();
            }
        }
        // Whatever was queued for a dead connection is void (the next dump starts afresh).
        while rx.try_recv().is_ok() {}
        shared.pause_until(Instant::now() + RECONNECT_PAUSE).await;
    }
}

async fn serve(
    shared: &Rc<Shared>,
    key: UpsKey,
    mut stream: UnixStream,
    rx: &mut mpsc::Receiver<String>,
) {
    let mut tok = Tokenizer::new(Limits::default());
    let mut buf = vec![0u8; 16 * 1024];
    let mut pending = String::new();
    loop {
        tokio::select! {
            read = stream.read(&mut buf) => {
                let n = match read {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let now = Instant::now();
                {
                    let mut server = shared.server.borrow_mut();
                    for line in tok.push_slice(&buf[..n]) {
                        if line.error.is_none() {
                            server.driver_line(key, &line.words, now);
                        }
                    }
                }
                shared.pump();
            }
            msg = rx.recv() => {
                let Some(line) = msg else { return };
                pending.push_str(&line);
                while let Ok(more) = rx.try_recv() {
                    pending.push_str(&more);
                }
                // While this write waits for the driver, new lines wait in the channel and
                // count against the server's DRIVER_QUEUE_LIMIT.
                if stream.write_all(pending.as_bytes()).await.is_err() {
                    return;
                }
                shared.server.borrow_mut().driver_written(key, pending.len());
                pending.clear();
            }
        }
    }
}
