//! The command-line parser on arbitrary argument vectors (NUL-separated).
#![no_main]
// The parsers come with the rest of their modules, which fuzzing leaves unused.
#![allow(dead_code)]

mod cli;
mod kernel;
#[path = "../../src/engine/config.rs"]
mod config;
#[path = "../../src/kernel/fmt.rs"]
mod fmt;
mod syscalls;

use libfuzzer_sys::fuzz_target;

struct Sink(Vec<u8>);

impl fmt::Out for Sink {
    fn put(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

fuzz_target!(|data: &[u8]| {
    let args: Vec<&[u8]> = data.split(|&c| c == 0).collect();
    match cli::args::parse(&args) {
        Ok((c, r)) => {
            assert!(c.payload <= args.len());
            let mut s = Sink(Vec::new());
            let _ = cli::args::write_map(&c.uid_map, &r.uid, 1000, Some((100000, 65536)), &mut s);
        }
        Err(e) => {
            let mut s = Sink(Vec::new());
            e.describe(&mut s);
            assert!(!s.0.is_empty());
        }
    }
});
