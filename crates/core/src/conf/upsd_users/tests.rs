use super::*;
use crate::conf::testutil::{clean, errors, warnings};

fn parse(text: &str) -> ConfResult<UpsdUsers> {
    parse_upsd_users(text, "upsd.users")
}

const SAMPLE: &str = "\
[admin]
    password = secret
    actions = SET FSD          # several values per line
    actions = login
    instcmds = ALL
[monuser]
    password = pass
    upsmon primary
[watcher]
    password=\"two words\"
    upsmon = secondary
    instcmds = test.battery.start beeper.toggle
[Other]
    PASSWORD = x
    Actions = set
    UPSMON Slave
";

#[test]
fn sample_and_permissions() {
    let u = clean(parse(SAMPLE));
    let names: Vec<&str> = u.users.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["admin", "monuser", "watcher", "Other"]);

    let admin = u.get("admin").unwrap();
    assert_eq!(admin.actions, [Action::Set, Action::Fsd, Action::Login]);
    assert!(admin.can(Action::Set) && admin.can(Action::Fsd) && admin.can(Action::Login));
    assert!(!admin.can(Action::Primary));
    assert!(admin.can_instcmd("load.off") && admin.can_instcmd("anything"));

    let mon = u.get("monuser").unwrap();
    assert_eq!(mon.upsmon, Some(Role::Primary));
    assert!(mon.can(Action::Login) && mon.can(Action::Primary) && mon.can(Action::Fsd));
    assert!(!mon.can(Action::Set));
    assert!(!mon.can_instcmd("load.off"));

    let w = u.get("watcher").unwrap();
    assert_eq!(w.password.as_deref(), Some("two words"));
    assert_eq!(w.upsmon, Some(Role::Secondary));
    assert!(w.can(Action::Login) && !w.can(Action::Fsd) && !w.can(Action::Primary));
    assert!(w.can_instcmd("TEST.BATTERY.START") && w.can_instcmd("beeper.toggle"));
    assert!(!w.can_instcmd("load.off"));

    let o = u.get("Other").unwrap();
    assert!(o.can(Action::Set) && o.can(Action::Login) && !o.can(Action::Fsd));
    assert!(u.get("other").is_none(), "user names are case-sensitive");

    assert!(u.authenticate("admin", "secret").is_some());
    assert!(u.authenticate("admin", "Secret").is_none());
    assert!(u.authenticate("nobody", "secret").is_none());
    assert!(!format!("{admin:?}").contains("secret"));
}

#[test]
fn master_means_primary() {
    let u = clean(parse(
        "[a]\npassword = p\nupsmon master\nactions = MASTER\n",
    ));
    let a = u.get("a").unwrap();
    assert_eq!(a.upsmon, Some(Role::Primary));
    assert_eq!(a.actions, [Action::Primary]);
    assert_eq!(Action::granted_by(Role::Secondary), [Action::Login]);
}

#[test]
fn warnings_nut_also_gives_or_hides() {
    let (u, w) = warnings(parse(
        "password = early\n[a]\npassword = one\npassword = two\nallowfrom = localhost\nuser = a\n\
         actions = SET JUMP\ncolour = blue\nupsmon secondary\nupsmon primary\n[a]\npassword = three\n\
         [b] x\npassword = p q\n[c]\n",
    ));
    assert_eq!(
        w,
        [
            "upsd.users:1: password outside a [user] section (ignored)",
            "upsd.users:4: password for [a] already set at line 3; the first one wins (as in NUT)",
            "upsd.users:5: allowfrom is no longer used (ignored): use LISTEN in upsd.conf and a firewall",
            "upsd.users:6: 'user' lines belong to the old file format and are ignored; the [name] of a section is the user name",
            "upsd.users:7: unknown action JUMP (ignored; known: SET, FSD, LOGIN, PRIMARY, MASTER)",
            "upsd.users:8: unknown setting colour for [a] (ignored; known: password, actions, instcmds, upsmon)",
            "upsd.users:10: upsmon already given at line 9; the roles add up, as in NUT",
            "upsd.users:11: duplicate user [a] (first at line 2): this section is ignored",
            "upsd.users:13: words after the section header ignored: x",
            "upsd.users:14: words after the password ignored: q (quote a password that contains spaces)",
            "upsd.users:15: user [c] has no password and can never log in",
        ]
    );
    let a = u.get("a").unwrap();
    assert_eq!(a.password.as_deref(), Some("one"));
    assert_eq!(a.upsmon, Some(Role::Primary));
    assert_eq!(u.get("b").unwrap().password.as_deref(), Some("p"));
    assert_eq!(u.users.len(), 3);
}

#[test]
fn roles_add_up_like_nut() {
    let (u, _) = warnings(parse(
        "[a]\npassword = p\nupsmon primary\nupsmon secondary\n",
    ));
    assert_eq!(u.get("a").unwrap().upsmon, Some(Role::Primary));
}

#[test]
fn errors_for_lines_that_would_lock_users_out() {
    assert_eq!(
        errors(parse(
            "[a]\npassword secret\npassword =\npassword\nupsmon boss\nupsmon = \"\"\n[]\n[my user]\n\
             instcmds = \"a#b\"\n"
        )),
        [
            "upsd.users:2: missing '=' after password: write password = secret",
            "upsd.users:3: password = has no value",
            "upsd.users:4: password needs a value: password = <value>",
            "upsd.users:5: unknown upsmon role 'boss': expected primary or secondary (or master, slave)",
            "upsd.users:6: unknown upsmon role '': expected primary or secondary (or master, slave)",
            "upsd.users:7: empty user name []",
            "upsd.users:8: '[my user]' looks like a section header but is not one: write [name] with no spaces",
            "upsd.users:9: '#' inside quotes must be escaped as \\# (line rejected)",
        ]
    );
}

#[test]
fn settings_after_a_malformed_header_are_skipped() {
    let e = parse("[a]\npassword = p\n[b c]\npassword = q\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "upsd.users:3: '[b c]' looks like a section header but is not one: write [name] with no spaces"
    );
    assert!(e.warnings.is_empty(), "{:?}", e.warnings);
}

#[test]
fn passwords_compare_exactly_in_constant_time() {
    for (secret, candidate, equal) in [
        ("secret", "secret", true),
        ("secret", "Secret", false),
        ("secret", "secre", false),
        ("secret", "secrets", false),
        // Repeating the secret must not match (the comparison wraps around it).
        ("secret", "secretsecret", false),
        ("s", "ss", false),
        ("secret", "", false),
        ("", "", true),
        ("", "x", false),
    ] {
        assert_eq!(
            constant_time_eq(secret.as_bytes(), candidate.as_bytes()),
            equal,
            "{secret:?} vs {candidate:?}"
        );
    }
    let (u, _) = parse_upsd_users(
        "[admin]\npassword = secret\n[nopass]\nactions = SET\n",
        "upsd.users",
    )
    .unwrap()
    .into_parts();
    assert!(u.authenticate("admin", "secret").is_some());
    assert!(u.authenticate("admin", "secretsecret").is_none());
    assert!(u.authenticate("nopass", "").is_none());
    assert!(
        u.authenticate("nobody", "nut-rs: no such user, no such password")
            .is_none()
    );
}
