//! `upsd.users` (docs/nut-behaviour.md §5.3): who may log in to upsd and what each user may do.
//!
//! `[name]` opens a user (names case-sensitive). Keys are case-insensitive: `password`
//! (the first one wins), `actions` and `instcmds` (several values per line, or repeated
//! lines), `upsmon <role>` or `upsmon = <role>`, and the obsolete `allowfrom`.
//!
//! Differences from NUT, on purpose:
//! * `upsmon = primary` works without NUT's spurious "Unknown upsmon type =" warning;
//! * a duplicate `[name]` section is ignored as a whole (warning). NUT ignores the header
//!   but then applies the section's settings to whichever user came before it;
//! * lines NUT ignores silently (`password secret` without `=`) and unknown `upsmon` roles
//!   are errors: the user would otherwise be unable to log in, far from the cause;
//! * a user without a password gets a warning (it can never authenticate).

use super::diag::{ConfLine, ConfResult, Sink, section_header};
use super::values::Role;

/// A privileged operation a user may be allowed (the `actions` words).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `SET`: change variables (`SET VAR`).
    Set,
    /// `FSD`: set forced shutdown on a UPS.
    Fsd,
    /// `LOGIN`: attach to a UPS as an upsmon client (`LOGIN <ups>`).
    Login,
    /// `PRIMARY` (or its old name `MASTER`): claim primary upsmon status.
    Primary,
}

impl Action {
    /// Parse an action word, case-insensitively; `MASTER` means [`Action::Primary`].
    pub fn parse(word: &str) -> Option<Self> {
        match word.to_ascii_uppercase().as_str() {
            "SET" => Some(Self::Set),
            "FSD" => Some(Self::Fsd),
            "LOGIN" => Some(Self::Login),
            "PRIMARY" | "MASTER" => Some(Self::Primary),
            _ => None,
        }
    }

    /// Actions an upsmon role grants: primary → LOGIN, PRIMARY (MASTER), FSD;
    /// secondary → LOGIN.
    pub fn granted_by(role: Role) -> &'static [Action] {
        match role {
            Role::Primary => &[Action::Login, Action::Primary, Action::Fsd],
            Role::Secondary => &[Action::Login],
        }
    }
}

/// A parsed upsd.users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpsdUsers {
    /// Users in file order (duplicates dropped; the first definition is kept).
    pub users: Vec<User>,
}

impl UpsdUsers {
    /// The user called `name` (case-sensitive).
    pub fn get(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The user called `name` if `password` is its password (both case-sensitive). Users
    /// without a password never authenticate.
    ///
    /// The password is compared in constant time, and for an unknown user (or one without
    /// a password) it is compared against a dummy just the same, so the time taken tells
    /// neither how much of a guess was right nor whether the user exists.
    pub fn authenticate(&self, name: &str, password: &str) -> Option<&User> {
        match self.get(name) {
            Some(user) if user.password.is_some() => user.check_password(password).then_some(user),
            _ => {
                std::hint::black_box(constant_time_eq(DUMMY_PASSWORD, password.as_bytes()));
                None
            }
        }
    }
}

/// One `[name]` section.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// User name.
    pub name: String,
    /// Line of the `[name]` header.
    pub line: usize,
    /// `password`; `None` means the user can never log in.
    pub password: Option<String>,
    /// Explicit `actions` (duplicates removed), not counting what [`User::upsmon`] grants.
    pub actions: Vec<Action>,
    /// `instcmds` in file order (duplicates removed, case-insensitively); `ALL` allows all.
    pub instcmds: Vec<String>,
    /// `upsmon <role>`; with several lines the roles add up (primary includes secondary).
    pub upsmon: Option<Role>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keep passwords out of debug logs.
        f.debug_struct("User")
            .field("name", &self.name)
            .field("line", &self.line)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("actions", &self.actions)
            .field("instcmds", &self.instcmds)
            .field("upsmon", &self.upsmon)
            .finish()
    }
}

impl User {
    fn new(name: String, line: usize) -> Self {
        Self {
            name,
            line,
            password: None,
            actions: Vec::new(),
            instcmds: Vec::new(),
            upsmon: None,
        }
    }

    /// Whether `password` is this user's password (case-sensitive), compared in constant
    /// time.
    pub fn check_password(&self, password: &str) -> bool {
        match &self.password {
            Some(secret) => constant_time_eq(secret.as_bytes(), password.as_bytes()),
            None => {
                std::hint::black_box(constant_time_eq(DUMMY_PASSWORD, password.as_bytes()));
                false
            }
        }
    }

    /// Whether the user may perform `action`, explicitly or through its upsmon role.
    pub fn can(&self, action: Action) -> bool {
        self.actions.contains(&action)
            || self
                .upsmon
                .is_some_and(|role| Action::granted_by(role).contains(&action))
    }

    /// Whether the user may run instant command `name` (case-insensitive; `ALL` allows any).
    pub fn can_instcmd(&self, name: &str) -> bool {
        self.instcmds
            .iter()
            .any(|c| c.eq_ignore_ascii_case(name) || c.eq_ignore_ascii_case("ALL"))
    }
}

/// What a candidate password is compared with when there is no real one to compare with.
const DUMMY_PASSWORD: &[u8] = b"nut-rs: no such user, no such password";

/// `secret == candidate`, in a time that depends only on the candidate's length: every byte
/// of the candidate is compared (against the secret, repeated as needed), with no early exit,
/// and a length difference only sets a bit of the result.
fn constant_time_eq(secret: &[u8], candidate: &[u8]) -> bool {
    let mut diff = u8::from(secret.len() != candidate.len());
    if !secret.is_empty() {
        for (i, byte) in candidate.iter().enumerate() {
            diff |= byte ^ secret[i % secret.len()];
        }
    }
    std::hint::black_box(diff) == 0
}

/// Parse upsd.users. `file_name` is only used in diagnostics.
pub fn parse_upsd_users(text: impl AsRef<[u8]>, file_name: &str) -> ConfResult<UpsdUsers> {
    let (mut sink, lines) = Sink::read(text.as_ref(), file_name);
    let mut users = UpsdUsers::default();
    // Index of the user being filled; `None` before the first section and while skipping a
    // duplicate or malformed section.
    let mut current: Option<usize> = None;
    let mut skipping = false;
    let mut state = LineState::default();
    for l in &lines {
        if l.keyword().eq_ignore_ascii_case("user") {
            sink.warn(
                l.line,
                "'user' lines belong to the old file format and are ignored; \
                 the [name] of a section is the user name",
            );
            continue;
        }
        if let Some(name) = section_header(l.keyword()) {
            if l.words.len() > 1 {
                sink.warn(
                    l.line,
                    format!("words after the section header ignored: {}", l.rest(1)),
                );
            }
            current = None;
            skipping = true;
            state = LineState::default();
            if name.is_empty() {
                sink.error(l.line, "empty user name []");
            } else if let Some(first) = users.get(name) {
                sink.warn(
                    l.line,
                    format!(
                        "duplicate user [{name}] (first at line {}): this section is ignored",
                        first.line
                    ),
                );
            } else {
                users.users.push(User::new(name.to_owned(), l.line));
                current = Some(users.users.len() - 1);
                skipping = false;
            }
            continue;
        }
        if l.keyword().starts_with('[') {
            // Whose settings follow is unknown: skip them rather than give them to the
            // previous user.
            current = None;
            skipping = true;
            sink.bad_header(l);
            continue;
        }
        let Some((key, values)) = split_setting(l, &mut sink) else {
            continue;
        };
        match current {
            Some(i) => setting(
                &mut users.users[i],
                &mut state,
                l.line,
                &key,
                values,
                &mut sink,
            ),
            None if skipping => {}
            None => sink.warn(l.line, format!("{key} outside a [user] section (ignored)")),
        }
    }
    for u in &users.users {
        if u.password.is_none() {
            sink.warn(
                u.line,
                format!("user [{}] has no password and can never log in", u.name),
            );
        }
    }
    sink.finish(users)
}

/// Where the current user's single-valued settings were first given.
#[derive(Default)]
struct LineState {
    password: Option<usize>,
    upsmon: Option<usize>,
}

/// `key = v1 v2 …`, `key=v1 …` or the bare `upsmon <role>`; `None` after reporting a line
/// that is neither.
fn split_setting<'a>(l: &'a ConfLine, sink: &mut Sink) -> Option<(String, &'a [String])> {
    let key = l.keyword();
    let w = &l.words;
    if w.len() >= 3 && w[1] == "=" {
        return Some((key.to_owned(), &w[2..]));
    }
    if w.len() == 2 && key.eq_ignore_ascii_case("upsmon") {
        return Some((key.to_owned(), &w[1..]));
    }
    let message = match w.len() {
        1 => format!("{key} needs a value: {key} = <value>"),
        2 if w[1] == "=" => format!("{key} = has no value"),
        _ => format!("missing '=' after {key}: write {key} = {}", l.rest(1)),
    };
    sink.error(l.line, message);
    None
}

fn setting(
    user: &mut User,
    state: &mut LineState,
    line: usize,
    key: &str,
    values: &[String],
    sink: &mut Sink,
) {
    match key.to_ascii_lowercase().as_str() {
        "password" => {
            if values.len() > 1 {
                sink.warn(
                    line,
                    format!(
                        "words after the password ignored: {} (quote a password that contains spaces)",
                        values[1..].join(" ")
                    ),
                );
            }
            match state.password {
                Some(first) => sink.warn(
                    line,
                    format!(
                        "password for [{}] already set at line {first}; the first one wins (as in NUT)",
                        user.name
                    ),
                ),
                None => {
                    state.password = Some(line);
                    user.password = Some(values[0].clone());
                }
            }
        }
        "actions" => {
            for word in values {
                match Action::parse(word) {
                    Some(a) if !user.actions.contains(&a) => user.actions.push(a),
                    Some(_) => {}
                    None => sink.warn(
                        line,
                        format!(
                            "unknown action {word} (ignored; known: SET, FSD, LOGIN, PRIMARY, MASTER)"
                        ),
                    ),
                }
            }
        }
        "instcmds" => {
            for word in values {
                if !user.instcmds.iter().any(|c| c.eq_ignore_ascii_case(word)) {
                    user.instcmds.push(word.clone());
                }
            }
        }
        "upsmon" => {
            if values.len() > 1 {
                sink.warn(
                    line,
                    format!("words after the upsmon role ignored: {}", values[1..].join(" ")),
                );
            }
            let Some(role) = Role::parse(&values[0]) else {
                sink.error(
                    line,
                    format!(
                        "unknown upsmon role '{}': expected primary or secondary (or master, slave)",
                        values[0]
                    ),
                );
                return;
            };
            if let Some(first) = state.upsmon {
                sink.warn(
                    line,
                    format!("upsmon already given at line {first}; the roles add up, as in NUT"),
                );
            } else {
                state.upsmon = Some(line);
            }
            if user.upsmon != Some(Role::Primary) {
                user.upsmon = Some(role);
            }
        }
        "allowfrom" => sink.warn(
            line,
            "allowfrom is no longer used (ignored): use LISTEN in upsd.conf and a firewall",
        ),
        _ => sink.warn(
            line,
            format!(
                "unknown setting {key} for [{}] (ignored; known: password, actions, instcmds, upsmon)",
                user.name
            ),
        ),
    }
}

#[cfg(test)]
mod tests;
