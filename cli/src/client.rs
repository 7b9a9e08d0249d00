//! The CLI as a client of a running `baton serve`: a small blocking HTTP client that
//! sends the bearer token and turns the server's problem+json answers back into the
//! same exit codes and messages as the commands on a database.

use crate::exit::Code;
use baton_server::Problem;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

pub struct Client {
    base: String,
    token: String,
    agent: ureq::Agent,
}

/// Where the token is kept when BATON_TOKEN is not set.
pub fn token_file() -> Option<PathBuf> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(config.join("baton").join("token"))
}

fn read_token() -> Result<String, (Code, String)> {
    if let Some(t) = std::env::var("BATON_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(t.trim().to_string());
    }
    let file = token_file();
    if let Some(t) = file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .filter(|t| !t.trim().is_empty())
    {
        return Ok(t.trim().to_string());
    }
    Err((
        Code::Usage,
        format!(
            "no token: set BATON_TOKEN or put it in {} (an admin issues one with `baton token issue PERSON`)",
            file.map(|f| f.display().to_string())
                .unwrap_or_else(|| "~/.config/baton/token".into())
        ),
    ))
}

/// Percent-encode a query value.
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct Page<T> {
    items: Vec<T>,
    next: Option<String>,
}

/// The most pages a list follows (500 items each).
const MAX_PAGES: usize = 100;

impl Client {
    pub fn new(base: &str) -> Result<Client, (Code, String)> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err((
                Code::Usage,
                format!("`{base}` is not a server address (like http://127.0.0.1:8080)"),
            ));
        }
        Ok(Client {
            base,
            token: read_token()?,
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .build(),
        })
    }

    fn answer<T: DeserializeOwned>(
        &self,
        res: Result<ureq::Response, ureq::Error>,
    ) -> Result<T, (Code, String)> {
        match res {
            Ok(r) => r.into_json().map_err(|e| {
                (
                    Code::Storage,
                    format!(
                        "the Baton server at {} sent an answer this CLI cannot read: {e}",
                        self.base
                    ),
                )
            }),
            Err(ureq::Error::Status(status, r)) => {
                let text = r.into_string().unwrap_or_default();
                Err(self.problem(status, &text))
            }
            Err(ureq::Error::Transport(t)) => {
                // ureq's text starts with the whole URL; the server's address is enough.
                let text = t.to_string();
                let why = match t.url() {
                    Some(u) => text
                        .strip_prefix(&format!("{u}: "))
                        .unwrap_or(&text)
                        .to_string(),
                    None => text,
                };
                Err((
                    Code::Storage,
                    format!("cannot reach the Baton server at {}: {why}", self.base),
                ))
            }
        }
    }

    /// The exit code and message for an error answer: the same as the command on a
    /// database gives for the same refusal.
    fn problem(&self, status: u16, body: &str) -> (Code, String) {
        let Ok(p) = serde_json::from_str::<Problem>(body) else {
            return (
                Code::Storage,
                format!(
                    "the Baton server at {} answered {status}: {body}",
                    self.base
                ),
            );
        };
        let kind = p.kind.rsplit(':').next().unwrap_or("");
        let code = match (status, kind) {
            (401, _) => {
                return (
                    Code::Forbidden,
                    format!(
                        "the Baton server at {} does not accept this token ({}): check BATON_TOKEN or {}",
                        self.base,
                        p.detail,
                        token_file()
                            .map(|f| f.display().to_string())
                            .unwrap_or_else(|| "~/.config/baton/token".into())
                    ),
                )
            }
            (403, _) => Code::Forbidden,
            (404, _) => Code::NotFound,
            (409, _) => Code::Conflict,
            (422, "invalid-data") => {
                let lines: Vec<String> = p
                    .errors
                    .iter()
                    .map(|e| format!("  `{}`: {}", e.field, e.message))
                    .collect();
                return (Code::Invalid, format!("invalid data:\n{}", lines.join("\n")));
            }
            (422, "requirement") => {
                let fields: Vec<String> = p.errors.iter().map(|e| e.field.clone()).collect();
                return (Code::Requirement, requirement(&p.detail, &fields));
            }
            (422, "idempotency-key-reused") => Code::Usage,
            (422, "stuck") => Code::Stuck,
            (422, "definition") => {
                let lines: Vec<String> = p
                    .diagnostics
                    .iter()
                    .map(|d| {
                        format!(
                            "error[{}]: {}\n  --> {}:{}:{}",
                            d.code, d.message, d.file, d.line, d.column
                        )
                    })
                    .collect();
                return (Code::Problems, lines.join("\n"));
            }
            (s, _) if s >= 500 => Code::Storage,
            _ => Code::Usage,
        };
        let mut msg = p.detail;
        for e in &p.errors {
            if !msg.contains(&e.message) {
                msg.push_str(&format!("\n  `{}`: {}", e.field, e.message));
            }
        }
        (code, msg)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, (Code, String)> {
        let res = self
            .agent
            .get(&self.url(path))
            .set("Authorization", &format!("Bearer {}", self.token))
            .call();
        self.answer(res)
    }

    /// Every item of a paginated list, following its cursors.
    pub fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, (Code, String)> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit=500&cursor={}", encode(c)),
                None => format!("{path}{sep}limit=500"),
            };
            let page: Page<T> = self.get(&url)?;
            out.extend(page.items);
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        Ok(out)
    }

    pub fn delete<T: DeserializeOwned>(&self, path: &str) -> Result<T, (Code, String)> {
        let res = self
            .agent
            .delete(&self.url(path))
            .set("Authorization", &format!("Bearer {}", self.token))
            .call();
        self.answer(res)
    }

    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
        idempotency_key: Option<&str>,
    ) -> Result<T, (Code, String)> {
        let mut req = self
            .agent
            .post(&self.url(path))
            .set("Authorization", &format!("Bearer {}", self.token));
        if let Some(k) = idempotency_key {
            req = req.set("Idempotency-Key", k);
        }
        let res = req.send_json(body);
        self.answer(res)
    }
}

/// A refused `require` or `check`: its message, and the fields the condition reads.
pub fn requirement(message: &str, fields: &[String]) -> String {
    if fields.is_empty() {
        return message.to_string();
    }
    let names: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    format!("{message}\n  fields: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("cs_manager"), "cs_manager");
        assert_eq!(super::encode("a b&c"), "a%20b%26c");
        assert_eq!(super::encode("客"), "%E5%AE%A2");
    }
}
