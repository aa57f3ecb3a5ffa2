//! runc's side of the contract (shared/PROTOCOL.md): the netlink bootstrap
//! message, the messages between the stages, and the stages themselves.

pub mod bootstrap;
pub mod netlink;
pub mod sync;
