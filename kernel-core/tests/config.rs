//! Config loading, environment overrides (injected, never the process environment),
//! validation errors and versioned reloads.

use kernel_core::config::env::ENV_VARS;
use kernel_core::config::{AnonymousPolicy, ConfigError, ConfigStore, Permission, ValidationError};
use kernel_core::supervisor::RestartPolicy;
use kernel_core::{Config, KernelEvent};

const NO_ENV: [(&str, &str); 0] = [];

fn invalid(result: Result<Config, ConfigError>) -> ValidationError {
    match result {
        Err(ConfigError::Invalid(e)) => e,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn defaults_match_the_blueprint() {
    let c = Config::from_toml_str("").unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.max_frame, 1_048_576);
    assert_eq!(c.max_inflight, 32);
    assert_eq!(c.initial_credit, 65_536);
    assert_eq!(c.max_object_bytes, 64 * 1024 * 1024 * 1024);
    assert_eq!(c.bus_capacity, 64);
    assert_eq!(c.handshake_timeout().as_millis(), 5_000);
}

#[test]
fn toml_sets_nested_sections() {
    let c = Config::from_toml_str(
        r#"
        listen_addr = "0.0.0.0:7000"
        max_inflight = 64
        [quota]
        requests_per_sec = 5
        burst = 10
        [supervisor]
        max_restarts = 2
        restart_window_ms = 1000
        "#,
    )
    .unwrap();
    assert_eq!(c.listen_addr.port(), 7000);
    assert_eq!(c.max_inflight, 64);
    assert_eq!((c.quota.requests_per_sec, c.quota.burst), (5, 10));
    let policy = RestartPolicy::from(&c.supervisor);
    assert_eq!(policy.max_restarts, 2);
    assert_eq!(policy.window.as_millis(), 1000);
}

#[test]
fn large_frames_need_explicit_permission() {
    assert_eq!(
        invalid(Config::from_toml_str("max_frame = 1048577")),
        ValidationError::MaxFrameTooLarge {
            value: 1_048_577,
            limit: 1_048_576
        }
    );
    let c = Config::from_toml_str("max_frame = 4194304\nallow_large_frames = true").unwrap();
    assert_eq!(c.max_frame, 4_194_304);
    assert_eq!(
        invalid(Config::from_toml_str(
            "max_frame = 4294967296\nallow_large_frames = true"
        )),
        ValidationError::MaxFrameBeyondWire {
            value: 4_294_967_296,
            limit: 4_294_967_295
        }
    );
    assert!(matches!(
        invalid(Config::from_toml_str("max_frame = 10")),
        ValidationError::MaxFrameTooSmall { value: 10, .. }
    ));
}

#[test]
fn every_invariant_has_a_typed_error() {
    assert!(matches!(
        invalid(Config::from_toml_str("bus_capacity = 7")),
        ValidationError::BusCapacity {
            value: 7,
            min: 8,
            ..
        }
    ));
    assert_eq!(
        invalid(Config::from_toml_str("max_inflight = 0")),
        ValidationError::Zero {
            field: "max_inflight"
        }
    );
    assert_eq!(
        invalid(Config::from_toml_str("[quota]\nburst = 0")),
        ValidationError::Zero {
            field: "quota.burst"
        }
    );
    assert_eq!(
        invalid(Config::from_toml_str("[supervisor]\njitter_percent = 101")),
        ValidationError::JitterPercent { value: 101 }
    );
    assert_eq!(
        invalid(Config::from_toml_str(
            "[supervisor]\nbackoff_initial_ms = 5000\nbackoff_max_ms = 10"
        )),
        ValidationError::BackoffOrder {
            initial: 5000,
            max: 10
        }
    );
    assert!(matches!(
        invalid(Config::from_toml_str(
            "listen_addr = \"127.0.0.1:1\"\nadmin_addr = \"127.0.0.1:1\""
        )),
        ValidationError::AddrConflict(_)
    ));
    let message = invalid(Config::from_toml_str("max_frame = 2000000")).to_string();
    assert!(message.contains("allow_large_frames"), "{message}");
}

#[test]
fn max_object_bytes_comes_from_toml_or_oap_max_object_bytes_and_must_be_positive() {
    let c = Config::from_toml_str("max_object_bytes = 65536").unwrap();
    assert_eq!(c.max_object_bytes, 65_536);
    let c = Config::from_sources(
        "max_object_bytes = 65536",
        [("OAP_MAX_OBJECT_BYTES", "1099511627776")],
    )
    .unwrap();
    assert_eq!(
        c.max_object_bytes,
        1 << 40,
        "the environment beats the file"
    );
    let zero = invalid(Config::from_toml_str("max_object_bytes = 0"));
    assert_eq!(
        zero,
        ValidationError::Zero {
            field: "max_object_bytes"
        }
    );
    assert!(zero.to_string().contains("max_object_bytes"), "{zero}");
    assert_eq!(
        invalid(Config::from_sources("", [("OAP_MAX_OBJECT_BYTES", "0")])),
        ValidationError::Zero {
            field: "max_object_bytes"
        }
    );
    match Config::from_sources("", [("OAP_MAX_OBJECT_BYTES", "-1")]) {
        Err(ConfigError::Env { var, value, .. }) => {
            assert_eq!(
                (var.as_str(), value.as_str()),
                ("OAP_MAX_OBJECT_BYTES", "-1")
            );
        }
        other => panic!("expected an env error, got {other:?}"),
    }
    assert!(matches!(
        Config::from_toml_str("max_object_bytes = \"64GiB\""),
        Err(ConfigError::Parse(_))
    ));
}

#[test]
fn unknown_keys_and_bad_types_are_parse_errors() {
    assert!(matches!(
        Config::from_toml_str("max_fram = 10"),
        Err(ConfigError::Parse(_))
    ));
    assert!(matches!(
        Config::from_toml_str("max_frame = \"big\""),
        Err(ConfigError::Parse(_))
    ));
    assert!(matches!(
        Config::from_toml_str("listen_addr = \"not an addr\""),
        Err(ConfigError::Parse(_))
    ));
}

#[test]
fn environment_overrides_beat_the_file_and_are_validated() {
    let env = [
        ("OAP_MAX_FRAME", "65536"),
        ("OAP_BUS_CAPACITY", "128"),
        ("OAP_ALLOW_LARGE_FRAMES", "yes"),
        ("OAP_SUPERVISOR_MAX_RESTARTS", "9"),
        ("OAP_ADMIN_ADDR", "127.0.0.1:9999"),
        ("UNRELATED", "ignored"),
        ("OAP_SOMETHING_ELSE", "ignored too"),
    ];
    let c = Config::from_sources("max_frame = 1024\nbus_capacity = 8", env).unwrap();
    assert_eq!(c.max_frame, 65_536);
    assert_eq!(c.bus_capacity, 128);
    assert!(c.allow_large_frames);
    assert_eq!(c.supervisor.max_restarts, 9);
    assert_eq!(c.admin_addr.port(), 9999);

    match Config::from_sources("", [("OAP_MAX_INFLIGHT", "lots")]) {
        Err(ConfigError::Env { var, value, .. }) => {
            assert_eq!((var.as_str(), value.as_str()), ("OAP_MAX_INFLIGHT", "lots"));
        }
        other => panic!("expected an env error, got {other:?}"),
    }
    assert!(matches!(
        Config::from_sources("", [("OAP_ALLOW_LARGE_FRAMES", "maybe")]),
        Err(ConfigError::Env { .. })
    ));
    assert_eq!(
        invalid(Config::from_sources("", [("OAP_BUS_CAPACITY", "4")])),
        ValidationError::BusCapacity {
            value: 4,
            min: 8,
            max: kernel_core::bus::MAX_CAPACITY
        }
    );
    assert!(Config::from_sources("", NO_ENV).is_ok());
}

#[test]
fn every_documented_variable_overrides_something() {
    // Each variable, set to a value that parses for its field, must change the config.
    for (var, key, _) in ENV_VARS {
        let value = match key {
            "listen_addr" => "10.0.0.1:1",
            "admin_addr" => "10.0.0.1:2",
            "allow_large_frames" => "true",
            "supervisor.jitter_percent" => "3",
            "auth.anonymous" => "none",
            _ => "4242",
        };
        let mut c = Config::default();
        c.apply_env([(var, value)]).unwrap();
        assert_ne!(c, Config::default(), "{var} ({key}) changed nothing");
    }
}

#[test]
fn load_reports_a_missing_file() {
    let missing = std::path::Path::new("/nonexistent/kernel-core/config.toml");
    assert!(matches!(Config::load(missing), Err(ConfigError::Io { .. })));
}

#[test]
fn reloads_bump_the_version_only_on_change() {
    let mut store = ConfigStore::new(Config::default()).unwrap();
    assert_eq!(store.version(), 1);
    assert_eq!(store.replace(Config::default()), Ok(None));
    assert_eq!(store.version(), 1);

    let next = Config {
        max_inflight: 64,
        ..Config::default()
    };
    assert_eq!(
        store.replace(next.clone()),
        Ok(Some(KernelEvent::ConfigUpdated { version: 2 }))
    );
    let bad = Config {
        bus_capacity: 1,
        ..next.clone()
    };
    assert!(store.replace(bad).is_err());
    assert_eq!(store.version(), 2, "a refused reload keeps the old config");
    assert_eq!(*store.current(), next);
    let third = Config {
        max_inflight: 16,
        ..next
    };
    assert_eq!(
        store.replace(third),
        Ok(Some(KernelEvent::ConfigUpdated { version: 3 }))
    );
}

const HASH_A: &str = "0f3c5a1be2d4c6e8f0a2b4c6d8e0f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6";
const HASH_B: &str = "1e2d3c4b5a69788796a5b4c3d2e1f0011223344556677889900aabbccddeeff0";

#[test]
fn tenants_and_the_anonymous_policy_come_from_toml() {
    let c = Config::from_toml_str(&format!(
        r#"
        [auth]
        anonymous = "get"
        [[tenants]]
        name = "acme"
        token_hash = "{HASH_A}"
        permissions = ["put", "get", "subscribe"]
        requests_per_sec = 500
        burst = 1000
        max_stored_bytes = 1073741824
        [[tenants]]
        name = "reader"
        token_hash = "{HASH_B}"
        permissions = ["get"]
        "#
    ))
    .unwrap();
    assert_eq!(c.auth.anonymous, Some(AnonymousPolicy::Get));
    assert_eq!(c.tenants.len(), 2);
    assert_eq!(c.tenants[0].name, "acme");
    assert_eq!(
        c.tenants[0].permissions,
        [Permission::Put, Permission::Get, Permission::Subscribe]
    );
    assert_eq!(c.tenants[0].requests_per_sec, Some(500));
    assert_eq!(c.tenants[0].max_stored_bytes, Some(1 << 30));
    assert_eq!(c.tenants[1].permissions, [Permission::Get]);
    assert_eq!(
        c.tenants[1].burst, None,
        "unset limits default to the global quota"
    );
}

#[test]
fn the_anonymous_default_is_put_get_on_loopback_only() {
    let c = Config::default();
    assert_eq!(c.auth.anonymous, None);
    assert_eq!(
        c.anonymous_policy("127.0.0.1:9443".parse().unwrap()),
        AnonymousPolicy::PutGet
    );
    assert_eq!(
        c.anonymous_policy("[::1]:9443".parse().unwrap()),
        AnonymousPolicy::PutGet
    );
    assert_eq!(
        c.anonymous_policy("0.0.0.0:9443".parse().unwrap()),
        AnonymousPolicy::None
    );
    assert_eq!(
        c.anonymous_policy("192.0.2.1:9443".parse().unwrap()),
        AnonymousPolicy::None
    );
    let explicit = Config::from_sources("", [("OAP_AUTH_ANONYMOUS", "none")]).unwrap();
    assert_eq!(
        explicit.anonymous_policy("127.0.0.1:1".parse().unwrap()),
        AnonymousPolicy::None,
        "an explicit policy wins over the loopback default"
    );
    assert!(matches!(
        Config::from_sources("", [("OAP_AUTH_ANONYMOUS", "everyone")]),
        Err(ConfigError::Env { .. })
    ));
}

fn tenant_error(entries: &str) -> ValidationError {
    invalid(Config::from_toml_str(entries))
}

fn tenant(name: &str, hash: &str) -> String {
    format!("[[tenants]]\nname = {name:?}\ntoken_hash = {hash:?}\npermissions = [\"get\"]\n")
}

#[test]
fn tenant_entries_are_validated_and_errors_name_the_key() {
    let key_of = |e: ValidationError| match e {
        ValidationError::Tenant { index, key, .. } => (index, key),
        other => panic!("expected a tenant error, got {other:?}"),
    };
    let dup_name = tenant("a", HASH_A) + &tenant("a", HASH_B);
    assert_eq!(key_of(tenant_error(&dup_name)), (1, "name"));
    let dup_hash = tenant("a", HASH_A) + &tenant("b", &HASH_A.to_uppercase());
    assert_eq!(key_of(tenant_error(&dup_hash)), (1, "token_hash"));
    assert_eq!(key_of(tenant_error(&tenant("a", "abc"))), (0, "token_hash"));
    let not_hex = HASH_A.replace('f', "g");
    assert_eq!(
        key_of(tenant_error(&tenant("a", &not_hex))),
        (0, "token_hash")
    );
    let long = "n".repeat(65);
    assert_eq!(key_of(tenant_error(&tenant(&long, HASH_A))), (0, "name"));
    let max = "n".repeat(64);
    assert!(
        Config::from_toml_str(&tenant(&max, HASH_A)).is_ok(),
        "64 bytes is allowed"
    );
    assert_eq!(key_of(tenant_error(&tenant("", HASH_A))), (0, "name"));
    assert_eq!(key_of(tenant_error(&tenant("a b", HASH_A))), (0, "name"));
    assert_eq!(
        key_of(tenant_error(&tenant("anonymous", HASH_A))),
        (0, "name")
    );
    let zero_rate = tenant("a", HASH_A) + "requests_per_sec = 0\n";
    assert_eq!(key_of(tenant_error(&zero_rate)), (0, "requests_per_sec"));
    let shown = tenant_error(&dup_name).to_string();
    assert!(shown.starts_with("tenants[1].name: "), "{shown}");
}

#[test]
fn a_tenant_may_be_proven_by_a_certificate_name_instead_of_or_besides_a_token() {
    let c = Config::from_toml_str(&format!(
        "[[tenants]]\nname = \"edge\"\ncert_name = \"edge-device-7\"\npermissions = [\"put\"]\n\
         [[tenants]]\nname = \"both\"\ntoken_hash = \"{HASH_A}\"\ncert_name = \"both\"\n\
         permissions = [\"get\"]\n"
    ))
    .expect("a cert_name alone, and both together, are valid");
    assert_eq!(c.tenants[0].token_hash, None);
    assert_eq!(c.tenants[0].cert_name.as_deref(), Some("edge-device-7"));
    assert_eq!(c.tenants[1].cert_name.as_deref(), Some("both"));

    let key_of = |e: ValidationError| match e {
        ValidationError::Tenant { index, key, .. } => (index, key),
        other => panic!("expected a tenant error, got {other:?}"),
    };
    let neither = "[[tenants]]\nname = \"a\"\npermissions = [\"get\"]\n";
    assert_eq!(key_of(tenant_error(neither)), (0, "token_hash"));
    let cert = |name: &str, cn: &str| {
        format!("[[tenants]]\nname = {name:?}\ncert_name = {cn:?}\npermissions = [\"get\"]\n")
    };
    let dup = cert("a", "same") + &cert("b", "same");
    assert_eq!(key_of(tenant_error(&dup)), (1, "cert_name"));
    assert_eq!(key_of(tenant_error(&cert("a", ""))), (0, "cert_name"));
    assert_eq!(
        key_of(tenant_error(&cert("a", "tab\there"))),
        (0, "cert_name")
    );
    let long = "c".repeat(256);
    assert_eq!(key_of(tenant_error(&cert("a", &long))), (0, "cert_name"));
}

#[test]
fn unknown_permissions_and_anonymous_policies_are_parse_errors_naming_the_value() {
    let bad_perm = format!(
        "[[tenants]]\nname = \"a\"\ntoken_hash = \"{HASH_A}\"\npermissions = [\"delete\"]\n"
    );
    match Config::from_toml_str(&bad_perm) {
        Err(ConfigError::Parse(e)) => {
            let text = e.to_string();
            assert!(
                text.contains("delete") && text.contains("permissions"),
                "{text}"
            );
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
    match Config::from_toml_str("[auth]\nanonymous = \"all\"\n") {
        Err(ConfigError::Parse(e)) => assert!(e.to_string().contains("anonymous"), "{e}"),
        other => panic!("expected a parse error, got {other:?}"),
    }
    let no_perms = format!("[[tenants]]\nname = \"a\"\ntoken_hash = \"{HASH_A}\"\n");
    assert!(
        matches!(Config::from_toml_str(&no_perms), Err(ConfigError::Parse(_))),
        "permissions must be spelled out"
    );
}
