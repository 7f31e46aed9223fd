//! Python tools xtask runs (PyTorch for `bench --vs-pytorch`, TensorBoard for
//! `tensorboard`), each in its own virtual environment under target/, made on first
//! use from PyPI with pinned versions: nothing is installed outside the project.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The python of `target/<name>`, a virtual environment holding `packages` (pip
/// requirement strings such as `torch==2.15.0`). `probe` is Python code that
/// succeeds when the environment is ready; when it fails the environment is made (or
/// repaired) with pip, announced with `what`.
pub fn venv_python(root: &Path, name: &str, packages: &[&str], probe: &str, what: &str) -> Result<PathBuf> {
    let venv = root.join("target").join(name);
    let python = venv.join("bin/python");
    let ready = python.is_file()
        && Command::new(&python)
            .args(["-c", probe])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if ready {
        return Ok(python);
    }
    eprintln!("installing {what} into {} (once)", venv.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .context("running python3 -m venv")?;
    if !made.success() {
        bail!("python3 -m venv {} failed — install python3 with venv support", venv.display());
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages)
        .status()
        .context("running pip")?;
    if !pip.success() {
        bail!("pip install {} failed — check that PyPI is reachable", packages.join(" "));
    }
    Ok(python)
}
