//! The item model: one table row per NUT variable, status bit, instant command or settable
//! variable, saying which command to send, where the value sits in the answer and how to turn
//! it into a NUT value (or a value into device bytes).

use crate::engine::Qx;

/// Flags of an item (the driver's own flags, as in nutdrv_qx).
pub mod qxf {
    /// Read once, at initialisation.
    pub const STATIC: u32 = 1 << 1;
    /// Read at initialisation and after every instant command / SET that succeeded.
    pub const SEMI_STATIC: u32 = 1 << 2;
    /// Not read from the device: a server-side value starting at the item's default.
    pub const ABSENT: u32 = 1 << 3;
    /// Mandatory: also read in quick polls; a failure makes the whole poll fail.
    pub const QUICK_POLL: u32 = 1 << 4;
    /// An instant command.
    pub const CMD: u32 = 1 << 5;
    /// How to set a variable.
    pub const SETVAR: u32 = 1 << 6;
    /// Strip leading/trailing `#` and spaces from the value.
    pub const TRIM: u32 = 1 << 7;
    /// The rw list is an enumeration.
    pub const ENUM: u32 = 1 << 8;
    /// The rw list holds (min, max) pairs.
    pub const RANGE: u32 = 1 << 9;
    /// No NUT variable: logged only (or, with SETVAR, a one-time setting from ups.conf).
    pub const NONUT: u32 = 1 << 10;
    /// Not processed (set at run time for items the device does not answer).
    pub const SKIP: u32 = 1 << 11;
}

/// NUT state flags of a variable (`ST_FLAG_*`).
pub mod stf {
    /// Writable (`ST_FLAG_RW`).
    pub const RW: u8 = 1;
    /// A string (`ST_FLAG_STRING`); its maximum length is the first rw entry.
    pub const STRING: u8 = 2;
}

/// A value, answer or command a table function refuses (the reason is logged where it is known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused;

/// Turns an extracted value into the NUT value, or (instant commands / SET) a user value into
/// the command to send / the value to store. `Err(Refused)` = refuse (logged by the caller).
pub type ValueFn = fn(&mut Qx, usize, &str) -> Result<String, Refused>;
/// A [`ValueFn`] whose value is always one of a few fixed texts (a Q1 status token, an alarm
/// text): returning it borrowed spares an allocation for every status bit of every poll.
pub type FixedValueFn = fn(&mut Qx, usize, &str) -> Result<&'static str, Refused>;
/// Rewrites the raw answer before fields are cut out of it (e.g. CRC check, decoding).
pub type AnswerFn = fn(&mut Qx, usize, &[u8]) -> Result<Vec<u8>, Refused>;
/// Rewrites the command just before it is sent (e.g. to add a CRC).
pub type CommandFn = fn(&Qx, usize, &[u8]) -> Result<Vec<u8>, Refused>;
/// Filter for one rw entry (enum value or range bound): `false` = not offered.
pub type RwFilter = fn(&Qx, &str) -> bool;

/// One entry of an item's rw list (an enum value, a range bound or a string length).
#[derive(Clone, Copy, Debug)]
pub struct RwValue {
    /// The value, as text.
    pub value: &'static str,
    /// Optional filter deciding at run time whether this entry applies.
    pub filter: Option<RwFilter>,
}

impl RwValue {
    /// An unconditional entry.
    pub const fn new(value: &'static str) -> Self {
        Self {
            value,
            filter: None,
        }
    }
}

/// One row of a protocol table.
#[derive(Clone, Copy, Debug)]
pub struct Item {
    /// NUT variable or command name (or log/ups.conf name with [`qxf::NONUT`]).
    pub var: &'static str,
    /// NUT state flags ([`stf`]).
    pub st_flags: u8,
    /// Enumeration, ranges (pairs) or, for strings, the maximum length.
    pub rw: &'static [RwValue],
    /// The command sent to the device (for queries, instant commands and SETs), if any.
    /// Instant commands and SETs with a value function use it as a format.
    pub command: Option<&'static str>,
    /// Minimum answer length (0 = any).
    pub answer_len: usize,
    /// Expected first byte of the answer.
    pub leading: Option<u8>,
    /// First byte of the value in the answer.
    pub from: usize,
    /// Last byte of the value in the answer (0 = up to the CR).
    pub to: usize,
    /// `printf`-style format of the NUT value (`%.1f`, `%s`), or the default value of an
    /// [`qxf::ABSENT`] item, or the default argument of an instant command.
    pub dfl: Option<&'static str>,
    /// Driver flags ([`qxf`]).
    pub flags: u32,
    /// Last-moment command rewrite.
    pub pre_command: Option<CommandFn>,
    /// Answer rewrite before field extraction.
    pub pre_answer: Option<AnswerFn>,
    /// Value conversion.
    pub pre: Option<ValueFn>,
    /// Value conversion to a fixed text, for rows that have no `pre` (see
    /// [`FixedValueFn`]; the engine treats it as `pre`).
    pub pre_fixed: Option<FixedValueFn>,
}

impl Item {
    /// A blank row, to be filled with struct update syntax.
    pub const BLANK: Item = Item {
        var: "",
        st_flags: 0,
        rw: &[],
        command: None,
        answer_len: 0,
        leading: None,
        from: 0,
        to: 0,
        dfl: None,
        flags: 0,
        pre_command: None,
        pre_answer: None,
        pre: None,
        pre_fixed: None,
    };

    /// A query row: `var` from `command`'s answer (min length, leading byte, from..=to,
    /// format, flags).
    #[allow(clippy::too_many_arguments)]
    pub const fn query(
        var: &'static str,
        command: &'static str,
        answer_len: usize,
        leading: Option<u8>,
        from: usize,
        to: usize,
        dfl: Option<&'static str>,
        flags: u32,
        pre: Option<ValueFn>,
    ) -> Item {
        Item {
            var,
            command: Some(command),
            answer_len,
            leading,
            from,
            to,
            dfl,
            flags,
            pre,
            ..Item::BLANK
        }
    }

    /// This row with `f` as its value function (see [`FixedValueFn`]).
    pub const fn fixed(self, f: FixedValueFn) -> Item {
        Item {
            pre_fixed: Some(f),
            ..self
        }
    }

    /// An instant command row without expected answer.
    pub const fn cmd(var: &'static str, command: &'static str, pre: Option<ValueFn>) -> Item {
        Item {
            var,
            command: Some(command),
            flags: qxf::CMD,
            pre,
            ..Item::BLANK
        }
    }

    /// Whether all of `flag` are set and none of `noflag` (runtime flags).
    pub fn has(flags: u32, flag: u32, noflag: u32) -> bool {
        (flag == 0 || flags & flag == flag) && (noflag == 0 || flags & noflag == 0)
    }
}
