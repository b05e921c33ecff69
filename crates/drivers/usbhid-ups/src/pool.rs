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
//! read-only file-backed pages (section `nut_hid_pools`, apart from the hot constants), paged in
//! only when read. [`View::materialise`] rebuilds the
//! rows as [`HidInfo`]s, once per process for the subdriver in use
//! ([`crate::Subdriver::table`]).

use crate::mapping::{Conversion, Function, HidFlags, HidInfo, Target, VarFlags};

/// A string of a pool: `len` bytes at `off` ([`Str::NONE`]: no string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Str {
    off: u16,
    len: u16,
}

impl Str {
    const NONE: Str = Str {
        off: 0,
        len: u16::MAX,
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

impl Fun {
    const EMPTY: Fun = Fun::Plain(Function::Date);
}

/// What [`Row::target`] is ([`Target`]'s variants; a variable's or command's name is
/// [`Row::name`]).
const TARGET_VAR: u8 = 0;
const TARGET_STATUS: u8 = 1;
const TARGET_ALARM: u8 = 2;
const TARGET_COMMAND: u8 = 3;

/// What [`Row::conversion`] is; [`Row::arg`] is its argument.
const CONV_NONE: u8 = 0;
/// `arg`: the format string.
const CONV_FORMAT: u8 = 1;
/// `arg`: `len` pairs from `off`.
const CONV_LOOKUP: u8 = 2;
/// `arg.off`: the index of the function.
const CONV_FUN: u8 = 3;

/// [`VarFlags::string`] of `None`.
const NO_STRING: u16 = u16::MAX;

/// One [`HidInfo`] row without pointers, in 26 bytes.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    name: Str,
    path: Str,
    default: Str,
    arg: Str,
    string: u16,
    target: u8,
    conversion: u8,
    rw: bool,
    flags: HidFlags,
}

impl Row {
    const EMPTY: Row = Row {
        name: Str::NONE,
        path: Str::NONE,
        default: Str::NONE,
        arg: Str::NONE,
        string: NO_STRING,
        target: TARGET_STATUS,
        conversion: CONV_NONE,
        rw: false,
        flags: HidFlags::NONE,
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

/// How much of each part a table's pool uses.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub rows: usize,
    pub bytes: usize,
    pub pairs: usize,
    pub funs: usize,
}

/// A subdriver's table without pointers: `R` rows, `B` bytes of strings, `L` lookup pairs,
/// `F` functions (the sizes come from [`sizes`]).
#[derive(Debug)]
pub struct Pool<const R: usize, const B: usize, const L: usize, const F: usize> {
    rows: [Row; R],
    bytes: [u8; B],
    pairs: [Pair; L],
    funs: [Fun; F],
}

/// The sizes of a table's [`Pool`].
pub const fn sizes(table: &[HidInfo]) -> Sizes {
    // The strings are stored while counting too: equal strings are stored once
    // (`Writer::str`), which compares them.
    fill(
        table,
        &mut [],
        &mut [0; u16::MAX as usize],
        &mut [],
        &mut [],
    )
}

impl<const R: usize, const B: usize, const L: usize, const F: usize> Pool<R, B, L, F> {
    /// The pool of `table` (evaluated at compile time; the sizes must be [`sizes`]`(table)`).
    pub const fn build(table: &[HidInfo]) -> Self {
        let mut pool = Pool {
            rows: [Row::EMPTY; R],
            bytes: [0; B],
            pairs: [Pair::EMPTY; L],
            funs: [Fun::EMPTY; F],
        };
        let used = fill(
            table,
            &mut pool.rows,
            &mut pool.bytes,
            &mut pool.pairs,
            &mut pool.funs,
        );
        assert!(
            used.rows == R && used.bytes == B && used.pairs == L && used.funs == F,
            "pool sizes differ from the table's"
        );
        pool
    }

    /// The pool without its sizes.
    pub fn view(&'static self) -> View {
        View {
            rows: &self.rows,
            bytes: &self.bytes,
            pairs: &self.pairs,
            funs: &self.funs,
        }
    }
}

/// Writes `table` into the pool's parts and returns how much it used. Parts too small (empty)
/// are not written: that counts the sizes.
const fn fill(
    table: &[HidInfo],
    rows: &mut [Row],
    bytes: &mut [u8],
    pairs: &mut [Pair],
    funs: &mut [Fun],
) -> Sizes {
    let mut w = Writer {
        bytes,
        pairs,
        funs,
        seen: [Str::NONE; SEEN],
        used: Sizes {
            rows: table.len(),
            bytes: 0,
            pairs: 0,
            funs: 0,
        },
    };
    let mut i = 0;
    while i < table.len() {
        let row = w.row(&table[i]);
        if i < rows.len() {
            rows[i] = row;
        }
        i += 1;
    }
    w.used
}

/// `n` as a `u16` (a pool is small; a larger one fails the build).
const fn small(n: usize) -> u16 {
    assert!(n < u16::MAX as usize, "pool part too large");
    n as u16
}

/// Appends strings, pairs and functions to a pool's parts (or only counts them when the parts
/// are empty).
struct Writer<'a> {
    bytes: &'a mut [u8],
    pairs: &'a mut [Pair],
    funs: &'a mut [Fun],
    /// The strings stored so far, by hash (open addressing).
    seen: [Str; SEEN],
    used: Sizes,
}

/// Slots of [`Writer::seen`] (a table has fewer distinct strings; a fuller one fails the
/// build).
const SEEN: usize = 4096;

impl Writer<'_> {
    /// The string's place in the pool: where an equal string already is, else appended.
    const fn str(&mut self, s: &str) -> Str {
        let b = s.as_bytes();
        // FNV-1a.
        let mut hash: u32 = 0x811c_9dc5;
        let mut j = 0;
        while j < b.len() {
            hash = (hash ^ b[j] as u32).wrapping_mul(0x0100_0193);
            j += 1;
        }
        let mut slot = hash as usize % SEEN;
        let mut probes = 0;
        while self.seen[slot].len != Str::NONE.len {
            let known = self.seen[slot];
            if known.len as usize == b.len() {
                let mut j = 0;
                while j < b.len() && self.bytes[known.off as usize + j] == b[j] {
                    j += 1;
                }
                if j == b.len() {
                    return known;
                }
            }
            slot = (slot + 1) % SEEN;
            probes += 1;
            assert!(probes < SEEN, "too many strings for a pool");
        }
        let off = self.used.bytes;
        if self.bytes.len() >= off + b.len() {
            let mut j = 0;
            while j < b.len() {
                self.bytes[off + j] = b[j];
                j += 1;
            }
        }
        self.used.bytes += b.len();
        small(self.used.bytes);
        let stored = Str {
            off: small(off),
            len: small(b.len()),
        };
        self.seen[slot] = stored;
        stored
    }

    const fn opt_str(&mut self, s: Option<&str>) -> Str {
        match s {
            Some(s) => self.str(s),
            None => Str::NONE,
        }
    }

    const fn lookup(&mut self, table: &[(i64, &str)]) -> Str {
        let start = self.used.pairs;
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
        self.used.pairs += table.len();
        Str {
            off: small(start),
            len: small(table.len()),
        }
    }

    const fn fun(&mut self, f: Function) -> Str {
        let fun = match f {
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
        };
        let index = self.used.funs;
        if index < self.funs.len() {
            self.funs[index] = fun;
        }
        self.used.funs += 1;
        Str {
            off: small(index),
            len: 1,
        }
    }

    const fn row(&mut self, h: &HidInfo) -> Row {
        let (target, name) = match h.target {
            Target::Var(name) => (TARGET_VAR, self.str(name)),
            Target::Status => (TARGET_STATUS, Str::NONE),
            Target::Alarm => (TARGET_ALARM, Str::NONE),
            Target::Command(name) => (TARGET_COMMAND, self.str(name)),
        };
        let path = self.str(h.path);
        let default = self.opt_str(h.default);
        let (conversion, arg) = match h.conversion {
            None => (CONV_NONE, Str::NONE),
            Some(Conversion::Format(f)) => (CONV_FORMAT, self.str(f)),
            Some(Conversion::Lookup(t)) => (CONV_LOOKUP, self.lookup(t)),
            Some(Conversion::Fun(f)) => (CONV_FUN, self.fun(f)),
        };
        Row {
            name,
            path,
            default,
            arg,
            string: match h.var_flags.string {
                Some(len) => small(len),
                None => NO_STRING,
            },
            target,
            conversion,
            rw: h.var_flags.rw,
            flags: h.flags,
        }
    }
}

/// A [`Pool`] seen through slices (its sizes erased).
#[derive(Debug, Clone, Copy)]
pub struct View {
    rows: &'static [Row],
    bytes: &'static [u8],
    pairs: &'static [Pair],
    funs: &'static [Fun],
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
        let mut lookup = |start: u16, len: u16| -> &'static [(i64, &'static str)] {
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
                    TARGET_VAR => Target::Var(self.str(r.name)),
                    TARGET_COMMAND => Target::Command(self.str(r.name)),
                    TARGET_ALARM => Target::Alarm,
                    _ => Target::Status,
                },
                var_flags: VarFlags {
                    rw: r.rw,
                    string: (r.string != NO_STRING).then_some(usize::from(r.string)),
                },
                path: self.str(r.path),
                default: self.opt_str(r.default),
                flags: r.flags,
                conversion: match r.conversion {
                    CONV_FORMAT => Some(Conversion::Format(self.str(r.arg))),
                    CONV_LOOKUP => Some(Conversion::Lookup(lookup(r.arg.off, r.arg.len))),
                    CONV_FUN => Some(Conversion::Fun(self.fun(self.funs[usize::from(r.arg.off)]))),
                    _ => None,
                },
            })
            .collect()
    }

    fn fun(&self, f: Fun) -> Function {
        match f {
            Fun::Plain(f) => f,
            Fun::StatusBits {
                mask,
                equal,
                then,
                otherwise,
            } => Function::StatusBits {
                mask,
                equal,
                then: self.str(then),
                otherwise: self.str(otherwise),
            },
            Fun::NonZero(set, clear) => Function::NonZero(self.str(set), self.str(clear)),
        }
    }
}

/// `pooled_table!(TABLE)` after a subdriver's `const TABLE: &[HidInfo]`: defines
/// `pub static POOL`, its [`Pool`].
#[macro_export]
macro_rules! pooled_table {
    ($table:ident) => {
        const POOL_SIZES: $crate::pool::Sizes = $crate::pool::sizes($table);
        /// The table's rows without pointers (see [`crate::pool`]).
        // In an output section of their own (next to, not inside, .rodata): the kernel maps
        // 64 KiB of cached file around each read fault, so pools mixed with the constants a
        // running driver reads were all resident; apart, only the chosen one's pages are
        // (usbhid-ups idle RSS: median 3,336 -> 3,252 kB). `link_section` is the only
        // unsafe-marked thing in this crate: a plain-data static, nothing the linker can break.
        #[allow(unsafe_code)]
        #[unsafe(link_section = "nut_hid_pools")]
        pub static POOL: $crate::pool::Pool<
            { POOL_SIZES.rows },
            { POOL_SIZES.bytes },
            { POOL_SIZES.pairs },
            { POOL_SIZES.funs },
        > = $crate::pool::Pool::build($table);
    };
}
