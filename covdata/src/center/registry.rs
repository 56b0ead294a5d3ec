//! The registry: every agent the center knows, as `registry.json` keeps
//! it. Ids are never reused by a store: `next_id` only grows, `init`
//! included.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::client::Selection;
use super::wire::{AgentInfo, Register, Status};

/// One agent, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub id: u64,
    pub service: String,
    pub host: String,
    pub pid: u64,
    pub argv: Vec<String>,
    pub start_time_ns: u64,
    pub meta_hash: String,
    pub label: String,
    pub version: String,
    /// Sent its final counters.
    pub exited: bool,
    pub last_seen_ns: u64,
    /// Name of its counter file in the store's `cov/`, unique in the
    /// store: `covcounters.<H>.<pid>.<start ns, made unique>`.
    pub counters_name: String,
}

impl AgentRecord {
    /// The row `GET /v1/agents` shows, given whether it is live now.
    pub fn info(&self, status: Status) -> AgentInfo {
        AgentInfo {
            id: self.id,
            service: self.service.clone(),
            host: self.host.clone(),
            pid: self.pid,
            argv: self.argv.clone(),
            label: self.label.clone(),
            meta_hash: self.meta_hash.clone(),
            version: self.version.clone(),
            start_time_ns: self.start_time_ns,
            status,
            last_seen_ns: self.last_seen_ns,
        }
    }

    /// The same process as `reg` describes.
    pub fn same_process(&self, reg: &Register) -> bool {
        self.pid == reg.pid
            && self.start_time_ns == reg.start_time_ns
            && self.host == reg.host
            && self.meta_hash == reg.meta_hash
    }
}

/// `registry.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// The next id to give.
    pub next_id: u64,
    /// Agents by id.
    pub agents: BTreeMap<u64, AgentRecord>,
}

/// A [`Selection`] checked and compiled.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    services: Vec<String>,
    ids: Vec<u64>,
    label: Option<Regex>,
}

impl Filter {
    /// Compiles `sel`; the label regex must match the whole label.
    pub fn new(sel: &Selection) -> Result<Filter, String> {
        let label =
            match &sel.label {
                Some(l) => Some(Regex::new(&format!("^(?:{l})$")).map_err(|e| {
                    format!("bad label regex {l:?}: {}", first_line(&e.to_string()))
                })?),
                None => None,
            };
        Ok(Filter {
            services: sel.services.clone(),
            ids: sel.ids.clone(),
            label,
        })
    }

    /// Whether `agent` is selected.
    pub fn matches(&self, agent: &AgentRecord) -> bool {
        (self.services.is_empty() || self.services.contains(&agent.service))
            && (self.ids.is_empty() || self.ids.contains(&agent.id))
            && self.label.as_ref().is_none_or(|r| r.is_match(&agent.label))
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses the selector query parameters `service`, `id` and `label`.
pub fn selection_from_query(query: &BTreeMap<String, String>) -> Result<Selection, String> {
    let list = |key: &str| -> Vec<String> {
        query
            .get(key)
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut ids = Vec::new();
    for id in list("id") {
        ids.push(
            id.parse::<u64>()
                .map_err(|_| format!("bad agent id {id:?}"))?,
        );
    }
    Ok(Selection {
        services: list("service"),
        ids,
        label: query.get("label").cloned(),
    })
}

impl Registry {
    /// A unique counter file name for a new agent of `reg`.
    pub fn counters_name(&self, reg: &Register, hash: &[u8; 16]) -> String {
        let mut nanos = reg.start_time_ns;
        loop {
            let name = covwrap_rt::format::names::counters_file_name(hash, reg.pid, nanos);
            if !self.agents.values().any(|a| a.counters_name == name) {
                return name;
            }
            nanos = nanos.wrapping_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: u64, service: &str, label: &str) -> AgentRecord {
        AgentRecord {
            id,
            service: service.into(),
            host: "h".into(),
            pid: 1,
            argv: vec![],
            start_time_ns: 5,
            meta_hash: "00".repeat(16),
            label: label.into(),
            version: String::new(),
            exited: false,
            last_seen_ns: 0,
            counters_name: String::new(),
        }
    }

    #[test]
    fn filters() {
        let q = |pairs: &[(&str, &str)]| {
            let map = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            Filter::new(&selection_from_query(&map).unwrap()).unwrap()
        };
        let a = agent(3, "orders", "canary-1");
        assert!(q(&[]).matches(&a));
        assert!(q(&[("service", "x,orders")]).matches(&a));
        assert!(!q(&[("service", "order")]).matches(&a));
        assert!(q(&[("id", "1,3")]).matches(&a));
        assert!(!q(&[("id", "4")]).matches(&a));
        assert!(q(&[("label", "canary-.*")]).matches(&a));
        assert!(!q(&[("label", "canary")]).matches(&a), "whole label");
        let bad: BTreeMap<String, String> = [("id".to_string(), "x".to_string())].into();
        assert!(selection_from_query(&bad).is_err());
        let sel = Selection {
            label: Some("(".into()),
            ..Default::default()
        };
        assert!(Filter::new(&sel).unwrap_err().contains("bad label regex"));
    }

    #[test]
    fn registry_round_trips_and_names_stay_unique() {
        let mut r = Registry {
            next_id: 2,
            ..Default::default()
        };
        let reg = Register {
            pid: 1,
            start_time_ns: 5,
            ..Default::default()
        };
        let mut a = agent(1, "s", "");
        a.counters_name = r.counters_name(&reg, &[0; 16]);
        r.agents.insert(1, a);
        let second = r.counters_name(&reg, &[0; 16]);
        assert_ne!(second, r.agents[&1].counters_name);
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Registry>(&json).unwrap(), r);
    }
}
