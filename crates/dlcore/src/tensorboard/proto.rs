//! The few protobuf messages a TensorBoard event file needs, declared by hand with
//! `prost`'s derive instead of generated from TensorFlow's `.proto` files: the subset
//! is small, and a learner can read every field here. Field numbers and types are
//! those of TensorFlow's `event.proto`, `summary.proto`, `histogram.proto`,
//! `graph.proto`, `node_def.proto`, `attr_value.proto`, `tensor_shape.proto` and
//! `versions.proto`; fields we never write are left out (protobuf readers skip what
//! they do not know, and treat what is missing as its default).

use std::collections::BTreeMap;

/// One entry of an event file (`event.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Event {
    /// Seconds since the Unix epoch when the event was written.
    #[prost(double, tag = "1")]
    pub wall_time: f64,
    /// The training step (or epoch) the event belongs to.
    #[prost(int64, tag = "2")]
    pub step: i64,
    /// What the event carries.
    #[prost(oneof = "event::What", tags = "3, 4, 5")]
    pub what: Option<event::What>,
}

/// The payloads of an [`Event`].
pub mod event {
    /// What an [`Event`](super::Event) carries: a file's first event names the format
    /// version, the others a graph or a summary of values.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum What {
        /// `brain.Event:2` in the first event of every file.
        #[prost(string, tag = "3")]
        FileVersion(String),
        /// A serialised [`GraphDef`](super::GraphDef).
        #[prost(bytes = "vec", tag = "4")]
        GraphDef(Vec<u8>),
        /// Scalars and histograms.
        #[prost(message, tag = "5")]
        Summary(super::Summary),
    }
}

/// Named values at one step (`summary.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    /// The values, each under its tag.
    #[prost(message, repeated, tag = "1")]
    pub value: Vec<summary::Value>,
}

/// The parts of a [`Summary`].
pub mod summary {
    /// One tagged value of a [`Summary`](super::Summary).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Value {
        /// The name TensorBoard shows, e.g. `train_loss` or `layer1/weight`.
        #[prost(string, tag = "1")]
        pub tag: String,
        /// The value itself.
        #[prost(oneof = "value::Kind", tags = "2, 5")]
        pub kind: Option<value::Kind>,
    }

    /// The kinds of [`Value`].
    pub mod value {
        /// A scalar (`add_scalar`) or a histogram (`add_histogram`).
        #[derive(Clone, PartialEq, prost::Oneof)]
        pub enum Kind {
            /// A number, shown in the Scalars tab.
            #[prost(float, tag = "2")]
            SimpleValue(f32),
            /// Bucket counts, shown in the Histograms and Distributions tabs.
            #[prost(message, tag = "5")]
            Histo(super::super::HistogramProto),
        }
    }
}

/// A histogram (`histogram.proto`): bucket `i` counts the values from
/// `bucket_limit[i - 1]` up to, not including, `bucket_limit[i]` (TensorFlow's own
/// histograms bin this way, as [`crate::record::histogram_counts`] does).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistogramProto {
    /// Smallest value.
    #[prost(double, tag = "1")]
    pub min: f64,
    /// Largest value.
    #[prost(double, tag = "2")]
    pub max: f64,
    /// How many values.
    #[prost(double, tag = "3")]
    pub num: f64,
    /// Their sum.
    #[prost(double, tag = "4")]
    pub sum: f64,
    /// The sum of their squares.
    #[prost(double, tag = "5")]
    pub sum_squares: f64,
    /// The upper edge of every bucket.
    #[prost(double, repeated, tag = "6")]
    pub bucket_limit: Vec<f64>,
    /// The count of every bucket.
    #[prost(double, repeated, tag = "7")]
    pub bucket: Vec<f64>,
}

/// A computational graph (`graph.proto`), drawn by TensorBoard's Graphs tab.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphDef {
    /// Every node; edges are the nodes' `input` names.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeDef>,
    /// Which producer wrote the graph.
    #[prost(message, optional, tag = "4")]
    pub versions: Option<VersionDef>,
}

/// The version stamp of a [`GraphDef`] (`versions.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct VersionDef {
    /// The version of the code that wrote the graph.
    #[prost(int32, tag = "1")]
    pub producer: i32,
}

/// One node of a [`GraphDef`] (`node_def.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeDef {
    /// A unique name; `/` groups nodes into boxes TensorBoard can fold.
    #[prost(string, tag = "1")]
    pub name: String,
    /// What the node computes, shown as its type.
    #[prost(string, tag = "2")]
    pub op: String,
    /// The names of the nodes it reads, in order.
    #[prost(string, repeated, tag = "3")]
    pub input: Vec<String>,
    /// Extra facts, by name; TensorBoard draws `_output_shapes` on the edges. A
    /// `BTreeMap` keeps the file's bytes the same from run to run.
    #[prost(btree_map = "string, message", tag = "5")]
    pub attr: BTreeMap<String, AttrValue>,
}

/// A node attribute (`attr_value.proto`), only the kinds we write.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttrValue {
    /// The attribute's value.
    #[prost(oneof = "attr_value::Value", tags = "1, 2")]
    pub value: Option<attr_value::Value>,
}

/// The kinds of [`AttrValue`].
pub mod attr_value {
    /// A list of shapes or a string.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        /// A list (we only use its shapes).
        #[prost(message, tag = "1")]
        List(super::ListValue),
        /// Text, as bytes.
        #[prost(bytes = "vec", tag = "2")]
        S(Vec<u8>),
    }
}

/// A list attribute (`AttrValue.ListValue`), only its shapes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ListValue {
    /// Tensor shapes, e.g. a node's output shapes.
    #[prost(message, repeated, tag = "7")]
    pub shape: Vec<TensorShapeProto>,
}

/// A tensor's shape (`tensor_shape.proto`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// The dimensions, outermost first.
    #[prost(message, repeated, tag = "2")]
    pub dim: Vec<tensor_shape_proto::Dim>,
}

/// The parts of a [`TensorShapeProto`].
pub mod tensor_shape_proto {
    /// One dimension of a shape.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dim {
        /// Its size.
        #[prost(int64, tag = "1")]
        pub size: i64,
    }
}
