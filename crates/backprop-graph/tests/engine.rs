//! The engine's behaviour beyond single gradients: accumulation and zeroing,
//! scalar-only backward, replaying a built graph, the notes' worked numbers, and the
//! graph's layout and Graphviz export.

use backprop_graph::chain_rule::{accumulation, chain_rule, non_scalar_backward};
use backprop_graph::dot::to_dot;
use backprop_graph::engine::{BackwardError, Graph, scalar};
use backprop_graph::layout::{Shape, layout};
use backprop_graph::penalized_mlp::{Problem, build};
use dlcore::activation::Activation;
use dlcore::seeded_rng;
use nalgebra::DMatrix;

#[test]
fn the_notes_chain_rule_numbers() {
    let c = chain_rule(1.0, 2.0, 1.0, 2.0, 1.0).unwrap();
    assert_eq!((c.y1, c.y2), (3.0, 7.0));
    assert_eq!(c.dy2_dy1, 2.0); // = w2
    assert_eq!(c.dy1_dw1, 1.0); // = x
    assert_eq!(c.product, 2.0);
    assert_eq!(c.dy2_dw1, 2.0);
    let other = chain_rule(3.0, -1.0, 0.5, 4.0, 2.0).unwrap();
    assert_eq!(other.product, other.dy2_dw1);
    assert_eq!(other.dy2_dw1, 3.0 * 4.0);
}

#[test]
fn backward_accumulates_two_four_six_until_zeroed() {
    let a = accumulation(1.0, 2.0, 1.0, 3).unwrap();
    assert_eq!(a.loss, 1.0);
    assert_eq!(a.fresh, 2.0);
    assert_eq!(a.after_each_backward, vec![2.0, 4.0, 6.0]);
    assert_eq!(a.after_zeroing, 2.0);
}

#[test]
fn backward_from_a_matrix_is_an_error_unless_seeded() {
    let result = non_scalar_backward(&[0.8241, 0.0593, -0.1058], &[1.0, 1.0, 1.0]).unwrap();
    let error = result.unseeded.expect("backward from a 3×1 output must fail");
    assert_eq!(error, BackwardError::NotScalar { name: "p".into(), rows: 3, cols: 1 });
    let message = error.to_string();
    assert!(message.contains("3×1") && message.contains("backward_with"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    assert_eq!(result.seeded_grad, DMatrix::from_column_slice(3, 1, &[0.8241, 0.0593, -0.1058]));
}

#[test]
fn a_seed_of_the_wrong_shape_and_a_root_without_gradient_are_errors() {
    let mut g = Graph::new();
    let a = g.input("a", DMatrix::from_element(2, 2, 1.0));
    let w = g.param("w", DMatrix::from_element(2, 2, 3.0));
    let p = g.mul(a, w);
    let error = g.backward_with(p, &DMatrix::zeros(2, 1)).unwrap_err();
    assert!(matches!(error, BackwardError::SeedShape { rows: 2, cols: 2, seed_rows: 2, seed_cols: 1, .. }));
    let only_data = g.sum(a);
    assert!(matches!(g.backward(only_data), Err(BackwardError::NoGradient { .. })));
    let total = g.sum(p);
    assert!(matches!(g.gradients(total, &[a]), Err(BackwardError::NoGradient { .. })));
    // The failed calls changed nothing.
    assert!(g.grad(w).unwrap().iter().all(|&v| v == 0.0));
    assert!(g.grad(a).is_none());
    // A backward error converts into dlcore's error for library code that uses `?`.
    let converted: dlcore::Error = error.into();
    assert!(converted.to_string().contains("seed gradient"), "{converted}");
}

#[test]
fn gradients_leave_grad_alone_and_give_zero_off_the_path() {
    let mut g = Graph::new();
    let x = g.param("x", scalar(3.0));
    let unused = g.param("unused", scalar(5.0));
    let y = g.square(x);
    let grads = g.gradients(y, &[x, unused]).unwrap();
    assert_eq!((grads[0][(0, 0)], grads[1][(0, 0)]), (6.0, 0.0));
    assert_eq!(g.grad(x).unwrap()[(0, 0)], 0.0);
    g.backward(y).unwrap();
    assert_eq!(g.grad(x).unwrap()[(0, 0)], 6.0);
    assert_eq!(g.grad(unused).unwrap()[(0, 0)], 0.0);
}

/// Rebuilding the graph for new parameter values and replaying the old one with
/// `set_value` + `forward` give the same values and gradients.
#[test]
fn replaying_a_graph_equals_building_it_again() {
    let mut rng = seeded_rng(5);
    let problem = Problem::random(3, 5, 4, 6, 0.3, Activation::Sigmoid, &mut rng);
    let other = Problem::random(3, 5, 4, 6, 0.3, Activation::Sigmoid, &mut rng);
    let mut replayed = build(&problem);
    replayed.graph.set_value(replayed.w1, &other.w1);
    replayed.graph.set_value(replayed.w2, &other.w2);
    replayed.graph.forward();
    replayed.graph.backward(replayed.objective).unwrap();
    let mut fresh = build(&Problem { x: problem.x.clone(), labels: problem.labels.clone(), ..other });
    fresh.graph.backward(fresh.objective).unwrap();
    for (a, b) in [(replayed.objective, fresh.objective), (replayed.h, fresh.h)] {
        assert_eq!(replayed.graph.value(a), fresh.graph.value(b));
    }
    for (a, b) in [(replayed.w1, fresh.w1), (replayed.w2, fresh.w2), (replayed.z, fresh.z)] {
        assert_eq!(replayed.graph.grad(a), fresh.graph.grad(b));
    }
}

#[test]
#[should_panic(expected = "inner dimensions differ")]
fn mismatched_shapes_are_a_bug_and_panic() {
    let mut g = Graph::new();
    let a = g.input("a", DMatrix::zeros(2, 3));
    let b = g.input("b", DMatrix::zeros(2, 3));
    g.matmul(a, b);
}

#[test]
fn storage_counts_values_and_gradient_buffers() {
    let mut g = Graph::new();
    let x = g.input("x", DMatrix::zeros(4, 10));
    let w = g.param("w", DMatrix::zeros(3, 4));
    let z = g.matmul(w, x);
    let s = g.sum(z);
    let _ = s;
    let storage = g.storage();
    assert_eq!((storage.data, storage.parameters), (40, 12));
    assert_eq!(storage.intermediate_values, 30 + 1);
    // w, z and s require gradients: two buffers (accumulated and scratch) each.
    assert_eq!(storage.gradients, 2 * (12 + 30 + 1));
}

/// The figure's layout of J = L + s: the main chain on the bottom row, every arrow
/// pointing right, no two items in one place, and one box per node and one circle
/// per operation.
#[test]
fn the_layout_of_j_reads_left_to_right() {
    let problem = Problem::random(3, 4, 3, 2, 0.1, Activation::Tanh, &mut seeded_rng(0));
    let net = build(&problem);
    let l = layout(&net.graph, net.objective);
    let boxes = l.items.iter().filter(|i| i.shape == Shape::Variable).count();
    let circles = l.items.iter().filter(|i| i.shape == Shape::Operator).count();
    assert_eq!((boxes, circles), (net.graph.len(), 6));
    for &(from, to) in &l.edges {
        assert!(l.items[from].column < l.items[to].column, "{:?} → {:?}", l.items[from], l.items[to]);
    }
    let mut places: Vec<(usize, usize)> = l.items.iter().map(|i| (i.column, i.row)).collect();
    places.sort_unstable();
    places.dedup();
    assert_eq!(places.len(), l.items.len(), "two items share a place");
    let row_of =
        |name: &str| l.items.iter().find(|i| i.label == name && i.shape == Shape::Variable).map(|i| i.row);
    for name in ["x", "z", "h", "o", "L", "J"] {
        assert_eq!(row_of(name), Some(0), "{name} is on the main row");
    }
    assert!(row_of("s") > row_of("W1") && row_of("W1") > row_of("x"));
    let last = l.items.iter().max_by_key(|i| i.column).unwrap();
    assert_eq!(last.label, "J");
}

#[test]
fn graphviz_export_names_every_item_and_arrow() {
    let problem = Problem::random(2, 3, 2, 1, 0.1, Activation::Relu, &mut seeded_rng(0));
    let net = build(&problem);
    let l = layout(&net.graph, net.objective);
    let dot = to_dot(&l);
    assert!(dot.starts_with("digraph") && dot.trim_end().ends_with('}'));
    assert_eq!(dot.matches(" -> ").count(), l.edges.len());
    assert_eq!(dot.matches("shape=box").count(), net.graph.len());
    assert!(dot.contains("label=\"W1\\n3×2\""), "{dot}");
}

/// A deeper graph with biases (the toy classifier) also lays out without two items
/// in one place and with every arrow pointing right.
#[test]
fn a_deeper_graph_lays_out_cleanly() {
    use backprop_graph::toy::{Network, ToyProblem, generate, initial_parameters};
    use dlcore::init::Init;
    let mut rng = seeded_rng(0);
    let data = generate(ToyProblem::Moons, 8, 0.1, &mut rng);
    let parameters = initial_parameters(&[2, 5, 4, 3, 2], Init::XavierNormal, &mut rng);
    let net = Network::new(&parameters, Activation::Relu, 0.01, &data, true);
    let l = layout(&net.graph, net.objective);
    for &(from, to) in &l.edges {
        assert!(l.items[from].column < l.items[to].column);
    }
    let mut places: Vec<(usize, usize)> = l.items.iter().map(|i| (i.column, i.row)).collect();
    places.sort_unstable();
    places.dedup();
    assert_eq!(places.len(), l.items.len(), "two items share a place");
}
