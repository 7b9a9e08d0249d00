//! A process's diagram as inline SVG, laid out by the binary itself (layout-rs)
//! from the DOT the language draws (`baton graph --format dot`): no Graphviz and no
//! JavaScript library at run time. The steps an instance is at, and those it went
//! through, are filled in.

use baton_dsl::model::Definition;

/// Fill colours: where the instance is, and where it has been.
pub const CURRENT: &str = "#ffd166";
pub const VISITED: &str = "#cfe8d5";

/// The diagram as an `<svg>` element; None if the layout failed (the page then goes
/// on without it).
pub fn svg(def: &Definition, current: &[String], visited: &[String]) -> Option<String> {
    let dot = baton_dsl::graph::dot_marked(def, &|step: &str| {
        if current.iter().any(|s| s == step) {
            Some(CURRENT)
        } else if visited.iter().any(|s| s == step) {
            Some(VISITED)
        } else {
            None
        }
    });
    // The layout library may panic on a graph it does not expect: a page without
    // its diagram is better than no page.
    std::panic::catch_unwind(|| {
        let mut parser = layout::gv::DotParser::new(&dot);
        let g = parser.process().ok()?;
        let mut gb = layout::gv::GraphBuilder::new();
        gb.visit_graph(&g);
        let mut vg = gb.get();
        let mut w = layout::backends::svg::SVGWriter::new();
        vg.do_it(false, false, false, &mut w);
        let out = w.finalize();
        // The document's own XML prologue does not belong inside a page, and the
        // page's own sans-serif (with the company's Chinese) reads better than
        // the library's Times.
        let svg = match out.find("<svg") {
            Some(at) => &out[at..],
            None => &out,
        };
        Some(svg.replace(
            "font-family: Times, serif",
            "font-family: system-ui, sans-serif",
        ))
    })
    .ok()
    .flatten()
}
