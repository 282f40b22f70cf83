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

/// Whether subscription `topic` wants `event`: whether `topic` is `*`, or
/// [`topic_of`] the event, or a prefix of it at a `/` boundary. Builds no
/// path: it runs under the bus's lock for every event a waiting
/// subscription is offered.
pub fn matches(topic: &str, event: &KernelEvent) -> bool {
    if topic == "*" {
        return true;
    }
    let (kind, service) = match event {
        KernelEvent::Health { service, .. } => ("health", Some(service.as_str())),
        KernelEvent::ConfigUpdated { .. } => ("config", None),
        KernelEvent::ServiceCrashed { service, .. } => ("crashed", Some(service.as_str())),
        KernelEvent::Shutdown => ("shutdown", None),
    };
    // The path is `kind`, then `/service` for the events that name one.
    let Some(rest) = topic.strip_prefix(kind) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let (Some(service), Some(wanted)) = (service, rest.strip_prefix('/')) else {
        return false;
    };
    service
        .strip_prefix(wanted)
        .is_some_and(|after| after.is_empty() || after.starts_with('/'))
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

    /// The definition: `*`, the path, or a prefix of it at a `/`.
    fn matches_by_path(topic: &str, event: &KernelEvent) -> bool {
        let path = topic_of(event);
        topic == "*"
            || path == topic
            || path
                .strip_prefix(topic)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Every topic against every event, services with slashes and empty
    /// ones included, as the path would decide.
    #[test]
    fn matching_without_a_path_decides_as_the_path_does() {
        let services = ["", "a", "ab", "a/b", "a/", "/a", "/", "storage", "x/y/z"];
        let mut events = vec![
            KernelEvent::ConfigUpdated { version: 1 },
            KernelEvent::Shutdown,
        ];
        for s in services {
            events.push(KernelEvent::Health {
                service: s.into(),
                ok: true,
            });
            events.push(KernelEvent::ServiceCrashed {
                service: s.into(),
                reason: "r".into(),
            });
        }
        let mut topics: Vec<String> = ["", "*", "/", "h", "heal", "healthy", "config/", "configs"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        for kind in ["health", "crashed", "config", "shutdown"] {
            topics.push(kind.into());
            topics.push(format!("{kind}/"));
            for s in services {
                topics.push(format!("{kind}/{s}"));
                topics.push(format!("{kind}/{s}/"));
                topics.push(format!("{kind}/{s}x"));
                topics.push(format!("{kind}{s}"));
            }
        }
        let mut matched = 0;
        for topic in &topics {
            for event in &events {
                let want = matches_by_path(topic, event);
                assert_eq!(matches(topic, event), want, "{topic:?} {event:?}");
                matched += usize::from(want);
            }
        }
        assert!(matched > events.len(), "the table exercises matches too");
    }
}
