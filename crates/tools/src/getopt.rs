//! POSIX `getopt` with a leading `+` (stop at the first operand), as NUT's clients use it,
//! including glibc's diagnostics (`upsc: invalid option -- 'x'`).

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
/// first operand or after `--`.
pub fn getopt(prog: &str, args: &[String], spec: &str) -> (Vec<Opt>, Vec<String>) {
    let takes_arg = |c: char| -> Option<bool> {
        let at = spec.find(c)?;
        Some(spec[at + c.len_utf8()..].starts_with(':'))
    };
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            i += 1;
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        i += 1;
        for (at, c) in arg[1..].char_indices() {
            match takes_arg(c).filter(|_| c != ':') {
                None => opts.push(Opt::Invalid(format!("{prog}: invalid option -- '{c}'"))),
                Some(false) => opts.push(Opt::Flag(c, None)),
                Some(true) => {
                    let rest = &arg[1 + at + c.len_utf8()..];
                    if !rest.is_empty() {
                        opts.push(Opt::Flag(c, Some(rest.to_owned())));
                    } else if let Some(next) = args.get(i) {
                        opts.push(Opt::Flag(c, Some(next.clone())));
                        i += 1;
                    } else {
                        opts.push(Opt::Invalid(format!(
                            "{prog}: option requires an argument -- '{c}'"
                        )));
                    }
                    break;
                }
            }
        }
    }
    (opts, args[i..].to_vec())
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
