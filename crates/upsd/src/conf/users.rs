//! upsd.users (reference §5.3) and the permission checks upsd makes against it.
//!
//! Credentials are only ever checked together with a permission: a user without a
//! password, an unknown user and a wrong password all simply lack every permission.

use nut_core::token::{self, Limits};

/// One `[name]` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    /// The user name (case-sensitive).
    pub name: String,
    /// The password (the first `password` line wins); `None` can never log in.
    pub password: Option<String>,
    /// Actions, lower-cased (`set`, `fsd`, `login`, `master`, `primary`).
    pub actions: Vec<String>,
    /// Instant commands, lower-cased; `all` allows every one.
    pub instcmds: Vec<String>,
}

/// The parsed file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Users {
    users: Vec<User>,
}

/// What a privileged request needs from the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission<'a> {
    /// An action word (`SET`, `FSD`, `LOGIN`, `MASTER`, `PRIMARY`), case-insensitive.
    Action(&'a str),
    /// The right to run this instant command.
    InstCmd(&'a str),
}

impl Users {
    /// The users in file order.
    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.users.iter()
    }

    /// Whether `username`/`password` are valid and grant `permission`.
    pub fn allows(&self, username: &str, password: &str, permission: Permission<'_>) -> bool {
        let Some(user) = self.users.iter().find(|u| u.name == username) else {
            return false;
        };
        if user.password.as_deref() != Some(password) {
            return false;
        }
        match permission {
            Permission::Action(action) => {
                user.actions.iter().any(|a| a.eq_ignore_ascii_case(action))
            }
            Permission::InstCmd(cmd) => user
                .instcmds
                .iter()
                .any(|c| c.eq_ignore_ascii_case(cmd) || c == "all"),
        }
    }
}

/// Parse upsd.users. Returns the users and one message per ignored line, worded like upsd's.
pub fn parse_users(text: &[u8]) -> (Users, Vec<String>) {
    let mut users = Users::default();
    let mut problems = Vec::new();
    // Index of the section being filled; `None` outside any (or in a duplicate, ignored).
    let mut current: Option<usize> = None;
    let mut in_duplicate = false;
    for line in token::tokenize_text(text, Limits::default()) {
        if let Some(err) = &line.error {
            problems.push(format!("upsd.users line {}: {err}", line.line_no));
            continue;
        }
        let w = &line.words;
        let Some(first) = w.first() else { continue };
        if first.eq_ignore_ascii_case("user") {
            continue; // the pre-2.0 file format's leading word
        }
        if first.len() >= 2 && first.starts_with('[') && first.ends_with(']') {
            let name = &first[1..first.len() - 1];
            if users.users.iter().any(|u| u.name == name) {
                problems.push(format!("Ignoring duplicate user {name}"));
                current = None;
                in_duplicate = true;
            } else {
                users.users.push(User {
                    name: name.to_owned(),
                    ..User::default()
                });
                current = Some(users.users.len() - 1);
                in_duplicate = false;
            }
            continue;
        }
        if w.len() < 2 {
            continue;
        }
        let key = first.to_ascii_lowercase();
        let user = current.and_then(|i| users.users.get_mut(i));
        // `upsmon primary` (bare form); `upsmon = primary` falls through to the split form.
        if key == "upsmon" && w[1] != "=" {
            match user {
                Some(u) => apply_upsmon(u, &w[1], &mut problems),
                None if in_duplicate => {}
                None => problems.push("Ignoring upsmon definition outside user section".into()),
            }
            continue;
        }
        if w.len() < 3 || w[1] != "=" {
            problems.push(format!("Unrecognized user setting {first}"));
            continue;
        }
        let values = &w[2..];
        let Some(user) = user else {
            if !in_duplicate {
                problems.push(format!("Ignoring {key} definition outside user section"));
            }
            continue;
        };
        match key.as_str() {
            "password" => {
                if user.password.is_some() {
                    problems.push(format!("Ignoring duplicate password for {}", user.name));
                } else {
                    user.password = Some(values[0].clone());
                }
            }
            "actions" => user
                .actions
                .extend(values.iter().map(|v| v.to_ascii_lowercase())),
            "instcmds" => user
                .instcmds
                .extend(values.iter().map(|v| v.to_ascii_lowercase())),
            "upsmon" => apply_upsmon(user, &values[0], &mut problems),
            "allowfrom" => problems.push("allowfrom in upsd.users is no longer used".into()),
            _ => problems.push(format!("Unrecognized user setting {first}")),
        }
    }
    (users, problems)
}

fn apply_upsmon(user: &mut User, role: &str, problems: &mut Vec<String>) {
    let granted: &[&str] = match role.to_ascii_lowercase().as_str() {
        "primary" | "master" => &["login", "master", "fsd"],
        "secondary" | "slave" => &["login"],
        _ => {
            problems.push(format!("Unknown upsmon type {role}"));
            return;
        }
    };
    user.actions.extend(granted.iter().map(|s| (*s).to_owned()));
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &[u8] = b"[admin]\n password = secret\n actions = SET fsd\n instcmds = ALL\n\
        [mon]\n password=pass\n upsmon primary\n[sec]\n password = p\n upsmon = slave\n\
        [nopass]\n actions = SET\n[cmds]\n password = c\n instcmds = load.off test.battery.start\n\
        [admin]\n password = other\n";

    #[test]
    fn permissions() {
        let (users, problems) = parse_users(TEXT);
        assert_eq!(problems, ["Ignoring duplicate user admin"]);
        let a = Permission::Action;
        assert!(users.allows("admin", "secret", a("set")));
        assert!(users.allows("admin", "secret", a("FSD")));
        assert!(
            !users.allows("admin", "other", a("SET")),
            "duplicate section ignored"
        );
        assert!(
            !users.allows("admin", "Secret", a("SET")),
            "password is case-sensitive"
        );
        assert!(
            !users.allows("Admin", "secret", a("SET")),
            "user is case-sensitive"
        );
        assert!(users.allows("admin", "secret", Permission::InstCmd("anything")));
        assert!(!users.allows("admin", "secret", a("LOGIN")));
        assert!(users.allows("mon", "pass", a("login")));
        assert!(users.allows("mon", "pass", a("MASTER")));
        assert!(users.allows("mon", "pass", a("fsd")));
        assert!(!users.allows("mon", "pass", a("primary")));
        assert!(users.allows("sec", "p", a("login")));
        assert!(!users.allows("sec", "p", a("fsd")));
        assert!(!users.allows("nopass", "", a("SET")));
        assert!(users.allows("cmds", "c", Permission::InstCmd("LOAD.OFF")));
        assert!(!users.allows("cmds", "c", Permission::InstCmd("load.on")));
        assert!(!users.allows("ghost", "x", a("SET")));
    }

    #[test]
    fn odd_lines_are_reported() {
        let (_, problems) = parse_users(b"password = x\n[u]\n upsmon boss\n colour = red\n");
        assert_eq!(
            problems,
            [
                "Ignoring password definition outside user section",
                "Unknown upsmon type boss",
                "Unrecognized user setting colour"
            ]
        );
    }
}
