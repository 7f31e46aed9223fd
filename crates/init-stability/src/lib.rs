//! Chapter crate `init-stability`: see book/src/init-stability.md.
