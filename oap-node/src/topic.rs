//! Subscription topics over kernel events.
//!
//! Every event has a topic path: `health/<service>`, `config`,
//! `crashed/<service>`, `shutdown`. A subscription topic matches an event
//! when it equals the path, is a prefix of it at a `/` boundary, or is `*`.

use kernel_core::KernelEvent;

/// The topic path of `event`.
pub fn topic_of(event: &KernelEvent) -> String {
    match event {
        KernelEvent::Health { service, .. } => format!("health/{service}"),
        KernelEvent::ConfigUpdated { .. } => "config".to_owned(),
        KernelEvent::ServiceCrashed { service, .. } => format!("crashed/{service}"),
        KernelEvent::Shutdown => "shutdown".to_owned(),
    }
}

/// Whether subscription `topic` wants `event`.
pub fn matches(topic: &str, event: &KernelEvent) -> bool {
    if topic == "*" {
        return true;
    }
    let path = topic_of(event);
    path == topic
        || path
            .strip_prefix(topic)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_at_boundaries_only() {
        let h = KernelEvent::Health {
            service: "storage".into(),
            ok: true,
        };
        assert!(matches("health", &h));
        assert!(matches("health/storage", &h));
        assert!(matches("*", &h));
        assert!(!matches("health/stor", &h));
        assert!(!matches("heal", &h));
        assert!(!matches("config", &h));
        assert!(matches("shutdown", &KernelEvent::Shutdown));
    }
}
