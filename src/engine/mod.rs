//! The engine both front ends drive: a [`config::Config`] of what to set up,
//! the one implementation of namespaces and id maps, the hand-over to the
//! payload and its protection, the init, and the log every stage writes.

pub mod config;
pub mod exec;
pub mod hardening;
pub mod init;
pub mod log;
pub mod namespaces;
pub mod pidfile;
pub mod seccomp;
pub mod tty;
