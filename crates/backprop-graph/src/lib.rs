//! Chapter crate `backprop-graph`: see book/src/backprop-graph.md.
