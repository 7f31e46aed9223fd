//! Chapter crate `regularization`: see book/src/regularization.md.
