//! The command line: its parser (`args`, pure), the values it looks up
//! (`values`, pure) and the mode that runs it on the engine (`run`).

pub mod args;
pub mod run;
pub mod values;
