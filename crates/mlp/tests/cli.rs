//! The binaries refuse impossible flags, an unavailable device and a bad checkpoint
//! with a one-line error and a non-zero exit, before touching any data.

use std::process::{Command, Output};

fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary).args(args).output().unwrap_or_else(|e| panic!("starting {binary}: {e}"))
}

/// Asserts that the command failed without a panic, and returns its stderr.
fn refused(binary: &str, args: &[&str]) -> String {
    let output = run(binary, args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{args:?} succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert!(stderr.contains("error"), "{args:?}: {stderr}");
    stderr
}

const MLP: &str = env!("CARGO_BIN_EXE_mlp");
const PREDICT: &str = env!("CARGO_BIN_EXE_predict");

#[test]
fn impossible_hyperparameters_are_refused() {
    for args in [
        ["--hidden", "0"],
        ["--hidden", "256,0"],
        ["--lr", "0"],
        // `=` keeps clap from reading a negative value as a flag.
        ["--lr=-1", "--epochs=1"],
        ["--batch-size", "0"],
        ["--epochs", "0"],
        ["--momentum", "1.5"],
        ["--weight-decay=-0.1", "--epochs=1"],
        ["--activation", "swish"],
        ["--init", "he"],
        ["--dataset", "cifar"],
        ["--device", "tpu"],
    ] {
        let stderr = refused(MLP, &args);
        let flag = args[0].split('=').next().unwrap_or_default();
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
    }
}

/// Without the `cuda` feature, `--device cuda` says how to rebuild.
#[cfg(not(feature = "cuda"))]
#[test]
fn cuda_without_the_feature_says_how_to_rebuild() {
    let stderr = refused(MLP, &["--device", "cuda"]);
    assert!(stderr.contains("no CUDA support"), "{stderr}");
    assert!(stderr.contains("cargo run --release -p mlp --features cuda -- --device cuda"), "{stderr}");
    assert!(stderr.contains("--device cpu"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

/// With the feature on a machine without a GPU, `--device cuda` says that no
/// device was found and offers the CPU. On a machine with a GPU there is nothing
/// to refuse: the test says so, visibly, and checks nothing.
#[cfg(feature = "cuda")]
#[test]
fn cuda_without_a_gpu_says_no_device_was_found() {
    use std::io::Write as _;
    if let Ok(gpu) = dlcore::cuda::Gpu::new() {
        // Straight to the terminal: the test harness would swallow a println!.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: a CUDA device is present ({}), so nothing is refused",
            gpu.name()
        );
        return;
    }
    let stderr = refused(MLP, &["--device", "cuda", "--epochs", "1"]);
    assert!(stderr.contains("--device cuda: "), "{stderr}");
    assert!(stderr.contains("--device cpu"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    if std::env::var_os("DLCORE_EXPECT_NO_GPU").is_some() {
        assert!(stderr.contains("no CUDA device was found"), "{stderr}");
    }
}

#[test]
fn predict_refuses_a_corrupt_or_missing_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.ckpt");
    std::fs::write(&garbage, b"this is not a checkpoint").unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let stderr = refused(PREDICT, &["--checkpoint", garbage.to_str().unwrap(), "--out", out]);
    assert!(stderr.contains("not an mlp checkpoint"), "{stderr}");
    let missing = dir.path().join("missing.ckpt");
    let stderr = refused(PREDICT, &["--checkpoint", missing.to_str().unwrap(), "--out", out]);
    assert!(stderr.contains("missing.ckpt"), "{stderr}");
    refused(PREDICT, &["--grid-size", "0"]);
    refused(PREDICT, &["--index", "x"]);
}
