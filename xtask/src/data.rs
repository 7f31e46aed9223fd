//! `cargo xtask data`: puts MNIST and Fashion-MNIST in place, verified, and cuts the
//! committed samples from them.
//!
//! The work is done by `dlcore::data::images`, the same code a chapter's binary runs
//! when it needs a data set on first use; this command only chooses what to do and
//! reports it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use dlcore::atomic_file;
use dlcore::data::fetch::Outcome;
use dlcore::data::idx::{self, Kind};
use dlcore::data::images::{self, ImageSet, SAMPLE_LEN, Split};

/// Options of `cargo xtask data`.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Only this data set: `mnist` or `fashion-mnist` [default: both]
    #[arg(long)]
    pub set: Option<ImageSet>,

    /// Also cut the committed samples (the first 1,000 test images and labels of each
    /// set, as IDX files) from the full files into data/samples/
    #[arg(long)]
    pub samples: bool,
}

/// Fetches (or confirms) each data set, then cuts the samples if asked. Running it
/// again with everything in place only reports that.
pub fn run(root: &Path, args: &DataArgs) -> anyhow::Result<()> {
    let data_dir = data_dir(root);
    let sets = match args.set {
        Some(set) => vec![set],
        None => ImageSet::ALL.to_vec(),
    };
    // Every set is tried even if one fails, so one run reports everything missing.
    let mut failures = Vec::new();
    for set in sets {
        if let Err(e) = fetch_one(set, &data_dir, root, args.samples) {
            eprintln!("{}: {e:#}", set.title());
            failures.push(format!("{e:#}"));
        }
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(anyhow::anyhow!(failures.remove(0))),
        n => Err(anyhow::anyhow!("{n} data sets are not in place: {}", failures.join("; "))),
    }
}

fn fetch_one(set: ImageSet, data_dir: &Path, root: &Path, samples: bool) -> anyhow::Result<()> {
    let start = Instant::now();
    let outcome = images::fetch(set, data_dir)?;
    let seconds = start.elapsed().as_secs_f32();
    let (title, dir) = (set.title(), data_dir.join(set.dir_name()));
    match outcome {
        Outcome::AlreadyInPlace => {
            println!(
                "{title}: all files already in {} and verified; nothing to do ({seconds:.1} s)",
                dir.display()
            )
        }
        Outcome::Fetched { source } => {
            println!("{title}: fetched from {source} and verified into {} ({seconds:.1} s)", dir.display())
        }
    }
    if samples {
        cut_sample(set, data_dir, &root.join("data").join("samples").join(set.dir_name()))?;
    }
    Ok(())
}

/// `$DLCORE_DATA_DIR` if set, else `<root>/data`: the folder the library reads from.
fn data_dir(root: &Path) -> PathBuf {
    match std::env::var_os("DLCORE_DATA_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => root.join("data"),
    }
}

/// Writes the first `SAMPLE_LEN` test images and labels of `set` as two IDX files with
/// correct header counts, then reads them back through the library's sample loader,
/// which checks them against the sha256 it expects (the cut is deterministic, so a
/// mismatch means the code or the full files changed).
fn cut_sample(set: ImageSet, data_dir: &Path, out: &Path) -> anyhow::Result<()> {
    let spec = set.spec();
    let full_dir = data_dir.join(set.dir_name());
    for (kind, name) in [(Kind::Images, Split::Test.images_file()), (Kind::Labels, Split::Test.labels_file())]
    {
        let file = spec.files.iter().find(|f| f.name == name).context("the data set lists its test files")?;
        let bytes = idx::read_verified(&full_dir.join(name), file)?;
        let items = &idx::payload(&bytes, kind)[..SAMPLE_LEN * kind.item_len()];
        let sample = idx::encode(kind, items);
        let path = out.join(images::sample_file_name(kind));
        atomic_file::write_bytes(&path, &sample)?;
        println!("  wrote {} ({} bytes, sha256 {})", path.display(), sample.len(), idx::sha256_hex(&sample));
    }
    let sample =
        images::load_sample(set).with_context(|| format!("reading back the {} sample", set.title()))?;
    println!("  {} sample: {} examples, verified", set.title(), sample.len());
    Ok(())
}
