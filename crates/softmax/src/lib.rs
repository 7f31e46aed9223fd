//! Chapter crate `softmax`: see book/src/softmax.md.
