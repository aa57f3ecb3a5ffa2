//! The command line: its parser (`args`, pure), the id maps it asks for
//! (`maps`, pure), the values it looks up (`values`, pure), the engine
//! configuration it builds (`setup`) and the mode that runs it on the engine
//! (`run`).

pub mod args;
pub mod maps;
pub mod names;
pub mod run;
pub mod setup;
pub mod values;
