//! The run recorder: what TensorBoard's `add_scalar` and `add_histogram` give, as plain
//! files in the run's output directory, so a run can be read, diffed and plotted later
//! with nothing but a text editor or the book's plot jobs.
//!
//! - `metrics.csv`: one row per epoch, one column per scalar. It is rewritten whole and
//!   atomically after every epoch (rows are few), so an interrupted run leaves the last
//!   complete table, never half a line.
//! - `histograms.csv`: `step, tag, bin_start, bin_end, count`, appended as training
//!   goes (it can grow long, so it is not rewritten).
//! - `summary.json`: binary, dlcore version, seed, hyperparameters, final metrics and
//!   wall-clock time, written atomically by [`Recorder::finish`].
//! - `events.out.tfevents.*` (unless turned off with `--no-tensorboard`): the same
//!   scalars and histograms, and a graph where a binary records one, as a TensorBoard
//!   event file ([`crate::tensorboard`]), flushed with every record. A binary that
//!   trains several runs into one table ([`Recorder::record_epoch_of`]: seeds,
//!   variants) writes each run's scalars into a subdirectory of its own, as a
//!   PyTorch user gives each run its own `SummaryWriter` log directory: TensorBoard
//!   then draws the runs as separate curves on one chart.
//!
//! The TensorBoard step of a metrics row is its first column when that column counts
//! whole numbers from zero up (epoch, step, layer, degree), and the row's position
//! otherwise; the other columns become scalar tags of the same names.
//!
//! [`histogram_counts`] is the one binning rule of the project: the histogram figures
//! of [`crate::plot`] use it too, so a plotted histogram and a recorded one agree.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Deserializer, Serialize};

use crate::tensorboard::{self, EventWriter, GraphNode};
use crate::{Error, Result, atomic_file};

/// File name of the per-epoch scalars in a run directory.
pub const METRICS_FILE: &str = "metrics.csv";
/// File name of the recorded histograms in a run directory.
pub const HISTOGRAMS_FILE: &str = "histograms.csv";
/// File name of the run summary in a run directory.
pub const SUMMARY_FILE: &str = "summary.json";

/// One histogram bin: values in `[start, end)` (the last bin also takes `end`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    /// Lower edge.
    pub start: f32,
    /// Upper edge.
    pub end: f32,
    /// How many values fell in the bin.
    pub count: usize,
}

/// Counts `values` in `bins` equal-width bins over `range`, or over the finite values'
/// own min and max when `range` is `None`. Non-finite values are never counted, and
/// neither are values outside an explicit `range`; with `range: None` the counts sum
/// to the number of finite values. Pass one shared `range` to make several histograms
/// comparable (same edges), as stacked histograms do.
///
/// Always returns `bins.max(1)` bins: a constant input gets a unit-wide range around
/// its value, an input with no finite value gets `[0, 1]` with zero counts.
pub fn histogram_counts(values: &[f32], bins: usize, range: Option<(f32, f32)>) -> Vec<Bin> {
    let bins = bins.max(1);
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let (lo, hi) = match range.filter(|&(a, b)| a.is_finite() && b.is_finite() && a <= b) {
        Some(r) => r,
        None => finite
            .clone()
            .fold(None, |acc: Option<(f32, f32)>, v| match acc {
                None => Some((v, v)),
                Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            })
            .unwrap_or((0.0, 1.0)),
    };
    let (lo, hi) = if lo == hi { (lo - 0.5, hi + 0.5) } else { (lo, hi) };
    // Edges and indices in f64: f32 rounding must not push a value into the next bin.
    let (lo64, width) = (f64::from(lo), (f64::from(hi) - f64::from(lo)) / bins as f64);
    let mut counts = vec![0usize; bins];
    for v in finite.filter(|&v| lo <= v && v <= hi) {
        let index = ((f64::from(v) - lo64) / width).floor() as usize;
        counts[index.min(bins - 1)] += 1;
    }
    counts
        .into_iter()
        .enumerate()
        .map(|(i, count)| Bin {
            start: (lo64 + width * i as f64) as f32,
            end: if i + 1 == bins { hi } else { (lo64 + width * (i + 1) as f64) as f32 },
            count,
        })
        .collect()
}

/// One row of `histograms.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramRow {
    /// Training step (or epoch, or layer index) the values were taken at.
    pub step: usize,
    /// What was measured, e.g. `layer2/weights`.
    pub tag: String,
    /// Lower bin edge.
    pub bin_start: f32,
    /// Upper bin edge.
    pub bin_end: f32,
    /// Values in the bin.
    pub count: usize,
}

/// What a run was and what it achieved, written as `summary.json` at the end of the run.
/// Build it with `Summary::new("mlp", seed).param("lr", 0.1).metric("test_accuracy",
/// 0.98)`; [`Recorder::finish`] fills in the wall-clock time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The binary (chapter crate) that produced the run.
    pub binary: String,
    /// Version of `dlcore`, since results may change with the shared code.
    pub dlcore_version: String,
    /// The seed every random choice of the run derives from.
    pub seed: u64,
    /// Hyperparameters, by name (numbers, strings, lists: any JSON value).
    pub hyperparameters: BTreeMap<String, serde_json::Value>,
    /// Final metrics by name. Non-finite values (a diverged loss) are written as
    /// `null` and read back as NaN.
    #[serde(deserialize_with = "null_as_nan")]
    pub final_metrics: BTreeMap<String, f64>,
    /// Seconds from [`Recorder::create`] to [`Recorder::finish`].
    pub wall_seconds: f64,
}

/// Hyperparameters are mostly `f32`, and widening `0.05f32` to f64 would print
/// `0.05000000074505806`. A float that is exactly an f32 is written with the
/// shortest decimal that reads back as that f32 instead.
fn shortest_f32(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            let wide = n.as_f64().unwrap_or(f64::NAN);
            let narrow = wide as f32;
            if f64::from(narrow) == wide {
                narrow
                    .to_string()
                    .parse::<f64>()
                    .map_or(serde_json::Value::Number(n), serde_json::Value::from)
            } else {
                serde_json::Value::Number(n)
            }
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(shortest_f32).collect())
        }
        other => other,
    }
}

impl Summary {
    /// A summary with no hyperparameters or metrics yet.
    pub fn new(binary: impl Into<String>, seed: u64) -> Self {
        Summary {
            binary: binary.into(),
            dlcore_version: env!("CARGO_PKG_VERSION").to_string(),
            seed,
            hyperparameters: BTreeMap::new(),
            final_metrics: BTreeMap::new(),
            wall_seconds: 0.0,
        }
    }

    /// Adds a hyperparameter (anything `serde_json::Value` converts from: numbers,
    /// strings, booleans, vectors).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.hyperparameters.insert(name.into(), shortest_f32(value.into()));
        self
    }

    /// Adds a final metric.
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.final_metrics.insert(name.into(), value);
        self
    }
}

fn null_as_nan<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<BTreeMap<String, f64>, D::Error> {
    let map = BTreeMap::<String, Option<f64>>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, v)| (k, v.unwrap_or(f64::NAN))).collect())
}

/// Records one run into its output directory; see the module documentation for the
/// files. Create it at the start of the run (it starts the wall clock), call
/// [`record_epoch`](Recorder::record_epoch) after every epoch and
/// [`finish`](Recorder::finish) at the end.
#[derive(Debug)]
pub struct Recorder {
    dir: PathBuf,
    started: Instant,
    columns: Option<Vec<String>>,
    rows: Vec<Vec<f64>>,
    histograms: Option<csv::Writer<BufWriter<File>>>,
    /// The event files by sub-run name ([`sub_run_name`]; `""` is the run itself),
    /// each created when first written to, so a binary that records nothing leaves
    /// none. `None` with `--no-tensorboard`.
    events: Option<BTreeMap<String, RunEvents>>,
    /// Whether the first column of a row is its TensorBoard step, decided by the
    /// first row recorded.
    first_column_is_step: Option<bool>,
}

/// An event file and how many metrics rows went into it (the step of a row whose
/// first column is not a step).
#[derive(Debug)]
struct RunEvents {
    writer: EventWriter,
    rows: i64,
}

impl RunEvents {
    fn create(dir: &Path) -> Result<RunEvents> {
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(RunEvents { writer: EventWriter::create(dir)?, rows: 0 })
    }
}

/// A value that can be a TensorBoard step: a whole number, zero or more.
fn is_step(value: f64) -> bool {
    value >= 0.0 && value.fract() == 0.0 && value < i64::MAX as f64
}

/// The subdirectory of a sub-run labelled `[("seed", 0.0), ("dropout", 1.0)]`:
/// `seed0_dropout1` (and `""`, the run's own directory, for no label).
pub fn sub_run_name(run: &[(&str, f64)]) -> String {
    let parts: Vec<String> = run.iter().map(|(name, value)| format!("{name}{value}")).collect();
    parts
        .join("_")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '.') { c } else { '_' })
        .collect()
}

impl Recorder {
    /// [`Recorder::create_with`] with the TensorBoard event file on.
    pub fn create(dir: &Path) -> Result<Recorder> {
        Self::create_with(dir, true)
    }

    /// Creates `dir` (and its parents), checks that it can be written, and starts the
    /// clock; with `tensorboard` it also starts the run's event file. A directory holds
    /// one run: result files left there by an earlier run (event files included) are
    /// removed now, so the directory never mixes two runs.
    ///
    /// Binaries create their recorder before they train, so a directory that cannot
    /// be written is reported before any time is spent.
    pub fn create_with(dir: &Path, tensorboard: bool) -> Result<Recorder> {
        let unwritable = |reason: std::io::Error| Error::RunDirectory { path: dir.to_path_buf(), reason };
        fs::create_dir_all(dir).map_err(unwritable)?;
        let mut stale: Vec<PathBuf> =
            [METRICS_FILE, HISTOGRAMS_FILE, SUMMARY_FILE].map(|n| dir.join(n)).into();
        let mut sub_runs = Vec::new();
        for entry in fs::read_dir(dir).map_err(unwritable)? {
            let path = entry.map_err(unwritable)?.path();
            if path.is_dir() {
                let events = tensorboard::event_files(&path)?;
                if !events.is_empty() {
                    sub_runs.push(path);
                }
                stale.extend(events);
            }
        }
        stale.extend(tensorboard::event_files(dir)?);
        for path in stale {
            match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(unwritable(e)),
                _ => {}
            }
        }
        for sub_run in sub_runs {
            // Only if nothing else is in it: the directory may hold a user's files.
            let _ = fs::remove_dir(sub_run);
        }
        // Prove the directory writable now, before any training; the event files come
        // with the first record.
        let probe = dir.join(".write-test");
        File::create(&probe).map_err(unwritable)?;
        fs::remove_file(&probe).map_err(unwritable)?;
        Ok(Recorder {
            dir: dir.to_path_buf(),
            started: Instant::now(),
            columns: None,
            rows: Vec::new(),
            histograms: None,
            events: tensorboard.then(BTreeMap::new),
            first_column_is_step: None,
        })
    }

    /// The run's own TensorBoard event file, once something was written to it.
    pub fn event_file(&self) -> Option<&Path> {
        self.events.as_ref()?.get("").map(|run| run.writer.path())
    }

    /// The event writer of the run itself (`run` empty) or of the sub-run `run`
    /// labels, created on first use; `None` with `--no-tensorboard`.
    fn run_events(&mut self, run: &[(&str, f64)]) -> Result<Option<&mut RunEvents>> {
        let Some(files) = &mut self.events else { return Ok(None) };
        let events = match files.entry(sub_run_name(run)) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                let dir = self.dir.join(entry.key());
                entry.insert(RunEvents::create(&dir)?)
            }
        };
        Ok(Some(events))
    }

    /// The run's output directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Seconds since the recorder was created.
    pub fn elapsed_seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Appends one row of scalars, e.g. `&[("epoch", 3.0), ("train_loss", 0.41)]`, and
    /// rewrites `metrics.csv`. The first row fixes the columns and their order; a later
    /// row with other columns (or a repeated name) is a bug in the caller and returns
    /// an error rather than writing a ragged table.
    pub fn record_epoch(&mut self, row: &[(&str, f64)]) -> Result<()> {
        self.record_row(&[], row)
    }

    /// [`record_epoch`](Recorder::record_epoch) for one of several runs trained into
    /// one table: `run` names it (`&[("seed", 2.0)]`) and comes first in the
    /// `metrics.csv` row; the scalars of `row` go to the event file of the run's own
    /// subdirectory ([`sub_run_name`]), so each run is a separate curve in TensorBoard.
    pub fn record_epoch_of(&mut self, run: &[(&str, f64)], row: &[(&str, f64)]) -> Result<()> {
        if run.is_empty() {
            return Err(Error::invalid("run label", "(none)", "at least one column naming the run"));
        }
        self.record_row(run, row)
    }

    fn record_row(&mut self, run: &[(&str, f64)], row: &[(&str, f64)]) -> Result<()> {
        let full: Vec<(&str, f64)> = run.iter().chain(row).copied().collect();
        self.append_metrics(&full)?;
        let Some(&(_, first)) = row.first() else { return Ok(()) };
        let first_is_step = *self.first_column_is_step.get_or_insert(is_step(first));
        let Some(events) = self.run_events(run)? else { return Ok(()) };
        let (step, scalars) = if first_is_step && is_step(first) {
            (first as i64, &row[1..])
        } else {
            (events.rows, if first_is_step { &row[1..] } else { row })
        };
        events.rows += 1;
        events.writer.scalars(step, scalars)?;
        events.writer.flush()
    }

    fn append_metrics(&mut self, row: &[(&str, f64)]) -> Result<()> {
        let names: Vec<&str> = row.iter().map(|(name, _)| *name).collect();
        let described = || names.join(", ");
        if names.is_empty() || names.iter().any(|n| n.is_empty()) {
            return Err(Error::invalid(
                "metrics row",
                described(),
                "at least one column, every column named",
            ));
        }
        if names.iter().enumerate().any(|(i, n)| names[..i].contains(n)) {
            return Err(Error::invalid("metrics row", described(), "each column name once"));
        }
        match &self.columns {
            None => self.columns = Some(names.iter().map(|n| n.to_string()).collect()),
            Some(columns) if columns.iter().map(String::as_str).eq(names.iter().copied()) => {}
            Some(columns) => {
                return Err(Error::invalid(
                    "metrics row",
                    described(),
                    format!("the columns of the first row, in order: {}", columns.join(", ")),
                ));
            }
        }
        self.rows.push(row.iter().map(|(_, v)| *v).collect());
        self.write_metrics()
    }

    fn write_metrics(&self) -> Result<()> {
        let columns = self.columns.as_deref().unwrap_or_default();
        atomic_file::write_with(&self.dir.join(METRICS_FILE), |w| {
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record(columns)?;
            for row in &self.rows {
                // Display of f64 is the shortest text that parses back to the same value.
                csv.write_record(row.iter().map(|v| v.to_string()))?;
            }
            csv.flush()
        })
    }

    /// Bins `values` (see [`histogram_counts`], over their own range) and appends the
    /// bins to `histograms.csv` under `step` and `tag`, and to the event file, like
    /// TensorBoard's `add_histogram`. Both are flushed each time, so they are complete
    /// up to the last call even if the run stops.
    pub fn record_histogram(&mut self, step: usize, tag: &str, values: &[f32], bins: usize) -> Result<()> {
        let path = self.dir.join(HISTOGRAMS_FILE);
        let writer = match &mut self.histograms {
            Some(writer) => writer,
            None => {
                let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
                self.histograms.insert(csv::Writer::from_writer(BufWriter::new(file)))
            }
        };
        let bins = histogram_counts(values, bins, None);
        let written = (|| -> std::result::Result<(), csv::Error> {
            for bin in &bins {
                writer.serialize(HistogramRow {
                    step,
                    tag: tag.to_string(),
                    bin_start: bin.start,
                    bin_end: bin.end,
                    count: bin.count,
                })?;
            }
            writer.flush()?;
            Ok(())
        })();
        written.map_err(|e| Error::io(&path, e.into()))?;
        if let Some(events) = self.run_events(&[])? {
            events.writer.histogram(step as i64, tag, values, &bins)?;
            events.writer.flush()?;
        }
        Ok(())
    }

    /// Writes a computational graph to the event file, like TensorBoard's
    /// `add_graph` (nothing without an event file: the CSV files have no graph).
    pub fn record_graph(&mut self, nodes: &[GraphNode]) -> Result<()> {
        if let Some(events) = self.run_events(&[])? {
            events.writer.graph(nodes)?;
            events.writer.flush()?;
        }
        Ok(())
    }

    /// Writes `summary.json`, with the wall-clock time since [`Recorder::create`] and
    /// this `dlcore` version filled in, and returns its path.
    pub fn finish(mut self, summary: &Summary) -> Result<PathBuf> {
        if let Some(mut writer) = self.histograms.take() {
            let path = self.dir.join(HISTOGRAMS_FILE);
            writer.flush().map_err(|e| Error::io(&path, e))?;
        }
        for run in self.events.iter_mut().flat_map(BTreeMap::values_mut) {
            run.writer.flush()?;
        }
        let summary = Summary {
            wall_seconds: self.elapsed_seconds(),
            dlcore_version: env!("CARGO_PKG_VERSION").to_string(),
            ..summary.clone()
        };
        let path = self.dir.join(SUMMARY_FILE);
        atomic_file::write_with(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, &summary)?;
            w.write_all(b"\n")
        })?;
        Ok(path)
    }
}

/// Reads a `metrics.csv` back, one map from column name to value per row, for tests,
/// the plot jobs and the book's tables.
pub fn read_metrics(path: &Path) -> Result<Vec<BTreeMap<String, f64>>> {
    let format_error = |problem: String| Error::Format { path: path.to_path_buf(), problem };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        other => format_error(format!("{other:?}")),
    })?;
    let columns = reader.headers().map_err(|e| format_error(e.to_string()))?.clone();
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format_error(e.to_string()))?;
        let row = columns
            .iter()
            .zip(record.iter())
            .map(|(name, text)| {
                let value = text.trim().parse::<f64>().map_err(|_| {
                    format_error(format!("row {}: `{text}` in column `{name}` is not a number", line + 1))
                })?;
                Ok((name.to_string(), value))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        rows.push(row);
    }
    Ok(rows)
}

/// Reads a `histograms.csv` back, row by row.
pub fn read_histograms(path: &Path) -> Result<Vec<HistogramRow>> {
    let format_error = |problem: String| Error::Format { path: path.to_path_buf(), problem };
    let mut reader = csv::Reader::from_path(path).map_err(|e| match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(path, e),
        other => format_error(format!("{other:?}")),
    })?;
    reader
        .deserialize()
        .collect::<std::result::Result<Vec<HistogramRow>, _>>()
        .map_err(|e| format_error(e.to_string()))
}

/// Reads a `summary.json` back.
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Format { path: path.to_path_buf(), problem: e.to_string() })
}

#[cfg(test)]
mod tests {
    #[test]
    fn f32_hyperparameters_print_as_written() {
        let summary =
            super::Summary::new("t", 0).param("lr", 0.05f32).param("wide", 0.1f64).param("n", 3usize);
        assert_eq!(summary.hyperparameters["lr"].to_string(), "0.05");
        assert_eq!(summary.hyperparameters["wide"].to_string(), "0.1");
        assert_eq!(summary.hyperparameters["n"].to_string(), "3");
    }

    use super::*;

    #[test]
    fn metrics_round_trip_with_header_and_rows() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("runs/test");
        let mut rec = Recorder::create(&run).unwrap();
        let rows = [(1.0, 2.302_585_093_123_4, 0.1), (2.0, 0.5, 0.8), (3.0, 1e-7, f64::NAN)];
        for &(epoch, loss, acc) in &rows {
            rec.record_epoch(&[("epoch", epoch), ("train_loss", loss), ("accuracy", acc)]).unwrap();
        }
        let text = fs::read_to_string(run.join(METRICS_FILE)).unwrap();
        assert!(text.starts_with("epoch,train_loss,accuracy\n"), "{text}");
        let back = read_metrics(&run.join(METRICS_FILE)).unwrap();
        assert_eq!(back.len(), 3);
        for (row, &(epoch, loss, acc)) in back.iter().zip(&rows) {
            assert_eq!(row["epoch"], epoch);
            assert_eq!(row["train_loss"], loss, "values round-trip exactly");
            assert!(row["accuracy"] == acc || (acc.is_nan() && row["accuracy"].is_nan()));
        }
    }

    #[test]
    fn mismatched_columns_are_an_error_and_leave_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Recorder::create(dir.path()).unwrap();
        rec.record_epoch(&[("epoch", 1.0), ("loss", 0.5)]).unwrap();
        assert!(rec.record_epoch(&[("epoch", 2.0)]).is_err());
        assert!(rec.record_epoch(&[("loss", 0.4), ("epoch", 2.0)]).is_err());
        assert!(rec.record_epoch(&[("epoch", 2.0), ("lr", 0.1)]).is_err());
        assert!(rec.record_epoch(&[("epoch", 2.0), ("epoch", 2.0)]).is_err());
        assert!(rec.record_epoch(&[]).is_err());
        rec.record_epoch(&[("epoch", 2.0), ("loss", 0.4)]).unwrap();
        assert_eq!(read_metrics(&dir.path().join(METRICS_FILE)).unwrap().len(), 2);
    }

    #[test]
    fn summary_parses_back() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::create(dir.path()).unwrap();
        let summary = Summary::new("mlp", 42)
            .param("lr", 0.1)
            .param("hidden", vec![256, 128])
            .param("activation", "relu")
            .metric("test_accuracy", 0.98)
            .metric("diverged_loss", f64::NAN);
        let path = rec.finish(&summary).unwrap();
        assert_eq!(path, dir.path().join(SUMMARY_FILE));
        let back = read_summary(&path).unwrap();
        assert_eq!(back.binary, "mlp");
        assert_eq!(back.seed, 42);
        assert_eq!(back.dlcore_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(back.hyperparameters["lr"], serde_json::json!(0.1));
        assert_eq!(back.hyperparameters["hidden"], serde_json::json!([256, 128]));
        assert_eq!(back.final_metrics["test_accuracy"], 0.98);
        assert!(back.final_metrics["diverged_loss"].is_nan());
        assert!(back.wall_seconds >= 0.0 && back.wall_seconds < 60.0);
        // Also plain JSON for anything else that reads it.
        let json: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["seed"], 42);
    }

    #[test]
    fn histogram_counts_sum_to_the_finite_values() {
        let mut values: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 3.0).collect();
        values.extend([f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
        for bins in [1, 7, 30, 1000] {
            let counts = histogram_counts(&values, bins, None);
            assert_eq!(counts.len(), bins);
            assert_eq!(counts.iter().map(|b| b.count).sum::<usize>(), 1000);
            assert!(counts.windows(2).all(|w| w[0].end == w[1].start), "edges are shared");
            assert_eq!(counts[0].start, -3.0);
            assert_eq!(counts[bins - 1].end, 6.99);
        }
        let constant = histogram_counts(&[2.0; 5], 4, None);
        assert_eq!(constant.iter().map(|b| b.count).sum::<usize>(), 5);
        let nothing = histogram_counts(&[f32::NAN], 3, None);
        assert_eq!((nothing.len(), nothing.iter().map(|b| b.count).sum::<usize>()), (3, 0));
        let clipped = histogram_counts(&[-5.0, 0.0, 0.5, 1.0, 5.0], 2, Some((0.0, 1.0)));
        assert_eq!(clipped.iter().map(|b| b.count).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn histograms_are_appended_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Recorder::create(dir.path()).unwrap();
        let values: Vec<f32> = (0..100).map(|i| i as f32 / 10.0).collect();
        rec.record_histogram(0, "layer1/weights", &values, 10).unwrap();
        rec.record_histogram(1, "layer1/weights", &values[..50], 5).unwrap();
        let rows = read_histograms(&dir.path().join(HISTOGRAMS_FILE)).unwrap();
        assert_eq!(rows.len(), 15);
        let total = |step| rows.iter().filter(|r| r.step == step).map(|r| r.count).sum::<usize>();
        assert_eq!((total(0), total(1)), (100, 50));
        assert_eq!(rows[0].tag, "layer1/weights");
        rec.finish(&Summary::new("test", 0)).unwrap();
    }

    #[test]
    fn a_new_recorder_clears_an_old_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Recorder::create(dir.path()).unwrap();
        rec.record_epoch_of(&[("seed", 1.0)], &[("epoch", 1.0)]).unwrap();
        rec.record_histogram(0, "w", &[1.0, 2.0], 2).unwrap();
        rec.finish(&Summary::new("test", 0)).unwrap();
        let kept = dir.path().join("kept");
        fs::create_dir(&kept).unwrap();
        fs::write(kept.join("notes.txt"), "a user's file").unwrap();
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 6, "four files, a sub-run and `kept`");

        let mut again = Recorder::create(dir.path()).unwrap();
        let left: Vec<PathBuf> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(left, std::slice::from_ref(&kept), "every file of the old run is gone, nothing else");
        again.record_epoch(&[("epoch", 1.0)]).unwrap();
        assert!(again.event_file().is_some_and(Path::is_file));

        let mut quiet = Recorder::create_with(dir.path(), false).unwrap();
        quiet.record_epoch(&[("epoch", 1.0)]).unwrap();
        assert!(quiet.event_file().is_none());
        assert!(tensorboard::event_files(dir.path()).unwrap().is_empty(), "--no-tensorboard");
    }

    #[test]
    fn each_labelled_run_gets_its_own_event_file_with_increasing_steps() {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Recorder::create(dir.path()).unwrap();
        for seed in [0.0, 1.0] {
            for epoch in [1.0, 2.0] {
                rec.record_epoch_of(&[("seed", seed)], &[("epoch", epoch), ("loss", seed + epoch)]).unwrap();
            }
        }
        assert!(rec.record_epoch_of(&[], &[("epoch", 3.0), ("loss", 0.0)]).is_err());
        let rows = read_metrics(&dir.path().join(METRICS_FILE)).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!((rows[2]["seed"], rows[2]["epoch"], rows[2]["loss"]), (1.0, 1.0, 2.0));
        assert!(rec.event_file().is_none(), "nothing was recorded for the run as a whole");
        for seed in [0, 1] {
            let files = tensorboard::event_files(&dir.path().join(format!("seed{seed}"))).unwrap();
            let log = tensorboard::read_events(&files[0]).unwrap();
            let steps: Vec<i64> = log.events[1..].iter().map(|e| e.step).collect();
            assert_eq!(steps, [1, 2], "seed {seed}");
        }
        assert_eq!(sub_run_name(&[("seed", 3.0), ("dropout", 0.5)]), "seed3_dropout0.5");
    }

    #[test]
    fn the_event_file_holds_every_metrics_row_at_its_epoch() {
        use crate::tensorboard::proto::{event, summary};
        let dir = tempfile::tempdir().unwrap();
        let mut rec = Recorder::create(dir.path()).unwrap();
        rec.record_epoch(&[("epoch", 1.0), ("loss", 0.5), ("accuracy", 0.9)]).unwrap();
        rec.record_epoch(&[("epoch", 2.0), ("loss", 0.25), ("accuracy", f64::NAN)]).unwrap();
        rec.record_histogram(2, "w", &[1.0, 2.0, 3.0], 2).unwrap();
        let path = rec.event_file().unwrap().to_path_buf();
        // Read before finish: every record is flushed as it is made.
        let log = tensorboard::read_events(&path).unwrap();
        assert_eq!(log.events.len(), 4);
        let scalars = |i: usize| match &log.events[i].what {
            Some(event::What::Summary(s)) => s
                .value
                .iter()
                .map(|v| match v.kind {
                    Some(summary::value::Kind::SimpleValue(x)) => (v.tag.clone(), x),
                    _ => panic!("expected scalars"),
                })
                .collect::<Vec<_>>(),
            _ => panic!("expected a summary"),
        };
        assert_eq!(log.events[1].step, 1);
        assert_eq!(scalars(1), [("loss".to_string(), 0.5), ("accuracy".to_string(), 0.9)]);
        assert_eq!(log.events[2].step, 2);
        assert!(scalars(2)[1].1.is_nan());
        assert_eq!(log.events[3].step, 2);

        // A first column that does not count from zero up is a scalar like the others,
        // and the row's position is the step.
        let other = tempfile::tempdir().unwrap();
        let mut rec = Recorder::create(other.path()).unwrap();
        for z in [-1.0, 0.0, 1.0] {
            rec.record_epoch(&[("z", z), ("sigmoid", 0.5)]).unwrap();
        }
        let log = tensorboard::read_events(rec.event_file().unwrap()).unwrap();
        let steps: Vec<i64> = log.events[1..].iter().map(|e| e.step).collect();
        assert_eq!(steps, [0, 1, 2]);
        let Some(event::What::Summary(first)) = &log.events[1].what else { panic!("expected scalars") };
        assert_eq!(first.value.iter().map(|v| v.tag.as_str()).collect::<Vec<_>>(), ["z", "sigmoid"]);
    }

    #[test]
    fn an_unwritable_run_directory_is_a_one_line_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        fs::write(&file, "not a directory").unwrap();
        for tensorboard in [true, false] {
            let error = Recorder::create_with(&file.join("run"), tensorboard).unwrap_err();
            assert!(matches!(error, Error::RunDirectory { .. }), "{error:?}");
            let message = error.to_string();
            assert!(message.contains("pass --out") && !message.contains('\n'), "{message}");
            // The reason is in the line, not a cause that `error: {e:#}` would repeat.
            assert!(std::error::Error::source(&error).is_none());
        }
        // A directory that exists but takes no new file (a directory in the way of the
        // probe: permissions would not stop a test running as root).
        let run = dir.path().join("run");
        fs::create_dir_all(run.join(".write-test")).unwrap();
        for tensorboard in [true, false] {
            let error = Recorder::create_with(&run, tensorboard).unwrap_err();
            assert!(matches!(error, Error::RunDirectory { .. }), "{error:?}");
        }
    }

    #[test]
    fn unreadable_metrics_are_a_format_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        fs::write(&path, "epoch,loss\n1,abc\n").unwrap();
        assert!(matches!(read_metrics(&path), Err(Error::Format { .. })));
        assert!(matches!(read_metrics(&dir.path().join("missing.csv")), Err(Error::Io { .. })));
    }
}
