//! Reading the servers: one connection per server per polling round, all servers at once.
//!
//! Values are never cached: every HTTP request is answered from a round that started after
//! it arrived or was already under way when it arrived (NUT servers answer a `LIST VAR` in
//! well under a millisecond, and a scrape every 15 s is nothing next to what upsmon does).
//! Requests that need the same round while it is under way share it (single flight): a
//! hundred concurrent scrapes cost the servers one round, not a hundred. A server that is
//! down, slow or refuses us only turns its own UPSes into error rows.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nut_client::aio::Client;
use nut_client::{ConnectOptions, Error, TlsMode};
use nut_core::net::reply::DESC_UNAVAILABLE;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Target;
use crate::value::numeric_value;

/// What one UPS looked like, or why it could not be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Which UPS.
    pub target: Target,
    /// The description to show: hosts.conf's, else the server's `GET UPSDESC`.
    pub description: Option<String>,
    /// `LIST VAR` in server order (empty on error).
    pub vars: Vec<(String, String)>,
    /// `GET DESC` texts for the variables that needed one.
    pub descriptions: HashMap<String, String>,
    /// Why the UPS could not be read (unreachable server, `DATA-STALE`, unknown UPS, …).
    pub error: Option<String>,
}

impl Snapshot {
    fn failed(target: &Target, error: String) -> Self {
        Self {
            target: target.clone(),
            description: target.description.clone(),
            error: Some(error),
            ..Self::default()
        }
    }

    /// The value of variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Which variable descriptions a page needs (each costs one `GET DESC`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Descriptions {
    /// None (the overview table, JSON).
    None,
    /// For numeric variables (metric HELP texts).
    Numeric,
    /// For every variable (the detail page).
    All,
}

/// Login for servers that require one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// `USERNAME`.
    pub username: String,
    /// `PASSWORD`.
    pub password: String,
}

/// Most descriptions remembered, and most bytes of description text: variable names come
/// from the servers, so a hostile one could otherwise invent names forever. When either is
/// reached the cache starts over (descriptions are asked for again, nothing is lost).
pub const MAX_CACHED_DESCRIPTIONS: usize = 4096;
/// See [`MAX_CACHED_DESCRIPTIONS`].
pub const MAX_CACHED_DESCRIPTION_BYTES: usize = 1024 * 1024;

/// Variable descriptions already asked for, by `(server, ups, variable)`; `None` when the
/// server has none. They are fixed texts (upsd's cmdvartab), so each is asked for once
/// instead of once per variable on every scrape. Bounded by [`MAX_CACHED_DESCRIPTIONS`] and
/// [`MAX_CACHED_DESCRIPTION_BYTES`].
#[derive(Debug, Default)]
pub struct DescriptionCache {
    texts: HashMap<(String, String, String), Option<String>>,
    bytes: usize,
}

impl DescriptionCache {
    /// The remembered description, if asked for before.
    pub fn get(&self, key: &(String, String, String)) -> Option<Option<String>> {
        self.texts.get(key).cloned()
    }

    /// Remember a description, starting over when a limit is reached.
    pub fn insert(&mut self, key: (String, String, String), text: Option<String>) {
        let size_of = |key: &(String, String, String), text: &Option<String>| {
            key.0.len() + key.1.len() + key.2.len() + text.as_ref().map_or(0, String::len)
        };
        let size = size_of(&key, &text);
        if let Some(old) = self.texts.remove(&key) {
            self.bytes -= size_of(&key, &old);
        }
        if self.texts.len() >= MAX_CACHED_DESCRIPTIONS
            || self.bytes + size > MAX_CACHED_DESCRIPTION_BYTES
        {
            tracing::debug!("description cache full: starting over");
            self.texts.clear();
            self.bytes = 0;
        }
        self.texts.insert(key, text);
        self.bytes += size;
    }

    /// How many descriptions are remembered.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

/// What a round is for: the UPSes (in order) and the descriptions wanted. Requests with the
/// same key share a round.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RoundKey {
    ids: Vec<String>,
    descriptions: Descriptions,
}

/// A round under way: its result appears in the channel.
type Round = watch::Receiver<Option<Arc<Vec<Snapshot>>>>;

/// The rounds under way.
type Rounds = Arc<Mutex<HashMap<RoundKey, Round>>>;

/// Removes a round from [`Rounds`] when its task ends, however it ends (cancelled, or a
/// panic where panics unwind: the tests), so that a failed round is never joined again.
struct RoundDone {
    rounds: Rounds,
    key: RoundKey,
}

impl Drop for RoundDone {
    fn drop(&mut self) {
        self.rounds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// How to talk to the servers.
#[derive(Clone, Debug)]
pub struct Poller {
    /// Connect timeout and per-reply timeout; a whole server gets four times this.
    pub timeout: Duration,
    /// Sent before anything else when set.
    pub credentials: Option<Credentials>,
    /// The TLS policy toward every server.
    pub tls: TlsMode,
    known_descriptions: Arc<Mutex<DescriptionCache>>,
    rounds: Rounds,
    /// Servers already warned about getting the password in clear text.
    warned_clear: Arc<Mutex<BTreeSet<String>>>,
}

impl Poller {
    /// A poller with an empty description cache and opportunistic TLS.
    pub fn new(timeout: Duration, credentials: Option<Credentials>) -> Self {
        Self {
            timeout,
            credentials,
            tls: TlsMode::Opportunistic,
            known_descriptions: Arc::default(),
            rounds: Arc::default(),
            warned_clear: Arc::default(),
        }
    }

    /// Use this TLS policy.
    pub fn with_tls(mut self, tls: TlsMode) -> Self {
        self.tls = tls;
        self
    }

    /// How many variable descriptions are remembered.
    pub fn cached_descriptions(&self) -> usize {
        self.known_descriptions
            .lock()
            .map_or(0, |cache| cache.len())
    }

    /// Read every target, servers concurrently, joining a round already under way for the
    /// same targets and descriptions. The result is in `targets` order.
    pub async fn poll(&self, targets: &[Target], descriptions: Descriptions) -> Vec<Snapshot> {
        let key = RoundKey {
            ids: targets.iter().map(Target::id).collect(),
            descriptions,
        };
        let mut round = {
            let mut rounds = self.rounds.lock().unwrap_or_else(PoisonError::into_inner);
            match rounds.get(&key) {
                Some(round) => round.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    rounds.insert(key.clone(), rx.clone());
                    let done = RoundDone {
                        rounds: self.rounds.clone(),
                        key,
                    };
                    let poller = self.clone();
                    let targets = targets.to_vec();
                    // A task of its own: the round completes for the others even when the
                    // request that started it goes away.
                    tokio::spawn(async move {
                        let _done = done;
                        let snapshots = poller.poll_now(&targets, descriptions).await;
                        let _ = tx.send(Some(Arc::new(snapshots)));
                    });
                    rx
                }
            }
        };
        match round.wait_for(Option::is_some).await {
            Ok(result) => result.as_deref().cloned().unwrap_or_default(),
            Err(_) => targets
                .iter()
                .map(|t| Snapshot::failed(t, "internal error".to_owned()))
                .collect(),
        }
    }

    /// One round: read every target now, servers concurrently.
    async fn poll_now(&self, targets: &[Target], descriptions: Descriptions) -> Vec<Snapshot> {
        let mut by_server: Vec<(String, Vec<Target>)> = Vec::new();
        for t in targets {
            let server = t.server();
            match by_server.iter_mut().find(|(s, _)| *s == server) {
                Some((_, list)) => list.push(t.clone()),
                None => by_server.push((server, vec![t.clone()])),
            }
        }
        let mut tasks = JoinSet::new();
        for (_, group) in by_server {
            let poller = self.clone();
            tasks.spawn(async move {
                let limit = poller.timeout * 4;
                match tokio::time::timeout(limit, poller.poll_server(&group, descriptions)).await {
                    Ok(snapshots) => snapshots,
                    Err(_) => group
                        .iter()
                        .map(|t| {
                            Snapshot::failed(t, format!("no complete answer within {limit:?}"))
                        })
                        .collect(),
                }
            });
        }
        let mut done: HashMap<String, Snapshot> = HashMap::new();
        while let Some(result) = tasks.join_next().await {
            // A task that ends without a result (cancelled, or panicked where panics unwind:
            // the tests; the release build aborts, Cargo.toml) loses only its server's rows,
            // which then show as errors below.
            for s in result.unwrap_or_default() {
                done.insert(s.target.id(), s);
            }
        }
        targets
            .iter()
            .map(|t| {
                done.remove(&t.id())
                    .unwrap_or_else(|| Snapshot::failed(t, "internal error".to_owned()))
            })
            .collect()
    }

    async fn poll_server(&self, group: &[Target], descriptions: Descriptions) -> Vec<Snapshot> {
        let Some(first) = group.first() else {
            return Vec::new();
        };
        let options = ConnectOptions::new(first.host.clone(), first.port)
            .connect_timeout(Some(self.timeout))
            .io_timeout(Some(self.timeout))
            .call_timeout(Some(self.timeout * 2))
            .tls(self.tls.clone());
        let mut client = match self.connect(&options, &first.server()).await {
            Ok(c) => c,
            Err(e) => {
                let message = format!("{}: {}", first.server(), e.client_message());
                tracing::debug!("{message}");
                return group
                    .iter()
                    .map(|t| Snapshot::failed(t, message.clone()))
                    .collect();
            }
        };
        let mut out = Vec::with_capacity(group.len());
        for target in group {
            out.push(read_ups(&mut client, target, descriptions, &self.known_descriptions).await);
        }
        client.close().await;
        out
    }

    async fn connect(&self, options: &ConnectOptions, server: &str) -> Result<Client, Error> {
        let mut client = Client::connect(options).await?;
        if let Some(c) = &self.credentials {
            client.username(&c.username).await?;
            if client.password_in_clear() && self.first_clear_password(server) {
                tracing::warn!(
                    "sending the password to {server} in clear text (the server does not do \
                     TLS); use --certverify with --certpath, or --certpin, to refuse"
                );
            }
            client.password(&c.password).await?;
        }
        Ok(client)
    }

    /// Whether this is the first clear-text password for `server` (warned about once).
    fn first_clear_password(&self, server: &str) -> bool {
        self.warned_clear
            .lock()
            .map_or(true, |mut warned| warned.insert(server.to_owned()))
    }
}

async fn read_ups(
    client: &mut Client,
    target: &Target,
    descriptions: Descriptions,
    known: &Mutex<DescriptionCache>,
) -> Snapshot {
    let vars = match client.list_vars(&target.ups).await {
        Ok(vars) => vars,
        Err(e) => return Snapshot::failed(target, e.client_message()),
    };
    let description = match &target.description {
        Some(d) => Some(d.clone()),
        None => client
            .get_ups_desc(&target.ups)
            .await
            .ok()
            .filter(|d| d != DESC_UNAVAILABLE),
    };
    let vars: Vec<(String, String)> = vars.into_iter().map(|v| (v.name, v.value)).collect();
    let mut texts = HashMap::new();
    for (name, value) in &vars {
        let wanted = match descriptions {
            Descriptions::None => false,
            Descriptions::Numeric => numeric_value(value).is_some(),
            Descriptions::All => true,
        };
        if !wanted {
            continue;
        }
        let key = (target.server(), target.ups.clone(), name.clone());
        let cached = known.lock().map_or(None, |k| k.get(&key));
        let text = match cached {
            Some(text) => text,
            None => match client.get_desc(&target.ups, name).await {
                // upsd's placeholder for a variable missing from cmdvartab says nothing.
                Ok(text) => {
                    let text = Some(text).filter(|t| t != DESC_UNAVAILABLE);
                    if let Ok(mut k) = known.lock() {
                        k.insert(key, text.clone());
                    }
                    text
                }
                // Not remembered: the next request asks again.
                Err(_) => None,
            },
        };
        if let Some(text) = text {
            texts.insert(name.clone(), text);
        }
    }
    Snapshot {
        target: target.clone(),
        description,
        vars,
        descriptions: texts,
        error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> (String, String, String) {
        ("h:3493".into(), "ups".into(), format!("x.v{i}"))
    }

    /// A server inventing variable names cannot grow the cache without end.
    #[test]
    fn the_description_cache_is_bounded() {
        let mut cache = DescriptionCache::default();
        for i in 0..3 * MAX_CACHED_DESCRIPTIONS {
            cache.insert(key(i), Some("text".into()));
            assert!(cache.len() <= MAX_CACHED_DESCRIPTIONS);
        }
        assert_eq!(
            cache.get(&key(3 * MAX_CACHED_DESCRIPTIONS - 1)),
            Some(Some("text".into()))
        );
        let mut cache = DescriptionCache::default();
        let long = "d".repeat(100_000);
        for i in 0..100 {
            cache.insert(key(i), Some(long.clone()));
            assert!(
                cache.bytes <= MAX_CACHED_DESCRIPTION_BYTES,
                "{}",
                cache.bytes
            );
        }
        assert!(!cache.is_empty());
        assert_eq!(cache.get(&key(99)), Some(Some(long)));
        assert_eq!(cache.get(&key(0)), None);
    }
}
