//! The device spec format of the test rig (`tests/rig/usb/fakeusb.c`, format in `tests/rig/usb/README.md`): one
//! directive per line, `#` comment lines, hex bytes separated by blanks. Pure parsing, no I/O.
//!
//! | directive | meaning |
//! |---|---|
//! | `vid 051d`, `pid 0002`, `bcd 0106` | idVendor, idProduct, bcdDevice (hex) |
//! | `bus 1`, `iface 0`, `devnum 2`, `port 1` | bus number, HID interface, device address, port (decimal) |
//! | `imanufacturer 3`, `iproduct 1`, `iserial 2` | string indexes in the device descriptor |
//! | `string <n> <text>` | string descriptor n (UTF-8 text to the end of the line) |
//! | `langid 0409` | the LANGID string descriptor 0 lists (hex) |
//! | `desc <hex...>` | HID report descriptor; successive lines append |
//! | `feature <id> <hex>`, `input <id> <hex>` | GET_REPORT answers, bytes include the report ID |
//! | `intr <hex>` | one queued interrupt-IN report |
//! | `unknown stall\|zero` | GET_REPORT of an unrecorded id: STALL (default) or zero-filled |
//! | `bridge <name>` | a Megatec/Q1 UPS behind a USB bridge ([`BridgeKind`]) |
//! | `q1 <request> -> <reply>` | a Q1 exchange (no CR; `<none>` = silence); replies cycle per request |
//! | `unplug`, `replug [<devnum>]` | the device vanishes / comes back (re-enumerated) |
//!
//! The C stand-in is lenient (it skips what it cannot read); this parser reports the first problem
//! with its line number, so a broken spec never silently becomes a different device.

use std::fmt;

/// A parse error: 1-based line number and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct SpecError {
    pub line: usize,
    pub message: String,
}

/// What a GET_REPORT of a report ID the spec does not record returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownReport {
    #[default]
    Stall,
    Zero,
}

/// The USB-to-serial bridges of NUT's Q1-over-USB subdrivers (nutdrv_qx, blazer_usb). Each frames
/// the Megatec command and its reply differently; see tests/rig/usb/README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BridgeKind {
    Cypress,
    Phoenix,
    Ippon,
    Krauler,
    Fabula,
    Hunnox,
    Fuji,
    Sgs,
    Snr,
    Ablerex,
    Armac,
    Phoenixtec,
}

impl BridgeKind {
    pub const ALL: [BridgeKind; 12] = [
        BridgeKind::Cypress,
        BridgeKind::Phoenix,
        BridgeKind::Ippon,
        BridgeKind::Krauler,
        BridgeKind::Fabula,
        BridgeKind::Hunnox,
        BridgeKind::Fuji,
        BridgeKind::Sgs,
        BridgeKind::Snr,
        BridgeKind::Ablerex,
        BridgeKind::Armac,
        BridgeKind::Phoenixtec,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BridgeKind::Cypress => "cypress",
            BridgeKind::Phoenix => "phoenix",
            BridgeKind::Ippon => "ippon",
            BridgeKind::Krauler => "krauler",
            BridgeKind::Fabula => "fabula",
            BridgeKind::Hunnox => "hunnox",
            BridgeKind::Fuji => "fuji",
            BridgeKind::Sgs => "sgs",
            BridgeKind::Snr => "snr",
            BridgeKind::Ablerex => "ablerex",
            BridgeKind::Armac => "armac",
            BridgeKind::Phoenixtec => "phoenixtec",
        }
    }

    pub fn from_name(name: &str) -> Option<BridgeKind> {
        BridgeKind::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Bridges that carry each command as a string-descriptor index (the reply is the string).
    pub fn is_string_bridge(self) -> bool {
        matches!(
            self,
            BridgeKind::Krauler | BridgeKind::Fabula | BridgeKind::Hunnox | BridgeKind::Snr
        )
    }
}

impl fmt::Display for BridgeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    Vid(u16),
    Pid(u16),
    Bcd(u16),
    Bus(u8),
    Iface(u8),
    Devnum(u8),
    Port(u8),
    Langid(u16),
    IManufacturer(u8),
    IProduct(u8),
    ISerial(u8),
    Unknown(UnknownReport),
    String {
        index: u8,
        text: String,
    },
    Desc(Vec<u8>),
    Feature {
        id: u8,
        bytes: Vec<u8>,
    },
    Input {
        id: u8,
        bytes: Vec<u8>,
    },
    Intr(Vec<u8>),
    Bridge(BridgeKind),
    /// `q1 <request> -> <reply>`; `reply` is `None` for `<none>` (the UPS stays silent).
    Q1 {
        request: Vec<u8>,
        reply: Option<Vec<u8>>,
    },
    Unplug,
    Replug(Option<u8>),
}

/// Parse one line. `Ok(None)` for blank and comment lines. The line is cut at the first CR or LF,
/// as the C stand-in does.
pub fn parse_line(line: &str) -> Result<Option<Directive>, String> {
    let line = match line.find(['\r', '\n']) {
        Some(end) => &line[..end],
        None => line,
    };
    let trimmed = line.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() || trimmed.starts_with('#') {
        return Ok(None);
    }
    let (word, arg) = match trimmed.find([' ', '\t']) {
        Some(i) => (&trimmed[..i], trimmed[i..].trim_start_matches([' ', '\t'])),
        None => (trimmed, ""),
    };
    let d = match word {
        "vid" => Directive::Vid(hex16(word, arg)?),
        "pid" => Directive::Pid(hex16(word, arg)?),
        "bcd" => Directive::Bcd(hex16(word, arg)?),
        "langid" => Directive::Langid(hex16(word, arg)?),
        "bus" => Directive::Bus(dec8(word, arg)?),
        "iface" => {
            let n = dec8(word, arg)?;
            if n > 15 {
                return Err(format!("iface {n}: the interface number must be 0..15"));
            }
            Directive::Iface(n)
        }
        "devnum" => Directive::Devnum(dec8(word, arg)?),
        "port" => Directive::Port(dec8(word, arg)?),
        "imanufacturer" => Directive::IManufacturer(dec8(word, arg)?),
        "iproduct" => Directive::IProduct(dec8(word, arg)?),
        "iserial" => Directive::ISerial(dec8(word, arg)?),
        "unknown" => match arg.trim_end() {
            "stall" => Directive::Unknown(UnknownReport::Stall),
            "zero" => Directive::Unknown(UnknownReport::Zero),
            other => return Err(format!("unknown '{other}': expected 'stall' or 'zero'")),
        },
        "string" => {
            let (idx, text) = match arg.find([' ', '\t']) {
                Some(i) => (&arg[..i], arg[i..].trim_start_matches([' ', '\t'])),
                None => (arg, ""),
            };
            let index = dec8("string", idx)?;
            if index == 0 {
                return Err("string 0 is the LANGID list; use 'langid <hex>'".into());
            }
            Directive::String {
                index,
                text: text.to_string(),
            }
        }
        "desc" => Directive::Desc(hex_bytes(arg)?),
        "feature" | "input" => {
            let (id, rest) = match arg.find([' ', '\t']) {
                Some(i) => (&arg[..i], &arg[i..]),
                None => (arg, ""),
            };
            let id = u8::from_str_radix(id, 16)
                .map_err(|_| format!("{word}: report id '{id}' is not a hex byte"))?;
            let bytes = hex_bytes(rest)?;
            if bytes.is_empty() {
                return Err(format!("{word} {id:02x}: no report bytes"));
            }
            if word == "feature" {
                Directive::Feature { id, bytes }
            } else {
                Directive::Input { id, bytes }
            }
        }
        "intr" => {
            let bytes = hex_bytes(arg)?;
            if bytes.is_empty() {
                return Err("intr: no report bytes".into());
            }
            Directive::Intr(bytes)
        }
        "bridge" => {
            let name = arg.trim_end();
            Directive::Bridge(BridgeKind::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = BridgeKind::ALL.iter().map(|b| b.name()).collect();
                format!("bridge '{name}': expected one of {}", names.join(", "))
            })?)
        }
        "q1" => {
            let Some(sep) = arg.find(" -> ") else {
                return Err("q1: expected '<request> -> <reply>'".into());
            };
            let request = drop_cr_notation(&arg[..sep]);
            let reply = drop_cr_notation(&arg[sep + 4..]);
            if request.is_empty() {
                return Err("q1: empty request".into());
            }
            Directive::Q1 {
                request: request.as_bytes().to_vec(),
                reply: (reply != "<none>").then(|| reply.as_bytes().to_vec()),
            }
        }
        "unplug" => {
            if !arg.trim_end().is_empty() {
                return Err("unplug takes no argument".into());
            }
            Directive::Unplug
        }
        "replug" => {
            let a = arg.trim_end();
            Directive::Replug(if a.is_empty() {
                None
            } else {
                Some(dec8(word, a)?)
            })
        }
        other => return Err(format!("unknown directive '{other}'")),
    };
    Ok(Some(d))
}

/// Parse a whole spec; the first bad line is the error.
pub fn parse(text: &str) -> Result<Vec<Directive>, SpecError> {
    let mut out = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        match parse_line(line) {
            Ok(Some(d)) => out.push(d),
            Ok(None) => {}
            Err(message) => {
                return Err(SpecError {
                    line: i + 1,
                    message,
                });
            }
        }
    }
    Ok(out)
}

/// The serial fixtures write the CR as a literal `\r` at the end; the bridges add the CR themselves.
fn drop_cr_notation(s: &str) -> &str {
    s.strip_suffix("\\r").unwrap_or(s)
}

fn hex16(word: &str, arg: &str) -> Result<u16, String> {
    let a = arg.trim_end();
    u16::from_str_radix(a, 16).map_err(|_| format!("{word} '{a}': expected a hex number 0..ffff"))
}

fn dec8(word: &str, arg: &str) -> Result<u8, String> {
    let a = arg.trim_end();
    a.parse::<u8>()
        .map_err(|_| format!("{word} '{a}': expected a decimal number 0..255"))
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    s.split_ascii_whitespace()
        .map(|tok| {
            if tok.len() > 2 {
                return Err(format!(
                    "'{tok}' is not a hex byte (write bytes apart: 'a1 b2')"
                ));
            }
            u8::from_str_radix(tok, 16).map_err(|_| format!("'{tok}' is not a hex byte"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_directive() {
        let text = "# comment\n\nvid 051d\npid 0002\nbcd 0106\nbus 3\niface 1\ndevnum 7\nport 4\n\
                    langid 0409\nimanufacturer 3\niproduct 1\niserial 2\nunknown zero\n\
                    string 1 Back-UPS XS 1400U  \ndesc 05 84 09 04\nfeature 0c 0c 64\ninput 16 16 08 00\n\
                    intr 06 00 01 10\nbridge krauler\nq1 Q1\\r -> (227.0 x\\r\nq1 T -> <none>\nunplug\n\
                    replug\nreplug 9\n";
        let d = parse(text).unwrap();
        assert_eq!(d[0], Directive::Vid(0x051d));
        assert_eq!(d[3], Directive::Bus(3));
        assert_eq!(d[4], Directive::Iface(1));
        assert_eq!(d[5], Directive::Devnum(7));
        assert_eq!(d[7], Directive::Langid(0x0409));
        assert_eq!(d[11], Directive::Unknown(UnknownReport::Zero));
        assert_eq!(
            d[12],
            Directive::String {
                index: 1,
                text: "Back-UPS XS 1400U  ".into()
            }
        );
        assert_eq!(d[13], Directive::Desc(vec![0x05, 0x84, 0x09, 0x04]));
        assert_eq!(
            d[14],
            Directive::Feature {
                id: 0x0c,
                bytes: vec![0x0c, 0x64]
            }
        );
        assert_eq!(d[17], Directive::Bridge(BridgeKind::Krauler));
        assert_eq!(
            d[18],
            Directive::Q1 {
                request: b"Q1".to_vec(),
                reply: Some(b"(227.0 x".to_vec())
            }
        );
        assert_eq!(
            d[19],
            Directive::Q1 {
                request: b"T".to_vec(),
                reply: None
            }
        );
        assert_eq!(d[20], Directive::Unplug);
        assert_eq!(d[21], Directive::Replug(None));
        assert_eq!(d[22], Directive::Replug(Some(9)));
    }

    #[test]
    fn reply_keeps_its_spaces_and_the_line_is_cut_at_cr() {
        let d = parse_line("q1 F -> #   .   .  12.00   . \r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            d,
            Directive::Q1 {
                request: b"F".to_vec(),
                reply: Some(b"#   .   .  12.00   . ".to_vec())
            }
        );
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("vid 051d\npid 12345\n", 2, "pid '12345'"),
            ("vid zz\n", 1, "vid 'zz'"),
            (
                "# x\n\ndesc 05 8\ndesc 0584\n",
                4,
                "'0584' is not a hex byte",
            ),
            ("feature 1g 01\n", 1, "report id '1g'"),
            ("feature 01\n", 1, "no report bytes"),
            ("iface 16\n", 1, "0..15"),
            ("unknown maybe\n", 1, "expected 'stall' or 'zero'"),
            ("bridge usbserial\n", 1, "bridge 'usbserial'"),
            ("q1 Q1 (no arrow)\n", 1, "q1: expected"),
            ("string 0 x\n", 1, "LANGID"),
            ("string 256 x\n", 1, "string '256'"),
            ("unplug now\n", 1, "no argument"),
            ("replug x\n", 1, "replug 'x'"),
            ("vid 1\nfrobnicate 3\n", 2, "unknown directive 'frobnicate'"),
            ("intr\n", 1, "intr: no report bytes"),
        ];
        for (text, line, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, *line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
            assert!(e.to_string().starts_with(&format!("line {line}: ")));
        }
    }

    #[test]
    fn bridge_names_round_trip() {
        for b in BridgeKind::ALL {
            assert_eq!(BridgeKind::from_name(b.name()), Some(b));
        }
        assert_eq!(BridgeKind::from_name("Cypress"), None);
    }
}
