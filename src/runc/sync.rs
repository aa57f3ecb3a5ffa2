//! Messages between the stages over one socketpair. Stage 0 holds one end;
//! stage 1 and, after it, stage 2 hold the other. A stage that dies closes
//! its end, so the peer's read ends with EOF instead of waiting forever.
//! Names follow runc's nsexec.c so the two can be held side by side.

use crate::errno::Errno;
use crate::sys::{self, RawFd};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Sync {
    /// Stage 1 has unshared its user namespace: write its maps.
    UsermapPls,
    UsermapAck,
    /// Stage 2 exists; here is its pid as the caller sees it.
    RecvpidPls(i32),
    /// Stage 0 has reported the pids: stage 2 may go on.
    Grandchild,
    /// Stage 2 is set up and about to exec.
    ChildFinish,
    /// Stage 1 has unshared its time namespace: write its offsets.
    TimeoffsetsPls,
    TimeoffsetsAck,
    /// runc 1.1: stage 1 has its mount namespace; open the bind sources
    /// there and send their descriptors.
    MountsourcesPls,
    MountsourcesAck,
    /// Stage 2 could not execute the payload (the errno). Its success is
    /// the sync socket closing on exec.
    ExecFailed(i32),
}

const SYNC_USERMAP_PLS: u32 = 0x40;
const SYNC_USERMAP_ACK: u32 = 0x41;
const SYNC_RECVPID_PLS: u32 = 0x42;
const SYNC_GRANDCHILD: u32 = 0x44;
const SYNC_CHILD_FINISH: u32 = 0x45;
const SYNC_TIMEOFFSETS_PLS: u32 = 0x46;
const SYNC_TIMEOFFSETS_ACK: u32 = 0x47;
const SYNC_MOUNTSOURCES_PLS: u32 = 0x48;
const SYNC_MOUNTSOURCES_ACK: u32 = 0x49;
const SYNC_EXEC_FAILED: u32 = 0x4a;

impl Sync {
    fn encode(self) -> [u8; 8] {
        let (kind, value) = match self {
            Sync::UsermapPls => (SYNC_USERMAP_PLS, 0),
            Sync::UsermapAck => (SYNC_USERMAP_ACK, 0),
            Sync::RecvpidPls(pid) => (SYNC_RECVPID_PLS, pid),
            Sync::Grandchild => (SYNC_GRANDCHILD, 0),
            Sync::ChildFinish => (SYNC_CHILD_FINISH, 0),
            Sync::TimeoffsetsPls => (SYNC_TIMEOFFSETS_PLS, 0),
            Sync::TimeoffsetsAck => (SYNC_TIMEOFFSETS_ACK, 0),
            Sync::MountsourcesPls => (SYNC_MOUNTSOURCES_PLS, 0),
            Sync::MountsourcesAck => (SYNC_MOUNTSOURCES_ACK, 0),
            Sync::ExecFailed(e) => (SYNC_EXEC_FAILED, e),
        };
        let [k0, k1, k2, k3] = kind.to_ne_bytes();
        let [v0, v1, v2, v3] = value.to_ne_bytes();
        [k0, k1, k2, k3, v0, v1, v2, v3]
    }

    fn decode(b: [u8; 8]) -> Option<Sync> {
        let [k0, k1, k2, k3, v0, v1, v2, v3] = b;
        let value = i32::from_ne_bytes([v0, v1, v2, v3]);
        Some(match u32::from_ne_bytes([k0, k1, k2, k3]) {
            SYNC_USERMAP_PLS => Sync::UsermapPls,
            SYNC_USERMAP_ACK => Sync::UsermapAck,
            SYNC_RECVPID_PLS => Sync::RecvpidPls(value),
            SYNC_GRANDCHILD => Sync::Grandchild,
            SYNC_CHILD_FINISH => Sync::ChildFinish,
            SYNC_TIMEOFFSETS_PLS => Sync::TimeoffsetsPls,
            SYNC_TIMEOFFSETS_ACK => Sync::TimeoffsetsAck,
            SYNC_MOUNTSOURCES_PLS => Sync::MountsourcesPls,
            SYNC_MOUNTSOURCES_ACK => Sync::MountsourcesAck,
            SYNC_EXEC_FAILED => Sync::ExecFailed(value),
            _ => return None,
        })
    }
}

/// Why a receive did not produce a message.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RecvError {
    /// The other side closed its end: it exited or exec'd.
    Closed,
    Garbled,
    Sys(Errno),
}

pub fn send(fd: RawFd, msg: Sync) -> Result<(), Errno> {
    sys::write_all(fd, &msg.encode())
}

pub fn recv(fd: RawFd) -> Result<Sync, RecvError> {
    let mut b = [0u8; 8];
    match sys::read_exact(fd, &mut b) {
        Ok(true) => Sync::decode(b).ok_or(RecvError::Garbled),
        Ok(false) => Err(RecvError::Closed),
        Err(Errno::ENODATA) => Err(RecvError::Garbled),
        Err(e) => Err(RecvError::Sys(e)),
    }
}

/// Receives and checks that the message is `want`.
pub fn expect(fd: RawFd, want: Sync) -> Result<(), RecvError> {
    if recv(fd)? == want {
        Ok(())
    } else {
        Err(RecvError::Garbled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip() {
        for m in [
            Sync::UsermapPls,
            Sync::UsermapAck,
            Sync::RecvpidPls(-7),
            Sync::RecvpidPls(123456),
            Sync::Grandchild,
            Sync::ChildFinish,
            Sync::TimeoffsetsPls,
            Sync::TimeoffsetsAck,
            Sync::MountsourcesPls,
            Sync::MountsourcesAck,
            Sync::ExecFailed(2),
        ] {
            assert_eq!(Sync::decode(m.encode()), Some(m));
        }
        assert_eq!(Sync::decode([0xff; 8]), None);
    }
}
