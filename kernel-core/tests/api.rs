//! The frozen kernel API.
//!
//! 1. A compile-level use of every root item and every `KernelEvent` variant shape: an
//!    added, removed or changed variant or field, or a changed signature, stops this file
//!    from compiling.
//! 2. `API.txt` (checked in) must equal a listing derived from the source: every `pub`
//!    item signature and `pub` field of `src/`, plus the serde shape of each
//!    `KernelEvent` variant. Any change to the public surface fails the test until
//!    `API.txt` is regenerated on purpose with `KERNEL_API_BLESS=1 cargo test -p
//!    kernel-core --test api` and the diff is reviewed.
//! 3. The crate root re-exports exactly the six frozen items.

use std::fs;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};

use kernel_core::{Bus, Config, HealthState, KernelEvent, Metrics, wait_for_ctrl_c};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn assert_async_ctrl_c<F, Fut>(_: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = io::Result<()>> + Send,
{
}

fn assert_serde<T: Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync>() {}

/// Every variant, constructed and destructured with exactly its fields.
fn describe(event: &KernelEvent) -> String {
    match event {
        KernelEvent::Health { service, ok } => {
            let (_, _): (&String, &bool) = (service, ok);
            "Health".into()
        }
        KernelEvent::ConfigUpdated { version } => {
            let _: &u64 = version;
            "ConfigUpdated".into()
        }
        KernelEvent::ServiceCrashed { service, reason } => {
            let (_, _): (&String, &String) = (service, reason);
            "ServiceCrashed".into()
        }
        KernelEvent::Shutdown => "Shutdown".into(),
    }
}

fn every_variant() -> [KernelEvent; 4] {
    [
        KernelEvent::Health {
            service: String::new(),
            ok: false,
        },
        KernelEvent::ConfigUpdated { version: 0 },
        KernelEvent::ServiceCrashed {
            service: String::new(),
            reason: String::new(),
        },
        KernelEvent::Shutdown,
    ]
}

#[test]
fn frozen_items_compile_with_their_shapes() {
    let bus: Bus = Bus::new(64);
    let mut rx = bus.subscribe();
    let delivered: usize = bus.publish(KernelEvent::Shutdown);
    bus.publish_lossy(KernelEvent::Shutdown);
    assert_eq!(delivered, 1);
    assert_eq!(rx.try_recv(), Ok(KernelEvent::Shutdown));
    let _metrics: Metrics = Metrics::new();
    let _health: HealthState = HealthState::new();
    let _config: Config = Config::default();
    assert_async_ctrl_c(wait_for_ctrl_c);
    assert_serde::<KernelEvent>();
    let names: Vec<String> = every_variant().iter().map(describe).collect();
    assert_eq!(
        names,
        ["Health", "ConfigUpdated", "ServiceCrashed", "Shutdown"]
    );
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read src dir")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Public declarations of one file, one normalised line each.
fn public_items(source: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut pending: Option<String> = None;
    for line in source.lines() {
        let trimmed = line.trim();
        let (text, first_line) = match pending.take() {
            Some(mut acc) => {
                acc.push(' ');
                acc.push_str(trimmed);
                (acc, false)
            }
            None if trimmed.starts_with("pub ") => (trimmed.to_owned(), true),
            None => continue,
        };
        // A constant's type may contain `;` (`[T; 4]`) and a bound may contain ` = `
        // (`Item = T`), so each kind has its own end markers.
        let markers: &[&str] = if text.starts_with("pub const ") || text.starts_with("pub static ")
        {
            &[" = "]
        } else {
            &[" {", "{", ";"]
        };
        let cut = markers.iter().filter_map(|m| text.find(m)).min();
        match cut {
            Some(at) => items.push(normalise(&text[..at])),
            // A one-line field; a comma inside an open parameter list is not the end.
            None if first_line
                && text.ends_with(',')
                && text.matches('(').count() == text.matches(')').count() =>
            {
                items.push(normalise(text.trim_end_matches(',')));
            }
            None => pending = Some(text),
        }
    }
    items
}

fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn listing() -> String {
    let root = crate_dir();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut out = String::from("# kernel-core public API (generated by tests/api.rs)\n");
    for file in files {
        let rel = file.strip_prefix(&root).unwrap().display().to_string();
        let source = fs::read_to_string(&file).expect("read source");
        for item in public_items(&source) {
            out.push_str(&format!("{rel}: {item}\n"));
        }
    }
    out.push_str("# KernelEvent serde shapes\n");
    for event in every_variant() {
        out.push_str(&serde_json::to_string(&event).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn api_listing_matches_the_checked_in_file() {
    let path = crate_dir().join("API.txt");
    let actual = listing();
    if std::env::var_os("KERNEL_API_BLESS").is_some() {
        fs::write(&path, &actual).expect("write API.txt");
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff: Vec<String> = expected
            .lines()
            .filter(|l| !actual.lines().any(|a| a == *l))
            .map(|l| format!("- {l}"))
            .chain(
                actual
                    .lines()
                    .filter(|l| !expected.lines().any(|e| e == *l))
                    .map(|l| format!("+ {l}")),
            )
            .collect();
        panic!(
            "public API changed; review and regenerate with KERNEL_API_BLESS=1:\n{}",
            diff.join("\n")
        );
    }
}

#[test]
fn root_reexports_exactly_the_frozen_items() {
    let lib = fs::read_to_string(crate_dir().join("src/lib.rs")).unwrap();
    let mut reexports: Vec<&str> = lib
        .lines()
        .filter(|l| l.starts_with("pub use "))
        .map(|l| l.rsplit("::").next().unwrap().trim_end_matches(';'))
        .collect();
    reexports.sort_unstable();
    assert_eq!(
        reexports,
        [
            "Bus",
            "Config",
            "HealthState",
            "KernelEvent",
            "Metrics",
            "wait_for_ctrl_c"
        ]
    );
    let root_fns = lib
        .lines()
        .filter(|l| {
            l.starts_with("pub fn")
                || l.starts_with("pub async fn")
                || l.starts_with("pub struct")
                || l.starts_with("pub enum")
        })
        .count();
    assert_eq!(root_fns, 0, "root items must live in modules");
}

#[test]
fn the_listing_sees_signature_changes() {
    // Guards the scanner itself: a changed signature must change the listing.
    let before = public_items("pub fn publish(&self, event: KernelEvent) -> usize {\n}");
    let after = public_items("pub fn publish(&self, event: KernelEvent) -> bool {\n}");
    assert_eq!(
        before,
        ["pub fn publish(&self, event: KernelEvent) -> usize"]
    );
    assert_ne!(before, after);
    let multi = public_items("pub fn f<I>(\n    a: I,\n) -> u8\nwhere\n    I: Copy,\n{\n");
    assert_eq!(multi, ["pub fn f<I>( a: I, ) -> u8 where I: Copy,"]);
    let fields = public_items("pub struct S {\n    pub a: (u8, u16),\n}");
    assert_eq!(fields, ["pub struct S", "pub a: (u8, u16)"]);
    assert_eq!(
        public_items("    pub bytes_in: u64,"),
        ["pub bytes_in: u64"]
    );
    assert!(public_items("pub(crate) fn hidden() {}").is_empty());
}
