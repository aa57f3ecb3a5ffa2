//! Values the command line looks up or decodes on its own: subordinate id
//! ranges (`/etc/subuid`), login names (`/etc/passwd`) and signal names.
//! Pure, so the parser and the fuzz target share it.

use crate::fmt::{Out, Text, parse_dec};

/// The `start:count` of the first `/etc/subuid`-style line for `name` or `id`.
pub fn subid_range(file: &[u8], name: &[u8], id: u32) -> Option<(u32, u32)> {
    let mut id_text: Text<10> = Text::new();
    id_text.dec(u64::from(id));
    let id_text = id_text.bytes();
    file.split(|&c| c == b'\n').find_map(|line| {
        let mut f = line.split(|&c| c == b':');
        let owner = f.next()?;
        if owner != id_text && (name.is_empty() || owner != name) {
            return None;
        }
        let start = parse_dec(f.next()?, u64::from(u32::MAX))? as u32;
        let count = parse_dec(f.next()?, u64::from(u32::MAX))? as u32;
        Some((start, count)).filter(|_| count > 0)
    })
}

/// The login name of `uid` in `/etc/passwd`-style text.
pub fn user_name(passwd: &[u8], uid: u32) -> Option<&[u8]> {
    passwd.split(|&c| c == b'\n').find_map(|line| {
        let mut f = line.split(|&c| c == b':');
        let name = f.next()?;
        let _password = f.next()?;
        (parse_dec(f.next()?, u64::from(u32::MAX))? == u64::from(uid)).then_some(name)
    })
}

/// Signal names (with or without `SIG`) and numbers. `RTMIN` is 34, as
/// glibc (and so util-linux) counts, since glibc keeps 32 and 33.
pub fn signal_number(s: &[u8]) -> Option<u32> {
    const NAMES: crate::kernel::names::Names = crate::kernel::names::names![
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    const RTMIN: u32 = 34;
    const RTMAX: u32 = 64;
    if let Some(n) = parse_dec(s, 64) {
        return (n >= 1).then_some(n as u32);
    }
    let name = s.strip_prefix(b"SIG").unwrap_or(s);
    if let Some(i) = NAMES.position(name) {
        return Some(i as u32 + 1);
    }
    let rt = |rest: &[u8], base: u32, up: bool| -> Option<u32> {
        if rest.is_empty() {
            return Some(base);
        }
        let sign = if up { b'+' } else { b'-' };
        let n = parse_dec(rest.strip_prefix(&[sign])?, 30)? as u32;
        let v = if up {
            base.checked_add(n)?
        } else {
            base.checked_sub(n)?
        };
        (RTMIN..=RTMAX).contains(&v).then_some(v)
    };
    if let Some(rest) = name.strip_prefix(b"RTMIN") {
        return rt(rest, RTMIN, true);
    }
    if let Some(rest) = name.strip_prefix(b"RTMAX") {
        return rt(rest, RTMAX, false);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        assert_eq!(signal_number(b"TERM"), Some(15));
        assert_eq!(signal_number(b"SIGKILL"), Some(9));
        assert_eq!(signal_number(b"WINCH"), Some(28));
        assert_eq!(signal_number(b"SYS"), Some(31));
        assert_eq!(signal_number(b"RTMIN"), Some(34));
        assert_eq!(signal_number(b"RTMIN+3"), Some(37));
        assert_eq!(signal_number(b"RTMAX-1"), Some(63));
        assert_eq!(signal_number(b"64"), Some(64));
        assert_eq!(signal_number(b"0"), None);
        assert_eq!(signal_number(b"65"), None);
        assert_eq!(signal_number(b"term"), None);
    }

    #[test]
    fn subid_and_passwd_lookup() {
        let sub = b"alice:100000:65536\n1001:200000:1000\nbob:300000:0\n";
        assert_eq!(subid_range(sub, b"alice", 1000), Some((100000, 65536)));
        assert_eq!(subid_range(sub, b"carol", 1001), Some((200000, 1000)));
        assert_eq!(subid_range(sub, b"bob", 7), None);
        let passwd = b"root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(user_name(passwd, 1000), Some(&b"alice"[..]));
        assert_eq!(user_name(passwd, 5), None);
    }
}
