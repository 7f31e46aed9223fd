//! A layered layout of a computational graph, drawn the way the d2l book draws one:
//! variables as boxes, operators as circles, inputs on the left, the output on the
//! right.
//!
//! Every node of the [`Graph`] becomes a box holding its value; every operation also
//! becomes a circle between its inputs' boxes and its output's box. Then:
//!
//! 1. **Columns.** Each item is placed as far right as its uses allow: one column left
//!    of its nearest use. The output sits in the last column, and a leaf such as a
//!    weight appears just before the operation that first reads it.
//! 2. **Rows.** The graph is read as a tree hanging from the output, each item under
//!    its nearest use. Walking it from the output, the first child continues its
//!    parent's row (the spine: the longest chain, preferring data over parameters),
//!    and every other branch goes to the first row above everything already placed in
//!    the columns it spans, including the columns its other edges come from. The main
//!    chain therefore runs along the bottom row and side inputs sit above it.

use crate::engine::{Graph, Var};

/// How an item is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A box: a variable (a node's value).
    Variable,
    /// A circle: the operation that computes the variable to its right.
    Operator,
}

/// What a variable is, which the figure shows by colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A leaf that needs no gradient: inputs, labels.
    Data,
    /// A leaf that requires a gradient: a weight.
    Parameter,
    /// An operation's output: an intermediate variable or the result.
    Computed,
    /// An operator (a circle).
    Operator,
}

/// One box or circle of the layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The graph node this item shows (for an operator, the node it computes).
    pub var: Var,
    pub shape: Shape,
    pub role: Role,
    /// The node's name for a box, the operation's symbol for a circle.
    pub label: String,
    /// The value's shape (`4×2`) for a box; empty for a circle.
    pub detail: String,
    /// 0 is the leftmost column.
    pub column: usize,
    /// 0 is the bottom row.
    pub row: usize,
}

/// Items, positioned, and the arrows between them.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub items: Vec<Item>,
    /// `(from, to)` indices into `items`: data flows from `from` to `to`.
    pub edges: Vec<(usize, usize)>,
    pub columns: usize,
    pub rows: usize,
}

// ANCHOR: layout
/// Lays out the part of `graph` that `root` depends on.
pub fn layout(graph: &Graph, root: Var) -> Layout {
    let (mut items, edges) = items_and_edges(graph, root);
    let n = items.len();
    let mut successors = vec![Vec::new(); n];
    let mut predecessors = vec![Vec::new(); n];
    for &(from, to) in &edges {
        successors[from].push(to);
        predecessors[to].push(from);
    }
    // Items are in topological order (every edge goes from a lower index to a higher
    // one), so one backward sweep gives each item its distance from the output...
    let mut distance = vec![0usize; n];
    for i in (0..n).rev() {
        distance[i] = successors[i].iter().map(|&s| distance[s] + 1).max().unwrap_or(0);
    }
    let last_column = distance.iter().copied().max().unwrap_or(0);
    for (item, d) in items.iter_mut().zip(&distance) {
        item.column = last_column - d;
    }
    // ...and one forward sweep its height: the longest chain of items leading to it.
    let mut height = vec![0usize; n];
    for i in 0..n {
        height[i] = predecessors[i].iter().map(|&p| height[p] + 1).max().unwrap_or(0);
    }
    // The tree: each item hangs under its nearest use (the first, on a tie).
    let mut children = vec![Vec::new(); n];
    for (i, uses) in successors.iter().enumerate() {
        if let Some(parent) = uses.iter().copied().min_by_key(|&s| items[s].column) {
            children[parent].push(i);
        }
    }
    // The spine child first, then the others in input order.
    for list in &mut children {
        let spine_key = |&c: &usize| (height[c], items[c].role != Role::Parameter);
        let best = list.iter().map(spine_key).max();
        if let Some(position) = list.iter().position(|c| Some(spine_key(c)) == best) {
            let spine = list.remove(position);
            list.insert(0, spine);
        }
    }
    let mut placer = Placer {
        children,
        predecessors,
        columns: items.iter().map(|i| i.column).collect(),
        occupied: vec![Vec::new(); last_column + 1],
        rows: vec![0; n],
    };
    if n > 0 {
        placer.place(n - 1, 0);
    }
    for (item, &row) in items.iter_mut().zip(&placer.rows) {
        item.row = row;
    }
    let rows = items.iter().map(|i| i.row + 1).max().unwrap_or(0);
    Layout { items, edges, columns: last_column + 1, rows }
}
// ANCHOR_END: layout

/// The boxes and circles of the nodes `root` depends on, in tape order (an
/// operation's circle just before its output's box), and the arrows between them.
fn items_and_edges(graph: &Graph, root: Var) -> (Vec<Item>, Vec<(usize, usize)>) {
    let mut needed = vec![false; root.index() + 1];
    needed[root.index()] = true;
    for var in graph.vars().take(root.index() + 1).rev() {
        if let (true, Some(op)) = (needed[var.index()], graph.op(var)) {
            for input in op.inputs() {
                needed[input.index()] = true;
            }
        }
    }
    let mut items = Vec::new();
    let mut edges = Vec::new();
    let mut box_of = vec![usize::MAX; root.index() + 1];
    for var in graph.vars().take(root.index() + 1).filter(|v| needed[v.index()]) {
        let (rows, cols) = graph.value(var).shape();
        let detail = format!("{rows}×{cols}");
        let role = match (graph.op(var), graph.requires_grad(var)) {
            (Some(op), _) => {
                items.push(Item {
                    var,
                    shape: Shape::Operator,
                    role: Role::Operator,
                    label: op.symbol(),
                    detail: String::new(),
                    column: 0,
                    row: 0,
                });
                let circle = items.len() - 1;
                edges.extend(op.inputs().iter().map(|input| (box_of[input.index()], circle)));
                edges.push((circle, circle + 1));
                Role::Computed
            }
            (None, true) => Role::Parameter,
            (None, false) => Role::Data,
        };
        items.push(Item {
            var,
            shape: Shape::Variable,
            role,
            label: graph.name(var).to_string(),
            detail,
            column: 0,
            row: 0,
        });
        box_of[var.index()] = items.len() - 1;
    }
    (items, edges)
}

/// The row-assignment walk (step 2 of the module documentation).
struct Placer {
    children: Vec<Vec<usize>>,
    predecessors: Vec<Vec<usize>>,
    columns: Vec<usize>,
    /// For each column, the rows already taken.
    occupied: Vec<Vec<usize>>,
    rows: Vec<usize>,
}

impl Placer {
    fn place(&mut self, item: usize, row: usize) {
        self.rows[item] = row;
        self.occupied[self.columns[item]].push(row);
        let children = self.children[item].clone();
        for (k, &child) in children.iter().enumerate() {
            if k == 0 {
                self.place(child, row);
            } else {
                let leftmost = self.leftmost_column(child);
                let taken = (leftmost..=self.columns[item])
                    .flat_map(|column| self.occupied[column].iter().copied())
                    .max()
                    .unwrap_or(0);
                self.place(child, (taken + 1).max(row + 1));
            }
        }
    }

    /// The leftmost column a branch reaches: its own items, and the items its other
    /// arrows come from.
    fn leftmost_column(&self, item: usize) -> usize {
        let own = self.children[item].iter().map(|&c| self.leftmost_column(c));
        let incoming = self.predecessors[item].iter().map(|&p| self.columns[p]);
        own.chain(incoming).fold(self.columns[item], usize::min)
    }
}
