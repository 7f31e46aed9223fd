//! Graphviz export: the computational graph as DOT text, the `add_graph` idea of
//! TensorBoard without TensorBoard. `dot -Tsvg graph.dot -o graph.svg` draws it
//! with Graphviz's own layout; the book's figure comes from [`crate::figure`].

use std::fmt::Write as _;

use crate::layout::{Layout, Role, Shape};

/// A DOT string literal: quotes and backslashes escaped.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

// ANCHOR: dot
/// The layout's items and arrows as a Graphviz digraph, drawn left to right, with
/// the figure's shapes and colours.
pub fn to_dot(layout: &Layout) -> String {
    let mut dot = String::from("digraph computational_graph {\n");
    dot.push_str("  rankdir=LR;\n  node [fontname=\"DejaVu Sans\", style=filled, penwidth=1.5];\n");
    for (i, item) in layout.items.iter().enumerate() {
        let (shape, label) = match item.shape {
            Shape::Variable => ("box", format!("{}\\n{}", item.label, item.detail)),
            Shape::Operator => ("circle", item.label.clone()),
        };
        let fill = match item.role {
            Role::Data => "#e4e4e4",
            Role::Parameter => "#fdd0a2",
            Role::Computed => "#ffffff",
            Role::Operator => "#c6dbef",
        };
        // The label is already escaped for DOT's `\n`, so only quotes need care here.
        let label = format!("\"{}\"", label.replace('"', "\\\""));
        let _ = writeln!(dot, "  n{i} [shape={shape}, label={label}, fillcolor={}];", quoted(fill));
    }
    for &(from, to) in &layout.edges {
        let _ = writeln!(dot, "  n{from} -> n{to};");
    }
    dot.push_str("}\n");
    dot
}
// ANCHOR_END: dot
