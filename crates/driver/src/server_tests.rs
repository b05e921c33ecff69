//! The socket server on real Unix sockets, turned by hand the way the loop turns it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::sync::mpsc;

use super::*;

/// Generous: these waits end as soon as what they wait for happens.
const PATIENCE: Duration = Duration::from_secs(20);

/// A server on a fresh socket, with its epoll set.
fn server(dir: &Path) -> (Server, Epoll) {
    let epoll = Epoll::new().expect("epoll");
    let server = Server::bind(&dir.join("sock"), None, &epoll).expect("bind");
    (server, epoll)
}

/// One turn of the loop: wait for the set, hand the server its keys, write what is queued.
fn turn(server: &mut Server, epoll: &Epoll) {
    let mut ready = Vec::with_capacity(16);
    epoll
        .wait(&mut ready, Some(Instant::now() + PATIENCE))
        .expect("wait");
    assert!(!ready.is_empty(), "nothing happened on the socket");
    for r in ready {
        assert!(Server::owns(r.key()));
        server.ready(r);
    }
    server.flush();
}

/// Turn until the server reports an event.
fn next(server: &mut Server, epoll: &Epoll) -> Event {
    loop {
        if let Some(ev) = server.next_event() {
            return ev;
        }
        turn(server, epoll);
    }
}

fn connect(server: &mut Server, epoll: &Epoll) -> (UnixStream, ConnId) {
    let client = UnixStream::connect(server.path()).expect("connect");
    match next(server, epoll) {
        Event::Connected(id) => (client, id),
        other => panic!("expected a connection, got {other:?}"),
    }
}

fn line() -> Arc<str> {
    Arc::from(format!("SETINFO ups.id \"{}\"\n", "x".repeat(200)))
}

#[test]
fn requests_are_parsed_in_order_and_answers_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, epoll) = server(dir.path());
    let (mut client, id) = connect(&mut server, &epoll);
    client.write_all(b"PING\nDUMPALL\n\nBOGUS x\n").unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        match next(&mut server, &epoll) {
            Event::Request(from, r) => {
                assert_eq!(from, id);
                got.push(r);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got[0], Ok(ServerMsg::Ping));
    assert_eq!(got[1], Ok(ServerMsg::DumpAll));
    assert!(
        matches!(&got[2], Err(BadLine::Parse(_, words)) if words[0] == "BOGUS"),
        "{:?}",
        got[2]
    );
    server.send(id, Arc::from("PONG\n"));
    server.send(id, Arc::from("DUMPDONE\n"));
    server.flush();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut text = String::new();
    reader.read_line(&mut text).unwrap();
    reader.read_line(&mut text).unwrap();
    assert_eq!(text, "PONG\nDUMPDONE\n");
}

#[test]
fn broadcasts_skip_a_client_that_asked_for_none_and_a_client_gone_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, epoll) = server(dir.path());
    let (a, a_id) = connect(&mut server, &epoll);
    let (b, b_id) = connect(&mut server, &epoll);
    server.set_broadcast(b_id, false);
    server.broadcast(Arc::from("DATAOK\n"));
    server.flush();
    let mut line = String::new();
    BufReader::new(&a).read_line(&mut line).unwrap();
    assert_eq!(line, "DATAOK\n");
    b.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        (&b).read(&mut buf).map_err(|e| e.kind()),
        Err(io::ErrorKind::WouldBlock),
        "a client without broadcasts got one"
    );
    drop(a);
    assert!(matches!(next(&mut server, &epoll), Event::Closed(id) if id == a_id));
    assert_eq!(server.client_count(), 1);
}

#[test]
fn logout_closes_the_client_once_its_answer_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, epoll) = server(dir.path());
    let (client, id) = connect(&mut server, &epoll);
    server.send(id, Arc::from("OK Goodbye\n"));
    server.close_after_flush(id);
    server.flush();
    let mut all = String::new();
    (&client)
        .read_to_string(&mut all)
        .expect("closed after the answer");
    assert_eq!(all, "OK Goodbye\n");
    assert_eq!(server.client_count(), 0);
}

#[test]
fn a_client_that_stops_reading_is_dropped_when_not_synchronous() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, epoll) = server(dir.path());
    let (_client, id) = connect(&mut server, &epoll);
    for _ in 0..=QUEUE_DEPTH {
        server.broadcast(line());
    }
    assert_eq!(server.client_count(), 0);
    assert!(matches!(server.next_event(), Some(Event::Closed(gone)) if gone == id));
}

#[test]
fn what_the_socket_does_not_take_at_once_is_written_when_the_client_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, epoll) = server(dir.path());
    let (client, _) = connect(&mut server, &epoll);
    // Far more than the socket buffer holds, less than the queue: some waits for room.
    let total = QUEUE_DEPTH - 1;
    for _ in 0..total {
        server.broadcast(line());
    }
    server.flush();
    let reader = std::thread::spawn(move || count_lines(client, total));
    write_out(&mut server, &epoll);
    assert_eq!(reader.join().unwrap(), total);
    assert_eq!(server.client_count(), 1);
}

/// Turn the loop until every queue is written.
fn write_out(server: &mut Server, epoll: &Epoll) {
    while server.conns.values().any(|c| !c.queue.is_empty()) {
        turn(server, epoll);
    }
}

fn count_lines(mut client: UnixStream, total: usize) -> usize {
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut lines = 0;
    while lines < total {
        let n = client.read(&mut buf).expect("read");
        assert!(n > 0, "closed after {lines} lines");
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count();
    }
    lines
}

#[test]
fn synchronous_yes_waits_for_a_slow_client_instead_of_dropping_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, epoll) = server(dir.path());
    server.set_blocking(true);
    let (client, _) = connect(&mut server, &epoll);
    // Eight queues' worth, queued without the loop turning: only waiting for the client
    // to read keeps it from being dropped.
    let total = QUEUE_DEPTH * 8;
    let reader = std::thread::spawn(move || count_lines(client, total));
    for _ in 0..total {
        server.broadcast(line());
    }
    assert_eq!(server.client_count(), 1, "the slow client was dropped");
    server.flush();
    write_out(&mut server, &epoll);
    assert_eq!(reader.join().unwrap(), total);
}

#[test]
fn close_waits_for_a_slow_reader_only_so_long() {
    let dir = tempfile::tempdir().unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let path = dir.path().to_path_buf();
    let (client_tx, client_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut server, epoll) = server(&path);
        let (client, id) = connect(&mut server, &epoll);
        // Keep the client open, never reading, until the test ends.
        client_tx.send(client).unwrap();
        // Fill the socket buffers: the rest stays queued.
        for _ in 0..QUEUE_DEPTH - 1 {
            server.send(id, line());
        }
        server.flush();
        server.close(Duration::from_millis(100));
        done_tx.send(()).unwrap();
    });
    let _client = client_rx.recv_timeout(PATIENCE).expect("connected");
    done_rx
        .recv_timeout(PATIENCE)
        .expect("close waited past its limit for a client that does not read");
}

#[test]
fn the_socket_file_is_removed_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _epoll) = server(dir.path());
    let path = server.path().to_path_buf();
    assert!(path.exists());
    drop(server);
    assert!(!path.exists());
}
