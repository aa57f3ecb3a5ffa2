use super::*;

const OURS: &[&str] = &["read", "write", "execve"];

fn p(s: &str) -> Result<Plan, ProfileError> {
    plan(s.as_bytes(), OURS)
}

#[test]
fn missing_names_are_added_at_the_end_of_syscalls() {
    let f = r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["read", "futex"], "action": "SCMP_ACT_ALLOW"}]}"#;
    let plan = p(f).unwrap();
    assert_eq!(plan.add, 0b110);
    assert!(plan.has_syscalls && plan.comma);
    assert_eq!(&f[plan.insert_at..plan.insert_at + 1], "]");
}

#[test]
fn conditional_allows_do_not_count_and_escapes_decode() {
    let f = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
        {"names":["wr\u0069te"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"}]},
        {"names":["r\u0065ad"],"action":"SCMP_ACT_ALLOW","includes":{}}]}"#;
    assert_eq!(p(f).unwrap().add, 0b110);
}

#[test]
fn a_denied_name_is_a_conflict() {
    let f = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["execve"],"action":"SCMP_ACT_KILL"}]}"#;
    let e = p(f).unwrap_err();
    assert!(matches!(e, ProfileError::Conflict { name: 2, .. }));
    let mut s = std::string::String::new();
    struct S<'a>(&'a mut std::string::String);
    impl Out for S<'_> {
        fn put(&mut self, b: &[u8]) {
            self.0.push_str(core::str::from_utf8(b).unwrap());
        }
    }
    e.describe(&mut S(&mut s), OURS, f.as_bytes());
    assert_eq!(
        s,
        "the profile gives SCMP_ACT_KILL to execve, which nsexec needs"
    );
}

#[test]
fn allow_by_default_needs_nothing_and_no_syscalls_member_is_added() {
    let plan = p(r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#).unwrap();
    assert_eq!(plan.add, 0);
    let plan = p(r#"{ "defaultAction": "SCMP_ACT_ERRNO" }"#).unwrap();
    assert_eq!(plan.add, 0b111);
    assert!(!plan.has_syscalls && plan.comma);
    assert_eq!(plan.insert_at, 36, "before the closing brace");
}

#[test]
fn malformed_and_unrepresentable_profiles_are_refused() {
    for bad in [
        "",
        "[]",
        "{",
        r#"{"defaultAction":"SCMP_ACT_ERRNO",}"#,
        r#"{"defaultAction":"SCMP_ACT_ERRNO"} x"#,
        r#"{"syscalls":[]}"#,
        r#"{"defaultAction":1}"#,
        r#"{"defaultAction":"A","defaultAction":"B"}"#,
        r#"{"defaultAction":"A","syscalls":{}}"#,
        r#"{"defaultAction":"A","syscalls":[{"names":["read"]}]}"#,
        r#"{"defaultAction":"A","syscalls":[{"names":[1],"action":"SCMP_ACT_ALLOW"}]}"#,
        r#"{"defaultAction":"A","x":01}"#,
        r#"{"defaultAction":"A","x":"\q"}"#,
        r#"{"defaultAction":"A","x":"a
b"}"#,
    ] {
        assert!(p(bad).is_err(), "{bad:?}");
    }
    let deep = "[".repeat(100);
    let f = format!(r#"{{"defaultAction":"A","x":{deep}}}"#);
    assert!(matches!(p(&f), Err(ProfileError::TooDeep(_))));
}

#[test]
fn random_bytes_never_panic() {
    let mut x = 0x1234_5678_9abc_def0u64;
    let alphabet = br#"{}[]":,\ u0aAtrufalsenl-1.e"#;
    for _ in 0..20000 {
        let len = (x % 64) as usize;
        let mut s = std::vec::Vec::new();
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push(alphabet[(x % alphabet.len() as u64) as usize]);
        }
        let _ = plan(&s, OURS);
    }
}
