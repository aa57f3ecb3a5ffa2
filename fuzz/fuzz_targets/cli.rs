//! The command line's pure modules, as `crate::cli` sees them.
#[path = "../../src/cli/args.rs"]
pub mod args;
#[path = "../../src/cli/maps.rs"]
pub mod maps;
#[path = "../../src/cli/values.rs"]
pub mod values;
#[path = "../../src/cli/error.rs"]
pub mod error;
