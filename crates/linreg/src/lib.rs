//! Chapter crate `linreg`: see book/src/linreg.md.
