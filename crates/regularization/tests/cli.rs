//! Bad input is a one-line error, never a panic.

use std::process::Command;

/// A directory under the system's temporary directory for a run that is expected
/// to fail part-way.
fn scratch_dir(name: &str) -> String {
    std::env::temp_dir()
        .join(format!("regularization-test-{}-{name}", std::process::id()))
        .display()
        .to_string()
}

fn fails_cleanly(binary: &str, args: &[&str], expected: &str) {
    let output = Command::new(binary).args(args).output().expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{binary} {args:?} should fail");
    assert!(stderr.contains(expected), "{binary} {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{binary} {args:?} panicked: {stderr}");
}

#[test]
fn impossible_hyperparameters_are_rejected() {
    let polyfit = env!("CARGO_BIN_EXE_polyfit");
    fails_cleanly(polyfit, &["--lr", "-1"], "must be a finite number > 0");
    fails_cleanly(polyfit, &["--batch-size", "0"], "must be at least 1");
    fails_cleanly(polyfit, &["--epochs", "0"], "must be at least 1");
    let weight_decay = env!("CARGO_BIN_EXE_weight-decay");
    fails_cleanly(weight_decay, &["--lambda", "-3"], "must be a finite number ≥ 0");
    fails_cleanly(weight_decay, &["--sweep-min", "5", "--sweep-max", "1"], "--sweep-min");
    let kfold = env!("CARGO_BIN_EXE_kfold");
    let out = scratch_dir("kfold-k1");
    fails_cleanly(kfold, &["--k", "1", "--out", &out], "K-fold needs 2 ≤ K");
    let dropout = env!("CARGO_BIN_EXE_dropout");
    fails_cleanly(dropout, &["--dropout", "1"], "must be in [0, 1)");
    fails_cleanly(dropout, &["--dropout", "0.5"], "one drop probability per hidden layer");
}

#[test]
fn a_diverging_run_says_which_setting_and_what_to_do() {
    let polyfit = env!("CARGO_BIN_EXE_polyfit");
    let out = scratch_dir("polyfit-diverge");
    fails_cleanly(polyfit, &["--lr", "1", "--repeats", "0", "--out", &out], "lower the learning rate");
}
