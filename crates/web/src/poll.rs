//! Reading the servers: one connection per server per request, all servers at once.
//!
//! Values are never cached: every HTTP request asks the servers afresh (NUT servers answer a
//! `LIST VAR` in well under a millisecond, and a scrape every 15 s is nothing next to what
//! upsmon does). A server that is down, slow or refuses us only turns its own UPSes into
//! error rows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nut_client::aio::Client;
use nut_client::{ConnectOptions, Error};
use nut_core::net::reply::DESC_UNAVAILABLE;
use tokio::task::JoinSet;

use crate::config::Target;
use crate::metrics::numeric_value;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// Variable descriptions already asked for, by `(server, ups, variable)`; `None` when the
/// server has none. They are fixed texts (upsd's cmdvartab), so each is asked for once
/// instead of once per variable on every scrape.
type DescriptionCache = Arc<Mutex<HashMap<(String, String, String), Option<String>>>>;

/// How to talk to the servers.
#[derive(Clone, Debug)]
pub struct Poller {
    /// Connect timeout and per-reply timeout; a whole server gets four times this.
    pub timeout: Duration,
    /// Sent before anything else when set.
    pub credentials: Option<Credentials>,
    known_descriptions: DescriptionCache,
}

impl Poller {
    /// A poller with an empty description cache.
    pub fn new(timeout: Duration, credentials: Option<Credentials>) -> Self {
        Self {
            timeout,
            credentials,
            known_descriptions: DescriptionCache::default(),
        }
    }

    /// Read every target, servers concurrently. The result is in `targets` order.
    pub async fn poll(&self, targets: &[Target], descriptions: Descriptions) -> Vec<Snapshot> {
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
            // A panicking task loses only its server's rows, which then show as errors below.
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
            .io_timeout(Some(self.timeout));
        let mut client = match self.connect(&options).await {
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

    async fn connect(&self, options: &ConnectOptions) -> Result<Client, Error> {
        let mut client = Client::connect(options).await?;
        if let Some(c) = &self.credentials {
            client.username(&c.username).await?;
            client.password(&c.password).await?;
        }
        Ok(client)
    }
}

async fn read_ups(
    client: &mut Client,
    target: &Target,
    descriptions: Descriptions,
    known: &DescriptionCache,
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
        let cached = known.lock().map_or(None, |k| k.get(&key).cloned());
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
