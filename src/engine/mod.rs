//! The engine both front ends drive: a [`config::Config`] of what to set up,
//! the one implementation of namespaces and id maps, the hand-over to the
//! payload and its protection, the init, and the log every stage writes.
//! A role build compiles the parts its modes use (Cargo.toml's features).

#[cfg(feature = "bootstrap")]
pub mod config;
pub mod exec;
#[cfg(feature = "bootstrap")]
pub mod hardening;
#[cfg(feature = "init")]
pub mod init;
pub mod log;
#[cfg(feature = "bootstrap")]
pub mod namespaces;
#[cfg(feature = "full")]
pub mod pidfile;
#[cfg(feature = "full")]
pub mod seccomp;
#[cfg(feature = "full")]
pub mod tty;
