//! Raw HTTP calls to the API with JSON bodies, where a connection that fails (a
//! server killed under the call) is an answer the test looks at, not a panic.

use std::time::Duration;

use serde_json::Value;

pub struct Api {
    base: String,
    agent: ureq::Agent,
}

impl Api {
    pub fn new(base: &str) -> Api {
        Api {
            base: base.to_string(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    /// A request and its answer's status and JSON body (null if it had none); an
    /// error if no answer came.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<(u16, Value), String> {
        let mut req = self
            .agent
            .request(method, &format!("{}{path}", self.base))
            .set("Authorization", &format!("Bearer {token}"));
        if let Some(k) = idempotency_key {
            req = req.set("Idempotency-Key", k);
        }
        let res = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        let r = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => return Err(e.to_string()),
        };
        let status = r.status();
        let text = r.into_string().map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// A call that must succeed: its JSON.
    #[track_caller]
    pub fn ok(&self, method: &str, path: &str, token: &str, body: Option<&Value>) -> Value {
        match self.call(method, path, token, body, None) {
            Ok((s, v)) if (200..300).contains(&s) => v,
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    /// A token for `person`, issued by the admin.
    pub fn issue(&self, admin: &str, person: &str) -> String {
        let v = self.ok(
            "POST",
            "/tokens",
            admin,
            Some(&serde_json::json!({ "person": person })),
        );
        v["token"].as_str().expect("a token").to_string()
    }
}
