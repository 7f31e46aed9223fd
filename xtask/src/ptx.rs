//! `cargo xtask ptx`: compiles dlcore's CUDA kernels (`crates/dlcore/src/cuda/sgemm.cu`)
//! to the PTX committed beside them (`sgemm.ptx`), which `dlcore::cuda` embeds.
//!
//! 1. The compiler comes from PyPI (`nvidia-cuda-nvcc`, pinned below), installed
//!    once into a virtual environment under `target/cuda-toolchain/`: no CUDA
//!    installation and no GPU are needed.
//! 2. `nvcc -ptx -arch=compute_80` writes PTX for any GPU from the A100 (sm_80) on,
//!    which the driver compiles for the GPU it finds.
//! 3. nvcc 13.5 stamps the PTX `.version 9.5`, which drivers older than CUDA 13.5
//!    refuse to load; the kernels use nothing newer than PTX 8.0 (CUDA 12.0), so
//!    the `.version` line is lowered to 8.0 and `ptxas` confirms that the result
//!    still assembles for sm_80 and sm_90.
//!
//! `--check` does not touch the committed file: it regenerates the PTX into
//! `target/cuda-toolchain/`, fails if it differs from the committed one, assembles
//! the committed one with `ptxas` for sm_80 and sm_90, and runs the kernels on the
//! CPU (`emulate.cpp`, built with g++ under AddressSanitizer and then
//! ThreadSanitizer) against a double-precision product.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

/// The PyPI package that provides nvcc, cicc and ptxas, pinned.
const NVCC_PACKAGE: &str = "nvidia-cuda-nvcc==13.5.37";
/// The PTX ISA version the committed file declares (CUDA 12.0 drivers and newer).
const PTX_VERSION: &str = "8.0";
/// The virtual architecture the PTX targets.
const ARCH: &str = "compute_80";
/// The real architectures `ptxas` must accept the PTX for.
const PTXAS_ARCHS: [&str; 2] = ["sm_80", "sm_90"];

const KERNEL_DIR: &str = "crates/dlcore/src/cuda";

#[derive(Debug, clap::Args)]
pub struct PtxArgs {
    /// Leave the committed PTX alone: fail if it is not what the source compiles to,
    /// assemble it with ptxas for sm_80 and sm_90, and run the kernels on the CPU.
    #[arg(long)]
    check: bool,
}

pub fn run(root: &Path, args: &PtxArgs) -> Result<()> {
    let kernels = root.join(KERNEL_DIR);
    let source = kernels.join("sgemm.cu");
    let committed = kernels.join("sgemm.ptx");
    let work = root.join("target").join("cuda-toolchain");
    fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let bin = ensure_compiler(&work)?;
    let fresh = work.join("sgemm.ptx");
    compile(&bin, &source, &fresh)?;
    if args.check {
        let expected = fs::read_to_string(&fresh)?;
        let found = fs::read_to_string(&committed)
            .with_context(|| format!("reading {}: run `cargo xtask ptx`", committed.display()))?;
        ensure!(
            found == expected,
            "{} is not what {} compiles to (compare with {}): run `cargo xtask ptx` and commit the result",
            committed.display(),
            source.display(),
            fresh.display()
        );
        println!("ok: {} is what {} compiles to", committed.display(), source.display());
        assemble(&bin, &committed, &work)?;
        emulate(&kernels.join("emulate.cpp"), &work)
    } else {
        assemble(&bin, &fresh, &work)?;
        fs::copy(&fresh, &committed).with_context(|| format!("writing {}", committed.display()))?;
        println!("wrote {}", committed.display());
        Ok(())
    }
}

/// The `bin` directory of nvcc and ptxas, installing the PyPI package first if
/// this is the first run (or the pin changed).
fn ensure_compiler(work: &Path) -> Result<PathBuf> {
    let venv = work.join("venv");
    let stamp = work.join("installed.txt");
    let installed = fs::read_to_string(&stamp).unwrap_or_default();
    if installed.trim() != NVCC_PACKAGE || find_bin(&venv).is_none() {
        println!("installing {NVCC_PACKAGE} from PyPI into {} (once, about 125 MB)", venv.display());
        run_step(Command::new("python3").arg("-m").arg("venv").arg("--clear").arg(&venv))
            .context("python3 -m venv failed: the CUDA compiler is installed with Python's venv and pip")?;
        run_step(Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            NVCC_PACKAGE,
        ]))?;
        fs::write(&stamp, NVCC_PACKAGE)?;
    }
    let bin = find_bin(&venv).with_context(|| format!("no nvcc in {} after installing", venv.display()))?;
    println!("nvcc: {}", bin.join("nvcc").display());
    Ok(bin)
}

/// `venv/lib/python3.X/site-packages/nvidia/cu13/bin`, if it holds nvcc.
fn find_bin(venv: &Path) -> Option<PathBuf> {
    let lib = fs::read_dir(venv.join("lib")).ok()?;
    lib.flatten()
        .map(|python| python.path().join("site-packages/nvidia/cu13/bin"))
        .find(|bin| bin.join("nvcc").is_file() && bin.join("ptxas").is_file())
}

/// `nvcc -ptx`, then the `.version` line lowered to [`PTX_VERSION`].
fn compile(bin: &Path, source: &Path, out: &Path) -> Result<()> {
    println!("nvcc -ptx -arch={ARCH} {}", source.display());
    run_step(
        Command::new(bin.join("nvcc"))
            .args(["-ptx", &format!("-arch={ARCH}")])
            .arg(source)
            .arg("-o")
            .arg(out),
    )?;
    let ptx = fs::read_to_string(out)?;
    let lowered = lower_version(&ptx)?;
    fs::write(out, lowered)?;
    println!("lowered the PTX's .version line to {PTX_VERSION}");
    Ok(())
}

/// Replaces the `.version X.Y` line; fails if there is none.
pub fn lower_version(ptx: &str) -> Result<String> {
    let mut found = false;
    let lines: Vec<String> = ptx
        .lines()
        .map(|line| {
            if !found && line.starts_with(".version ") {
                found = true;
                format!(".version {PTX_VERSION}")
            } else {
                line.to_owned()
            }
        })
        .collect();
    ensure!(found, "the PTX has no .version line");
    Ok(lines.join("\n") + "\n")
}

/// `ptxas` for each of [`PTXAS_ARCHS`]: the PTX must assemble for both.
fn assemble(bin: &Path, ptx: &Path, work: &Path) -> Result<()> {
    for arch in PTXAS_ARCHS {
        println!("ptxas -arch={arch} {}", ptx.display());
        let cubin = work.join(format!("sgemm.{arch}.cubin"));
        run_step(
            Command::new(bin.join("ptxas")).arg(format!("-arch={arch}")).arg(ptx).arg("-o").arg(&cubin),
        )?;
    }
    println!("ok: the PTX assembles for {}", PTXAS_ARCHS.join(" and "));
    Ok(())
}

/// Builds `emulate.cpp` (which includes the kernels) with g++ under each
/// sanitizer and runs it.
fn emulate(harness: &Path, work: &Path) -> Result<()> {
    for (name, sanitizer) in [("address", "address,undefined"), ("thread", "thread")] {
        let exe = work.join(format!("emulate-{name}"));
        println!("g++ -fsanitize={sanitizer} {} && run it: the kernels on the CPU", harness.display());
        run_step(
            Command::new("g++")
                .args([
                    "-std=c++20",
                    "-O1",
                    "-g",
                    "-pthread",
                    "-ffp-contract=off",
                    "-Wall",
                    "-Wno-unknown-pragmas",
                ])
                .arg(format!("-fsanitize={sanitizer}"))
                .args(["-fno-sanitize-recover=all", "-x", "c++"])
                .arg(harness)
                .arg("-o")
                .arg(&exe),
        )?;
        let output = Command::new(&exe).output().with_context(|| format!("running {}", exe.display()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let passed = stdout.lines().filter(|line| line.starts_with("ok")).count();
        if !output.status.success() {
            print!("{stdout}");
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            bail!("the CPU emulation of the kernels failed under {name} sanitizer ({})", output.status);
        }
        println!("ok: {passed} kernel checks passed on the CPU under the {name} sanitizer");
    }
    Ok(())
}

/// Runs a command, failing with its name if it cannot start or exits non-zero.
fn run_step(command: &mut Command) -> Result<()> {
    let name = command.get_program().to_string_lossy().into_owned();
    let status = command.status().with_context(|| format!("could not run {name}"))?;
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowers_only_the_version_line() {
        let ptx = "//\n// .version 9.5 in a comment\n\n.version 9.5\n.target sm_80\n";
        let lowered = lower_version(ptx).expect("has a version line");
        assert_eq!(lowered, "//\n// .version 9.5 in a comment\n\n.version 8.0\n.target sm_80\n");
        assert!(lower_version(".target sm_80\n").is_err());
    }
}
