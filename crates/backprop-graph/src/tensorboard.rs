//! The engine's graph for TensorBoard's Graphs tab: what PyTorch's `add_graph` gives,
//! written through dlcore's recorder. Every node of the tape becomes a node of the
//! drawing: leaves as `Input` (data) or `Parameter`, operations under their symbol,
//! with edges from the nodes they read and their value's shape on the edges.

use dlcore::tensorboard::GraphNode;

use crate::engine::{Graph, Var};

// ANCHOR: graph_nodes
/// The nodes of `graph` in tape order, ready for
/// [`Recorder::record_graph`](dlcore::record::Recorder::record_graph).
pub fn graph_nodes(graph: &Graph) -> Vec<GraphNode> {
    graph
        .vars()
        .map(|var| {
            let (op, inputs) = match graph.op(var) {
                Some(op) => (op.symbol(), op.inputs().iter().map(|&input| node_name(graph, input)).collect()),
                None if graph.requires_grad(var) => ("Parameter".to_string(), Vec::new()),
                None => ("Input".to_string(), Vec::new()),
            };
            let (rows, cols) = graph.value(var).shape();
            GraphNode { name: node_name(graph, var), op, inputs, shape: vec![rows, cols] }
        })
        .collect()
}
// ANCHOR_END: graph_nodes

/// The node's name, made unique: TensorBoard joins nodes by name, and two nodes a
/// learner happened to name alike must stay two nodes.
fn node_name(graph: &Graph, var: Var) -> String {
    let name = graph.name(var);
    let shared = graph.vars().filter(|&other| graph.name(other) == name).nth(1).is_some();
    if shared { format!("{name}_{}", var.index()) } else { name.to_string() }
}

#[cfg(test)]
mod tests {
    use nalgebra::DMatrix;

    use super::*;

    #[test]
    fn every_tape_node_becomes_a_graph_node_with_its_inputs_and_shape() {
        let mut g = Graph::new();
        let w = g.param("W", DMatrix::from_element(4, 3, 0.5));
        let x = g.input("x", DMatrix::from_element(3, 2, 1.0));
        let z = g.matmul(w, x);
        let z = g.named(z, "z");
        let h = g.tanh(z);
        let twin = g.input("x", DMatrix::zeros(1, 1));
        let nodes = graph_nodes(&g);
        assert_eq!(nodes.len(), g.len());
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["W", "x_1", "z", &format!("v{}", h.index()), "x_4"]);
        assert_eq!((nodes[0].op.as_str(), nodes[1].op.as_str()), ("Parameter", "Input"));
        assert_eq!(nodes[2].inputs, ["W", "x_1"]);
        assert_eq!(nodes[2].shape, [4, 2]);
        assert_eq!(nodes[3].inputs, ["z"]);
        assert_eq!(nodes[twin.index()].shape, [1, 1]);
    }
}
