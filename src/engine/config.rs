//! What to set up, built from runc's netlink message (`netlink`) or from the
//! command line (`cli`). The engine reads only this, so both modes share one
//! implementation of namespaces and mappings. Pure; borrows its strings from
//! the message buffer or the argument vector.
#![cfg_attr(not(test), allow(dead_code))]

use heapless::Vec;
use linux_raw_sys::general as g;

/// At most one path per namespace type.
pub const MAX_NS_PATHS: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NsType {
    Cgroup,
    Ipc,
    Mnt,
    Net,
    Pid,
    Time,
    User,
    Uts,
}

impl NsType {
    pub const ALL: [NsType; 8] = [
        NsType::Cgroup,
        NsType::Ipc,
        NsType::Mnt,
        NsType::Net,
        NsType::Pid,
        NsType::Time,
        NsType::User,
        NsType::Uts,
    ];

    /// The `CLONE_NEW*` flag, as `setns` and `unshare` take it.
    pub const fn flag(self) -> u32 {
        match self {
            NsType::Cgroup => g::CLONE_NEWCGROUP,
            NsType::Ipc => g::CLONE_NEWIPC,
            NsType::Mnt => g::CLONE_NEWNS,
            NsType::Net => g::CLONE_NEWNET,
            NsType::Pid => g::CLONE_NEWPID,
            NsType::Time => g::CLONE_NEWTIME,
            NsType::User => g::CLONE_NEWUSER,
            NsType::Uts => g::CLONE_NEWUTS,
        }
    }

    /// The name used in `NS_PATHS` and under `/proc/PID/ns/`.
    pub const fn name(self) -> &'static str {
        match self {
            NsType::Cgroup => "cgroup",
            NsType::Ipc => "ipc",
            NsType::Mnt => "mnt",
            NsType::Net => "net",
            NsType::Pid => "pid",
            NsType::Time => "time",
            NsType::User => "user",
            NsType::Uts => "uts",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<NsType> {
        NsType::ALL
            .into_iter()
            .find(|t| t.name().as_bytes() == name)
    }
}

/// Every `CLONE_NEW*` flag nsexec knows.
pub const ALL_NS_FLAGS: u32 = g::CLONE_NEWCGROUP
    | g::CLONE_NEWIPC
    | g::CLONE_NEWNS
    | g::CLONE_NEWNET
    | g::CLONE_NEWPID
    | g::CLONE_NEWTIME
    | g::CLONE_NEWUSER
    | g::CLONE_NEWUTS;

/// A namespace to join: its type and the path of its nsfs file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NsPath<'a> {
    pub ns: NsType,
    pub path: &'a [u8],
}

/// The whole set-up, field for field what runc's bootstrap message carries.
/// Strings exclude any trailing NUL.
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Config<'a> {
    /// `CLONE_NEW*` flags of the namespaces to create.
    pub clone_flags: u32,
    /// Namespaces to join, in the order given.
    pub ns_paths: Vec<NsPath<'a>, MAX_NS_PATHS>,
    /// `/proc/PID/uid_map` contents (`inside outside count` lines).
    pub uid_map: Option<&'a [u8]>,
    pub gid_map: Option<&'a [u8]>,
    /// runc's SETGROUP: the container may call setgroups(2).
    pub setgroups: bool,
    /// runc's ROOTLESS_EUID: the caller is not root.
    pub rootless_euid: bool,
    /// Decimal value for `/proc/self/oom_score_adj`.
    pub oom_score_adj: Option<&'a [u8]>,
    /// Absolute paths of `newuidmap` / `newgidmap`, used when a direct map write gets EPERM.
    pub uidmap_path: Option<&'a [u8]>,
    pub gidmap_path: Option<&'a [u8]>,
    /// `/proc/PID/timens_offsets` contents (`monotonic|boottime SECS NSECS` lines).
    pub time_offsets: Option<&'a [u8]>,
    /// runc 1.1's MOUNT_SOURCES: NUL-separated bind-mount sources (empty
    /// entries for other mounts), opened by stage 0 for the container's init.
    pub mount_sources: Option<&'a [u8]>,
}

impl Config<'_> {
    /// The namespace types joined through `ns_paths`, as a flag set.
    pub fn joined_flags(&self) -> u32 {
        self.ns_paths.iter().fold(0, |acc, p| acc | p.ns.flag())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_flags_are_distinct() {
        let mut seen = 0;
        for t in NsType::ALL {
            assert_eq!(NsType::from_name(t.name().as_bytes()), Some(t));
            assert_eq!(seen & t.flag(), 0);
            seen |= t.flag();
        }
        assert_eq!(seen, ALL_NS_FLAGS);
        assert_eq!(NsType::from_name(b"mount"), None);
    }

    #[test]
    fn flags_match_the_protocol() {
        assert_eq!(NsType::Cgroup.flag(), 0x0200_0000);
        assert_eq!(NsType::Ipc.flag(), 0x0800_0000);
        assert_eq!(NsType::Mnt.flag(), 0x0002_0000);
        assert_eq!(NsType::Net.flag(), 0x4000_0000);
        assert_eq!(NsType::Pid.flag(), 0x2000_0000);
        assert_eq!(NsType::Time.flag(), 0x0000_0080);
        assert_eq!(NsType::User.flag(), 0x1000_0000);
        assert_eq!(NsType::Uts.flag(), 0x0400_0000);
    }
}
