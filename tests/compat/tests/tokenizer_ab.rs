//! Tokenizer A/B test: Debian's upsd (NUT 2.8.0) versus `nut_core::token`.
//!
//! Every case of `corpus/tokenizer.txt` is sent on a fresh connection to Debian's upsd
//! (Debian's dummy-ups behind it); the reply stream up to EOF is compared with the replies
//! predicted from OUR tokenizer's split of the same bytes by a tiny model of upsd's command
//! handling (just the handful of commands the corpus uses). The corpus is built so that a
//! different split gives a different reply, e.g. `GET VAR <word> server.version` echoes
//! `<word>` verbatim. Cases marked `!diff` are deliberate differences and `!pending` ones
//! known disagreements awaiting a decision: both must differ.
//!
//! A second test checks that the 604 device dumps of the shared fixtures tokenize without
//! a single error.

use std::collections::BTreeMap;
use std::net::Shutdown;
use std::path::PathBuf;

use nut_compat_tests::notation;
use nut_core::token::{self, Limits, Tokenizer};
use nut_harness::{Impl, Stack, StackBuilder};

const CORPUS: &str = include_str!("../corpus/tokenizer.txt");
const DESC_CORPUS: &str = include_str!("../corpus/ups_conf_desc.txt");

const DUMMY_DEV: &str = "ups.status: OL\nbattery.charge: 100\nups.mfr: ACME\n";
const UPS1_DEV: &str = "ups.status: OB DISCHRG\n";
/// ups.conf extras: the descriptions exercise config-file quoting and reply escaping too.
const DUMMY_EXTRA: &str = r#"desc = "Crash \"Dummy\" \#1 \\ x=y""#;
const UPS1_EXTRA: &str = "desc = caf\u{e9}\\ au\\ lait";

const VERSION: &str = "2.8.0";
const VER_REPLY: &str = "Network UPS Tools upsd 2.8.0 - http://www.networkupstools.org/";
const HELP_REPLY: &str =
    "Commands: HELP VER GET LIST SET INSTCMD LOGIN LOGOUT USERNAME PASSWORD STARTTLS";
/// upsd formats each reply into a 512-byte buffer: longer replies are cut (LF included).
const REPLY_MAX: usize = 512;

fn long_password() -> String {
    "p".repeat(512)
}

fn users_file() -> String {
    format!(
        "[admin]\n\tpassword = adminpass\n\tactions = SET FSD\n\tinstcmds = ALL\n\tupsmon primary\n\
         [longpw]\n\tpassword = {}\n\tupsmon secondary\n\
         [spacey]\n\tpassword = \"pass word\"\n\tupsmon secondary\n\
         [hashy]\n\tpassword = \"a\\#b\"\n\tupsmon secondary\n\
         [equals]\n\tpassword = \"x=y\"\n\tupsmon secondary\n",
        long_password()
    )
}

/// One corpus case.
struct Case {
    /// Line number in the corpus file.
    line: usize,
    text: String,
    bytes: Vec<u8>,
    expect: Expect,
}

/// What the comparison must show for a case.
#[derive(Clone)]
enum Expect {
    Agree,
    /// A deliberate difference (`!diff <reason>`): the replies must differ.
    Differ(String),
    /// A known disagreement awaiting a decision (`!pending <reason>`): must still differ.
    Pending(String),
}

fn corpus(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut expect = Expect::Agree;
    for (i, text) in text.lines().enumerate() {
        if text.trim().is_empty() && !text.is_empty() {
            panic!(
                "corpus line {}: whitespace-only line; write {{SP}}/{{TAB}}",
                i + 1
            );
        }
        if text.is_empty() || text.starts_with("//") {
            continue;
        }
        if let Some(reason) = text.strip_prefix("!diff ") {
            expect = Expect::Differ(reason.to_owned());
            continue;
        }
        if let Some(reason) = text.strip_prefix("!pending ") {
            expect = Expect::Pending(reason.to_owned());
            continue;
        }
        assert!(
            !text.starts_with('!'),
            "corpus line {}: unknown marker",
            i + 1
        );
        let mut bytes =
            notation::expand(text).unwrap_or_else(|e| panic!("corpus line {}: {e}", i + 1));
        bytes.push(b'\n');
        cases.push(Case {
            line: i + 1,
            text: text.to_owned(),
            bytes,
            expect: std::mem::replace(&mut expect, Expect::Agree),
        });
    }
    cases
}

/// What the predictor knows about one UPS.
struct UpsModel {
    name: String,
    desc: Option<String>,
    vars: BTreeMap<String, String>,
}

/// What the predictor knows about one upsd.users entry.
struct UserModel {
    password: String,
}

/// upsd as far as the corpus needs it, fed with OUR words.
struct Model {
    upses: Vec<UpsModel>,
    users: BTreeMap<String, UserModel>,
}

/// Per-connection state.
#[derive(Default)]
struct Session {
    username: Option<String>,
    password: Option<String>,
    logged_in: bool,
    tracking: bool,
}

impl Model {
    fn new() -> Model {
        let upses = vec![
            ups_model("dummy", DUMMY_EXTRA, DUMMY_DEV),
            ups_model("UPS1", UPS1_EXTRA, UPS1_DEV),
        ];
        let mut users = BTreeMap::new();
        // Read back with our tokenizer, so config-file quoting is part of the comparison.
        let mut current: Option<String> = None;
        for line in token::tokenize_text(users_file().as_bytes(), Limits::default()) {
            let words = line.into_result().expect("users file tokenizes");
            match words.as_slice() {
                [section] if section.starts_with('[') && section.ends_with(']') => {
                    current = Some(section[1..section.len() - 1].to_owned());
                }
                [key, eq, value, ..] if key == "password" && eq == "=" => {
                    let name = current.clone().expect("password inside a section");
                    users.insert(
                        name,
                        UserModel {
                            password: value.clone(),
                        },
                    );
                }
                _ => {}
            }
        }
        Model { upses, users }
    }

    fn ups(&self, name: &str) -> Option<&UpsModel> {
        self.upses
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }

    /// The reply to one request line, `None` when upsd stays silent.
    fn reply(&self, session: &mut Session, words: &[String]) -> Option<String> {
        let Some((command, args)) = words.split_first() else {
            return Some(err("UNKNOWN-COMMAND"));
        };
        let command = command.to_ascii_uppercase();
        let needs_user = matches!(
            command.as_str(),
            "LOGIN" | "PRIMARY" | "MASTER" | "FSD" | "SET" | "INSTCMD"
        );
        let known = needs_user
            || matches!(
                command.as_str(),
                "VER"
                    | "NETVER"
                    | "PROTVER"
                    | "HELP"
                    | "STARTTLS"
                    | "GET"
                    | "LIST"
                    | "USERNAME"
                    | "PASSWORD"
                    | "LOGOUT"
            );
        if !known {
            return Some(err("UNKNOWN-COMMAND"));
        }
        if needs_user {
            if session.username.is_none() {
                return Some(err("USERNAME-REQUIRED"));
            }
            if session.password.is_none() {
                return Some(err("PASSWORD-REQUIRED"));
            }
        }
        let no_args = |text: &str| {
            Some(if args.is_empty() {
                text.to_owned()
            } else {
                err("INVALID-ARGUMENT")
            })
        };
        match command.as_str() {
            "VER" => no_args(VER_REPLY),
            "NETVER" | "PROTVER" => no_args("1.3"),
            "HELP" => no_args(HELP_REPLY),
            "USERNAME" | "PASSWORD" => {
                let [value] = args else {
                    return Some(err("INVALID-ARGUMENT"));
                };
                let (slot, code) = if command == "USERNAME" {
                    (&mut session.username, "ALREADY-SET-USERNAME")
                } else {
                    (&mut session.password, "ALREADY-SET-PASSWORD")
                };
                if slot.is_some() {
                    return Some(err(code));
                }
                *slot = Some(value.clone());
                Some("OK".to_owned())
            }
            "LOGIN" => {
                let [ups] = args else {
                    return Some(err("INVALID-ARGUMENT"));
                };
                if session.logged_in {
                    return Some(err("ALREADY-LOGGED-IN"));
                }
                if self.ups(ups).is_none() {
                    return Some(err("UNKNOWN-UPS"));
                }
                if !self.credentials_ok(session) {
                    return Some(err("ACCESS-DENIED"));
                }
                session.logged_in = true;
                Some("OK".to_owned())
            }
            "SET" => self.set(session, args),
            "GET" => self.get(session, args),
            "LIST" => self.list(args),
            other => panic!("predictor: no model for {other} (extend it or the corpus)"),
        }
    }

    /// Every corpus user has `upsmon` rights, so a known user with the right password may
    /// LOGIN.
    fn credentials_ok(&self, session: &Session) -> bool {
        let (Some(name), Some(password)) = (&session.username, &session.password) else {
            return false;
        };
        self.users
            .get(name)
            .is_some_and(|u| &u.password == password)
    }

    fn set(&self, session: &mut Session, args: &[String]) -> Option<String> {
        if args.len() < 2 {
            return Some(err("INVALID-ARGUMENT"));
        }
        if !args[0].eq_ignore_ascii_case("TRACKING") {
            panic!("predictor: only SET TRACKING is modelled");
        }
        if args[1].eq_ignore_ascii_case("ON") {
            session.tracking = true;
        } else if args[1].eq_ignore_ascii_case("OFF") {
            session.tracking = false;
        } else {
            return Some(err("INVALID-ARGUMENT"));
        }
        Some("OK".to_owned())
    }

    fn get(&self, session: &Session, args: &[String]) -> Option<String> {
        let Some(sub) = args.first() else {
            return Some(err("INVALID-ARGUMENT"));
        };
        let sub = sub.to_ascii_uppercase();
        if sub == "TRACKING" {
            if args.len() == 1 {
                return Some(if session.tracking { "ON" } else { "OFF" }.to_owned());
            }
            // No command was ever tracked on these connections.
            return Some(if session.tracking {
                err("UNKNOWN")
            } else {
                err("FEATURE-NOT-CONFIGURED")
            });
        }
        if args.len() < 2 {
            return Some(err("INVALID-ARGUMENT"));
        }
        let name = &args[1];
        match sub.as_str() {
            "NUMLOGINS" => {
                return Some(match self.ups(name) {
                    Some(_) => format!("NUMLOGINS {name} 0"),
                    None => err("UNKNOWN-UPS"),
                });
            }
            "UPSDESC" => {
                return Some(match self.ups(name) {
                    Some(ups) => format!(
                        "UPSDESC {name} {}",
                        token::quote(ups.desc.as_deref().unwrap_or("Unavailable"))
                    ),
                    None => err("UNKNOWN-UPS"),
                });
            }
            _ => {}
        }
        if args.len() < 3 {
            return Some(err("INVALID-ARGUMENT"));
        }
        if sub != "VAR" {
            return Some(err("INVALID-ARGUMENT"));
        }
        let var = &args[2];
        let lower = var.to_ascii_lowercase();
        if lower.starts_with("server.") {
            // Unlike other variables, these are echoed in their canonical spelling.
            return Some(match lower.as_str() {
                "server.version" => format!("VAR {name} server.version \"{VERSION}\""),
                "server.info" => format!("VAR {name} server.info \"{VER_REPLY}\""),
                _ => err("VAR-NOT-SUPPORTED"),
            });
        }
        let Some(ups) = self.ups(name) else {
            return Some(err("UNKNOWN-UPS"));
        };
        Some(match ups.vars.get(&lower) {
            Some(value) => format!("VAR {name} {var} {}", token::quote(value)),
            None => err("VAR-NOT-SUPPORTED"),
        })
    }

    fn list(&self, args: &[String]) -> Option<String> {
        match args.first() {
            Some(sub) if sub.eq_ignore_ascii_case("UPS") => {
                let mut out = String::from("BEGIN LIST UPS\n");
                for ups in &self.upses {
                    let desc = ups.desc.as_deref().unwrap_or("Description unavailable");
                    out.push_str(&format!("UPS {} {}\n", ups.name, token::quote(desc)));
                }
                out.push_str("END LIST UPS");
                Some(out)
            }
            _ => panic!("predictor: only LIST UPS is modelled"),
        }
    }
}

fn err(code: &str) -> String {
    format!("ERR {code}")
}

/// A UPS as upsd will see it: `desc` read from our ups.conf text with OUR tokenizer, vars
/// from the dev file (dummy-ups's `name: value` lines; lower-cased keys for lookup).
fn ups_model(name: &str, extra: &str, dev: &str) -> UpsModel {
    let lines = token::tokenize_text(extra.as_bytes(), Limits::default());
    let desc = lines.into_iter().find_map(|l| {
        let words = l.into_result().expect("ups.conf extra tokenizes");
        match words.as_slice() {
            [key, eq, value, ..] if key == "desc" && eq == "=" => Some(value.clone()),
            _ => None,
        }
    });
    let vars = dev
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned()))
        .collect();
    UpsModel {
        name: name.to_owned(),
        desc,
        vars,
    }
}

/// The bytes upsd would send back for `input`, per our tokenizer: complete lines only
/// (upsd drops an unfinished line at EOF), nothing for a rejected line.
fn predict(model: &Model, input: &[u8]) -> (Vec<u8>, Vec<Result<Vec<String>, String>>) {
    let mut tokenizer = Tokenizer::new(Limits::default());
    let mut session = Session::default();
    let mut out = Vec::new();
    let mut splits = Vec::new();
    for line in tokenizer.push_slice(input) {
        match line.into_result() {
            Ok(words) => {
                if let Some(reply) = model.reply(&mut session, &words) {
                    for reply_line in reply.split('\n') {
                        let mut bytes = format!("{reply_line}\n").into_bytes();
                        bytes.truncate(REPLY_MAX);
                        out.extend_from_slice(&bytes);
                    }
                }
                splits.push(Ok(words));
            }
            Err(e) => splits.push(Err(e.to_string())),
        }
    }
    (out, splits)
}

/// Sends `input` on a fresh connection, half-closes, and returns everything upsd sent
/// until it closed the connection.
fn ask_debian(stack: &Stack, input: &[u8]) -> Vec<u8> {
    let mut conn = stack.conn();
    conn.send_raw(input);
    conn.stream()
        .shutdown(Shutdown::Write)
        .expect("half-close the connection");
    let mut out = Vec::new();
    while let Some(line) = conn.read_raw_line() {
        out.extend_from_slice(&line);
    }
    out
}

fn start_debian() -> Stack {
    StackBuilder::new()
        .upsd(Impl::Debian)
        .driver(Impl::Debian)
        .dummy("dummy", "dummy.dev", DUMMY_DEV)
        .ups_section("dummy", DUMMY_EXTRA)
        .dummy("UPS1", "UPS1.dev", UPS1_DEV)
        .ups_section("UPS1", UPS1_EXTRA)
        .upsd_users(&users_file())
        .start()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn our_tokenizer_splits_network_lines_like_debian_upsd() {
    let cases = corpus(CORPUS);
    assert!(cases.len() >= 100, "corpus has only {} cases", cases.len());
    let stack = start_debian();
    let model = Model::new();
    let outcomes = cases
        .iter()
        .map(|case| {
            let debian = ask_debian(&stack, &case.bytes);
            let (ours, splits) = predict(&model, &case.bytes);
            (debian, ours, format!("{splits:?}"))
        })
        .collect();
    judge("network lines", &cases, outcomes);
}

/// Compares per case (Debian's bytes, our predicted bytes, our split for the report) and
/// fails with a precise report on unexpected agreement or disagreement.
fn judge(what: &str, cases: &[Case], outcomes: Vec<(Vec<u8>, Vec<u8>, String)>) {
    let mut failures = Vec::new();
    let mut deliberate = 0;
    let mut pending = Vec::new();
    for (case, (debian, ours, splits)) in cases.iter().zip(outcomes) {
        let same = debian == ours;
        let describe = || {
            format!(
                "corpus line {}: {}\n  input bytes: {}\n  our split:   {splits}\n  \
                 debian said: {}\n  we predict:  {}",
                case.line,
                case.text,
                notation::show(&case.bytes),
                notation::show(&debian),
                notation::show(&ours),
            )
        };
        match (&case.expect, same) {
            (Expect::Agree, true) => {}
            (Expect::Agree, false) => failures.push(format!("MISMATCH {}", describe())),
            (Expect::Differ(_), false) => deliberate += 1,
            (Expect::Pending(reason), false) => {
                pending.push(format!("PENDING ({reason}) {}", describe()));
            }
            (Expect::Differ(reason) | Expect::Pending(reason), true) => {
                failures.push(format!(
                    "EXPECTED A DIFFERENCE ({reason}) but the replies now agree; if that is \
                     intended, make it a plain case: {}",
                    describe()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{what}: {} of {} cases failed ({deliberate} deliberate differences confirmed):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    eprintln!(
        "tokenizer A/B ({what}): {} cases agree with Debian, {deliberate} deliberate \
         differences, {} known disagreements pending a decision{}{}",
        cases.len() - deliberate - pending.len(),
        pending.len(),
        if pending.is_empty() { "" } else { ":\n" },
        pending.join("\n\n")
    );
}

/// One ups.conf section per case, its last line being the case: `(section name, bytes)`.
fn desc_sections(cases: &[Case]) -> Vec<(String, Vec<u8>)> {
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let name = format!("u{i:03}");
            let mut bytes = format!("[{name}]\n\tdriver = dummy-ups\n\tport = none\n").into_bytes();
            bytes.extend_from_slice(&case.bytes);
            (name, bytes)
        })
        .collect()
}

/// `GET UPSDESC <section>` replies as our tokenizer reads `ups_conf`: the last `desc` of
/// each section (keys are case-sensitive in ups.conf), cut at 512 bytes like upsd's replies.
/// Also returns each section's lines as we split them, for the report.
fn predict_upsdesc(ups_conf: &[u8]) -> BTreeMap<String, (Vec<u8>, String)> {
    let mut upses: Vec<(String, Option<String>, Vec<Vec<String>>)> = Vec::new();
    for line in token::tokenize_text(ups_conf, Limits::default()) {
        let Ok(words) = line.into_result() else {
            continue;
        };
        if let [section] = words.as_slice()
            && section.len() >= 2
            && section.starts_with('[')
            && section.ends_with(']')
        {
            upses.push((section[1..section.len() - 1].to_owned(), None, Vec::new()));
            continue;
        }
        let Some((_, desc, lines)) = upses.last_mut() else {
            continue;
        };
        if let [key, eq, value, ..] = words.as_slice()
            && key == "desc"
            && eq == "="
        {
            *desc = Some(value.clone());
        }
        lines.push(words);
    }
    upses
        .into_iter()
        .map(|(name, desc, lines)| {
            let desc = desc.as_deref().unwrap_or("Unavailable");
            let mut bytes = format!("UPSDESC {name} {}\n", token::quote(desc)).into_bytes();
            bytes.truncate(REPLY_MAX);
            (name, (bytes, format!("{lines:?}")))
        })
        .collect()
}

#[test]
#[ignore = "A/B: needs Debian's NUT 2.8.0 (nut-server, nut-client); scripts/test runs it"]
fn our_tokenizer_reads_ups_conf_like_debian_upsd() {
    let cases = corpus(DESC_CORPUS);
    let sections = desc_sections(&cases);
    let mut builder = StackBuilder::new().upsd(Impl::Debian);
    for (_, bytes) in &sections {
        builder = builder.ups_conf_append(bytes);
    }
    let stack = builder.start();
    let ups_conf = std::fs::read(stack.dir().join("ups.conf")).expect("read ups.conf back");
    let ours = predict_upsdesc(&ups_conf);
    assert_eq!(
        ours.len(),
        sections.len(),
        "we read sections {:?}",
        ours.keys()
    );

    // One connection per question: a reply cut at 512 bytes loses its LF.
    let outcomes = sections
        .iter()
        .map(|(name, _)| {
            let debian = ask_debian(&stack, format!("GET UPSDESC {name}\n").as_bytes());
            let (predicted, lines) = ours.get(name).cloned().unwrap_or_default();
            (debian, predicted, lines)
        })
        .collect();
    judge("ups.conf", &cases, outcomes);
}

#[test]
fn every_ddl_fixture_line_tokenizes() {
    let dir = nut_harness::workspace_root().join("tests/fixtures/ddl");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the DDL fixtures must be at {} (tests/fixtures/ddl in the repository): {e}",
            dir.display()
        )
    });
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read fixture dir").path())
        .filter(|p| p.extension().is_some_and(|x| x == "dev"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 600,
        "only {} .dev fixtures in {}",
        files.len(),
        dir.display()
    );
    let mut errors = Vec::new();
    let mut lines = 0;
    for file in &files {
        let text = std::fs::read(file).expect("read fixture");
        for line in token::tokenize_text(&text, Limits::default()) {
            lines += 1;
            if let Some(e) = &line.error {
                errors.push(format!("{}:{}: {e}", file.display(), line.line_no));
            }
        }
    }
    assert!(lines > 10_000, "suspiciously few lines: {lines}");
    assert!(
        errors.is_empty(),
        "{} lines failed:\n{}",
        errors.len(),
        errors.join("\n")
    );
}
