//! Variable flags as NUT's state tree keeps them.

use std::fmt;

/// The flags of one state-tree variable.
///
/// `rw`, `string` and `number` travel on the wire (SETFLAGS, in that order); `immutable` is
/// driver-internal (set for `override.*` variables so the device cannot change them) and is
/// never sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VarFlags {
    /// Writable with SET (NUT `ST_FLAG_RW`).
    pub rw: bool,
    /// A string; its aux value is the maximum length (NUT `ST_FLAG_STRING`).
    pub string: bool,
    /// Explicitly numeric (NUT `ST_FLAG_NUMBER`, 2.8.0+).
    pub number: bool,
    /// Locked against driver updates and DELINFO (NUT `ST_FLAG_IMMUTABLE`); not on the wire.
    pub immutable: bool,
}

impl VarFlags {
    /// No flags.
    pub const NONE: Self = Self {
        rw: false,
        string: false,
        number: false,
        immutable: false,
    };
    /// `RW`.
    pub const RW: Self = Self {
        rw: true,
        ..Self::NONE
    };
    /// `STRING`.
    pub const STRING: Self = Self {
        string: true,
        ..Self::NONE
    };
    /// `NUMBER`.
    pub const NUMBER: Self = Self {
        number: true,
        ..Self::NONE
    };
    /// `IMMUTABLE` (driver-internal).
    pub const IMMUTABLE: Self = Self {
        immutable: true,
        ..Self::NONE
    };

    /// The union of two flag sets.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self {
            rw: self.rw || other.rw,
            string: self.string || other.string,
            number: self.number || other.number,
            immutable: self.immutable || other.immutable,
        }
    }

    /// True when no wire-visible flag is set (`immutable` does not count).
    pub const fn is_wire_empty(self) -> bool {
        !(self.rw || self.string || self.number)
    }

    /// The flags as they go on the wire, in NUT's order: `RW`, `STRING`, `NUMBER`.
    pub fn wire_words(self) -> impl Iterator<Item = &'static str> {
        [
            (self.rw, "RW"),
            (self.string, "STRING"),
            (self.number, "NUMBER"),
        ]
        .into_iter()
        .filter_map(|(set, word)| set.then_some(word))
    }

    /// Parse SETFLAGS words: `RW`, `STRING`, `NUMBER` case-insensitively; other words are
    /// ignored, as upsd does. `immutable` is never set from the wire.
    pub fn from_wire_words<S: AsRef<str>>(words: &[S]) -> Self {
        let mut flags = Self::NONE;
        for word in words {
            let word = word.as_ref();
            if word.eq_ignore_ascii_case("RW") {
                flags.rw = true;
            } else if word.eq_ignore_ascii_case("STRING") {
                flags.string = true;
            } else if word.eq_ignore_ascii_case("NUMBER") {
                flags.number = true;
            }
        }
        flags
    }

    /// Only the wire-visible part of these flags.
    #[must_use]
    pub const fn wire_part(self) -> Self {
        Self {
            immutable: false,
            ..self
        }
    }
}

impl std::ops::BitOr for VarFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl fmt::Display for VarFlags {
    /// The wire words separated by spaces (empty when none is set).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, word) in self.wire_words().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(word)?;
        }
        Ok(())
    }
}
