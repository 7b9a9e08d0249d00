//! A decision over 8 fields with 200 rules: how long `check` takes to analyse it
//! (coverage, useless rules, overlaps), against the same definition whose rule
//! conditions read one field each, measured in the same run.
//!
//! Run: `cargo bench -p baton-dsl --bench decide`

use std::time::{Duration, Instant};

/// A small deterministic generator, so every run checks the same rules.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const FIELDS: &str = "
    channel  hotline | app | onsite | email
    severity minor | general | major
    region   north | south | east | west
    kind     refund | delay | staff | other
    vip      bool
    repeat   bool
    amount   integer 0..10000
    age      integer 0..120
";

fn condition(r: &mut Lcg, several: bool) -> String {
    let atoms: [&dyn Fn(&mut Lcg) -> String; 8] = [
        &|r| {
            [
                "channel == hotline",
                "channel in {app, email}",
                "channel != onsite",
            ][r.next(3) as usize]
                .into()
        },
        &|r| {
            [
                "severity == major",
                "severity != minor",
                "severity == general",
            ][r.next(3) as usize]
                .into()
        },
        &|r| {
            [
                "region in {north, east}",
                "region == west",
                "region != south",
            ][r.next(3) as usize]
                .into()
        },
        &|r| {
            ["kind == refund", "kind in {delay, staff}", "kind != other"][r.next(3) as usize].into()
        },
        &|r| ["vip", "not vip"][r.next(2) as usize].into(),
        &|r| ["repeat", "not repeat"][r.next(2) as usize].into(),
        &|r| format!("amount >= {}", r.next(100) * 100),
        &|r| format!("age in {}..{}", r.next(60), 60 + r.next(60)),
    ];
    if !several {
        return format!("amount >= {}", r.next(10000));
    }
    let n = 1 + r.next(4) as usize;
    let mut parts = Vec::new();
    for _ in 0..n {
        let f = r.next(8) as usize;
        parts.push(atoms[f](r));
    }
    parts.join(" and ")
}

fn definition(several: bool) -> String {
    let mut r = Lcg(42);
    let mut s = format!("process bench {{\n  data {{{FIELDS}  }}\n  step decide {{\n    rule {{\n");
    for i in 0..200 {
        let target = if i % 2 == 0 { "done" } else { "other" };
        s.push_str(&format!(
            "      {} -> {target}\n",
            condition(&mut r, several)
        ));
    }
    s.push_str("      otherwise -> done\n    }\n  }\n  end done\n  end other\n}\n");
    s
}

fn time(src: &str) -> (Duration, usize) {
    let ctx = baton_dsl::Context::default();
    let mut best = Duration::MAX;
    let mut diags = 0;
    for _ in 0..10 {
        let t = Instant::now();
        let out = baton_dsl::check(src, &ctx);
        best = best.min(t.elapsed());
        diags = out.diagnostics.len();
    }
    (best, diags)
}

fn main() {
    let several = definition(true);
    let one = definition(false);
    let (t_several, d_several) = time(&several);
    let (t_one, d_one) = time(&one);
    println!(
        "decision, 8 fields x 200 rules: {:.1} ms ({} diagnostics); one field x 200 rules: {:.1} ms ({} diagnostics); ratio {:.1}x",
        t_several.as_secs_f64() * 1e3,
        d_several,
        t_one.as_secs_f64() * 1e3,
        d_one,
        t_several.as_secs_f64() / t_one.as_secs_f64()
    );
}
