//! A loop that retries every round must not print the same failure every
//! round: each failure is keyed by what failed (the source, an output, the
//! state file, the `--on-change` command), printed when it first happens
//! or when its message changes, and once more when that thing works again.

use std::collections::BTreeMap;

/// The failures currently in effect, by key.
#[derive(Debug, Default)]
pub struct Failures {
    current: BTreeMap<String, String>,
}

impl Failures {
    /// Records that `key` failed with `message`; returns the line to
    /// print (`key: message`), or `None` when exactly this failure was
    /// already reported.
    pub fn failed(&mut self, key: &str, message: &str) -> Option<String> {
        match self.current.get(key) {
            Some(m) if m == message => None,
            _ => {
                self.current.insert(key.to_string(), message.to_string());
                Some(format!("{key}: {message}"))
            }
        }
    }

    /// Records that `key` worked; returns the recovery line when it had
    /// been failing.
    pub fn ok(&mut self, key: &str) -> Option<String> {
        self.current
            .remove(key)
            .map(|_| format!("{key}: working again"))
    }

    /// Whether `key` is failing now.
    pub fn is_failing(&self, key: &str) -> bool {
        self.current.contains_key(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_failure_then_once_on_recovery() {
        let mut f = Failures::default();
        assert_eq!(f.ok("source"), None);
        assert_eq!(f.failed("source", "down").as_deref(), Some("source: down"));
        assert_eq!(f.failed("source", "down"), None);
        assert_eq!(f.failed("other", "x").as_deref(), Some("other: x"));
        assert_eq!(
            f.failed("source", "refused").as_deref(),
            Some("source: refused")
        );
        assert!(f.is_failing("source"));
        assert_eq!(f.ok("source").as_deref(), Some("source: working again"));
        assert_eq!(f.ok("source"), None);
        assert_eq!(f.failed("source", "down").as_deref(), Some("source: down"));
    }
}
