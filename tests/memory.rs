//! What a long-lived `nsexec --init` keeps resident while its payload
//! runs: its VmRSS and, mapping by mapping, its smaps, as a report
//! (`cargo test --test memory -- --nocapture` shows it; BENCHMARKS.md has
//! the figures against other inits). The assertions are about behaviour:
//! once the loop starts, the image set-up ran from holds no resident page,
//! and the loop runs from its own small mapping.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};
use support::*;

struct Mapping {
    range: String,
    perms: String,
    path: String,
    rss_kib: u64,
}

fn smaps(pid: u32) -> Vec<Mapping> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields
            .first()
            .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
        {
            out.push(Mapping {
                range: fields[0].to_owned(),
                perms: fields[1].to_owned(),
                path: fields.get(5).copied().unwrap_or("").to_owned(),
                rss_kib: 0,
            });
        } else if fields.first() == Some(&"Rss:") {
            out.last_mut().unwrap().rss_kib = fields[1].parse().unwrap();
        }
    }
    out
}

fn status_kib(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

/// Runs `nsexec ARGS -- sleep N`, finds the init among nsexec's processes
/// (`which` picks it: nsexec itself, or its child), and reports.
fn report(what: &str, args: &[&str], init_is_child: bool) -> Vec<Mapping> {
    let sleeper = format!("{}", 3000 + std::process::id() % 1000);
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--", "/bin/sleep", &sleeper]);
    let mut c = cmd_of(&nsexec_for(args), &a);
    c.stdin(Stdio::null()).env_clear();
    let mut child = c.spawn().unwrap();
    let nsexec = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    // The payload runs once a `sleep` is among the descendants.
    let init = loop {
        let kids = children(nsexec);
        let init = if init_is_child {
            kids.first().copied()
        } else {
            Some(nsexec)
        };
        if let Some(i) = init {
            let running = children(i).iter().any(|&k| {
                std::fs::read_to_string(format!("/proc/{k}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            });
            if running {
                break i;
            }
        }
        assert!(Instant::now() < deadline, "{what}: the payload never ran");
        std::thread::sleep(Duration::from_millis(10));
    };
    // Let the init settle into its loop.
    std::thread::sleep(Duration::from_millis(200));
    let maps = smaps(init);
    let rss = status_kib(init, "VmRSS:");
    println!("{what}: init pid {init}, VmRSS {rss} KiB");
    for m in maps.iter().filter(|m| m.rss_kib > 0) {
        println!("  {:>4} KiB  {} {} {}", m.rss_kib, m.perms, m.range, m.path);
    }
    unsafe { libc::kill(nsexec as i32, libc::SIGTERM) };
    let st = child.wait().unwrap();
    // SIGTERM is forwarded: the payload ends with it, and so does nsexec.
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), None);
    assert_eq!(st.code(), Some(143), "{what}");
    maps
}

/// The image's mappings of the nsexec file: the one whose code runs set-up
/// (offset 0) and the small one of the loop (read-only, executable, not at
/// offset 0).
fn check_image(what: &str, args: &[&str], maps: &[Mapping]) {
    let bin = std::fs::canonicalize(nsexec_for(args)).unwrap();
    let bin = bin.to_str().unwrap();
    let code: Vec<&Mapping> = maps
        .iter()
        .filter(|m| m.path == bin && m.perms.starts_with("r-x"))
        .collect();
    assert_eq!(code.len(), 2, "{what}: the image and the loop's mapping");
    let (image, lp) = (code[0], code[1]);
    assert_eq!(
        image.rss_kib, 0,
        "{what}: the set-up code is still resident"
    );
    assert!(lp.rss_kib > 0, "{what}: the loop runs from its own mapping");
}

#[test]
fn a_subreaper_init_keeps_only_its_loop() {
    if skip_under_qemu("smaps would show qemu") {
        return;
    }
    // The init build: `--init` and nothing else is its line.
    let maps = report("nsexec --init (subreaper)", &["--init"], false);
    check_image("subreaper", &["--init"], &maps);
}

#[test]
fn pid_1_of_a_new_pid_namespace_keeps_only_its_loop() {
    if skip_under_qemu("smaps would show qemu") {
        return;
    }
    let maps = report(
        "nsexec -U -r -p --init (pid 1)",
        &["-U", "-r", "-p", "--init"],
        true,
    );
    check_image("pid 1", &["-U", "-r", "-p", "--init"], &maps);
}
