//! TensorBoard event files: what PyTorch's `SummaryWriter` writes, so a run of this
//! project opens in the dashboard a PyTorch user already knows
//! (`cargo xtask tensorboard <run-dir>`).
//!
//! An event file (`events.out.tfevents.<seconds>.<host>.<pid>`) is a list of
//! [`tfrecord`] records, each one protobuf [`proto::Event`]: first the format
//! version, then one event per call of [`EventWriter::scalars`] (`add_scalar`),
//! [`EventWriter::histogram`] (`add_histogram`) or [`EventWriter::graph`]
//! (`add_graph`). The [`crate::record::Recorder`] owns one writer per run, so every
//! binary that records metrics writes events beside its `metrics.csv`.
//!
//! Every call appends whole records, and the recorder flushes after each of its
//! records, so a run that is stopped leaves a file that readers take up to its last
//! complete record ([`read_events`] does the same).

pub mod proto;
pub mod tfrecord;

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use self::proto::{
    AttrValue, Event, GraphDef, HistogramProto, ListValue, NodeDef, TensorShapeProto, VersionDef, attr_value,
    event, summary, tensor_shape_proto,
};
use crate::record::Bin;
use crate::{Error, Result};

/// Every event file's name starts with this; TensorBoard finds files by it.
pub const FILE_PREFIX: &str = "events.out.tfevents.";

/// The version string of the first event, the one current TensorFlow and PyTorch
/// write. (A step that repeats or goes back within one file is still taken as a
/// restart by TensorBoard's data server, which drops the earlier points: that is why
/// each of several runs gets its own file, see [`crate::record`].)
pub const FILE_VERSION: &str = "brain.Event:2";

/// Appends events to one event file of a run directory.
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
    /// Reused for every event, so writing allocates nothing once it has grown.
    encoded: Vec<u8>,
}

impl EventWriter {
    /// Creates a new event file in `dir` (which must exist) and writes the version
    /// event. Fails with the file's path when `dir` cannot be written.
    pub fn create(dir: &Path) -> Result<EventWriter> {
        let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let name = format!("{FILE_PREFIX}{seconds}.{}.{}", host_name(), std::process::id());
        let path = dir.join(name);
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = EventWriter { path, file: BufWriter::new(file), encoded: Vec::new() };
        writer.write(0, event::What::FileVersion(FILE_VERSION.to_string()))?;
        writer.flush()?;
        Ok(writer)
    }

    /// The event file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `add_scalar` for several tags at once: one event holding every `(tag, value)`.
    pub fn scalars(&mut self, step: i64, values: &[(&str, f64)]) -> Result<()> {
        let value = values
            .iter()
            .map(|&(tag, v)| summary::Value {
                tag: tag.to_string(),
                // TensorBoard stores scalars as f32, as PyTorch's add_scalar does.
                kind: Some(summary::value::Kind::SimpleValue(v as f32)),
            })
            .collect();
        self.write(step, event::What::Summary(proto::Summary { value }))
    }

    /// `add_histogram`: `bins` (as [`crate::record::histogram_counts`] made them) of
    /// `values`, which also give the min, max, sum and sum of squares TensorBoard
    /// shows. Non-finite values are left out, as the bins leave them out.
    pub fn histogram(&mut self, step: i64, tag: &str, values: &[f32], bins: &[Bin]) -> Result<()> {
        let finite = values.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v));
        let (min, max, sum, sum_squares) = finite
            .fold((f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0), |(min, max, sum, squares), v| {
                (min.min(v), max.max(v), sum + v, squares + v * v)
            });
        let counted: usize = bins.iter().map(|b| b.count).sum();
        let histo = HistogramProto {
            min: if counted == 0 { 0.0 } else { min },
            max: if counted == 0 { 0.0 } else { max },
            num: counted as f64,
            sum,
            sum_squares,
            bucket_limit: bins.iter().map(|b| f64::from(b.end)).collect(),
            bucket: bins.iter().map(|b| b.count as f64).collect(),
        };
        let value =
            vec![summary::Value { tag: tag.to_string(), kind: Some(summary::value::Kind::Histo(histo)) }];
        self.write(step, event::What::Summary(proto::Summary { value }))
    }

    /// `add_graph`: the computational graph `nodes`, for the Graphs tab.
    pub fn graph(&mut self, nodes: &[GraphNode]) -> Result<()> {
        let graph = GraphDef {
            node: nodes.iter().map(GraphNode::to_node_def).collect(),
            versions: Some(VersionDef { producer: 22 }),
        };
        self.write(0, event::What::GraphDef(graph.encode_to_vec()))
    }

    /// Pushes what was written to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io(&self.path, e))
    }

    fn write(&mut self, step: i64, what: event::What) -> Result<()> {
        let wall_time = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let event = Event { wall_time, step, what: Some(what) };
        self.encoded.clear();
        event.encode(&mut self.encoded).map_err(|e| Error::Format {
            path: self.path.clone(),
            problem: format!("encoding an event: {e}"),
        })?;
        tfrecord::write_record(&mut self.file, &self.encoded).map_err(|e| Error::io(&self.path, e))
    }
}

/// The machine's name for the file name, as TensorFlow and PyTorch put it there; a
/// fixed word where the system does not say.
fn host_name() -> String {
    let name = fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let name: String =
        name.trim().chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).collect();
    if name.is_empty() { "localhost".to_string() } else { name }
}

/// One node of a computational graph for [`EventWriter::graph`]: an operation or a
/// variable, the nodes it reads, and the shape of what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphNode {
    /// Unique within the graph; `scope/name` nests it in a foldable box.
    pub name: String,
    /// What it is: an operation (`MatMul`, `tanh`) or a kind of leaf (`Parameter`).
    pub op: String,
    /// Names of the nodes it reads, in order.
    pub inputs: Vec<String>,
    /// The shape of its value (rows, columns), drawn on its outgoing edges.
    pub shape: Vec<usize>,
}

impl GraphNode {
    fn to_node_def(&self) -> NodeDef {
        let dims = self.shape.iter().map(|&size| tensor_shape_proto::Dim { size: size as i64 }).collect();
        let shapes = ListValue { shape: vec![TensorShapeProto { dim: dims }] };
        let attr =
            [("_output_shapes".to_string(), AttrValue { value: Some(attr_value::Value::List(shapes)) })];
        NodeDef {
            name: self.name.clone(),
            op: self.op.clone(),
            input: self.inputs.clone(),
            attr: attr.into_iter().collect(),
        }
    }
}

/// The event files of a run directory, oldest name first.
pub fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(FILE_PREFIX)) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// What [`read_events`] read from an event file.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLog {
    /// Every complete event, in order (the version event first).
    pub events: Vec<Event>,
    /// Bytes of a last record cut short by an interrupted write (0 if none).
    pub torn_tail: usize,
}

/// Reads an event file up to its last complete record, as TensorBoard does. A
/// damaged record (bad checksum) or one that is not an `Event` is an error.
pub fn read_events(path: &Path) -> Result<EventLog> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    let format_error = |problem: String| Error::Format { path: path.to_path_buf(), problem };
    let records = tfrecord::read_records(&bytes).map_err(format_error)?;
    let events = records
        .payloads
        .iter()
        .map(|payload| Event::decode(*payload).map_err(|e| format_error(format!("not an event: {e}"))))
        .collect::<Result<Vec<Event>>>()?;
    Ok(EventLog { events, torn_tail: records.torn_tail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::histogram_counts;

    fn summary_values(event: &Event) -> &[summary::Value] {
        match &event.what {
            Some(event::What::Summary(s)) => &s.value,
            other => panic!("expected a summary, got {other:?}"),
        }
    }

    #[test]
    fn scalars_histograms_and_a_graph_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        writer.scalars(1, &[("train_loss", 0.5), ("test_accuracy", 0.97)]).unwrap();
        let values: Vec<f32> = (0..100).map(|i| i as f32 / 10.0 - 2.0).chain([f32::NAN]).collect();
        writer.histogram(1, "layer1/weight", &values, &histogram_counts(&values, 8, None)).unwrap();
        let nodes = [
            GraphNode { name: "x".into(), op: "Input".into(), inputs: vec![], shape: vec![3, 2] },
            GraphNode { name: "W".into(), op: "Parameter".into(), inputs: vec![], shape: vec![4, 3] },
            GraphNode {
                name: "z".into(),
                op: "MatMul".into(),
                inputs: vec!["W".into(), "x".into()],
                shape: vec![4, 2],
            },
        ];
        writer.graph(&nodes).unwrap();
        writer.flush().unwrap();

        assert_eq!(event_files(dir.path()).unwrap(), [writer.path().to_path_buf()]);
        let log = read_events(writer.path()).unwrap();
        assert_eq!(log.torn_tail, 0);
        assert_eq!(log.events.len(), 4);
        assert_eq!(log.events[0].what, Some(event::What::FileVersion(FILE_VERSION.into())));

        let scalars = summary_values(&log.events[1]);
        assert_eq!(log.events[1].step, 1);
        assert_eq!(scalars[0].tag, "train_loss");
        assert_eq!(scalars[0].kind, Some(summary::value::Kind::SimpleValue(0.5)));
        assert_eq!(scalars[1].kind, Some(summary::value::Kind::SimpleValue(0.97)));

        let Some(summary::value::Kind::Histo(h)) = &summary_values(&log.events[2])[0].kind else {
            panic!("expected a histogram");
        };
        assert_eq!((h.num, h.bucket.iter().sum::<f64>(), h.bucket.len()), (100.0, 100.0, 8));
        assert_eq!((h.min, h.max), (-2.0, f64::from(9.9f32 - 2.0)));
        assert_eq!(*h.bucket_limit.last().unwrap(), h.max);
        let exact_sum: f64 = values[..100].iter().map(|&v| f64::from(v)).sum();
        assert!((h.sum - exact_sum).abs() < 1e-9);

        let Some(event::What::GraphDef(bytes)) = &log.events[3].what else { panic!("expected a graph") };
        let graph = GraphDef::decode(bytes.as_slice()).unwrap();
        assert_eq!(graph.node.len(), 3);
        assert_eq!(graph.node[2].input, ["W", "x"]);
        let Some(attr_value::Value::List(list)) = &graph.node[2].attr["_output_shapes"].value else {
            panic!("expected shapes")
        };
        assert_eq!(list.shape[0].dim.iter().map(|d| d.size).collect::<Vec<_>>(), [4, 2]);
    }

    #[test]
    fn an_interrupted_file_reads_up_to_its_last_whole_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = EventWriter::create(dir.path()).unwrap();
        for step in 1..=3 {
            writer.scalars(step, &[("loss", 1.0 / step as f64)]).unwrap();
        }
        writer.flush().unwrap();
        let path = writer.path().to_path_buf();
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 5]).unwrap();
        let log = read_events(&path).unwrap();
        assert_eq!(log.events.len(), 3, "the version event and two of three scalar events");
        assert_eq!(log.events[2].step, 2);
        assert!(log.torn_tail > 0);

        fs::write(&path, b"not an event file at all").unwrap();
        assert!(matches!(read_events(&path), Err(Error::Format { .. })));
    }
}
