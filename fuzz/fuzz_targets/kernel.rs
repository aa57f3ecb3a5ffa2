//! The kernel layer's pure tables, as `crate::kernel` sees them.
#[path = "../../src/kernel/names.rs"]
pub mod names;
