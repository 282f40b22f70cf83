//! Bounded JSON decoding: size and depth checked before serde runs.

use serde::de::DeserializeOwned;

use super::PayloadError;
use crate::limits::{MAX_CONTROL_JSON, MAX_JSON_DEPTH};

/// Parses `bytes` as JSON into `T`, refusing oversized or deeply nested
/// input up front.
pub(crate) fn from_slice_bounded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PayloadError> {
    if bytes.len() > MAX_CONTROL_JSON {
        return Err(PayloadError::JsonTooLarge {
            len: bytes.len(),
            max: MAX_CONTROL_JSON,
        });
    }
    check_depth(bytes, MAX_JSON_DEPTH)?;
    serde_json::from_slice(bytes).map_err(|e| PayloadError::json(&e))
}

/// One linear pass counting open brackets outside strings. It does not
/// validate JSON (serde does that next); it only guarantees serde never
/// recurses deeper than `max`.
fn check_depth(bytes: &[u8], max: usize) -> Result<(), PayloadError> {
    // Depth never exceeds the number of opening brackets; counting them is
    // a branch-free pass the compiler vectorises, and control payloads have
    // one or two, so the string-aware pass below rarely runs.
    let openers = bytes.iter().filter(|&&b| b == b'{' || b == b'[').count();
    if openers <= max {
        return Ok(());
    }
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(PayloadError::JsonTooDeep { max });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_only_structure_outside_strings() {
        let deep = format!("{}{}", "[".repeat(17), "]".repeat(17));
        assert!(matches!(
            check_depth(deep.as_bytes(), 16),
            Err(PayloadError::JsonTooDeep { max: 16 })
        ));
        let ok = format!("{}{}", "[".repeat(16), "]".repeat(16));
        assert!(check_depth(ok.as_bytes(), 16).is_ok());
        let quoted = format!("{{\"k\":\"{}\\\"{}\"}}", "[".repeat(100), "{".repeat(100));
        assert!(check_depth(quoted.as_bytes(), 2).is_ok());
    }

    #[test]
    fn a_million_brackets_is_an_error_not_a_stack_overflow() {
        let bomb = vec![b'['; 60_000];
        let r: Result<serde_json::Value, _> = from_slice_bounded(&bomb);
        assert!(matches!(r, Err(PayloadError::JsonTooDeep { .. })));
        let huge = vec![b' '; MAX_CONTROL_JSON + 1];
        let r: Result<serde_json::Value, _> = from_slice_bounded(&huge);
        assert!(matches!(r, Err(PayloadError::JsonTooLarge { .. })));
    }
}
