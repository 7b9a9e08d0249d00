//! Diagrams of a checked definition, in Mermaid and Graphviz dot: steps, transitions
//! with their conditions or choice labels, timers and escalations, and the ends.

use crate::model::*;
use std::fmt::Write as _;

/// A uniform view of the diagram, drawn by either back end.
struct Node {
    id: String,
    label: String,
    kind: NodeKind,
}

#[derive(PartialEq)]
enum NodeKind {
    Start,
    Step,
    Decision,
    End,
    Note,
    /// A `for each` step: its task once per element, joined when all are done.
    Each,
    /// Where a parallel step forks into its branches, and where they join.
    Fork,
    Join,
}

struct Edge {
    from: String,
    to: String,
    label: String,
    /// A timer or escalation rather than normal flow.
    timed: bool,
}

/// An arm of `on outcome`: the child's end it is taken on.
fn outcome_label(a: &OutcomeArm) -> String {
    match &a.end {
        Some(e) => format!("outcome {e}"),
        None => "otherwise".into(),
    }
}

/// An end, with the notices it sends and the outputs it gives back.
fn end_label(e: &End) -> String {
    let mut lines = vec![e.title.clone().unwrap_or_else(|| e.name.clone())];
    for n in &e.notifies {
        lines.push(format!("notify {}", n.to));
    }
    lines.join("\n")
}

fn step_label(s: &Step) -> String {
    let mut lines = vec![s.title.clone().unwrap_or_else(|| s.name.clone())];
    if let Some(w) = &s.wait {
        lines.push(match w {
            Wait::For(e) => format!("wait {e}"),
            Wait::Until(e) => format!("wait until {e}"),
        });
    }
    for (k, v) in &s.sets {
        lines.push(format!("set {k} = {v}"));
    }
    for n in &s.notifies {
        lines.push(format!("notify {}", n.to));
    }
    if let Some(f) = &s.for_each {
        // A sign-off per element goes on when all have signed, and takes its refusal
        // edge at the first refusal; children per element, when all have ended.
        let until = match s.action {
            Action::Sign { .. } => "all must sign",
            Action::Start { wait: true, .. } => "all must end",
            Action::Start { .. } => "one child each",
            _ => "all must finish",
        };
        lines.push(format!("for each {} in {} ({until})", f.var, f.list));
    }
    match &s.action {
        Action::Task(w) => lines.push(format!("task for {w}")),
        Action::Sign { mode, signers, .. } => {
            let who: Vec<String> = signers.iter().map(|w| w.to_string()).collect();
            let m = match mode {
                SignMode::All => "all of".to_string(),
                SignMode::Any => "any of".to_string(),
                SignMode::Count(n) => format!("{n} of"),
                SignMode::InOrder => "in order by".to_string(),
            };
            lines.push(format!("sign {m} {}", who.join(", ")));
        }
        Action::Start { process, wait, .. } => lines.push(format!(
            "start {process}{}",
            if *wait { " and wait" } else { "" }
        )),
        Action::Parallel(p) => lines.push(format!("parallel: {} branches", p.branches.len())),
        Action::Decide(_) | Action::Auto => {}
    }
    for r in &s.receives {
        lines.push(if r.output == r.field {
            format!("receive {}", r.output)
        } else {
            format!("receive {} as {}", r.output, r.field)
        });
    }
    if s.allow_self {
        lines.push("allow self approval".into());
    }
    for c in &s.checks {
        lines.push(format!("check {}", c.cond));
    }
    for d in &s.due {
        match &d.when {
            Some(c) => lines.push(format!("due {} when {c}", d.at)),
            None => lines.push(format!("due {}", d.at)),
        }
    }
    for r in &s.reminders {
        let mut line = match (r.lead(), r.every()) {
            (Some(d), _) => format!("remind {d} before due"),
            (_, Some(d)) => format!("remind every {d} after due"),
            _ => continue,
        };
        if let Some(w) = r.to() {
            line.push_str(&format!(" to {w}"));
        }
        lines.push(line);
    }
    for a in &s.on_overdue {
        if !matches!(a, TimedAction::Goto(_)) {
            lines.push(format!("on overdue: {a}"));
        }
    }
    if let Some(x) = &s.extend {
        lines.push(format!("extend up to {}", x.up_to));
    }
    lines.join("\n")
}

fn build(d: &Definition) -> (Vec<Node>, Vec<Edge>) {
    let mut nodes = vec![Node {
        id: "__start".into(),
        label: d.title.clone().unwrap_or_else(|| d.name.clone()),
        kind: NodeKind::Start,
    }];
    let mut edges = Vec::new();
    if let Some(first) = d.steps.first() {
        let label = d
            .schedules
            .iter()
            .map(|s| s.phrase.clone())
            .collect::<Vec<_>>()
            .join("; ");
        edges.push(Edge {
            from: "__start".into(),
            to: first.name.clone(),
            label,
            timed: false,
        });
    }
    for s in &d.steps {
        let decision = matches!(s.action, Action::Decide(_));
        nodes.push(Node {
            id: s.name.clone(),
            label: step_label(s),
            kind: if decision {
                NodeKind::Decision
            } else if s.for_each.is_some() {
                NodeKind::Each
            } else if matches!(s.action, Action::Parallel(_)) {
                NodeKind::Fork
            } else {
                NodeKind::Step
            },
        });
        // A parallel step goes on from its join; a branch's `join` goes there.
        let from = match &s.action {
            Action::Parallel(p) => fork_and_join(s, p, &mut nodes, &mut edges),
            _ => s.name.clone(),
        };
        let joined = d.branch_of(&s.name).map(|(p, _)| join_id(&p.name));
        let mut flow = |to: &str, label: String, timed: bool| {
            let to = match (&joined, to) {
                (Some(j), JOIN) => j.clone(),
                _ => to.to_string(),
            };
            edges.push(Edge {
                from: from.clone(),
                to,
                label,
                timed,
            })
        };
        match &s.route {
            Route::Choose(cs) => {
                for c in cs {
                    flow(
                        &c.target,
                        c.label.clone().unwrap_or_else(|| c.name.clone()),
                        false,
                    );
                }
            }
            Route::Next(ns) => {
                for (cond, t) in ns {
                    flow(
                        t,
                        cond.as_ref().map(|c| c.to_string()).unwrap_or_default(),
                        false,
                    );
                }
            }
            Route::ByOutcome(arms) => {
                for a in arms {
                    flow(&a.target, outcome_label(a), false);
                }
            }
            Route::ByRules => {}
        }
        if let Action::Decide(rules) = &s.action {
            for r in rules {
                let mut label = r
                    .cond
                    .as_ref()
                    .map_or_else(|| "otherwise".to_string(), |c| c.to_string());
                for (k, v) in &r.sets {
                    let _ = write!(label, "\n{k} = {v}");
                }
                flow(&r.target, label, false);
            }
        }
        if let Action::Sign {
            on_refuse: Some(t), ..
        } = &s.action
        {
            flow(t, "refused".into(), false);
        }
        for a in &s.on_overdue {
            if let TimedAction::Goto(t) = a {
                flow(t, "overdue".into(), true);
            }
        }
    }
    for e in &d.ends {
        nodes.push(Node {
            id: e.name.clone(),
            label: end_label(e),
            kind: NodeKind::End,
        });
    }
    for l in &d.limits {
        let id = format!("__limit_{}", l.name);
        let mut lines = vec![format!("limit {} ({} → {})", l.name, l.from, l.to)];
        for (w, c) in &l.within {
            lines.push(match c {
                Some(c) => format!("within {w} when {c}"),
                None => format!("within {w}"),
            });
        }
        for r in &l.reminders {
            if let Some(d) = r.lead() {
                let to = r.to().map(|w| format!(" to {w}")).unwrap_or_default();
                lines.push(format!("remind {d} before{to}"));
            }
        }
        for a in &l.on_breach {
            lines.push(format!("on breach: {a}"));
        }
        if let Some(x) = &l.extend {
            let cond = x
                .when
                .as_ref()
                .map(|c| format!(" when {c}"))
                .unwrap_or_default();
            lines.push(format!("extend up to {}{cond}", x.up_to));
        }
        nodes.push(Node {
            id: id.clone(),
            label: lines.join("\n"),
            kind: NodeKind::Note,
        });
        edges.push(Edge {
            from: id.clone(),
            to: l.from.clone(),
            label: "from".into(),
            timed: true,
        });
        edges.push(Edge {
            from: id,
            to: l.to.clone(),
            label: "to".into(),
            timed: true,
        });
    }
    (nodes, edges)
}

fn join_id(step: &str) -> String {
    format!("__join_{step}")
}

/// The join node of a parallel step, and an edge from the step (the fork) to the
/// first step of each branch, labelled with the branch. Returns the join's id: the
/// step's own route leaves from there.
fn fork_and_join(s: &Step, p: &Parallel, nodes: &mut Vec<Node>, edges: &mut Vec<Edge>) -> String {
    let id = join_id(&s.name);
    nodes.push(Node {
        id: id.clone(),
        label: format!("join {}", p.join),
        kind: NodeKind::Join,
    });
    for b in &p.branches {
        if let Some(first) = b.first() {
            let may_end = if b.may_end { " (may end)" } else { "" };
            edges.push(Edge {
                from: s.name.clone(),
                to: first.to_string(),
                label: format!("{}{may_end}", b.label()),
                timed: false,
            });
        }
    }
    id
}

/// Node ids must be plain in both languages; step names may be Chinese, so use an
/// index-based id and keep the name in the label.
fn ids(nodes: &[Node]) -> impl Fn(&str) -> String + '_ {
    move |name: &str| {
        let i = nodes
            .iter()
            .position(|n| n.id == name)
            .unwrap_or(usize::MAX);
        format!("n{i}")
    }
}

fn mermaid_text(s: &str) -> String {
    // Mermaid reads `"` as the end of a label and `#` as an entity: use entity codes.
    s.replace('"', "#quot;").replace('\n', "<br/>")
}

pub fn mermaid(d: &Definition) -> String {
    let (nodes, edges) = build(d);
    let id = ids(&nodes);
    let mut out = String::from("flowchart TD\n");
    for n in &nodes {
        let l = mermaid_text(&n.label);
        let shape = match n.kind {
            NodeKind::Start => format!("(((\"{l}\")))"),
            NodeKind::Step => format!("[\"{l}\"]"),
            NodeKind::Decision => format!("{{\"{l}\"}}"),
            NodeKind::End => format!("([\"{l}\"])"),
            NodeKind::Note => format!(">\"{l}\"]"),
            // A box drawn twice over: many tasks, one step.
            NodeKind::Each => format!("[[\"{l}\"]]"),
            NodeKind::Fork | NodeKind::Join => format!("{{{{\"{l}\"}}}}"),
        };
        let _ = writeln!(out, "    {}{shape}", id(&n.id));
    }
    for e in &edges {
        let arrow = if e.timed { "-.->" } else { "-->" };
        if e.label.is_empty() {
            let _ = writeln!(out, "    {} {arrow} {}", id(&e.from), id(&e.to));
        } else {
            let _ = writeln!(
                out,
                "    {} {arrow}|\"{}\"| {}",
                id(&e.from),
                mermaid_text(&e.label),
                id(&e.to)
            );
        }
    }
    out
}

fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

pub fn dot(d: &Definition) -> String {
    dot_marked(d, &|_| None)
}

/// As `dot`, with some steps and ends filled with a colour `mark` gives by name
/// (where an instance is and where it has been, on its page).
pub fn dot_marked(d: &Definition, mark: &dyn Fn(&str) -> Option<&'static str>) -> String {
    let (nodes, edges) = build(d);
    let id = ids(&nodes);
    let mut out = format!(
        "digraph \"{}\" {{\n    rankdir=TB;\n    node [shape=box, style=rounded, fontsize=11];\n    edge [fontsize=10];\n",
        dot_text(&d.name)
    );
    for n in &nodes {
        let attrs = match n.kind {
            NodeKind::Start => "shape=oval, style=filled, fillcolor=\"#dddddd\"",
            NodeKind::Step => "shape=box, style=rounded",
            NodeKind::Decision => "shape=diamond, style=\"\"",
            NodeKind::End => "shape=box, style=\"rounded,bold\", peripheries=2",
            NodeKind::Note => "shape=note, style=dashed",
            NodeKind::Each => "shape=box3d, style=\"\"",
            NodeKind::Fork | NodeKind::Join => "shape=hexagon, style=bold",
        };
        let filled = match (&n.kind, mark(&n.id)) {
            (NodeKind::Step | NodeKind::Decision | NodeKind::End, Some(colour)) => {
                format!(", style=\"filled,rounded\", fillcolor=\"{colour}\"")
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "    {} [label=\"{}\", {attrs}{filled}];",
            id(&n.id),
            dot_text(&n.label)
        );
    }
    for e in &edges {
        let style = if e.timed { ", style=dashed" } else { "" };
        let _ = writeln!(
            out,
            "    {} -> {} [label=\"{}\"{style}];",
            id(&e.from),
            id(&e.to),
            dot_text(&e.label)
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_step_shows_its_checks_and_whom_it_leaves_out() {
        let src = "process p {\n  data {\n    employee person\n  }\n  step assign \"安排\" {\n    task for hr_officer except starter\n    fill mentor: person\n    check mentor != employee \"不能是本人\"\n    allow self approval\n    choose {\n      ok -> done\n    }\n  }\n  end done\n}\n";
        let def = crate::check(src, &Default::default())
            .definition
            .expect("checks clean");
        let m = super::mermaid(&def);
        assert!(m.contains("task for hr_officer except starter"), "{m}");
        assert!(
            m.contains("allow self approval<br/>check mentor != employee"),
            "{m}"
        );
        let d = super::dot(&def);
        assert!(d.contains("check mentor != employee"), "{d}");
    }
}
