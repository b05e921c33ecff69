//! getopt for the clients: nut-daemon's scanner in POSIX mode (a leading `+`: stop at the
//! first operand), with glibc's diagnostics (`upsc: invalid option -- 'x'`).

use nut_daemon::getopt::{Arg, Getopt};

/// One parsed option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opt {
    /// A known option, with its argument if it takes one.
    Flag(char, Option<String>),
    /// An unknown option or a missing argument; the diagnostic is the message glibc prints.
    Invalid(String),
}

/// Parse `args` (without the program name) against `spec` (`"hls:"`: `s` takes an
/// argument). Returns the options in order and the remaining operands. Parsing stops at the
/// first operand or after `--`. The scanning is nut-daemon's (the daemons' too); this only
/// puts glibc's `prog: ` prefix on its diagnostics.
pub fn getopt(prog: &str, args: &[String], spec: &str) -> (Vec<Opt>, Vec<String>) {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    for found in Getopt::new(&format!("+{spec}"), args.iter().cloned()) {
        match found {
            Ok(Arg::Opt(c, value)) => opts.push(Opt::Flag(c, value)),
            Ok(Arg::Operand(word)) => operands.push(word),
            Err(e) => opts.push(Opt::Invalid(format!("{prog}: {e}"))),
        }
    }
    (opts, operands)
}

/// [`getopt`] over a whole command line (program name first), as every tool starts: the
/// diagnostics name `argv[0]` as glibc's do, or `prog` when there is no `argv[0]`.
pub fn getopt_argv(argv: &[String], prog: &str, spec: &str) -> (Vec<Opt>, Vec<String>) {
    getopt(
        argv.first().map(String::as_str).unwrap_or(prog),
        argv.get(1..).unwrap_or_default(),
        spec,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn parses_like_glibc_with_plus() {
        let (opts, rest) = getopt(
            "p",
            &strings(&["-lL", "-s", "x=1", "-tv", "ups", "-l"]),
            "lLs:t:",
        );
        assert_eq!(
            opts,
            [
                Opt::Flag('l', None),
                Opt::Flag('L', None),
                Opt::Flag('s', Some("x=1".into())),
                Opt::Flag('t', Some("v".into())),
            ]
        );
        assert_eq!(rest, ["ups", "-l"]);
        let (opts, rest) = getopt("upsc", &strings(&["-x", "-u"]), "u:");
        assert_eq!(
            opts,
            [
                Opt::Invalid("upsc: invalid option -- 'x'".into()),
                Opt::Invalid("upsc: option requires an argument -- 'u'".into()),
            ]
        );
        assert!(rest.is_empty());
        let (_, rest) = getopt("p", &strings(&["--", "-l"]), "l");
        assert_eq!(rest, ["-l"]);
    }
}
