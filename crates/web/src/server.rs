//! The HTTP routes (axum on the caller's tokio runtime).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::config::Target;
use crate::poll::{Descriptions, Poller};
use crate::{html, json, metrics};

/// The UPSes to show, in display order. A reload swaps the whole list at once: a request
/// works on the list it started with, the next one sees the new list.
#[derive(Debug, Default)]
pub struct TargetList(RwLock<Arc<Vec<Target>>>);

impl TargetList {
    /// A list holding `targets`.
    pub fn new(targets: Vec<Target>) -> Self {
        Self(RwLock::new(Arc::new(targets)))
    }

    /// The list as it is now.
    pub fn current(&self) -> Arc<Vec<Target>> {
        // The lock is never held across anything that can panic, but a poisoned list is
        // still a valid list.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Serve `targets` from the next request on.
    pub fn replace(&self, targets: Vec<Target>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(targets);
    }
}

/// What every request needs.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The UPSes to show, replaced on reload.
    pub targets: Arc<TargetList>,
    /// How to read them.
    pub poller: Arc<Poller>,
}

/// The content type Prometheus expects for the text format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Every route: `/`, `/ups/{id}`, `/metrics`, `/api/v1/upses`, `/json`, `/healthz`; anything
/// else is 404. GET only (HEAD is answered too); nothing here changes a UPS.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/ups/{id}", get(detail))
        .route("/metrics", get(metrics_page))
        .route("/api/v1/upses", get(json_api))
        .route("/json", get(json_api))
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .with_state(state)
}

/// The targets selected by `?ups=` (all without it); a filter that selects nothing is a 404.
fn select(state: &AppState, query: &HashMap<String, String>) -> Option<Vec<Target>> {
    let targets = state.targets.current();
    let Some(filter) = query.get("ups") else {
        return Some(targets.to_vec());
    };
    let chosen: Vec<Target> = targets
        .iter()
        .filter(|t| t.matches(filter))
        .cloned()
        .collect();
    (!chosen.is_empty()).then_some(chosen)
}

fn no_such_ups(name: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("no UPS {name:?} is configured\n"),
    )
        .into_response()
}

async fn metrics_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(targets) = select(&state, &query) else {
        return no_such_ups(query.get("ups").map_or("", String::as_str));
    };
    let snapshots = state.poller.poll(&targets, Descriptions::Numeric).await;
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        metrics::render(&snapshots),
    )
        .into_response()
}

async fn json_api(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(targets) = select(&state, &query) else {
        return no_such_ups(query.get("ups").map_or("", String::as_str));
    };
    let snapshots = state.poller.poll(&targets, Descriptions::None).await;
    axum::Json(json::render(&snapshots)).into_response()
}

async fn index(State(state): State<AppState>) -> Html<String> {
    let targets = state.targets.current();
    let snapshots = state.poller.poll(&targets, Descriptions::None).await;
    Html(html::index(&snapshots))
}

async fn detail(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Some(target) = state
        .targets
        .current()
        .iter()
        .find(|t| t.id() == id || t.system == id)
        .cloned()
    else {
        return (
            StatusCode::NOT_FOUND,
            format!("no UPS {id:?} is configured\n"),
        )
            .into_response();
    };
    let snapshots = state.poller.poll(&[target], Descriptions::All).await;
    match snapshots.first() {
        Some(s) => Html(html::detail(s)).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
