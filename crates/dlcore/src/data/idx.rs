//! The IDX file format of MNIST and Fashion-MNIST, checked byte by byte.
//!
//! An IDX file is a big-endian header followed by raw `u8` items:
//!
//! | file   | magic        | then                                   | items            |
//! |--------|--------------|----------------------------------------|------------------|
//! | labels | `0x00000801` | count (u32)                            | one byte each    |
//! | images | `0x00000803` | count, rows = 28, columns = 28 (u32)   | 784 bytes each   |
//!
//! Everything here checks before it trusts: the magic number, the counts, the image
//! size, the exact file length and, where the expected hash is known, the sha256 of the
//! whole file. A bad file becomes [`Error::Data`] naming the file, never a panic, so the
//! reader of the book sees one line that says what is wrong and what to run.

use std::fs;
use std::io::{ErrorKind, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// Magic number of a labels file: unsigned bytes (0x08), one dimension.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Magic number of an images file: unsigned bytes (0x08), three dimensions.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Image height in pixels.
pub const ROWS: usize = 28;
/// Image width in pixels.
pub const COLS: usize = 28;
/// Pixels per image: the number of input features of every model on these sets.
pub const PIXELS: usize = ROWS * COLS;

/// Which of the two IDX layouts a file has; the layout fixes the header and item size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 28×28 grey-scale images, one byte per pixel.
    Images,
    /// Class labels, one byte each.
    Labels,
}

impl Kind {
    /// The magic number the file must start with.
    pub fn magic(self) -> u32 {
        match self {
            Kind::Images => IMAGES_MAGIC,
            Kind::Labels => LABELS_MAGIC,
        }
    }

    /// Bytes before the first item.
    pub fn header_len(self) -> usize {
        match self {
            Kind::Images => 16,
            Kind::Labels => 8,
        }
    }

    /// Bytes per item.
    pub fn item_len(self) -> usize {
        match self {
            Kind::Images => PIXELS,
            Kind::Labels => 1,
        }
    }

    /// The exact length of a file of this kind holding `count` items.
    pub fn file_len(self, count: usize) -> usize {
        self.header_len() + count * self.item_len()
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Images => "an IDX images file",
            Kind::Labels => "an IDX labels file",
        }
    }
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_be_bytes(word)
}

/// Checks the header and the exact length of an IDX file's bytes and returns the
/// number of items it holds. The error is the problem alone (the caller knows the
/// file's name), so the same check serves files on disk and downloads in memory.
pub fn check(bytes: &[u8], kind: Kind, expected_count: Option<usize>) -> std::result::Result<usize, String> {
    if bytes.len() < kind.header_len() {
        return Err(format!(
            "only {} bytes, too short for the {}-byte header of {}",
            bytes.len(),
            kind.header_len(),
            kind.describe()
        ));
    }
    let magic = be_u32(bytes, 0);
    if magic != kind.magic() {
        return Err(format!(
            "magic number {magic:#010x}, expected {:#010x} ({})",
            kind.magic(),
            kind.describe()
        ));
    }
    let count = be_u32(bytes, 4) as usize;
    if let Some(expected) = expected_count.filter(|&e| e != count) {
        return Err(format!("header says {count} items, expected {expected}"));
    }
    if kind == Kind::Images {
        let (rows, cols) = (be_u32(bytes, 8) as usize, be_u32(bytes, 12) as usize);
        if (rows, cols) != (ROWS, COLS) {
            return Err(format!("images are {rows}×{cols} pixels, expected {ROWS}×{COLS}"));
        }
    }
    let want = kind.file_len(count);
    if bytes.len() != want {
        let how = if bytes.len() < want { "truncated" } else { "trailing bytes" };
        return Err(format!("{} bytes but its header needs exactly {want} ({how})", bytes.len()));
    }
    Ok(count)
}

/// The items after the header. Call it on bytes that passed [`check`].
pub fn payload(bytes: &[u8], kind: Kind) -> &[u8] {
    bytes.get(kind.header_len()..).unwrap_or_default()
}

/// An IDX file holding `items` (whole items, `kind.item_len()` bytes each): how the
/// committed samples and the tests' synthetic data sets are written.
///
/// # Panics
/// If `items` is not a whole number of items: that is a bug in the caller.
pub fn encode(kind: Kind, items: &[u8]) -> Vec<u8> {
    assert_eq!(items.len() % kind.item_len(), 0, "a whole number of items");
    let count = u32::try_from(items.len() / kind.item_len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(kind.header_len() + items.len());
    out.extend_from_slice(&kind.magic().to_be_bytes());
    out.extend_from_slice(&count.to_be_bytes());
    if kind == Kind::Images {
        for dim in [ROWS, COLS] {
            out.extend_from_slice(&(dim as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(items);
    out
}

/// The lowercase hex sha256 of `bytes`: how a file is compared with the published hash.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// The lowercase hex sha256 of the whole file at `path`, read in chunks so that a
/// large file need not fit in memory.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| read_error(path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| read_error(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// What one file of a data set must be. The hash table is data rather than constants
/// inside the checks, so tests can verify small synthetic files the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpec {
    /// The file's standard name, e.g. `t10k-labels-idx1-ubyte`.
    pub name: String,
    /// Its layout.
    pub kind: Kind,
    /// The number of items its header must announce.
    pub count: usize,
    /// The lowercase hex sha256 of the whole raw (un-gzipped) file, if known.
    pub sha256: Option<String>,
}

impl FileSpec {
    /// A file of `count` items whose whole content has the given sha256.
    pub fn new(name: impl Into<String>, kind: Kind, count: usize, sha256: impl Into<String>) -> Self {
        FileSpec { name: name.into(), kind, count, sha256: Some(sha256.into()) }
    }

    /// The exact size the file must have, so downloads can be capped and truncation
    /// reported before hashing.
    pub fn file_len(&self) -> usize {
        self.kind.file_len(self.count)
    }

    /// What is wrong with `bytes` as this file, or `None` if they are exactly it:
    /// header, length and then sha256 (cheapest first, so a truncated file is reported
    /// as truncated rather than as a hash mismatch).
    pub fn problem_with(&self, bytes: &[u8]) -> Option<String> {
        if let Err(problem) = check(bytes, self.kind, Some(self.count)) {
            return Some(problem);
        }
        if self.kind == Kind::Labels
            && let Some(bad) = payload(bytes, self.kind).iter().find(|&&label| label >= 10)
        {
            return Some(format!("holds the label {bad}, but the classes are 0 to 9"));
        }
        let expected = self.sha256.as_deref()?;
        let actual = sha256_hex(bytes);
        (actual != expected).then(|| format!("sha256 is {actual}, expected {expected}: the file is corrupt"))
    }
}

fn read_error(path: &Path, e: std::io::Error) -> Error {
    let problem =
        if e.kind() == ErrorKind::NotFound { "missing".to_string() } else { format!("cannot read: {e}") };
    Error::Data { path: path.to_path_buf(), problem }
}

/// Reads the file at `path` and returns its bytes only if it is exactly `spec`; any
/// problem, a missing file included, is an [`Error::Data`] naming the file.
pub fn read_verified(path: &Path, spec: &FileSpec) -> Result<Vec<u8>> {
    let bytes = fs::read(path).map_err(|e| read_error(path, e))?;
    match spec.problem_with(&bytes) {
        None => Ok(bytes),
        Some(problem) => Err(Error::Data { path: path.to_path_buf(), problem }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(n: usize) -> Vec<u8> {
        encode(Kind::Images, &(0..n * PIXELS).map(|i| (i % 251) as u8).collect::<Vec<_>>())
    }

    fn labels(n: usize) -> Vec<u8> {
        encode(Kind::Labels, &(0..n).map(|i| (i % 10) as u8).collect::<Vec<_>>())
    }

    #[test]
    fn accepts_well_formed_files() {
        assert_eq!(check(&images(3), Kind::Images, Some(3)), Ok(3));
        assert_eq!(check(&labels(5), Kind::Labels, None), Ok(5));
        assert_eq!(payload(&labels(5), Kind::Labels), &[0, 1, 2, 3, 4]);
        assert_eq!(images(2).len(), Kind::Images.file_len(2));
    }

    #[test]
    fn rejects_a_wrong_magic_number() {
        let err = check(&labels(20), Kind::Images, None).unwrap_err();
        assert!(err.contains("magic number 0x00000801, expected 0x00000803"), "{err}");
        let mut bytes = labels(4);
        bytes[3] = 0x02;
        assert!(check(&bytes, Kind::Labels, None).unwrap_err().contains("magic"));
    }

    #[test]
    fn rejects_wrong_counts_and_dimensions() {
        let err = check(&labels(4), Kind::Labels, Some(10_000)).unwrap_err();
        assert!(err.contains("4 items, expected 10000"), "{err}");
        let mut bytes = images(1);
        bytes[15] = 27;
        let err = check(&bytes, Kind::Images, Some(1)).unwrap_err();
        assert!(err.contains("28×27"), "{err}");
        // A header that claims more items than the file holds is a length error.
        let mut bytes = labels(4);
        bytes[7] = 5;
        assert!(check(&bytes, Kind::Labels, None).unwrap_err().contains("truncated"));
    }

    #[test]
    fn rejects_truncated_and_padded_files() {
        let bytes = images(2);
        let err = check(&bytes[..bytes.len() - 1], Kind::Images, Some(2)).unwrap_err();
        assert!(err.contains("truncated"), "{err}");
        assert!(check(&bytes[..10], Kind::Images, None).unwrap_err().contains("too short"));
        assert!(check(&[], Kind::Labels, None).unwrap_err().contains("too short"));
        let mut padded = labels(3);
        padded.push(0);
        assert!(check(&padded, Kind::Labels, Some(3)).unwrap_err().contains("trailing"));
    }

    #[test]
    fn sha256_matches_a_known_vector_in_memory_and_on_disk() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        fs::write(&path, b"abc").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), abc);
    }

    #[test]
    fn a_one_byte_change_is_caught_by_sha256_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let good = labels(100);
        let spec = FileSpec::new("t10k-labels-idx1-ubyte", Kind::Labels, 100, sha256_hex(&good));
        let path = dir.path().join(&spec.name);
        fs::write(&path, &good).unwrap();
        assert_eq!(read_verified(&path, &spec).unwrap(), good);

        let mut bad = good.clone();
        bad[50] = (bad[50] + 1) % 10; // still a valid label: only the hash can tell
        fs::write(&path, &bad).unwrap();
        let message = read_verified(&path, &spec).unwrap_err().to_string();
        assert!(message.contains("t10k-labels-idx1-ubyte: sha256 is"), "{message}");
        assert!(message.contains("cargo xtask data"), "{message}");
        assert_eq!(message.lines().count(), 1);
    }

    #[test]
    fn a_missing_file_and_an_impossible_label_are_data_errors() {
        let dir = tempfile::tempdir().unwrap();
        let spec = FileSpec { name: "x".into(), kind: Kind::Labels, count: 1, sha256: None };
        let message = read_verified(&dir.path().join("x"), &spec).unwrap_err().to_string();
        assert!(message.contains("x: missing"), "{message}");
        assert!(spec.problem_with(&encode(Kind::Labels, &[10])).unwrap().contains("label 10"));
    }
}
