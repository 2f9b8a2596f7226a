//! Rate-limit headers and scripted 429s.

use std::sync::Mutex;

/// One scripted limit: optional method, path pattern segments, refusals left.
type Rule = (Option<String>, Vec<String>, u32);

/// Scripted rate limits: route patterns with the number of requests still to refuse.
#[derive(Debug, Default)]
pub struct ScriptedLimits {
    rules: Mutex<Vec<Rule>>,
}

impl ScriptedLimits {
    /// Adds a rule (see [`crate::Simulator::rate_limit`]).
    pub fn add(&self, route: &str, count: u32) {
        let (method, path) = match route.split_once(' ') {
            Some((m, p)) => (Some(m.trim().to_ascii_uppercase()), p.trim()),
            None => (None, route.trim()),
        };
        let segs = split(path.strip_prefix("/api/v10").unwrap_or(path));
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((method, segs, count));
    }

    /// Whether this request is to be refused now (consumes one refusal).
    pub fn hit(&self, method: &str, segs: &[&str]) -> bool {
        let mut rules = self
            .rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (m, pattern, left) in rules.iter_mut() {
            if *left == 0 || m.as_deref().is_some_and(|m| m != method) {
                continue;
            }
            if pattern.len() == segs.len()
                && pattern.iter().zip(segs).all(|(p, s)| p == "*" || p == s)
            {
                *left -= 1;
                return true;
            }
        }
        rules.retain(|(_, _, left)| *left > 0);
        false
    }
}

fn split(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The bucket name of a route: its major parameter kept, other ids replaced.
pub fn bucket(method: &str, segs: &[&str]) -> String {
    let mut out = String::from(method);
    for (i, s) in segs.iter().enumerate() {
        out.push('/');
        let major = i == 1 && matches!(segs[0], "channels" | "guilds" | "webhooks");
        if !major && s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            out.push_str("{id}");
        } else {
            out.push_str(s);
        }
    }
    // A short stable hash, like Discord's opaque bucket ids.
    let hash = out.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("{hash:016x}")
}
