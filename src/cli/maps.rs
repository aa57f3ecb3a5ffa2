//! The id maps the command line asks for (`-r`, `-c`, `--map-user`,
//! `--map-users`, `auto`...) and the `/proc/PID/uid_map` text they make.
//! Pure; unit-tested with the parser.

use crate::cli::args::CliError;
use crate::fmt::{Out, parse_dec};

/// At most `N` items, whose empty value is all zero bits when `zero` is:
/// heapless's Vec leaves its buffer uninitialised, which puts a `static`
/// holding one in .data, where all of it is loaded; an all-zero static is
/// in .bss, where the pages nothing writes cost no memory.
#[derive(Clone, Copy, Debug)]
pub struct List<T: Copy, const N: usize> {
    len: usize,
    items: [T; N],
}

impl<T: Copy, const N: usize> List<T, N> {
    pub const fn new(zero: T) -> Self {
        List {
            len: 0,
            items: [zero; N],
        }
    }

    pub fn push(&mut self, item: T) -> Result<(), ()> {
        let slot = self.items.get_mut(self.len).ok_or(())?;
        *slot = item;
        self.len += 1;
        Ok(())
    }
}

impl<T: Copy, const N: usize> core::ops::Deref for List<T, N> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

impl<T: Copy + PartialEq, const N: usize> PartialEq for List<T, N> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Copy + Eq, const N: usize> Eq for List<T, N> {}

/// The `--map-users` and `--map-groups` ranges (`inner outer count`). They
/// are kept apart from the command line's `Cli`: up to 340 of each (the kernel's limit)
/// is 8 KiB, which a long-lived init should not carry in its data.
#[derive(Clone, Debug)]
pub struct Ranges {
    pub uid: List<(u32, u32, u32), 340>,
    pub gid: List<(u32, u32, u32), 340>,
}

impl Ranges {
    /// All zero bits: a `static` of it is in .bss.
    pub const EMPTY: Ranges = Ranges {
        uid: List::new((0, 0, 0)),
        gid: List::new((0, 0, 0)),
    };
}

/// How one id map is to be built.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum IdMapSpec {
    None,
    /// `0 <caller> 1`.
    Root,
    /// `<caller> <caller> 1`.
    Current,
    /// `<inner> <caller> 1`.
    Single(u32),
    /// `inner outer count` lines: the [`Ranges`] given.
    Ranges,
    /// `0 <caller> 1` and `1 <start> <count>` from /etc/subuid or /etc/subgid.
    Auto,
}

pub fn id(v: &[u8]) -> Option<u32> {
    parse_dec(v, u64::from(u32::MAX - 1)).map(|x| x as u32)
}

pub fn add_range(
    spec: &mut IdMapSpec,
    list: &mut List<(u32, u32, u32), 340>,
    v: &[u8],
) -> Result<(), ()> {
    if v == b"auto" {
        *spec = IdMapSpec::Auto;
        return Ok(());
    }
    let mut f = v.split(|&c| c == b':').map(id);
    let (Some(Some(inner)), Some(Some(outer)), Some(Some(count)), None) =
        (f.next(), f.next(), f.next(), f.next())
    else {
        return Err(());
    };
    if count == 0 {
        return Err(());
    }
    *spec = IdMapSpec::Ranges;
    list.push((inner, outer, count))
}

/// Writes the `/proc/PID/uid_map` text for `spec`; `ranges` are the ones
/// given for it, `caller` is the caller's uid (or gid), `auto` its
/// subordinate range.
pub fn write_map(
    spec: &IdMapSpec,
    ranges: &[(u32, u32, u32)],
    caller: u32,
    auto: Option<(u32, u32)>,
    out: &mut dyn Out,
) -> Result<(), CliError<'static>> {
    let line = |o: &mut dyn FnMut(u32, u32, u32), a, b, c| o(a, b, c);
    let mut put = |inner: u32, outer: u32, count: u32| {
        out.dec(inner.into());
        out.put(b" ");
        out.dec(outer.into());
        out.put(b" ");
        out.dec(count.into());
        out.put(b"\n");
    };
    match spec {
        IdMapSpec::None => {}
        IdMapSpec::Root => line(&mut put, 0, caller, 1),
        IdMapSpec::Current => line(&mut put, caller, caller, 1),
        IdMapSpec::Single(inner) => line(&mut put, *inner, caller, 1),
        IdMapSpec::Ranges => {
            for &(a, b, c) in ranges {
                put(a, b, c);
            }
        }
        IdMapSpec::Auto => {
            let (start, count) = auto.ok_or(CliError::Needs(
                "auto",
                "an entry in /etc/subuid and /etc/subgid",
            ))?;
            put(0, caller, 1);
            put(1, start, count);
        }
    }
    Ok(())
}
