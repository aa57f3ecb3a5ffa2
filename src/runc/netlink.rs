//! runc's bootstrap message (shared/PROTOCOL.md section 2): a netlink header
//! and attributes, parsed into a [`Config`] that borrows from the message.
//! Pure and bounded: nothing is read outside the message, no length is
//! trusted before it is checked, every malformation has its own error.
#![cfg_attr(not(test), allow(dead_code))]

use crate::config::{ALL_NS_FLAGS, Config, MAX_NS_PATHS, NsPath, NsType};
use crate::fmt::{Arg, Out, fill, parse_dec, parse_int};

pub const INIT_MSG: u16 = 62000;
pub const NLMSG_ERROR: u16 = 2;
pub const HEADER_LEN: usize = 16;

pub const CLONE_FLAGS_ATTR: u16 = 27281;
pub const NS_PATHS_ATTR: u16 = 27282;
pub const UIDMAP_ATTR: u16 = 27283;
pub const GIDMAP_ATTR: u16 = 27284;
pub const SETGROUP_ATTR: u16 = 27285;
pub const OOMSCOREADJ_ATTR: u16 = 27286;
pub const ROOTLESS_EUID_ATTR: u16 = 27287;
pub const UIDMAPPATH_ATTR: u16 = 27288;
pub const GIDMAPPATH_ATTR: u16 = 27289;
/// 27290 in runc 1.2 and later; runc 1.1 used the same number for
/// [`MOUNTSOURCES_ATTR`].
pub const TIMENSOFFSET_ATTR: u16 = 27290;
pub const MOUNTSOURCES_ATTR: u16 = 27290;

/// Which runc writes the message. The two disagree on attribute 27290 and
/// on the handshake byte; shared/PROTOCOL.md says how they are told apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Generation {
    /// runc 1.1.x: 27290 is MOUNT_SOURCES.
    V1_1,
    /// runc 1.2 and later: 27290 is TIME_OFFSETS.
    V1_2,
}

/// The fixed buffer nsexec reads the message into.
pub const MAX_MESSAGE: usize = 96 * 1024;
/// The kernel's cap on uid_map and gid_map lines.
pub const MAX_MAP_LINES: usize = 340;
const PATH_MAX: usize = 4096;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParseError {
    /// nlmsg_len smaller than the header itself.
    ShortLength(u32),
    /// nlmsg_len larger than nsexec's buffer.
    TooLarge {
        len: u32,
        max: usize,
    },
    /// NLMSG_ERROR instead of a bootstrap message.
    ErrorMessage,
    WrongType(u16),
    /// nlmsg_len does not match the bytes given.
    LengthMismatch {
        len: u32,
        got: usize,
    },
    AttrTruncated {
        offset: usize,
    },
    AttrTooShort {
        offset: usize,
        len: u16,
    },
    AttrPastEnd {
        offset: usize,
        len: u16,
        end: usize,
    },
    UnknownAttr {
        offset: usize,
        ty: u16,
    },
    BadU32 {
        ty: u16,
        len: u16,
    },
    BadBool {
        ty: u16,
        len: u16,
    },
    BoolValue {
        ty: u16,
        value: u32,
    },
    StringNotTerminated {
        ty: u16,
    },
    UnknownCloneFlags(u32),
    /// NS_PATHS given but empty (runc: "ns paths are empty").
    NsPathsEmpty,
    NsPathNoColon {
        index: usize,
    },
    NsPathUnknownType {
        index: usize,
    },
    NsPathEmpty {
        index: usize,
    },
    NsPathTooLong {
        index: usize,
    },
    NsPathDuplicate(NsType),
    TooManyNsPaths,
    MapLine {
        ty: u16,
        line: usize,
    },
    MapTooManyLines {
        ty: u16,
    },
    OomScoreAdj,
    ToolPath {
        ty: u16,
    },
    TimeOffsetLine {
        line: usize,
    },
    MountSourceTooLong {
        index: usize,
    },
}

fn attr_name(ty: u16) -> &'static str {
    match ty {
        CLONE_FLAGS_ATTR => "CLONE_FLAGS",
        NS_PATHS_ATTR => "NS_PATHS",
        UIDMAP_ATTR => "UIDMAP",
        GIDMAP_ATTR => "GIDMAP",
        SETGROUP_ATTR => "SETGROUP",
        OOMSCOREADJ_ATTR => "OOM_SCORE_ADJ",
        ROOTLESS_EUID_ATTR => "ROOTLESS_EUID",
        UIDMAPPATH_ATTR => "UIDMAP_PATH",
        GIDMAPPATH_ATTR => "GIDMAP_PATH",
        TIMENSOFFSET_ATTR => "TIME_OFFSETS",
        _ => "unknown",
    }
}

impl ParseError {
    /// One line saying what is wrong with the message.
    pub fn describe(&self, o: &mut dyn Out) {
        use Arg::{Bytes, Dec};
        use ParseError::*;
        let name = |ty: u16| Bytes(attr_name(ty).as_bytes());
        let (template, args): (&str, [Arg<'_>; 3]) = match *self {
            ShortLength(len) => (
                "netlink message length {} is shorter than its 16-byte header",
                [Dec(len.into()), Dec(0), Dec(0)],
            ),
            TooLarge { len, max } => (
                "bootstrap message is {} bytes, larger than nsexec's {}-byte buffer",
                [Dec(len.into()), Dec(max as u64), Dec(0)],
            ),
            ErrorMessage => (
                "netlink message is NLMSG_ERROR, not a bootstrap message",
                [Dec(0); 3],
            ),
            WrongType(t) => (
                "invalid netlink message type {} (expected 62000)",
                [Dec(t.into()), Dec(0), Dec(0)],
            ),
            LengthMismatch { len, got } => (
                "netlink message length {} does not match the {} bytes given",
                [Dec(len.into()), Dec(got as u64), Dec(0)],
            ),
            AttrTruncated { offset } => (
                "attribute header at offset {} is cut off by the end of the message",
                [Dec(offset as u64), Dec(0), Dec(0)],
            ),
            AttrTooShort { offset, len } => (
                "attribute at offset {} has length {}, shorter than its 4-byte header",
                [Dec(offset as u64), Dec(len.into()), Dec(0)],
            ),
            AttrPastEnd { offset, len, end } => (
                "attribute at offset {} has length {}, past the end of the {}-byte message",
                [Dec(offset as u64), Dec(len.into()), Dec(end as u64)],
            ),
            UnknownAttr { offset, ty } => (
                "unknown netlink attribute type {} at offset {}",
                [Dec(ty.into()), Dec(offset as u64), Dec(0)],
            ),
            BadU32 { ty, len } => (
                "{} must be a 4-byte integer (attribute length 8), not length {}",
                [name(ty), Dec(len.into()), Dec(0)],
            ),
            BadBool { ty, len } => (
                "{} must be a bool (attribute length 8 or 5), not length {}",
                [name(ty), Dec(len.into()), Dec(0)],
            ),
            BoolValue { ty, value } => (
                "{} must be 0 or 1, not {}",
                [name(ty), Dec(value.into()), Dec(0)],
            ),
            StringNotTerminated { ty } => (
                "{} is not a NUL-terminated string",
                [name(ty), Dec(0), Dec(0)],
            ),
            UnknownCloneFlags(f) => (
                "CLONE_FLAGS has bits that are not namespaces: {}",
                [Arg::Hex(f), Dec(0), Dec(0)],
            ),
            NsPathsEmpty => ("ns paths are empty", [Dec(0); 3]),
            NsPathNoColon { index } => (
                "NS_PATHS entry {} has no ':' between type and path",
                [Dec(index as u64 + 1), Dec(0), Dec(0)],
            ),
            NsPathUnknownType { index } => (
                "NS_PATHS entry {} names an unknown namespace type",
                [Dec(index as u64 + 1), Dec(0), Dec(0)],
            ),
            NsPathEmpty { index } => (
                "NS_PATHS entry {} has an empty path",
                [Dec(index as u64 + 1), Dec(0), Dec(0)],
            ),
            NsPathTooLong { index } => (
                "NS_PATHS entry {} has a path longer than PATH_MAX",
                [Dec(index as u64 + 1), Dec(0), Dec(0)],
            ),
            NsPathDuplicate(t) => (
                "NS_PATHS names the {} namespace twice",
                [Bytes(t.name().as_bytes()), Dec(0), Dec(0)],
            ),
            TooManyNsPaths => (
                "NS_PATHS has more than {} entries",
                [Dec(MAX_NS_PATHS as u64), Dec(0), Dec(0)],
            ),
            MapLine { ty, line } => (
                "{} line {} is not 'inside outside count' (three decimal ids, count > 0)",
                [name(ty), Dec(line as u64 + 1), Dec(0)],
            ),
            MapTooManyLines { ty } => (
                "{} has more than 340 lines, the kernel's limit",
                [name(ty), Dec(0), Dec(0)],
            ),
            OomScoreAdj => (
                "OOM_SCORE_ADJ is not a decimal between -1000 and 1000",
                [Dec(0); 3],
            ),
            ToolPath { ty } => (
                "{} is not an absolute path shorter than PATH_MAX",
                [name(ty), Dec(0), Dec(0)],
            ),
            MountSourceTooLong { index } => (
                "MOUNT_SOURCES entry {} is longer than PATH_MAX",
                [Dec(index as u64 + 1), Dec(0), Dec(0)],
            ),
            TimeOffsetLine { line } => (
                "TIME_OFFSETS line {} is not 'monotonic|boottime SECS NSECS'",
                [Dec(line as u64 + 1), Dec(0), Dec(0)],
            ),
        };
        fill(o, template, &args);
    }
}

fn ne_u16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at.checked_add(2)?)? {
        [a, b] => Some(u16::from_ne_bytes([*a, *b])),
        _ => None,
    }
}

fn ne_u32(b: &[u8], at: usize) -> Option<u32> {
    match b.get(at..at.checked_add(4)?)? {
        [a, b, c, d] => Some(u32::from_ne_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Checks the header alone and returns the whole message's length, so the
/// caller knows how much more to read.
pub fn message_length(header: &[u8; HEADER_LEN]) -> Result<usize, ParseError> {
    let len = ne_u32(header, 0).unwrap_or(0);
    let ty = ne_u16(header, 4).unwrap_or(0);
    if ty == NLMSG_ERROR {
        return Err(ParseError::ErrorMessage);
    }
    if ty != INIT_MSG {
        return Err(ParseError::WrongType(ty));
    }
    if (len as usize) < HEADER_LEN {
        return Err(ParseError::ShortLength(len));
    }
    if len as usize > MAX_MESSAGE {
        return Err(ParseError::TooLarge {
            len,
            max: MAX_MESSAGE,
        });
    }
    Ok(len as usize)
}

/// Parses a whole message (header included) as runc 1.2 and later write it.
pub fn parse(msg: &[u8]) -> Result<Config<'_>, ParseError> {
    parse_as(msg, Generation::V1_2)
}

/// Parses a whole message (header included) from the caller generation `generation`.
pub fn parse_as(msg: &[u8], generation: Generation) -> Result<Config<'_>, ParseError> {
    let header: &[u8; HEADER_LEN] = msg
        .first_chunk()
        .ok_or(ParseError::AttrTruncated { offset: 0 })?;
    let len = message_length(header)?;
    if len != msg.len() {
        return Err(ParseError::LengthMismatch {
            len: len as u32,
            got: msg.len(),
        });
    }
    let mut cfg = Config::default();
    let mut offset = HEADER_LEN;
    while offset < msg.len() {
        let (nla_len, ty) = match (ne_u16(msg, offset), ne_u16(msg, offset + 2)) {
            (Some(l), Some(t)) if offset + 4 <= msg.len() => (l, t),
            _ => return Err(ParseError::AttrTruncated { offset }),
        };
        if (nla_len as usize) < 4 {
            return Err(ParseError::AttrTooShort {
                offset,
                len: nla_len,
            });
        }
        let end = offset + nla_len as usize;
        let value = msg.get(offset + 4..end).ok_or(ParseError::AttrPastEnd {
            offset,
            len: nla_len,
            end: msg.len(),
        })?;
        apply(&mut cfg, generation, ty, nla_len, value, offset)?;
        // The next attribute starts at the next multiple of 4; the last one's
        // padding may be missing.
        offset = (end + 3) & !3;
    }
    Ok(cfg)
}

fn apply<'a>(
    cfg: &mut Config<'a>,
    generation: Generation,
    ty: u16,
    nla_len: u16,
    value: &'a [u8],
    offset: usize,
) -> Result<(), ParseError> {
    match ty {
        CLONE_FLAGS_ATTR => {
            let f = u32_value(ty, nla_len, value)?;
            if f & !ALL_NS_FLAGS != 0 {
                return Err(ParseError::UnknownCloneFlags(f & !ALL_NS_FLAGS));
            }
            cfg.clone_flags = f;
        }
        NS_PATHS_ATTR => ns_paths(cfg, string(ty, value)?)?,
        UIDMAP_ATTR => cfg.uid_map = id_map(ty, string(ty, value)?)?,
        GIDMAP_ATTR => cfg.gid_map = id_map(ty, string(ty, value)?)?,
        SETGROUP_ATTR => cfg.setgroups = bool_value(ty, nla_len, value)?,
        ROOTLESS_EUID_ATTR => cfg.rootless_euid = bool_value(ty, nla_len, value)?,
        OOMSCOREADJ_ATTR => {
            let s = string(ty, value)?;
            parse_int(s, -1000, 1000).ok_or(ParseError::OomScoreAdj)?;
            cfg.oom_score_adj = Some(s);
        }
        UIDMAPPATH_ATTR => cfg.uidmap_path = tool_path(ty, string(ty, value)?)?,
        GIDMAPPATH_ATTR => cfg.gidmap_path = tool_path(ty, string(ty, value)?)?,
        MOUNTSOURCES_ATTR if generation == Generation::V1_1 => {
            cfg.mount_sources = mount_sources(value)?
        }
        TIMENSOFFSET_ATTR => cfg.time_offsets = time_offsets(string(ty, value)?)?,
        _ => return Err(ParseError::UnknownAttr { offset, ty }),
    }
    Ok(())
}

fn u32_value(ty: u16, nla_len: u16, value: &[u8]) -> Result<u32, ParseError> {
    match value {
        [a, b, c, d] if nla_len == 8 => Ok(u32::from_ne_bytes([*a, *b, *c, *d])),
        _ => Err(ParseError::BadU32 { ty, len: nla_len }),
    }
}

/// runc sends a native u32 (older versions one byte). Reading the whole u32
/// matters on big-endian hosts, where 1 is `00 00 00 01`.
fn bool_value(ty: u16, nla_len: u16, value: &[u8]) -> Result<bool, ParseError> {
    let v = match value {
        [a, b, c, d] => u32::from_ne_bytes([*a, *b, *c, *d]),
        [a] => u32::from(*a),
        _ => return Err(ParseError::BadBool { ty, len: nla_len }),
    };
    match v {
        0 => Ok(false),
        1 => Ok(true),
        value => Err(ParseError::BoolValue { ty, value }),
    }
}

/// The bytes before the first NUL; there must be one.
fn string(ty: u16, value: &[u8]) -> Result<&[u8], ParseError> {
    let nul = value
        .iter()
        .position(|&c| c == 0)
        .ok_or(ParseError::StringNotTerminated { ty })?;
    value
        .get(..nul)
        .ok_or(ParseError::StringNotTerminated { ty })
}

fn ns_paths<'a>(cfg: &mut Config<'a>, s: &'a [u8]) -> Result<(), ParseError> {
    cfg.ns_paths.clear();
    if s.is_empty() {
        return Err(ParseError::NsPathsEmpty);
    }
    for (index, item) in s.split(|&c| c == b',').enumerate() {
        let colon = item
            .iter()
            .position(|&c| c == b':')
            .ok_or(ParseError::NsPathNoColon { index })?;
        let (name, path) = (
            item.get(..colon).unwrap_or(&[]),
            item.get(colon + 1..).unwrap_or(&[]),
        );
        let ns = NsType::from_name(name).ok_or(ParseError::NsPathUnknownType { index })?;
        if path.is_empty() {
            return Err(ParseError::NsPathEmpty { index });
        }
        if path.len() >= PATH_MAX {
            return Err(ParseError::NsPathTooLong { index });
        }
        if cfg.ns_paths.iter().any(|p| p.ns == ns) {
            return Err(ParseError::NsPathDuplicate(ns));
        }
        cfg.ns_paths
            .push(NsPath { ns, path })
            .map_err(|_| ParseError::TooManyNsPaths)?;
    }
    Ok(())
}

fn lines(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = s.strip_suffix(b"\n").unwrap_or(s);
    body.split(|&c| c == b'\n')
}

fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&c| c == b' ' || c == b'\t')
        .filter(|f| !f.is_empty())
}

/// `inside outside count` lines; empty means not given.
fn id_map(ty: u16, s: &[u8]) -> Result<Option<&[u8]>, ParseError> {
    if s.is_empty() {
        return Ok(None);
    }
    for (line, text) in lines(s).enumerate() {
        if line >= MAX_MAP_LINES {
            return Err(ParseError::MapTooManyLines { ty });
        }
        let mut f = fields(text).map(|x| parse_dec(x, u64::from(u32::MAX)));
        match (f.next(), f.next(), f.next(), f.next()) {
            (Some(Some(_)), Some(Some(_)), Some(Some(count)), None) if count > 0 => {}
            _ => return Err(ParseError::MapLine { ty, line }),
        }
    }
    Ok(Some(s))
}

fn tool_path(ty: u16, s: &[u8]) -> Result<Option<&[u8]>, ParseError> {
    if s.is_empty() {
        return Ok(None);
    }
    if s.first() != Some(&b'/') || s.len() >= PATH_MAX {
        return Err(ParseError::ToolPath { ty });
    }
    Ok(Some(s))
}

/// runc 1.1's list: each source NUL-terminated, an empty one for a mount
/// that is not a bind mount, and the Bytemsg's own NUL at the end.
fn mount_sources(value: &[u8]) -> Result<Option<&[u8]>, ParseError> {
    for (index, source) in value.split(|&c| c == 0).enumerate() {
        if source.len() >= PATH_MAX {
            return Err(ParseError::MountSourceTooLong { index });
        }
    }
    Ok(Some(value))
}

/// The non-empty entries of a MOUNT_SOURCES list, in order.
pub fn bind_sources(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    list.split(|&c| c == 0).filter(|s| !s.is_empty())
}

/// `_LIBCONTAINER_MOUNT_FDS` as runc 1.1's Go side writes it (a JSON array
/// of descriptor numbers, -1 for a mount that gets none): the numbers to
/// place the bind sources' descriptors on, in order. `None` when malformed.
pub fn mount_fds(s: &[u8]) -> Option<impl Iterator<Item = i32> + Clone + '_> {
    let inner = s.strip_prefix(b"[")?.strip_suffix(b"]")?;
    let items = move || {
        inner
            .split(|&c| c == b',')
            .filter(move |_| !inner.is_empty())
            .map(|x| parse_int(x.trim_ascii(), -1, i64::from(i32::MAX)))
    };
    if items().any(|v| v.is_none()) {
        return None;
    }
    Some(items().flatten().filter(|&fd| fd >= 0).map(|fd| fd as i32))
}

fn time_offsets(s: &[u8]) -> Result<Option<&[u8]>, ParseError> {
    if s.is_empty() {
        return Ok(None);
    }
    for (line, text) in lines(s).enumerate() {
        let mut f = fields(text);
        let ok = matches!(f.next(), Some(b"monotonic" | b"boottime"))
            && f.next()
                .and_then(|x| parse_int(x, i64::MIN + 1, i64::MAX))
                .is_some()
            && f.next().and_then(|x| parse_dec(x, 999_999_999)).is_some()
            && f.next().is_none();
        if !ok {
            return Err(ParseError::TimeOffsetLine { line });
        }
    }
    Ok(Some(s))
}

#[cfg(test)]
mod tests;
