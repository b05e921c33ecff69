//! upslog's format strings: compiled once into [`Piece`]s, rendered on every poll.
//!
//! Escapes (NUT's, matched case-insensitively by prefix, in this order: HOST, UPSHOST, PID,
//! TIME, VAR, ETIME): `%%` (a `%`), `%HOST%`, `%UPSHOST%`, `%PID%`, `%TIME fmt%` (strftime
//! with `@` standing for `%`), `%VAR name%`, `%ETIME%` (seconds since the epoch) and `%t` (a
//! TAB, NUT 2.8.3+, when `t…` up to the next `%` is not one of the names above, so 2.8.0's
//! `%time …%` keeps working). An unknown `%NAME%` renders as `INVALID`; a `%` without a
//! closing `%` renders as `INVALID` and the text after it is printed as is.

/// The default format of upslog.
pub const DEFAULT_FORMAT: &str = "%TIME @Y@m@d @H@M@S% %VAR battery.charge% %VAR input.voltage% \
     %VAR ups.load% [%VAR ups.status%] %VAR ups.temperature% %VAR input.frequency%";

/// One compiled element of a format string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    /// Text printed as is (also `%%` and `%t`).
    Literal(String),
    /// `%HOST%`: the local host name.
    Host,
    /// `%UPSHOST%`: the UPS identifier as given on the command line.
    UpsHost,
    /// `%PID%`: upslog's process id.
    Pid,
    /// `%TIME fmt%`: the local time, strftime format with `@` for `%`.
    Time(Option<String>),
    /// `%VAR name%`: a variable of the UPS (`NA` when it cannot be read).
    Var(Option<String>),
    /// `%ETIME%`: seconds since the epoch.
    ETime,
}

/// Builds the piece of a command from its argument.
type MakePiece = fn(Option<String>) -> Piece;

const COMMANDS: [(&str, MakePiece); 6] = [
    ("HOST", |_| Piece::Host),
    ("UPSHOST", |_| Piece::UpsHost),
    ("PID", |_| Piece::Pid),
    ("TIME", Piece::Time),
    ("VAR", Piece::Var),
    ("ETIME", |_| Piece::ETime),
];

/// The command whose name `cmd` starts with (ignoring ASCII case), first match wins.
fn command(cmd: &str) -> Option<MakePiece> {
    COMMANDS
        .iter()
        .find(|(name, _)| {
            cmd.len() >= name.len()
                && cmd.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        })
        .map(|(_, make)| *make)
}

const INVALID: &str = "INVALID";

/// Compile a format string.
pub fn compile(format: &str) -> Vec<Piece> {
    let mut pieces: Vec<Piece> = Vec::new();
    let mut literal = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if c != '%' {
            literal.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let after = &rest[1..];
        if let Some(tail) = after.strip_prefix('%') {
            literal.push('%');
            rest = tail;
            continue;
        }
        let known = after.find('%').and_then(|end| {
            let body = &after[..end];
            let (name, arg) = match body.split_once(' ') {
                Some((name, arg)) => (name, Some(arg.to_owned())),
                None => (body, None),
            };
            command(name).map(|make| (make(arg), end))
        });
        match (known, after.find('%')) {
            (Some((piece, end)), _) => {
                if !literal.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(piece);
                rest = &after[end + 1..];
            }
            (None, _) if after.starts_with('t') => {
                literal.push('\t');
                rest = &after[1..];
            }
            (None, Some(end)) => {
                literal.push_str(INVALID);
                rest = &after[end + 1..];
            }
            // No closing %: INVALID, then the rest is ordinary text.
            (None, None) => {
                literal.push_str(INVALID);
                rest = after;
            }
        }
    }
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

/// What rendering needs from the outside world.
pub trait Context {
    /// The local host name.
    fn hostname(&mut self) -> String;
    /// The process id.
    fn pid(&mut self) -> u32;
    /// Seconds since the epoch, now.
    fn epoch_seconds(&mut self) -> i64;
    /// strftime(3) of the current local time.
    fn strftime(&mut self, format: &str) -> String;
    /// The value of a variable, `None` when it cannot be read.
    fn var(&mut self, name: &str) -> Option<String>;
}

/// Render one log line (without newline) for the UPS written `upshost` on the command line.
pub fn render(pieces: &[Piece], upshost: &str, ctx: &mut dyn Context) -> String {
    let mut line = String::new();
    for piece in pieces {
        match piece {
            Piece::Literal(text) => line.push_str(text),
            Piece::Host => line.push_str(&ctx.hostname()),
            Piece::UpsHost => line.push_str(upshost),
            Piece::Pid => line.push_str(&ctx.pid().to_string()),
            Piece::ETime => line.push_str(&ctx.epoch_seconds().to_string()),
            Piece::Time(Some(format)) => line.push_str(&ctx.strftime(&format.replace('@', "%"))),
            // NUT crashes on `%TIME%`; we say INVALID.
            Piece::Time(None) => line.push_str(INVALID),
            Piece::Var(Some(name)) if name.contains('.') => {
                line.push_str(ctx.var(name).as_deref().unwrap_or("NA"));
            }
            Piece::Var(_) => line.push_str(INVALID),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;

    impl Context for Fake {
        fn hostname(&mut self) -> String {
            "box".into()
        }
        fn pid(&mut self) -> u32 {
            42
        }
        fn epoch_seconds(&mut self) -> i64 {
            1_700_000_000
        }
        fn strftime(&mut self, format: &str) -> String {
            format!("<{format}>")
        }
        fn var(&mut self, name: &str) -> Option<String> {
            match name {
                "ups.status" => Some("OL CHRG".into()),
                "ups.load" => Some("23".into()),
                _ => None,
            }
        }
    }

    fn line(format: &str) -> String {
        render(&compile(format), "dummy@h:1", &mut Fake)
    }

    /// Each expectation was observed with Debian's upslog 2.8.0 (except `%t` and `%TIME%`).
    #[test]
    fn escapes_like_nut() {
        assert_eq!(
            line("%% %ETIME% %HOST% %UPSHOST% %PID%"),
            "% 1700000000 box dummy@h:1 42"
        );
        assert_eq!(line("%VAR ups.status% %VAR nosuch%"), "OL CHRG INVALID");
        assert_eq!(line("%VAR ups.status% %VAR no.such%"), "OL CHRG NA");
        assert_eq!(line("%TIME %H:%M%"), "<>H:INVALID");
        assert_eq!(line("%BOGUS% x"), "INVALID x");
        assert_eq!(line("%VAR%|"), "INVALID|");
        assert_eq!(line("trail %"), "trail INVALID");
        assert_eq!(line("a %VAR ups.status"), "a INVALIDVAR ups.status");
        assert_eq!(line("%UPSHOST%%%%PID%"), "dummy@h:1%42");
        assert_eq!(line("%time @H%"), "<%H>");
        assert_eq!(line("%var ups.load%"), "23");
        assert_eq!(line("%VAR ups.load extra%"), "NA");
        assert_eq!(line("%TIME @Y @% %"), "<%Y %> INVALID");
        assert_eq!(line("%HOSTNAME%"), "box");
        assert_eq!(line("a%tb"), "a\tb");
        assert_eq!(line("%TIME%"), "INVALID");
    }

    #[test]
    fn default_format() {
        assert_eq!(
            line(DEFAULT_FORMAT),
            "<%Y%m%d %H%M%S> NA NA 23 [OL CHRG] NA NA"
        );
    }
}
