//! Parse + check throughput: over the company's definitions in processes/, and over
//! generated definitions of 1,000 / 10,000 / 20,000 steps to show that checking
//! stays linear in a definition's size.
//!
//! Also a file with 10,000 diagnostics (unreachable steps), checked and reported,
//! against a clean file of the same size.
//!
//! Run: `cargo bench -p baton-dsl --bench check`

use std::time::{Duration, Instant};

/// A chain of `n` task steps with a decision every tenth step, as a large real
/// definition would have.
fn generated(n: usize) -> String {
    let mut s = String::from(
        "process big \"大流程\" {\n  data {\n    score integer 0..100\n    note text?\n  }\n",
    );
    for i in 0..n {
        let next = if i + 1 == n {
            "done".to_string()
        } else {
            format!("s{}", i + 1)
        };
        if i % 10 == 9 {
            s.push_str(&format!(
                "  step s{i} \"第{i}步\" {{\n    rule {{\n      score >= 60 -> {next}\n      score < 60 -> {next}\n    }}\n  }}\n"
            ));
        } else {
            s.push_str(&format!(
                "  step s{i} \"第{i}步\" {{\n    task for starter\n    fill note\n    due 2h\n    remind 30m before due\n    next {next}\n  }}\n"
            ));
        }
    }
    s.push_str("  end done \"完成\"\n}\n");
    s
}

/// Run `f` repeatedly for at least `budget`; returns runs per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let start = Instant::now();
    let mut runs = 0u64;
    while start.elapsed() < budget {
        f();
        runs += 1;
    }
    runs as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    diagnostics_case();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../processes");
    let mut sources: Vec<String> = std::fs::read_dir(&dir)
        .expect("processes/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    sources.sort();
    let bytes: usize = sources.iter().map(String::len).sum();
    let ctx = baton_dsl::Context::default();
    let per_sec = rate(Duration::from_secs(2), || {
        for s in &sources {
            let out = baton_dsl::check(s, &ctx);
            assert!(out.definition.is_some());
        }
    });
    println!(
        "processes/: {} definitions, {} bytes: {:.0} definitions/s, {:.1} MB/s",
        sources.len(),
        bytes,
        per_sec * sources.len() as f64,
        per_sec * bytes as f64 / 1e6
    );

    let mut base: Option<(usize, f64)> = None;
    for n in [1_000, 10_000, 20_000] {
        let src = generated(n);
        let per_sec = rate(Duration::from_secs(3), || {
            let out = baton_dsl::check(&src, &ctx);
            assert!(out.definition.is_some(), "{:?}", out.diagnostics.first());
        });
        let secs_per_step = 1.0 / per_sec / n as f64;
        let ratio = base.map_or(1.0, |(_, b)| secs_per_step / b);
        if base.is_none() {
            base = Some((n, secs_per_step));
        }
        println!(
            "generated {n:>6} steps, {:>8} bytes: {:.2} definitions/s, {:.1} MB/s, {:.2} µs/step ({ratio:.2}x the 1,000-step cost per step)",
            src.len(),
            per_sec,
            per_sec * src.len() as f64 / 1e6,
            secs_per_step * 1e6
        );
    }
}

/// `n` steps after the first, in a chain: reachable (`clean`), or, when the first step
/// goes straight to the end, none of them, one warning each. Both files are the same
/// size to a byte.
fn many_steps(n: usize, clean: bool) -> String {
    let first = if clean { "s1" } else { "e" };
    let mut s =
        format!("process many {{\n  step s0 {{\n    task for starter\n    next {first}\n  }}\n");
    for i in 1..=n {
        let next = if i == n {
            "e".to_string()
        } else {
            format!("s{}", i + 1)
        };
        s.push_str(&format!(
            "  step s{i} {{ task for starter  next {next} }}\n"
        ));
    }
    s.push_str("  end e\n}\n");
    s
}

/// Checking and reporting a file with 10,000 diagnostics, against checking a clean file
/// of the same size in the same run: reporting must cost about as much as checking,
/// not grow with diagnostics times file size.
fn diagnostics_case() {
    let n = 10_000;
    let ctx = baton_dsl::Context::default();
    let clean = many_steps(n, true);
    let noisy = many_steps(n, false);
    let time = |f: &mut dyn FnMut()| {
        let runs = 3;
        f();
        let start = Instant::now();
        for _ in 0..runs {
            f();
        }
        start.elapsed().as_secs_f64() / runs as f64
    };
    let base = time(&mut || {
        let out = baton_dsl::check(&clean, &ctx);
        assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics.first());
    });
    let mut count = 0;
    let checked = time(&mut || {
        count = baton_dsl::check(&noisy, &ctx).diagnostics.len();
    });
    let mut bytes = 0;
    let reported = time(&mut || {
        let out = baton_dsl::check(&noisy, &ctx);
        bytes = baton_dsl::Located::all("many.flow", &noisy, out.diagnostics)
            .iter()
            .map(|l| l.render(&noisy).len())
            .sum();
    });
    assert_eq!(count, n);
    // For comparison, the way diagnostics were located before: each one scanning the
    // file from its start for its line and column, and again for its line's text.
    let scanning = time(&mut || {
        let out = baton_dsl::check(&noisy, &ctx);
        for d in out.diagnostics {
            let (line, _) = baton_dsl::diagnostic::line_col(&noisy, d.span.start);
            let _ = baton_dsl::diagnostic::line_col(&noisy, d.span.end);
            std::hint::black_box(noisy.lines().nth(line - 1));
        }
    });
    println!(
        "clean file, {n} steps, {} bytes: check {:.1} ms (baseline)",
        clean.len(),
        base * 1e3
    );
    println!(
        "{count} diagnostics, {} bytes: check {:.1} ms ({:.2}x baseline); check, locate and render ({bytes} bytes of text) {:.1} ms ({:.2}x baseline)",
        noisy.len(),
        checked * 1e3,
        checked / base,
        reported * 1e3,
        reported / base
    );
    println!(
        "  (locating each by scanning from the start of the file, as before: {:.1} ms, {:.2}x baseline)",
        scanning * 1e3,
        scanning / base
    );
}
