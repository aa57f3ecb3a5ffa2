//! Architecture and syscall numbers stay in their one place each: `asm!`
//! and registers only under src/kernel/arch/, `target_arch` only in the arch
//! module's selector, `__NR_` only in the syscall table.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let rel = p
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap()
                .display()
                .to_string();
            out.push((rel, std::fs::read_to_string(&p).unwrap()));
        }
    }
}

fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .filter(|l| !l.trim().is_empty())
}

#[test]
fn asm_and_syscall_numbers_appear_only_in_their_modules() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10);
    for (path, text) in &files {
        let in_arch = path.starts_with("src/kernel/arch/");
        for line in code_lines(text) {
            if line.contains("asm!") {
                assert!(in_arch, "{path}: asm! outside src/kernel/arch/: {line}");
            }
            if line.contains("__NR_") {
                assert_eq!(
                    path, "src/kernel/syscalls.rs",
                    "{path}: a syscall number outside the table: {line}"
                );
            }
            if line.contains("target_arch") {
                assert_eq!(
                    path, "src/kernel/arch/mod.rs",
                    "{path}: architecture chosen outside src/kernel/arch/mod.rs: {line}"
                );
            }
        }
    }
    let table = &files
        .iter()
        .find(|(p, _)| p == "src/kernel/syscalls.rs")
        .unwrap()
        .1;
    assert!(
        table.matches("= __NR_").count() >= 30,
        "the table lists the calls"
    );
}

#[test]
fn every_arch_file_exports_the_same_items() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/kernel/arch");
    let items = [
        "pub const SECCOMP_ARCH",
        "_start:",
        "pub unsafe fn syscall0(",
        "pub unsafe fn syscall1(",
        "pub unsafe fn syscall2(",
        "pub unsafe fn syscall3(",
        "pub unsafe fn syscall4(",
        "pub unsafe fn syscall5(",
        "pub unsafe fn syscall6(",
        "pub unsafe fn clone_on_stack(",
        "pub unsafe fn clone_fork(",
        "pub fn trap(",
        "pub fn stack_pointer(",
    ];
    for arch in ["x86_64", "aarch64", "powerpc64le", "s390x"] {
        let text = std::fs::read_to_string(dir.join(format!("{arch}.rs"))).unwrap();
        assert!(
            text.starts_with(&format!("//! {arch}")),
            "{arch}.rs opens with its name and ABI"
        );
        assert!(
            text.contains("Syscall ABI:"),
            "{arch}.rs states its syscall ABI"
        );
        for item in items {
            assert!(text.contains(item), "{arch}.rs lacks {item}");
        }
    }
}
