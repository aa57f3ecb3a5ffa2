//! The `--merge` profile reader on arbitrary bytes: it must never panic,
//! and a plan it returns must point inside the input at a `]` or `}`.
#![no_main]
// The parsers come with the rest of their modules, which fuzzing leaves unused.
#![allow(dead_code)]

#[path = "../../src/kernel/fmt.rs"]
mod fmt;
#[path = "../../src/engine/profile.rs"]
mod profile;

use libfuzzer_sys::fuzz_target;

struct Sink(Vec<u8>);

impl fmt::Out for Sink {
    fn put(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

const OURS: &[&str] = &["read", "write", "execve", "clone", "wait4"];

fuzz_target!(|data: &[u8]| {
    match profile::plan(data, OURS) {
        Ok(plan) => {
            let at = data.get(plan.insert_at).copied();
            assert!(at == Some(b']') || at == Some(b'}'), "{plan:?}");
            assert!(plan.add < 1 << OURS.len());
        }
        Err(e) => {
            let mut s = Sink(Vec::new());
            e.describe(&mut s, OURS, data);
            assert!(!s.0.is_empty());
        }
    }
});
