//! nut-client's LIST reading (`proto::LineReader` + the `Exchange` of each LIST call, as the
//! blocking and async clients use them) on streamed replies cut into arbitrary chunks: a
//! well-formed reply gives exactly the items the server wrote, and whatever arrives (garbage
//! lines, CR LF, ERR, replies of another kind, an early end), the outcome never depends on
//! how TCP happened to split the bytes.
#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use nut_client::proto::{self, Call, LineReader};
use nut_core::net::reply::{write_begin_list, write_end_list};
use nut_core::net::{ListItem, ListQuery};

const UPSES: &[&str] = &["ups", "UPS", "other", "a-b_c.d"];
const VARS: &[&str] = &["ups.status", "input.transfer.low", "x"];

#[derive(Arbitrary, Debug)]
enum Segment {
    /// An item of the kind the query asks for.
    Item(u8, String, i64, i64),
    /// An item of the wrong kind.
    Alien(u8, u8, String),
    Begin,
    End,
    Err(u8),
    Raw(Vec<u8>),
    CrLf,
}

#[derive(Arbitrary, Debug)]
struct Input {
    query: u8,
    ups: u8,
    var: u8,
    items: Vec<(u8, String, i64, i64)>,
    /// Changes to the well-formed reply: (position, what to insert there).
    mangle: Vec<(u8, Segment)>,
    chunks: Vec<u8>,
}

/// Printable ASCII: all the protocol carries (the tokenizer drops other bytes, as NUT's).
fn text(s: &str) -> String {
    s.chars()
        .filter(|c| (' '..='~').contains(c))
        .take(48)
        .collect()
}

fn query(input: &Input) -> ListQuery {
    let ups = UPSES[usize::from(input.ups) % UPSES.len()].to_owned();
    let var = VARS[usize::from(input.var) % VARS.len()].to_owned();
    match input.query % 7 {
        0 => ListQuery::Ups,
        1 => ListQuery::Var { ups },
        2 => ListQuery::Rw { ups },
        3 => ListQuery::Cmd { ups },
        4 => ListQuery::Client { ups },
        5 => ListQuery::Enum { ups, var },
        _ => ListQuery::Range { ups, var },
    }
}

/// An item for `query`, as a server would answer it.
fn item(query: &ListQuery, (n, s, a, b): &(u8, String, i64, i64)) -> ListItem {
    let name = VARS[usize::from(*n) % VARS.len()].to_owned();
    let value = text(s);
    let (min, max) = (*a.min(b), *a.max(b));
    match query {
        ListQuery::Ups => ListItem::Ups {
            name: UPSES[usize::from(*n) % UPSES.len()].to_owned(),
            desc: value,
        },
        ListQuery::Var { ups } => ListItem::Var {
            ups: ups.clone(),
            var: name,
            value,
        },
        ListQuery::Rw { ups } => ListItem::Rw {
            ups: ups.clone(),
            var: name,
            value,
        },
        ListQuery::Cmd { ups } => ListItem::Cmd {
            ups: ups.clone(),
            cmd: name,
        },
        ListQuery::Client { ups } => ListItem::Client {
            ups: ups.clone(),
            address: format!("10.0.0.{n}"),
        },
        ListQuery::Enum { ups, var } => ListItem::Enum {
            ups: ups.clone(),
            var: var.clone(),
            value,
        },
        ListQuery::Range { ups, var } => ListItem::Range {
            ups: ups.clone(),
            var: var.clone(),
            min,
            max,
        },
    }
}

/// The reply bytes, and the items of the well-formed reply.
fn stream(input: &Input, q: &ListQuery) -> (Vec<u8>, Vec<ListItem>) {
    let items: Vec<ListItem> = input.items.iter().take(64).map(|i| item(q, i)).collect();
    let mut segments: Vec<Vec<u8>> = Vec::new();
    let mut line = String::new();
    write_begin_list(&mut line, q);
    segments.push(std::mem::take(&mut line).into_bytes());
    for i in &items {
        i.write_to(&mut line);
        segments.push(std::mem::take(&mut line).into_bytes());
    }
    write_end_list(&mut line, q);
    segments.push(std::mem::take(&mut line).into_bytes());
    for (at, seg) in input.mangle.iter().take(8) {
        let bytes = match seg {
            Segment::Item(n, s, a, b) => {
                item(q, &(*n, s.clone(), *a, *b)).write_to(&mut line);
                std::mem::take(&mut line).into_bytes()
            }
            Segment::Alien(kind, n, s) => {
                let other = query(&Input {
                    query: *kind,
                    ups: *n,
                    var: *n,
                    items: Vec::new(),
                    mangle: Vec::new(),
                    chunks: Vec::new(),
                });
                item(&other, &(*n, s.clone(), 0, 1)).write_to(&mut line);
                std::mem::take(&mut line).into_bytes()
            }
            Segment::Begin => {
                write_begin_list(&mut line, q);
                std::mem::take(&mut line).into_bytes()
            }
            Segment::End => {
                write_end_list(&mut line, q);
                std::mem::take(&mut line).into_bytes()
            }
            Segment::Err(code) => {
                let codes = ["ACCESS-DENIED", "UNKNOWN-UPS", "DATA-STALE", "NOPE"];
                format!("ERR {}\n", codes[usize::from(*code) % codes.len()]).into_bytes()
            }
            Segment::Raw(bytes) => bytes.clone(),
            Segment::CrLf => b"\r\n".to_vec(),
        };
        let at = usize::from(*at) % (segments.len() + 1);
        segments.insert(at, bytes);
    }
    (segments.concat(), items)
}

/// What a client gets: the result, an error (its text), or nothing yet.
#[derive(Debug, PartialEq)]
enum Outcome<T> {
    Done(T),
    Failed(String),
    Incomplete,
}

fn run<T>(call: Call<T>, bytes: &[u8], chunks: &[u8]) -> Outcome<T> {
    let mut exchange = call.exchange();
    let mut reader = LineReader::new();
    let mut rest = bytes;
    let mut sizes = chunks.iter().map(|c| usize::from(*c).max(1)).cycle();
    while !rest.is_empty() {
        let n = if chunks.is_empty() {
            rest.len()
        } else {
            sizes.next().unwrap_or(1)
        };
        let (now, later) = rest.split_at(n.min(rest.len()));
        rest = later;
        reader.extend(now);
        loop {
            match reader.next_line() {
                Ok(Some(line)) => match exchange.push_line(&line) {
                    Ok(Some(done)) => return Outcome::Done(done),
                    Ok(None) => {}
                    Err(e) => return Outcome::Failed(e.to_string()),
                },
                Ok(None) => break,
                Err(e) => return Outcome::Failed(e.to_string()),
            }
        }
    }
    Outcome::Incomplete
}

/// Same outcome whole and chunked; the well-formed reply's items come back as `expect` says.
fn check<T: Debug + PartialEq>(
    call: impl Fn() -> Call<T>,
    bytes: &[u8],
    chunks: &[u8],
    expect: Option<T>,
) {
    let whole = run(call(), bytes, &[]);
    let split = run(call(), bytes, chunks);
    let bytewise = run(call(), bytes, &[1]);
    assert_eq!(
        whole,
        split,
        "chunked differently: {:?}",
        String::from_utf8_lossy(bytes)
    );
    assert_eq!(
        whole,
        bytewise,
        "byte by byte: {:?}",
        String::from_utf8_lossy(bytes)
    );
    if let Some(items) = expect {
        assert_eq!(
            whole,
            Outcome::Done(items),
            "{:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

fuzz_target!(|input: Input| {
    let q = query(&input);
    let (bytes, items) = stream(&input, &q);
    let clean = input.mangle.is_empty();
    let ups = match &q {
        ListQuery::Ups => String::new(),
        ListQuery::Var { ups }
        | ListQuery::Rw { ups }
        | ListQuery::Cmd { ups }
        | ListQuery::Client { ups }
        | ListQuery::Enum { ups, .. }
        | ListQuery::Range { ups, .. } => ups.clone(),
    };
    let chunks = &input.chunks;
    let var = match &q {
        ListQuery::Enum { var, .. } | ListQuery::Range { var, .. } => var.clone(),
        _ => String::new(),
    };
    let values = |f: fn(ListItem) -> Option<String>| -> Vec<String> {
        items.iter().cloned().filter_map(f).collect()
    };
    match q {
        ListQuery::Ups => {
            let want = items
                .iter()
                .map(|i| match i {
                    ListItem::Ups { name, desc } => proto_ups(name, desc),
                    _ => unreachable!(),
                })
                .collect();
            check(proto::list_ups, &bytes, chunks, clean.then_some(want));
        }
        ListQuery::Var { .. } | ListQuery::Rw { .. } => {
            let want: Vec<nut_client::Variable> = items
                .iter()
                .map(|i| match i {
                    ListItem::Var { var, value, .. } | ListItem::Rw { var, value, .. } => {
                        nut_client::Variable {
                            name: var.clone(),
                            value: value.clone(),
                        }
                    }
                    _ => unreachable!(),
                })
                .collect();
            let all = matches!(q, ListQuery::Var { .. });
            let call = || {
                if all {
                    proto::list_vars(&ups)
                } else {
                    proto::list_rw(&ups)
                }
            };
            check(call, &bytes, chunks, clean.then_some(want));
        }
        ListQuery::Cmd { .. } => {
            let want = values(|i| match i {
                ListItem::Cmd { cmd, .. } => Some(cmd),
                _ => None,
            });
            check(
                || proto::list_commands(&ups),
                &bytes,
                chunks,
                clean.then_some(want),
            );
        }
        ListQuery::Client { .. } => {
            let want = values(|i| match i {
                ListItem::Client { address, .. } => Some(address),
                _ => None,
            });
            check(
                || proto::list_clients(&ups),
                &bytes,
                chunks,
                clean.then_some(want),
            );
        }
        ListQuery::Enum { .. } => {
            let want = values(|i| match i {
                ListItem::Enum { value, .. } => Some(value),
                _ => None,
            });
            let call = || proto::list_enum(&ups, &var);
            check(call, &bytes, chunks, clean.then_some(want));
        }
        ListQuery::Range { .. } => {
            let want: Vec<nut_client::Range> = items
                .iter()
                .map(|i| match i {
                    ListItem::Range { min, max, .. } => nut_client::Range {
                        min: *min,
                        max: *max,
                    },
                    _ => unreachable!(),
                })
                .collect();
            let call = || proto::list_range(&ups, &var);
            check(call, &bytes, chunks, clean.then_some(want));
        }
    }
});

fn proto_ups(name: &str, desc: &str) -> nut_client::UpsEntry {
    nut_client::UpsEntry {
        name: name.to_owned(),
        description: desc.to_owned(),
    }
}
