//! The command line: its parser (`args`, pure), the id maps it asks for
//! (`maps`, pure), the values it looks up (`values`, pure), the engine
//! configuration it builds (`setup`) and the mode that runs it on the engine
//! (`run`). The init's front end (`names`, `pid1`) is also the whole
//! command line of the init build; a role build answers everything else
//! with the one line of `role`.

#[cfg(feature = "full")]
pub mod args;
pub mod error;
#[cfg(feature = "full")]
pub mod maps;
// Pure, and in every build: the bootstrap build too knows an init's name,
// to say which build it needs.
pub mod names;
#[cfg(feature = "init")]
pub mod pid1;
pub mod role;
#[cfg(feature = "full")]
pub mod run;
#[cfg(feature = "full")]
pub mod setup;
pub mod values;
