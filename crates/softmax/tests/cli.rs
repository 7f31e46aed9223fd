//! Impossible flags are one-line errors with a non-zero exit, never a panic; they
//! are rejected before any data is loaded.

use std::process::Command;

fn fails_cleanly(binary: &str, args: &[&str]) {
    let output = Command::new(binary).args(args).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{binary} {args:?} succeeded");
    assert!(stderr.contains("error"), "{binary} {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{binary} {args:?} panicked: {stderr}");
}

#[test]
fn bad_flags_are_clear_errors() {
    for binary in [
        env!("CARGO_BIN_EXE_softmax-scratch"),
        env!("CARGO_BIN_EXE_softmax-concise"),
        env!("CARGO_BIN_EXE_mse-vs-ce"),
    ] {
        for args in [
            &["--lr", "-1"][..],
            &["--lr", "NaN"],
            &["--batch-size", "0"],
            &["--epochs", "0"],
            &["--weight-std", "0"],
            &["--dataset", "cifar"],
        ] {
            fails_cleanly(binary, args);
        }
    }
    fails_cleanly(env!("CARGO_BIN_EXE_mse-vs-ce"), &["--squared-lr", "0"]);
    fails_cleanly(env!("CARGO_BIN_EXE_mse-vs-ce"), &["--evals-per-epoch", "0"]);
}
