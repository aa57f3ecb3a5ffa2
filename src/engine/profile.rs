//! Reading an OCI seccomp profile (the `linux.seccomp` object of a runtime
//! config) to merge nsexec's calls into it: a bounded, allocation-free JSON
//! reader that finds what `--merge` needs and nothing more. Pure, so it is
//! unit-tested and fuzzed on the host.
//!
//! What it learns: whether the default action already allows everything,
//! which of nsexec's names a rule allows unconditionally (no `args`,
//! `includes` or `excludes`), which a rule with any other action names (a
//! conflict), and where a new rule can be written into the text.
#![cfg_attr(not(test), allow(dead_code))]

use crate::fmt::Out;

/// The largest profile `--merge` reads.
pub const MAX_PROFILE: usize = 256 * 1024;
/// Nesting deeper than this is refused rather than followed.
const MAX_DEPTH: usize = 32;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProfileError {
    /// Not JSON at this byte offset.
    Syntax(usize),
    TooDeep(usize),
    /// JSON, but not a profile nsexec can represent: what is wrong, where.
    Shape(&'static str, usize),
    /// A member that must appear once appears twice.
    Duplicate(&'static str, usize),
    /// A rule whose action is not an allow names one of nsexec's calls.
    Conflict {
        name: usize,
        action: (usize, usize),
    },
}

impl ProfileError {
    /// One line; `ours` and `file` give the names and text back.
    pub fn describe(&self, o: &mut dyn Out, ours: &[&str], file: &[u8]) {
        match *self {
            ProfileError::Syntax(at) => {
                o.str("not JSON at byte ");
                o.dec(at as u64);
            }
            ProfileError::TooDeep(at) => {
                o.str("nested more than 32 deep at byte ");
                o.dec(at as u64);
            }
            ProfileError::Shape(what, at) => {
                o.str(what);
                o.str(" at byte ");
                o.dec(at as u64);
            }
            ProfileError::Duplicate(key, at) => {
                o.str("\"");
                o.str(key);
                o.str("\" given twice, at byte ");
                o.dec(at as u64);
            }
            ProfileError::Conflict { name, action } => {
                o.str("the profile gives ");
                o.put(file.get(action.0..action.1).unwrap_or(b"?"));
                o.str(" to ");
                o.str(ours.get(name).copied().unwrap_or("?"));
                o.str(", which nsexec needs");
            }
        }
    }
}

/// Where and how to write the rule that allows the missing names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Plan {
    /// Bit i set: `ours[i]` must be added.
    pub add: u64,
    /// Byte offset the new text goes before.
    pub insert_at: usize,
    /// The profile has a `syscalls` array (the rule goes at its end);
    /// otherwise the member is added before the top object's `}`.
    pub has_syscalls: bool,
    /// What precedes the insertion point holds an element or member
    /// already, so the new text starts with a comma.
    pub comma: bool,
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

/// A string's content span, and whether it has escapes.
#[derive(Clone, Copy)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Result<(), ProfileError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(ProfileError::Syntax(self.i))
        }
    }

    fn string(&mut self) -> Result<Str, ProfileError> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            match self.b.get(self.i).copied() {
                None => return Err(ProfileError::Syntax(self.i)),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    self.i += 1;
                    match self.b.get(self.i) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {}
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return Err(ProfileError::Syntax(self.i));
                            }
                            self.i += 4;
                        }
                        _ => return Err(ProfileError::Syntax(self.i)),
                    }
                }
                Some(c) if c < 0x20 => return Err(ProfileError::Syntax(self.i)),
                Some(_) => {}
            }
            self.i += 1;
        }
        let end = self.i;
        self.i += 1;
        Ok(Str {
            start,
            end,
            escaped,
        })
    }

    fn number(&mut self) -> Result<(), ProfileError> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let s = r.i;
            while r.b.get(r.i).is_some_and(u8::is_ascii_digit) {
                r.i += 1;
            }
            r.i > s
        };
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let int_start = self.i;
        if !digits(self) || (self.b.get(int_start) == Some(&b'0') && self.i - int_start > 1) {
            return Err(ProfileError::Syntax(start));
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !digits(self) {
                return Err(ProfileError::Syntax(self.i));
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !digits(self) {
                return Err(ProfileError::Syntax(self.i));
            }
        }
        Ok(())
    }

    /// Any value, checked and skipped. Returns whether it was a non-empty
    /// array or object (what makes a rule conditional).
    fn skip(&mut self, depth: usize) -> Result<bool, ProfileError> {
        if depth > MAX_DEPTH {
            return Err(ProfileError::TooDeep(self.i));
        }
        match self.peek() {
            Some(b'"') => self.string().map(|_| false),
            Some(b'{') => {
                self.i += 1;
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(false);
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip(depth + 1)?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(true);
                        }
                        _ => return Err(ProfileError::Syntax(self.i)),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(false);
                }
                loop {
                    self.skip(depth + 1)?;
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(true);
                        }
                        _ => return Err(ProfileError::Syntax(self.i)),
                    }
                }
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(|()| false),
            _ => Err(ProfileError::Syntax(self.i)),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<bool, ProfileError> {
        if self.b.get(self.i..self.i + word.len()) == Some(word) {
            self.i += word.len();
            Ok(false)
        } else {
            Err(ProfileError::Syntax(self.i))
        }
    }

    fn text(&self, s: Str) -> &'a [u8] {
        self.b.get(s.start..s.end).unwrap_or(&[])
    }
}

/// Whether a string equals `want`, escapes decoded (only the ones a
/// syscall or action name could contain need to match).
fn string_is(r: &Reader<'_>, s: Str, want: &str) -> bool {
    let raw = r.text(s);
    if !s.escaped {
        return raw == want.as_bytes();
    }
    let mut w = want.bytes();
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        let decoded = if c == b'\\' {
            i += 1;
            match raw.get(i) {
                Some(b'u') => {
                    let hex = raw.get(i + 1..i + 5).unwrap_or(&[]);
                    i += 4;
                    hex.iter().try_fold(0u32, |acc, &h| {
                        (h as char).to_digit(16).map(|d| acc * 16 + d)
                    })
                }
                Some(&e) => Some(u32::from(match e {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'b' => 8,
                    b'f' => 12,
                    other => other,
                })),
                None => None,
            }
        } else {
            Some(u32::from(c))
        };
        if decoded != w.next().map(u32::from) {
            return false;
        }
        i += 1;
    }
    w.next().is_none()
}

fn is_allow(r: &Reader<'_>, action: Str) -> bool {
    string_is(r, action, "SCMP_ACT_ALLOW") || string_is(r, action, "SCMP_ACT_LOG")
}

/// Reads `file` and plans the merge of `ours` (at most 64 names) into it.
pub fn plan(file: &[u8], ours: &[&str]) -> Result<Plan, ProfileError> {
    if ours.len() > 64 {
        return Err(ProfileError::Shape("too many names to merge", 0));
    }
    let mut r = Reader { b: file, i: 0 };
    if r.peek() != Some(b'{') {
        return Err(ProfileError::Shape("the profile is not a JSON object", r.i));
    }
    r.i += 1;
    let mut allowed = 0u64;
    let mut allow_all = false;
    let (mut seen_default, mut syscalls_end) = (false, None);
    let mut members = false;
    let mut rules = false;
    if r.peek() != Some(b'}') {
        loop {
            let key = r.string()?;
            r.eat(b':')?;
            if string_is(&r, key, "defaultAction") {
                if seen_default {
                    return Err(ProfileError::Duplicate("defaultAction", key.start));
                }
                seen_default = true;
                if r.peek() != Some(b'"') {
                    return Err(ProfileError::Shape("defaultAction is not a string", r.i));
                }
                let action = r.string()?;
                allow_all = is_allow(&r, action);
            } else if string_is(&r, key, "syscalls") {
                if syscalls_end.is_some() {
                    return Err(ProfileError::Duplicate("syscalls", key.start));
                }
                let (end, any) = read_rules(&mut r, ours, &mut allowed)?;
                syscalls_end = Some(end);
                rules = any;
            } else {
                r.skip(1)?;
            }
            members = true;
            match r.peek() {
                Some(b',') => r.i += 1,
                Some(b'}') => break,
                _ => return Err(ProfileError::Syntax(r.i)),
            }
        }
    }
    let close = r.i;
    r.i += 1;
    if r.peek().is_some() {
        return Err(ProfileError::Syntax(r.i));
    }
    if !seen_default {
        return Err(ProfileError::Shape(
            "the profile has no defaultAction",
            close,
        ));
    }
    let all = if ours.len() == 64 {
        u64::MAX
    } else {
        (1u64 << ours.len()) - 1
    };
    let add = if allow_all { 0 } else { all & !allowed };
    Ok(match syscalls_end {
        Some(end) => Plan {
            add,
            insert_at: end,
            has_syscalls: true,
            comma: rules,
        },
        None => Plan {
            add,
            insert_at: close,
            has_syscalls: false,
            comma: members,
        },
    })
}

/// The `syscalls` array: returns the offset of its `]` and whether it has
/// any rule; marks in `allowed` the names some rule allows unconditionally.
fn read_rules(
    r: &mut Reader<'_>,
    ours: &[&str],
    allowed: &mut u64,
) -> Result<(usize, bool), ProfileError> {
    if r.peek() != Some(b'[') {
        return Err(ProfileError::Shape("syscalls is not an array", r.i));
    }
    r.i += 1;
    if r.peek() == Some(b']') {
        let end = r.i;
        r.i += 1;
        return Ok((end, false));
    }
    loop {
        read_rule(r, ours, allowed)?;
        match r.peek() {
            Some(b',') => r.i += 1,
            Some(b']') => {
                let end = r.i;
                r.i += 1;
                return Ok((end, true));
            }
            _ => return Err(ProfileError::Syntax(r.i)),
        }
    }
}

fn read_rule(r: &mut Reader<'_>, ours: &[&str], allowed: &mut u64) -> Result<(), ProfileError> {
    let at = {
        r.ws();
        r.i
    };
    if r.peek() != Some(b'{') {
        return Err(ProfileError::Shape("a syscalls rule is not an object", at));
    }
    r.i += 1;
    let mut named = 0u64;
    let mut action: Option<Str> = None;
    let mut conditional = false;
    let mut saw_names = false;
    if r.peek() != Some(b'}') {
        loop {
            let key = r.string()?;
            r.eat(b':')?;
            if string_is(r, key, "names") {
                if saw_names {
                    return Err(ProfileError::Duplicate("names", key.start));
                }
                saw_names = true;
                if r.peek() != Some(b'[') {
                    return Err(ProfileError::Shape("names is not an array", r.i));
                }
                r.i += 1;
                if r.peek() == Some(b']') {
                    r.i += 1;
                } else {
                    loop {
                        if r.peek() != Some(b'"') {
                            return Err(ProfileError::Shape("a name is not a string", r.i));
                        }
                        let s = r.string()?;
                        named |= mark(r, s, ours);
                        match r.peek() {
                            Some(b',') => r.i += 1,
                            Some(b']') => {
                                r.i += 1;
                                break;
                            }
                            _ => return Err(ProfileError::Syntax(r.i)),
                        }
                    }
                }
            } else if string_is(r, key, "name") {
                if r.peek() != Some(b'"') {
                    return Err(ProfileError::Shape("name is not a string", r.i));
                }
                let s = r.string()?;
                named |= mark(r, s, ours);
            } else if string_is(r, key, "action") {
                if action.is_some() {
                    return Err(ProfileError::Duplicate("action", key.start));
                }
                if r.peek() != Some(b'"') {
                    return Err(ProfileError::Shape("action is not a string", r.i));
                }
                action = Some(r.string()?);
            } else if string_is(r, key, "args")
                || string_is(r, key, "includes")
                || string_is(r, key, "excludes")
            {
                conditional |= r.skip(1)?;
            } else {
                r.skip(1)?;
            }
            match r.peek() {
                Some(b',') => r.i += 1,
                Some(b'}') => break,
                _ => return Err(ProfileError::Syntax(r.i)),
            }
        }
    }
    r.i += 1;
    let Some(action) = action else {
        return Err(ProfileError::Shape("a syscalls rule has no action", at));
    };
    if is_allow(r, action) {
        if !conditional {
            *allowed |= named;
        }
    } else if named != 0 {
        return Err(ProfileError::Conflict {
            name: named.trailing_zeros() as usize,
            action: (action.start, action.end),
        });
    }
    Ok(())
}

/// The bit of `s` among `ours`, or 0.
fn mark(r: &Reader<'_>, s: Str, ours: &[&str]) -> u64 {
    ours.iter()
        .position(|n| string_is(r, s, n))
        .map_or(0, |i| 1u64 << i)
}

#[cfg(test)]
mod tests;
