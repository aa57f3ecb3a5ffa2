//! Typed error numbers, named as the kernel names them on the architecture
//! being built (values come from `linux-raw-sys`).
#![cfg_attr(not(test), allow(dead_code))]

use linux_raw_sys::errno as e;

/// An errno value. Built only by the syscall layer or from the constants below.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Errno(u16);

macro_rules! errno_names {
    ($($name:ident,)* ; bootstrap: $($classic:ident,)* ; full: $($more:ident,)*) => {
        #[allow(dead_code)]
        impl Errno {
            $(pub const $name: Errno = Errno(e::$name as u16);)*
            $(pub const $classic: Errno = Errno(e::$classic as u16);)*
            $(pub const $more: Errno = Errno(e::$more as u16);)*

            /// The symbolic name, or `None` for a value outside the table
            /// (a message then gives the number). The names are one string,
            /// and the table holds each one's value and length: 4 bytes a
            /// name where a `&str` takes 16 (1.7 KB less on x86_64). Each
            /// build names what its calls meet: the init build what the
            /// init's calls return, a bootstrap build also the rest of the
            /// classic errors and EOPNOTSUPP, the full build them all.
            pub fn name(self) -> Option<&'static str> {
                const INIT: (&str, &[(u16, u8)]) = (
                    concat!($(stringify!($name),)*),
                    &[$((e::$name as u16, stringify!($name).len() as u8),)*],
                );
                #[cfg(any(test, feature = "bootstrap"))]
                const CLASSIC: (&str, &[(u16, u8)]) = (
                    concat!($(stringify!($classic),)*),
                    &[$((e::$classic as u16, stringify!($classic).len() as u8),)*],
                );
                #[cfg(not(any(test, feature = "bootstrap")))]
                const CLASSIC: (&str, &[(u16, u8)]) = ("", &[]);
                #[cfg(any(test, feature = "full"))]
                const MORE: (&str, &[(u16, u8)]) = (
                    concat!($(stringify!($more),)*),
                    &[$((e::$more as u16, stringify!($more).len() as u8),)*],
                );
                #[cfg(not(any(test, feature = "full")))]
                const MORE: (&str, &[(u16, u8)]) = ("", &[]);
                [INIT, CLASSIC, MORE].into_iter().find_map(|(all, table)| {
                    let mut at = 0;
                    for &(value, len) in table {
                        let end = at + len as usize;
                        if value == self.0 {
                            return all.get(at..end);
                        }
                        at = end;
                    }
                    None
                })
            }
        }
    };
}

errno_names! {
    // What the init's calls (execve, clone, prctl, wait4, kill, setpgid,
    // the signal mask and madvise) return, and ENOSYS, which a platform's
    // seccomp profile (containers-common's, Docker's) answers for a call it
    // leaves out: the one error an init under such a profile is likely to meet.
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ETXTBSY,
    ENOSPC,
    ENAMETOOLONG,
    ELOOP,
    ENOSYS,
    ; bootstrap:
    ENXIO,
    ENOTBLK,
    EXDEV,
    ENODEV,
    ENOTTY,
    EFBIG,
    ESPIPE,
    EROFS,
    EMLINK,
    EPIPE,
    EDOM,
    ERANGE,
    EDEADLK,
    ENOLCK,
    ENOTEMPTY,
    EOPNOTSUPP,
    ; full:
    ENOMSG,
    EIDRM,
    ENOSTR,
    ENODATA,
    ETIME,
    ENOSR,
    EREMOTE,
    ENOLINK,
    EPROTO,
    EBADMSG,
    EOVERFLOW,
    EILSEQ,
    EUSERS,
    ENOTSOCK,
    EDESTADDRREQ,
    EMSGSIZE,
    EPROTOTYPE,
    ENOPROTOOPT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EAFNOSUPPORT,
    EADDRINUSE,
    EADDRNOTAVAIL,
    ENETDOWN,
    ENETUNREACH,
    ECONNABORTED,
    ECONNRESET,
    ENOBUFS,
    EISCONN,
    ENOTCONN,
    ETIMEDOUT,
    ECONNREFUSED,
    EHOSTUNREACH,
    EALREADY,
    EINPROGRESS,
    ESTALE,
    EDQUOT,
    ECANCELED,
    EOWNERDEAD,
    ENOTRECOVERABLE,
    ERFKILL,
    EHWPOISON,
}

impl Errno {
    pub const fn from_raw(v: u16) -> Errno {
        Errno(v)
    }

    pub const fn raw(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_host_values() {
        assert_eq!(Errno::from_raw(1).name(), Some("EPERM"));
        assert_eq!(Errno::from_raw(2).name(), Some("ENOENT"));
        assert_eq!(Errno::from_raw(22).name(), Some("EINVAL"));
        assert_eq!(Errno::from_raw(38).name(), Some("ENOSYS"));
        assert_eq!(Errno::from_raw(4000).name(), None);
    }
}
