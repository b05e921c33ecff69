//! A tiny JSON document model that keeps insertion order (the server's order of variables
//! and commands matters to readers) and prints like `upsc -j`: two-space indentation, one
//! member per line. Strings are escaped by serde_json.

/// A JSON value.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// An array.
    Array(Vec<Json>),
    /// An object, members in insertion order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// An object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(members: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// `{"error": "<message>"}`, what `upsc -j` prints on stdout when it fails.
    pub fn error(message: &str) -> Json {
        Json::object([("error", Json::str(message))])
    }

    /// The pretty-printed document with a final newline.
    pub fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = |out: &mut String, depth: usize| {
            for _ in 0..depth {
                out.push_str("  ");
            }
        };
        match self {
            Json::Str(s) => push_string(out, s),
            Json::Int(n) => out.push_str(&n.to_string()),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Object(members) if members.is_empty() => out.push_str("{}"),
            Json::Array(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push(']');
            }
            Json::Object(members) => {
                out.push_str("{\n");
                for (i, (name, value)) in members.iter().enumerate() {
                    indent(out, depth + 1);
                    push_string(out, name);
                    out.push_str(": ");
                    value.write(out, depth + 1);
                    out.push_str(if i + 1 < members.len() { ",\n" } else { "\n" });
                }
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn push_string(out: &mut String, s: &str) {
    // Serializing a &str cannot fail; fall back to an empty string rather than panic.
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_upsc_j() {
        let list = Json::Array(vec![Json::str("dummy"), Json::str("UPS1")]);
        assert_eq!(list.to_pretty(), "[\n  \"dummy\",\n  \"UPS1\"\n]\n");
        assert_eq!(Json::Array(vec![]).to_pretty(), "[]\n");
        assert_eq!(
            Json::error("Driver not connected").to_pretty(),
            "{\n  \"error\": \"Driver not connected\"\n}\n"
        );
        let nested = Json::Array(vec![Json::object([
            ("name", Json::str("a\"b")),
            ("max", Json::Int(16)),
        ])]);
        let text = nested.to_pretty();
        assert_eq!(
            text,
            "[\n  {\n    \"name\": \"a\\\"b\",\n    \"max\": 16\n  }\n]\n"
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed[0]["name"], "a\"b");
    }
}
