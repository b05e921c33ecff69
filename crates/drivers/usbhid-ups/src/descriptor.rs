//! HID report-descriptor parser, with the field model NUT 2.8.0's usbhid-ups builds.
//!
//! The parser walks the descriptor item by item and emits one [`Field`] per main item
//! (Input/Output/Feature) whose pending usage is non-zero; every field advances the bit offset of
//! its (report id, type) pair. Its rules are those of NUT, deliberately, because the HID paths,
//! offsets and values users see (and the mapping tables match) depend on them:
//!
//! * Usages form a stack per main item; each emitted field (or opened collection) takes the
//!   first pending usage and shifts the rest. With Report Count > 1 and fewer usages than
//!   fields, the surplus fields have usage 0: they take report space but are not objects
//!   ("continuations"). Local state is cleared after each collection boundary and after each
//!   main item's last field.
//! * A 4-byte Usage item carries its own page; shorter ones take the current Usage Page.
//! * Collections push their usage onto the path; a collection type >= 0x80 (vendor defined)
//!   additionally pushes an index node `0x00ff00nn` (printed `[n]`).
//! * Logical/Physical Minimum/Maximum are sign-extended from their item size. When Logical
//!   Maximum comes out below Logical Minimum (firmware that encoded e.g. 255 in one byte), it
//!   is re-read as unsigned ([`ParseWarning::LogMaxBelowLogMin`]).
//! * Unit Exponent is a 4-bit two's-complement nibble (values 8..15 mean -8..-1).
//! * Push/Pop, Usage Minimum/Maximum, designators and strings are ignored, as NUT does; long
//!   items are skipped.
//! * Report id, report size, report count and bit offsets are 8-bit quantities in NUT: offsets
//!   wrap at 256 bits. This is reproduced so that long vendor reports decode exactly as
//!   Debian's driver decodes them.
//!
//! Limits (NUT's array sizes, enforced here without its out-of-bounds writes): path depth 10,
//! 50 pending usages, 500 fields, 6144 descriptor bytes are parsed.

/// Depth limit of a HID path.
pub const PATH_SIZE: usize = 10;
/// Pending-usage stack size.
pub const USAGE_TAB_SIZE: usize = 50;
/// Maximum number of fields (objects) kept.
pub const MAX_FIELDS: usize = 500;
/// Maximum descriptor size parsed.
pub const MAX_DESCRIPTOR: usize = 6144;

/// A usage: page in the high 16 bits, id in the low 16 bits (NUT's `HIDNode_t`).
pub type Usage = u32;

/// The kind of a main item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReportType {
    Input,
    Output,
    Feature,
}

impl ReportType {
    /// The name NUT prints (`Input`, `Output`, `Feature`).
    pub fn name(self) -> &'static str {
        match self {
            ReportType::Input => "Input",
            ReportType::Output => "Output",
            ReportType::Feature => "Feature",
        }
    }

    /// The value of the GET/SET_REPORT request's high byte (1 input, 2 output, 3 feature).
    pub fn request_code(self) -> u8 {
        match self {
            ReportType::Input => 1,
            ReportType::Output => 2,
            ReportType::Feature => 3,
        }
    }

    fn index(self) -> usize {
        match self {
            ReportType::Input => 0,
            ReportType::Output => 1,
            ReportType::Feature => 2,
        }
    }
}

/// One report field as NUT sees it (its `HIDData_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The usage path from the top-level collection down to the field's own usage.
    pub path: Vec<Usage>,
    pub report_id: u8,
    pub kind: ReportType,
    /// Bit offset within the report, not counting the report-id byte (8-bit, wraps as in NUT).
    pub offset: u8,
    /// Size in bits.
    pub size: u8,
    /// The main item's data byte (bit 0 = constant, bit 1 = variable, …).
    pub attribute: u8,
    pub unit: u32,
    pub unit_exp: i8,
    pub logical_min: i64,
    pub logical_max: i64,
    pub physical_min: i64,
    pub physical_max: i64,
    pub has_physical_min: bool,
    pub has_physical_max: bool,
}

impl Field {
    /// The field's own usage (last path node), 0 for an empty path.
    pub fn usage(&self) -> Usage {
        self.path.last().copied().unwrap_or(0)
    }

    /// True when the main item is marked Constant.
    pub fn is_constant(&self) -> bool {
        self.attribute & 0x01 != 0
    }
}

/// Something odd the parser noticed and worked around (NUT logs these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseWarning {
    /// Logical Maximum read as signed was below Logical Minimum; it was re-read as unsigned.
    LogMaxBelowLogMin {
        report_id: u8,
        signed: i64,
        unsigned: u32,
    },
    /// The path grew beyond [`PATH_SIZE`]; deeper collections were flattened.
    PathTooDeep,
    /// More than [`USAGE_TAB_SIZE`] usages were pending; the extra ones were dropped.
    TooManyUsages,
    /// More than [`MAX_FIELDS`] fields; the rest were not parsed.
    TooManyFields,
    /// The descriptor is longer than [`MAX_DESCRIPTOR`]; the tail was not parsed.
    TooLong,
    /// The last item was cut short; it was ignored.
    Truncated { at: usize },
}

/// A parsed report descriptor: its fields in descriptor order and each report's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportDescriptor {
    pub fields: Vec<Field>,
    /// Bytes of payload (without the id byte) per report id, over all report types (NUT's
    /// `replen`: one buffer per id).
    pub report_len: [usize; 256],
    pub warnings: Vec<ParseWarning>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DescriptorError {
    #[error("the report descriptor declares no data fields")]
    NoFields,
}

#[derive(Default, Clone)]
struct Globals {
    page: u16,
    report_id: u8,
    size: u8,
    count: u8,
    unit: u32,
    unit_exp: i8,
    logical_min: i64,
    logical_max: i64,
    physical_min: i64,
    physical_max: i64,
    has_physical_min: bool,
    has_physical_max: bool,
}

fn sign_extend(value: u32, bytes: usize) -> i64 {
    match bytes {
        1 => i64::from(value as u8 as i8),
        2 => i64::from(value as u16 as i16),
        4 => i64::from(value as i32),
        _ => i64::from(value),
    }
}

impl ReportDescriptor {
    /// Parses a report descriptor. Never panics; odd input gives warnings, and only a
    /// descriptor without a single data field is an error (NUT refuses it too).
    pub fn parse(bytes: &[u8]) -> Result<ReportDescriptor, DescriptorError> {
        let mut warnings = Vec::new();
        let bytes = if bytes.len() > MAX_DESCRIPTOR {
            warnings.push(ParseWarning::TooLong);
            &bytes[..MAX_DESCRIPTOR]
        } else {
            bytes
        };
        let mut g = Globals::default();
        let mut usages: Vec<Usage> = Vec::new();
        let mut path: Vec<Usage> = Vec::new();
        // Extra depth beyond PATH_SIZE, tracked so End Collection stays balanced.
        let mut overflow_depth = 0usize;
        // Offsets per (report id, type), 8-bit like NUT's.
        let mut offsets = vec![[0u8; 3]; 256];
        let mut fields = Vec::new();
        let mut report_len = [0usize; 256];
        let mut pos = 0usize;

        fn take_usage(usages: &mut Vec<Usage>) -> Usage {
            if usages.is_empty() {
                0
            } else {
                usages.remove(0)
            }
        }

        while pos < bytes.len() {
            let prefix = bytes[pos];
            let size = [0usize, 1, 2, 4][usize::from(prefix & 0x03)];
            if pos + 1 + size > bytes.len() {
                warnings.push(ParseWarning::Truncated { at: pos });
                break;
            }
            let mut value = 0u32;
            for (i, b) in bytes[pos + 1..pos + 1 + size].iter().enumerate() {
                value |= u32::from(*b) << (8 * i);
            }
            pos += 1 + size;
            let tag = prefix & 0xfc;
            match tag {
                0xfc => {
                    // Long item: data size in the first value byte.
                    pos = pos.saturating_add(usize::from(value as u8));
                }
                0x04 => g.page = value as u16,
                0x08 => {
                    let usage = if size > 2 {
                        value
                    } else {
                        (u32::from(g.page) << 16) | (value & 0xffff)
                    };
                    if usages.len() < USAGE_TAB_SIZE {
                        usages.push(usage);
                    } else if !warnings.contains(&ParseWarning::TooManyUsages) {
                        warnings.push(ParseWarning::TooManyUsages);
                    }
                }
                0xa0 => {
                    let usage = take_usage(&mut usages);
                    for node in std::iter::once(usage)
                        .chain((value >= 0x80).then_some(0x00ff_0000 | (value & 0x7f)))
                    {
                        if path.len() < PATH_SIZE - 1 {
                            path.push(node);
                        } else {
                            if !warnings.contains(&ParseWarning::PathTooDeep) {
                                warnings.push(ParseWarning::PathTooDeep);
                            }
                            overflow_depth += 1;
                        }
                    }
                    usages.clear();
                }
                0xc0 => {
                    if overflow_depth > 0 {
                        overflow_depth -= 1;
                    } else {
                        // Removing an index node removes its collection's usage too.
                        if path.pop().is_some_and(|n| n & 0xffff_0000 == 0x00ff_0000) {
                            path.pop();
                        }
                    }
                    usages.clear();
                }
                0x80 | 0x90 | 0xb0 => {
                    let kind = match tag {
                        0x80 => ReportType::Input,
                        0x90 => ReportType::Output,
                        _ => ReportType::Feature,
                    };
                    // NUT processes Report Count fields of this item with an 8-bit counter
                    // that is decremented after the first field: a count of 0 wraps and gives
                    // 256 fields.
                    let count = if g.count == 0 {
                        256
                    } else {
                        usize::from(g.count)
                    };
                    for _ in 0..count {
                        let usage = take_usage(&mut usages);
                        let slot = &mut offsets[usize::from(g.report_id)][kind.index()];
                        let offset = *slot;
                        *slot = slot.wrapping_add(g.size);
                        // The report length counts continuations too.
                        let end = (usize::from(offset) + usize::from(g.size)).div_ceil(8);
                        let len = &mut report_len[usize::from(g.report_id)];
                        *len = (*len).max(end);
                        if usage == 0 {
                            continue;
                        }
                        if fields.len() >= MAX_FIELDS {
                            if !warnings.contains(&ParseWarning::TooManyFields) {
                                warnings.push(ParseWarning::TooManyFields);
                            }
                            continue;
                        }
                        let mut field_path = path.clone();
                        field_path.push(usage);
                        fields.push(Field {
                            path: field_path,
                            report_id: g.report_id,
                            kind,
                            offset,
                            size: g.size,
                            attribute: value as u8,
                            unit: g.unit,
                            unit_exp: g.unit_exp,
                            logical_min: g.logical_min,
                            logical_max: g.logical_max,
                            physical_min: g.physical_min,
                            physical_max: g.physical_max,
                            has_physical_min: g.has_physical_min,
                            has_physical_max: g.has_physical_max,
                        });
                    }
                    usages.clear();
                }
                0x84 => g.report_id = value as u8,
                0x74 => g.size = value as u8,
                0x94 => g.count = value as u8,
                0x54 => {
                    let e = value as u8 as i8;
                    g.unit_exp = if e > 7 { e | -16 } else { e };
                }
                0x64 => g.unit = value,
                0x14 => g.logical_min = sign_extend(value, size),
                0x24 => {
                    g.logical_max = sign_extend(value, size);
                    if g.logical_max < g.logical_min {
                        warnings.push(ParseWarning::LogMaxBelowLogMin {
                            report_id: g.report_id,
                            signed: g.logical_max,
                            unsigned: value,
                        });
                        g.logical_max = i64::from(value);
                    }
                }
                0x34 => {
                    g.physical_min = sign_extend(value, size);
                    g.has_physical_min = true;
                }
                0x44 => {
                    g.physical_max = sign_extend(value, size);
                    g.has_physical_max = true;
                }
                _ => {}
            }
        }
        if fields.is_empty() {
            return Err(DescriptorError::NoFields);
        }
        Ok(ReportDescriptor {
            fields,
            report_len,
            warnings,
        })
    }

    /// The first field with this path and type (NUT's `FindObject_with_Path`).
    pub fn find(&self, path: &[Usage], kind: ReportType) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.kind == kind && f.path == path)
    }

    /// Mutable access for subdriver descriptor fixes.
    pub fn find_mut(&mut self, path: &[Usage], kind: ReportType) -> Option<&mut Field> {
        self.fields
            .iter_mut()
            .find(|f| f.kind == kind && f.path == path)
    }

    /// The fields of one report id and type, in descriptor order.
    pub fn report_fields(&self, report_id: u8, kind: ReportType) -> impl Iterator<Item = &Field> {
        self.fields
            .iter()
            .filter(move |f| f.report_id == report_id && f.kind == kind)
    }

    /// The buffer length of a report including its id byte (what NUT asks GET_REPORT for).
    pub fn buffer_len(&self, report_id: u8) -> usize {
        self.report_len[usize::from(report_id)] + 1
    }
}
