//! Pointer-free storage of the subdrivers' mapping tables.
//!
//! A table written as `&[HidInfo]` is full of `&'static str`s and slices: in a position-
//! independent executable every one of those pointers is relocated by the dynamic linker at
//! start, so every page of every subdriver's table (some 150 kB for the 16 of them) becomes
//! private, resident memory although a driver uses one subdriver. Each subdriver's rows are
//! therefore written as a `const` (which is not emitted: it only feeds const evaluation) and
//! [`pooled_table!`](crate::pooled_table) turns it at compile time into a [`Pool`]: the bytes
//! of every string, rows of plain integers (offsets and lengths into those bytes, flags,
//! functions) and the lookup pairs, flattened. A pool has no pointers, so it lives in
//! `.rodata`, file-backed and paged in only when read. [`View::materialise`] rebuilds the
//! rows as [`HidInfo`]s, once per process for the subdriver in use
//! ([`crate::Subdriver::table`]).

use crate::mapping::{Conversion, Function, HidFlags, HidInfo, Target, VarFlags};

/// A string of a pool: `len` bytes at `off` ([`Str::NONE`]: no string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Str {
    off: u32,
    len: u32,
}

impl Str {
    const NONE: Str = Str {
        off: 0,
        len: u32::MAX,
    };
}

/// [`Function`] with its strings in the pool (only two variants carry strings; the others are
/// stored as they are, which needs no relocation).
#[derive(Debug, Clone, Copy)]
enum Fun {
    Plain(Function),
    StatusBits {
        mask: i64,
        equal: i64,
        then: Str,
        otherwise: Str,
    },
    NonZero(Str, Str),
}

/// [`Conversion`] with its strings in the pool; a lookup is `len` pairs from `start`.
#[derive(Debug, Clone, Copy)]
enum Conv {
    None,
    Format(Str),
    Lookup { start: u32, len: u32 },
    Fun(Fun),
}

/// [`Target`] with its strings in the pool.
#[derive(Debug, Clone, Copy)]
enum Tgt {
    Var(Str),
    Status,
    Alarm,
    Command(Str),
}

/// One [`HidInfo`] row without pointers.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    target: Tgt,
    var_flags: VarFlags,
    path: Str,
    default: Str,
    flags: HidFlags,
    conversion: Conv,
}

impl Row {
    const EMPTY: Row = Row {
        target: Tgt::Status,
        var_flags: VarFlags {
            rw: false,
            string: None,
        },
        path: Str::NONE,
        default: Str::NONE,
        flags: HidFlags {
            static_: false,
            semi_static: false,
            absent: false,
            quick_poll: false,
            enumerated: false,
        },
        conversion: Conv::None,
    };
}

/// One (HID value, NUT value) pair of a lookup.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    value: i64,
    name: Str,
}

impl Pair {
    const EMPTY: Pair = Pair {
        value: 0,
        name: Str::NONE,
    };
}

/// A subdriver's table without pointers: `B` bytes of strings, `R` rows, `L` lookup pairs
/// (the sizes come from [`sizes`]).
#[derive(Debug)]
pub struct Pool<const R: usize, const B: usize, const L: usize> {
    bytes: [u8; B],
    rows: [Row; R],
    pairs: [Pair; L],
}

/// The (rows, string bytes, lookup pairs) a table's [`Pool`] holds.
pub const fn sizes(table: &[HidInfo]) -> (usize, usize, usize) {
    fill(table, &mut [], &mut [], &mut [])
}

impl<const R: usize, const B: usize, const L: usize> Pool<R, B, L> {
    /// The pool of `table` (evaluated at compile time; the sizes must be [`sizes`]`(table)`).
    pub const fn build(table: &[HidInfo]) -> Self {
        let mut pool = Pool {
            bytes: [0; B],
            rows: [Row::EMPTY; R],
            pairs: [Pair::EMPTY; L],
        };
        let (rows, bytes, pairs) = fill(table, &mut pool.bytes, &mut pool.rows, &mut pool.pairs);
        assert!(
            rows == R && bytes == B && pairs == L,
            "pool sizes differ from the table's"
        );
        pool
    }

    /// The pool without its sizes.
    pub fn view(&'static self) -> View {
        View {
            bytes: &self.bytes,
            rows: &self.rows,
            pairs: &self.pairs,
        }
    }
}

/// Writes `table` into the pool's parts and returns how much it used (rows, bytes, pairs).
/// With empty parts nothing is written: that counts the sizes.
const fn fill(
    table: &[HidInfo],
    bytes: &mut [u8],
    rows: &mut [Row],
    pairs: &mut [Pair],
) -> (usize, usize, usize) {
    let mut w = Writer {
        bytes,
        used: 0,
        pairs,
        pairs_used: 0,
    };
    let mut i = 0;
    while i < table.len() {
        let row = w.row(&table[i]);
        if i < rows.len() {
            rows[i] = row;
        }
        i += 1;
    }
    (table.len(), w.used, w.pairs_used)
}

/// Appends strings and pairs to a pool's parts (or only counts them when the parts are empty).
struct Writer<'a> {
    bytes: &'a mut [u8],
    used: usize,
    pairs: &'a mut [Pair],
    pairs_used: usize,
}

impl Writer<'_> {
    const fn str(&mut self, s: &str) -> Str {
        let b = s.as_bytes();
        let off = self.used;
        if self.bytes.len() >= off + b.len() {
            let mut j = 0;
            while j < b.len() {
                self.bytes[off + j] = b[j];
                j += 1;
            }
        }
        self.used += b.len();
        assert!(self.used < u32::MAX as usize, "pool too large");
        Str {
            off: off as u32,
            len: b.len() as u32,
        }
    }

    const fn opt_str(&mut self, s: Option<&str>) -> Str {
        match s {
            Some(s) => self.str(s),
            None => Str::NONE,
        }
    }

    const fn lookup(&mut self, table: &[(i64, &str)]) -> Conv {
        let start = self.pairs_used;
        let mut j = 0;
        while j < table.len() {
            let pair = Pair {
                value: table[j].0,
                name: self.str(table[j].1),
            };
            if start + j < self.pairs.len() {
                self.pairs[start + j] = pair;
            }
            j += 1;
        }
        self.pairs_used += table.len();
        Conv::Lookup {
            start: start as u32,
            len: table.len() as u32,
        }
    }

    const fn fun(&mut self, f: Function) -> Fun {
        match f {
            Function::StatusBits {
                mask,
                equal,
                then,
                otherwise,
            } => Fun::StatusBits {
                mask,
                equal,
                then: self.str(then),
                otherwise: self.str(otherwise),
            },
            Function::NonZero(set, clear) => Fun::NonZero(self.str(set), self.str(clear)),
            other => Fun::Plain(other),
        }
    }

    const fn row(&mut self, h: &HidInfo) -> Row {
        let target = match h.target {
            Target::Var(name) => Tgt::Var(self.str(name)),
            Target::Status => Tgt::Status,
            Target::Alarm => Tgt::Alarm,
            Target::Command(name) => Tgt::Command(self.str(name)),
        };
        let path = self.str(h.path);
        let default = self.opt_str(h.default);
        let conversion = match h.conversion {
            None => Conv::None,
            Some(Conversion::Format(f)) => Conv::Format(self.str(f)),
            Some(Conversion::Lookup(t)) => self.lookup(t),
            Some(Conversion::Fun(f)) => Conv::Fun(self.fun(f)),
        };
        Row {
            target,
            var_flags: h.var_flags,
            path,
            default,
            flags: h.flags,
            conversion,
        }
    }
}

/// A [`Pool`] seen through slices (its sizes erased).
#[derive(Debug, Clone, Copy)]
pub struct View {
    bytes: &'static [u8],
    rows: &'static [Row],
    pairs: &'static [Pair],
}

impl View {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn str(&self, s: Str) -> &'static str {
        let bytes = &self.bytes[s.off as usize..][..s.len as usize];
        // The pool holds whole `&str`s, each at the offset its `Str` gives.
        std::str::from_utf8(bytes).expect("a pool string is UTF-8")
    }

    fn opt_str(&self, s: Str) -> Option<&'static str> {
        (s != Str::NONE).then(|| self.str(s))
    }

    /// The rows as [`HidInfo`]s (equal to the table the pool was built from). Lookups with
    /// the same pairs share one leaked slice.
    pub fn materialise(&self) -> Vec<HidInfo> {
        let mut lookups: Vec<&'static [(i64, &'static str)]> = Vec::new();
        let mut lookup = |start: u32, len: u32| -> &'static [(i64, &'static str)] {
            let pairs: Vec<(i64, &'static str)> = self.pairs[start as usize..][..len as usize]
                .iter()
                .map(|p| (p.value, self.str(p.name)))
                .collect();
            if let Some(known) = lookups.iter().find(|l| **l == pairs.as_slice()) {
                return known;
            }
            let leaked: &'static [(i64, &'static str)] = Vec::leak(pairs);
            lookups.push(leaked);
            leaked
        };
        self.rows
            .iter()
            .map(|r| HidInfo {
                target: match r.target {
                    Tgt::Var(s) => Target::Var(self.str(s)),
                    Tgt::Status => Target::Status,
                    Tgt::Alarm => Target::Alarm,
                    Tgt::Command(s) => Target::Command(self.str(s)),
                },
                var_flags: r.var_flags,
                path: self.str(r.path),
                default: self.opt_str(r.default),
                flags: r.flags,
                conversion: match r.conversion {
                    Conv::None => None,
                    Conv::Format(s) => Some(Conversion::Format(self.str(s))),
                    Conv::Lookup { start, len } => Some(Conversion::Lookup(lookup(start, len))),
                    Conv::Fun(Fun::Plain(f)) => Some(Conversion::Fun(f)),
                    Conv::Fun(Fun::StatusBits {
                        mask,
                        equal,
                        then,
                        otherwise,
                    }) => Some(Conversion::Fun(Function::StatusBits {
                        mask,
                        equal,
                        then: self.str(then),
                        otherwise: self.str(otherwise),
                    })),
                    Conv::Fun(Fun::NonZero(set, clear)) => Some(Conversion::Fun(
                        Function::NonZero(self.str(set), self.str(clear)),
                    )),
                },
            })
            .collect()
    }
}

/// `pooled_table!(TABLE)` after a subdriver's `const TABLE: &[HidInfo]`: defines
/// `pub static POOL`, its [`Pool`].
#[macro_export]
macro_rules! pooled_table {
    ($table:ident) => {
        const POOL_SIZES: (usize, usize, usize) = $crate::pool::sizes($table);
        /// The table's rows without pointers (see [`crate::pool`]).
        pub static POOL: $crate::pool::Pool<{ POOL_SIZES.0 }, { POOL_SIZES.1 }, { POOL_SIZES.2 }> =
            $crate::pool::Pool::build($table);
    };
}
