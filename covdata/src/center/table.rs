//! `covdata agents`: one row per agent.

use super::wire::AgentInfo;
use crate::report::tabwriter::{render, Padding};

/// The table `covdata agents` prints: id, service, host, pid, label,
/// status, last seen (seconds before `now_ns`), meta hash.
pub fn agents_table(agents: &[AgentInfo], now_ns: u64) -> String {
    let mut rows = vec![[
        "ID",
        "SERVICE",
        "HOST",
        "PID",
        "LABEL",
        "STATUS",
        "LAST SEEN",
        "META",
    ]
    .map(String::from)
    .to_vec()];
    for a in agents {
        let ago = now_ns.saturating_sub(a.last_seen_ns) / 1_000_000_000;
        rows.push(vec![
            a.id.to_string(),
            a.service.clone(),
            a.host.clone(),
            a.pid.to_string(),
            if a.label.is_empty() {
                "-".into()
            } else {
                a.label.clone()
            },
            a.status.as_str().to_string(),
            format!("{ago}s ago"),
            a.meta_hash.clone(),
        ]);
    }
    render(&rows, Padding::Spaces(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::center::wire::Status;

    #[test]
    fn one_row_per_agent() {
        let a = AgentInfo {
            id: 3,
            service: "orders".into(),
            host: "web-1".into(),
            pid: 42,
            argv: vec![],
            label: String::new(),
            meta_hash: "ab".repeat(16),
            version: "0.1.0".into(),
            start_time_ns: 0,
            status: Status::Connected,
            last_seen_ns: 1_000_000_000,
        };
        let t = agents_table(&[a], 3_500_000_000);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ID  SERVICE"));
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells[..7],
            ["3", "orders", "web-1", "42", "-", "connected", "2s"]
        );
    }
}
