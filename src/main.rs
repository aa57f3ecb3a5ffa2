//! The `nsexec` binary. The library holds everything, `_start` included.
#![no_std]
#![no_main]

use nsexec as _;
