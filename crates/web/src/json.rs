//! The JSON API: the shape of NUT 2.8.5's `upsstats.cgi?json`
//! (`{"upses":[{"host","desc","status_raw","status_parsed","vars"}]}`), plus `ups` and
//! `server` (the parts of `host`, for clients that do not want to parse it) and `error` when
//! the UPS could not be read.

use serde_json::{Map, Value, json};

use crate::poll::Snapshot;
use crate::status;

/// The document for these UPSes.
pub fn render(snapshots: &[Snapshot]) -> Value {
    let upses: Vec<Value> = snapshots.iter().map(one).collect();
    json!({ "upses": upses })
}

fn one(s: &Snapshot) -> Value {
    let status_raw = s.var("ups.status").unwrap_or("");
    let parsed: Vec<String> = status::flags(status_raw)
        .into_iter()
        .map(|f| f.parsed)
        .collect();
    let vars: Map<String, Value> = s
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let mut obj = json!({
        "host": s.target.system,
        "ups": s.target.ups,
        "server": s.target.server(),
        "desc": s.description.as_deref().unwrap_or(""),
        "status_raw": status_raw,
        "status_parsed": parsed,
        "vars": vars,
    });
    if let (Some(error), Some(map)) = (&s.error, obj.as_object_mut()) {
        map.insert("error".to_owned(), Value::String(error.clone()));
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Target;

    #[test]
    fn shape() {
        let ok = Snapshot {
            target: Target {
                system: "u@h".into(),
                ups: "u".into(),
                host: "h".into(),
                port: 3493,
                description: Some("Rack".into()),
            },
            description: Some("Rack".into()),
            vars: vec![
                ("ups.status".into(), "OB LB".into()),
                ("battery.charge".into(), "5".into()),
            ],
            ..Snapshot::default()
        };
        let bad = Snapshot {
            error: Some("Data stale".into()),
            vars: vec![],
            ..ok.clone()
        };
        let doc = render(&[ok, bad]);
        let first = &doc["upses"][0];
        assert_eq!(first["host"], "u@h");
        assert_eq!(first["server"], "h:3493");
        assert_eq!(first["status_parsed"], json!(["ON BATTERY", "LOW BATTERY"]));
        assert_eq!(first["vars"]["battery.charge"], "5");
        assert!(first.get("error").is_none());
        assert_eq!(doc["upses"][1]["error"], "Data stale");
    }
}
