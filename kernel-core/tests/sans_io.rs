//! The bus core and the supervisor must stay sans-IO: no clock reads, no spawning, no
//! sleeping, no locking. This scans their sources so a regression fails CI.

use std::fs;
use std::path::PathBuf;

const SANS_IO_FILES: &[&str] = &[
    "src/bus/capacity.rs",
    "src/bus/core.rs",
    "src/bus/outcome.rs",
    "src/bus/ring.rs",
    "src/bus/model.rs",
    "src/supervisor/mod.rs",
    "src/supervisor/backoff.rs",
    "src/supervisor/policy.rs",
    "src/supervisor/rng.rs",
    "src/supervisor/status.rs",
];

const FORBIDDEN: &[&str] = &[
    "Instant::now",
    "SystemTime",
    "thread::",
    "spawn",
    "sleep",
    "Mutex",
    "RwLock",
    "Waker",
    "async ",
    "std::env",
    "std::fs",
    "std::net",
];

#[test]
fn core_and_supervisor_sources_do_no_io() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    for file in SANS_IO_FILES {
        let source = fs::read_to_string(root.join(file)).expect("source file exists");
        for (n, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    violations.push(format!("{file}:{}: {word}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}
