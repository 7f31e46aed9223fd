//! The binaries as a user meets them: impossible flags and a diverging learning
//! rate are one-line errors with a non-zero exit, and a default run writes the
//! numbers the chapter promises into summary.json.

use std::path::PathBuf;
use std::process::{Command, Output};

use dlcore::record::read_summary;

const BINARIES: [&str; 3] = [
    env!("CARGO_BIN_EXE_linreg-scratch"),
    env!("CARGO_BIN_EXE_linreg-concise"),
    env!("CARGO_BIN_EXE_analytic"),
];

/// A fresh output directory for one test run.
fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("linreg-cli").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(binary: &str, args: &[&str], out: &PathBuf) -> Output {
    Command::new(binary).args(args).arg("--out").arg(out).output().expect("the binary starts")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn impossible_flags_are_clear_errors() {
    let out = out_dir("bad-flags");
    for binary in BINARIES {
        for flags in [
            ["--lr", "-1"],
            ["--lr", "0"],
            ["--batch-size", "0"],
            ["--epochs", "0"],
            ["--examples", "0"],
            ["--noise", "-0.5"],
            ["--lr", "fast"],
        ] {
            let output = run(binary, &flags, &out);
            let message = stderr(&output);
            assert!(!output.status.success(), "{binary} {flags:?} succeeded");
            assert!(message.contains("error"), "{binary} {flags:?}: {message}");
            assert!(!message.contains("panicked"), "{binary} {flags:?}: {message}");
        }
    }
}

#[test]
fn a_diverging_learning_rate_ends_with_one_line() {
    let out = out_dir("diverged");
    for binary in BINARIES {
        let output = run(binary, &["--lr", "3"], &out);
        let message = stderr(&output);
        assert!(!output.status.success(), "{binary}");
        assert!(
            message.starts_with("error:") && message.contains("training diverged"),
            "{binary}: {message}"
        );
        assert!(message.contains("lower the learning rate"), "{message}");
        assert_eq!(message.trim_end().lines().count(), 1, "{message}");
        assert!(!String::from_utf8_lossy(&output.stdout).contains("NaN"));
    }
}

#[test]
fn too_few_examples_for_least_squares_is_a_clear_error() {
    let output = run(BINARIES[2], &["--examples", "2"], &out_dir("too-few"));
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("at least 3"), "{message}");
}

/// What the issue asks of the default runs, read back from summary.json.
#[test]
fn default_runs_reach_the_targets_in_their_summaries() {
    for (binary, name) in BINARIES.iter().zip(["scratch", "concise", "analytic"]) {
        let out = out_dir(name);
        let output = run(binary, &[], &out);
        assert!(output.status.success(), "{binary}: {}", stderr(&output));
        let summary = read_summary(&out.join("summary.json")).unwrap();
        let metric = |key: &str| summary.final_metrics[key];
        assert!(metric("train_loss") < 1e-4, "{name}: {:?}", summary.final_metrics);
        let bound = if name == "analytic" { 0.005 } else { 0.01 };
        assert!(metric("max_param_error") < bound, "{name}: {:?}", summary.final_metrics);
        for (key, truth) in [("w1", 2.0), ("w2", -3.4), ("b", 4.2)] {
            assert!((metric(key) - truth).abs() < bound, "{name}: {key} = {}", metric(key));
        }
        assert!(out.join("metrics.csv").is_file());
    }
}
