//! Requests: command words, argument rules, rendering, and render → tokenize → parse round
//! trips.

use nut_core::net::{Command, ErrCode, GetQuery, ListQuery, Request, TrackingId};
use nut_core::token::{self, Tokenizer};
use proptest::prelude::*;

fn parse(line: &str) -> Result<Request, ErrCode> {
    Request::parse(&token::split_line(line).unwrap())
}

#[test]
fn command_words_are_case_insensitive() {
    for command in Command::ALL {
        let word = command.as_str();
        assert_eq!(Command::from_word(word), Some(command));
        assert_eq!(Command::from_word(&word.to_lowercase()), Some(command));
        assert_eq!(command.to_string(), word);
    }
    assert_eq!(Command::from_word("VERX"), None);
    assert_eq!(Command::from_word(""), None);
    let privileged: Vec<Command> = Command::ALL
        .into_iter()
        .filter(|c| c.needs_user())
        .collect();
    assert_eq!(
        privileged,
        [
            Command::Login,
            Command::Primary,
            Command::Master,
            Command::Fsd,
            Command::Set,
            Command::InstCmd
        ]
    );
}

#[test]
fn credentials_check_order() {
    assert_eq!(
        Command::Set.check_credentials_present(false, true),
        Err(ErrCode::UsernameRequired)
    );
    assert_eq!(
        Command::Set.check_credentials_present(true, false),
        Err(ErrCode::PasswordRequired)
    );
    assert_eq!(Command::Set.check_credentials_present(true, true), Ok(()));
    assert_eq!(Command::Get.check_credentials_present(false, false), Ok(()));
    // Without credentials state the parser reports argument errors only.
    assert_eq!(parse("SET"), Err(ErrCode::InvalidArgument));
    assert_eq!(
        Request::parse_with_credentials(&["SET"], false, false),
        Err(ErrCode::UsernameRequired)
    );
    assert_eq!(
        Request::parse_with_credentials(&["FOO"], false, false),
        Err(ErrCode::UnknownCommand),
        "the command word is checked first"
    );
    assert_eq!(
        Request::parse_with_credentials::<&str>(&[], false, false),
        Err(ErrCode::UnknownCommand)
    );
}

#[test]
fn sub_commands_are_case_insensitive_and_names_keep_their_spelling() {
    assert_eq!(
        parse("gEt VaR Dummy UPS.Status"),
        Ok(Request::Get(GetQuery::Var {
            ups: "Dummy".into(),
            var: "UPS.Status".into()
        }))
    );
    assert_eq!(
        parse("list range U V"),
        Ok(Request::List(ListQuery::Range {
            ups: "U".into(),
            var: "V".into()
        }))
    );
    assert_eq!(parse("set tracking Off"), Ok(Request::SetTracking(false)));
    assert_eq!(
        parse("get tracking ab-CD"),
        Ok(Request::Get(GetQuery::Tracking(TrackingId::from_wire(
            "AB-cd"
        ))))
    );
    assert_eq!(
        parse("instcmd u beeper.enable"),
        Ok(Request::InstCmd {
            ups: "u".into(),
            cmd: "beeper.enable".into(),
            param: None
        })
    );
    assert_eq!(parse("logout"), Ok(Request::Logout));
    assert_eq!(parse("master u"), Ok(Request::Master { ups: "u".into() }));
}

#[test]
fn rendering_quotes_values_and_only_the_names_that_need_it() {
    let cases = [
        (Request::Ver, "VER\n"),
        (Request::StartTls, "STARTTLS\n"),
        (Request::Username("upsmon".into()), "USERNAME upsmon\n"),
        // The deliberate fix of libupsclient's unquoted credentials.
        (
            Request::Password("pa ss#\"\\".into()),
            "PASSWORD \"pa ss\\#\\\"\\\\\"\n",
        ),
        (Request::Password(String::new()), "PASSWORD \"\"\n"),
        (
            Request::SetVar {
                ups: "dummy".into(),
                var: "ups.id".into(),
                value: "55".into(),
            },
            "SET VAR dummy ups.id \"55\"\n",
        ),
        (
            Request::InstCmd {
                ups: "dummy".into(),
                cmd: "load.off.delay".into(),
                param: Some("a b".into()),
            },
            "INSTCMD dummy load.off.delay \"a b\"\n",
        ),
        (
            Request::InstCmd {
                ups: "dummy".into(),
                cmd: "load.off".into(),
                param: None,
            },
            "INSTCMD dummy load.off\n",
        ),
        (Request::SetTracking(true), "SET TRACKING ON\n"),
        (Request::Get(GetQuery::TrackingMode), "GET TRACKING\n"),
        (
            Request::List(ListQuery::Enum {
                ups: "u".into(),
                var: "v".into(),
            }),
            "LIST ENUM u v\n",
        ),
        (Request::List(ListQuery::Ups), "LIST UPS\n"),
        (
            Request::Get(GetQuery::CmdDesc {
                ups: "u".into(),
                cmd: "c".into(),
            }),
            "GET CMDDESC u c\n",
        ),
    ];
    for (request, line) in cases {
        assert_eq!(request.to_line(), line);
        assert_eq!(format!("{request}\n"), line);
        let mut buf = String::from("prefix ");
        request.write_line(&mut buf);
        assert_eq!(buf, format!("prefix {line}"));
    }
}

fn name() -> impl Strategy<Value = String> {
    // Any printable ASCII (the tokenizer keeps 0x20..=0x7F), including spaces, quotes,
    // backslashes, '#' and '=', which force quoting.
    "[ -~]{0,24}"
}

fn get_query() -> impl Strategy<Value = GetQuery> {
    prop_oneof![
        Just(GetQuery::TrackingMode),
        name().prop_map(|id| GetQuery::Tracking(TrackingId::from_wire(id))),
        name().prop_map(|ups| GetQuery::NumLogins { ups }),
        name().prop_map(|ups| GetQuery::UpsDesc { ups }),
        (name(), name()).prop_map(|(ups, var)| GetQuery::Var { ups, var }),
        (name(), name()).prop_map(|(ups, var)| GetQuery::Type { ups, var }),
        (name(), name()).prop_map(|(ups, var)| GetQuery::Desc { ups, var }),
        (name(), name()).prop_map(|(ups, cmd)| GetQuery::CmdDesc { ups, cmd }),
    ]
}

fn list_query() -> impl Strategy<Value = ListQuery> {
    prop_oneof![
        Just(ListQuery::Ups),
        name().prop_map(|ups| ListQuery::Var { ups }),
        name().prop_map(|ups| ListQuery::Rw { ups }),
        name().prop_map(|ups| ListQuery::Cmd { ups }),
        name().prop_map(|ups| ListQuery::Client { ups }),
        (name(), name()).prop_map(|(ups, var)| ListQuery::Enum { ups, var }),
        (name(), name()).prop_map(|(ups, var)| ListQuery::Range { ups, var }),
    ]
}

fn request() -> impl Strategy<Value = Request> {
    prop_oneof![
        Just(Request::Ver),
        Just(Request::NetVer),
        Just(Request::ProtVer),
        Just(Request::Help),
        Just(Request::StartTls),
        Just(Request::Logout),
        name().prop_map(Request::Username),
        name().prop_map(Request::Password),
        name().prop_map(|ups| Request::Login { ups }),
        name().prop_map(|ups| Request::Primary { ups }),
        name().prop_map(|ups| Request::Master { ups }),
        name().prop_map(|ups| Request::Fsd { ups }),
        get_query().prop_map(Request::Get),
        list_query().prop_map(Request::List),
        (name(), name(), name()).prop_map(|(ups, var, value)| Request::SetVar { ups, var, value }),
        any::<bool>().prop_map(Request::SetTracking),
        (name(), name(), proptest::option::of(name()))
            .prop_map(|(ups, cmd, param)| Request::InstCmd { ups, cmd, param }),
    ]
}

proptest! {
    #[test]
    fn render_tokenize_parse_round_trips(request in request()) {
        let line = request.to_line();
        prop_assert!(line.ends_with('\n'));
        prop_assert_eq!(line.matches('\n').count(), 1);
        let lines = Tokenizer::default().push_slice(line.as_bytes());
        prop_assert_eq!(lines.len(), 1);
        let words = lines[0].clone().into_result().unwrap();
        prop_assert_eq!(Request::parse(&words), Ok(request.clone()));
        prop_assert_eq!(
            Request::parse_with_credentials(&words, true, true),
            Ok(request.clone())
        );
    }

    #[test]
    fn parsing_never_panics_and_only_returns_upsds_codes(
        words in proptest::collection::vec("[ -~]{0,12}", 0..8),
        user in any::<bool>(),
        pass in any::<bool>(),
    ) {
        match Request::parse_with_credentials(&words, user, pass) {
            Ok(request) => {
                prop_assert_eq!(
                    Some(request.command()),
                    Command::from_word(&words[0])
                );
            }
            Err(code) => prop_assert!(matches!(
                code,
                ErrCode::UnknownCommand
                    | ErrCode::InvalidArgument
                    | ErrCode::UsernameRequired
                    | ErrCode::PasswordRequired
            )),
        }
    }
}
