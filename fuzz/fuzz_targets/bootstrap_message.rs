//! The bootstrap-message parser on arbitrary bytes: it must never panic,
//! never read outside the input, and accept only what it can describe.
#![no_main]
// The parsers come with the rest of their modules, which fuzzing leaves unused.
#![allow(dead_code)]

#[path = "../../src/engine/config.rs"]
mod config;
#[path = "../../src/kernel/fmt.rs"]
mod fmt;
#[path = "../../src/runc/netlink.rs"]
mod netlink;

use libfuzzer_sys::fuzz_target;

struct Sink(Vec<u8>);

impl fmt::Out for Sink {
    fn put(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Some(header) = data.first_chunk::<16>() {
        if let Err(e) = netlink::message_length(header) {
            let mut s = Sink(Vec::new());
            e.describe(&mut s);
            assert!(!s.0.is_empty());
        }
    }
    match netlink::parse(data) {
        Ok(cfg) => {
            // Everything borrowed points inside the message.
            let range = data.as_ptr_range();
            for p in cfg.ns_paths.iter() {
                assert!(range.contains(&p.path.as_ptr()) && !p.path.is_empty());
            }
            for s in [
                cfg.uid_map,
                cfg.gid_map,
                cfg.oom_score_adj,
                cfg.time_offsets,
            ]
            .into_iter()
            .flatten()
            {
                assert!(range.contains(&s.as_ptr()));
            }
        }
        Err(e) => {
            let mut s = Sink(Vec::new());
            e.describe(&mut s);
            assert!(!s.0.is_empty());
        }
    }
});
