//! Checkpoints: a trained network saved to one file and loaded back, so that
//! `predict` can classify with the network the main job trained.
//!
//! The format is our own, small and versioned. Every number is little-endian:
//!
//! | bytes | what |
//! |---|---|
//! | 8 | the magic bytes `DLMLPCKP`, so a foreign file is recognised at once |
//! | 4 | the format version, a `u32` (this build writes and reads [`VERSION`]) |
//! | 4 | the length `H` of the header, a `u32` |
//! | `H` | the header: JSON naming the data set, the activations and every layer's shape |
//! | … | for each dense layer: its weights (`fan_out × fan_in`, column by column), then its biases, as `f32` |
//! | 8 | an FNV-1a hash (`u64`) of every byte before it |
//!
//! The header makes the file self-describing (`head -c 300 model.ckpt` shows what
//! it holds) and says how many bytes must follow, so a truncated file is told
//! apart from a damaged one; the hash catches any byte changed after writing.
//! Files are written atomically: an interrupted save leaves the old file intact.

use std::path::Path;

use dlcore::activation::Activation;
use dlcore::data::images::ImageSet;
use dlcore::layer::{ActivationLayer, Layer, Linear, Sequential};
use dlcore::{Error, Result};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// The first eight bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"DLMLPCKP";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Bytes before the header: magic, version, header length.
const PREFIX: usize = 16;
/// Bytes of the closing hash.
const HASH_BYTES: usize = 8;
/// No MLP of this book comes near this many parameters; a header claiming more is
/// damaged, and refusing it keeps a corrupt file from asking for gigabytes.
const MAX_PARAMETERS: usize = 100_000_000;

/// A trained network and what is needed to use it again.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The data set it was trained on, which decides the class names.
    pub dataset: ImageSet,
    /// The activation after each hidden layer.
    pub activation: Activation,
    /// The activation on the logits, if any (see [`crate::Config::output_activation`]).
    pub output_activation: Option<Activation>,
    /// The network: dense layers with `activation` between them.
    pub net: Sequential,
}

/// The JSON header, as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    dataset: String,
    activation: String,
    output_activation: Option<String>,
    /// `[fan_in, fan_out]` of every dense layer, in order.
    layers: Vec<[usize; 2]>,
}

/// FNV-1a, 64-bit: a tiny hash that changes when any byte changes. Not proof against
/// deliberate tampering, only against accidents, which is all a checkpoint needs.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Checkpoint {
    // ANCHOR: to_bytes
    /// The file's bytes.
    ///
    /// # Panics
    /// If the network has no dense layer (`mlp::build` always makes at least one).
    pub fn to_bytes(&self) -> Vec<u8> {
        let linears: Vec<&Linear> = self.net.linear_layers().collect();
        assert!(!linears.is_empty(), "a checkpoint needs at least one dense layer");
        let header = Header {
            dataset: self.dataset.to_string(),
            activation: self.activation.to_string(),
            output_activation: self.output_activation.map(|a| a.to_string()),
            layers: linears.iter().map(|l| [l.fan_in(), l.fan_out()]).collect(),
        };
        // Serialising a struct of strings and numbers cannot fail.
        let header = serde_json::to_vec(&header).unwrap_or_default();
        let parameters: usize = linears.iter().map(|l| l.weight.len() + l.bias.len()).sum();
        let mut bytes = Vec::with_capacity(PREFIX + header.len() + 4 * parameters + HASH_BYTES);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        for layer in linears {
            // nalgebra stores matrices column by column: that is the file's order.
            for &v in layer.weight.iter().chain(layer.bias.iter()) {
                bytes.extend_from_slice(&v.to_le_bytes());
            }
        }
        let hash = fnv1a(&bytes);
        bytes.extend_from_slice(&hash.to_le_bytes());
        bytes
    }
    // ANCHOR_END: to_bytes

    /// Reads a checkpoint from its bytes; the error is the problem in words.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Checkpoint, String> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(if bytes.is_empty() {
                "the file is empty, not an mlp checkpoint".to_string()
            } else {
                "not an mlp checkpoint: it does not begin with the bytes `DLMLPCKP` \
                 (is it another kind of file?)"
                    .to_string()
            });
        }
        let truncated = |needed: usize| {
            format!(
                "truncated: the checkpoint needs {needed} bytes but the file has only {} \
                 (an interrupted copy?) — train again to write a new one",
                bytes.len()
            )
        };
        if bytes.len() < PREFIX {
            return Err(truncated(PREFIX));
        }
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        if version != VERSION {
            return Err(format!(
                "checkpoint format version {version}, but this build reads version {VERSION} only"
            ));
        }
        let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
        let header_end = PREFIX.saturating_add(header_len);
        if bytes.len() < header_end {
            return Err(truncated(header_end));
        }
        let header: Header = serde_json::from_slice(&bytes[PREFIX..header_end])
            .map_err(|e| format!("corrupt checkpoint header: {e}"))?;
        let (dataset, activation, output_activation) = parse_header_names(&header)?;
        let parameters = count_parameters(&header.layers)?;
        let expected = header_end + 4 * parameters + HASH_BYTES;
        if bytes.len() < expected {
            return Err(truncated(expected));
        }
        if bytes.len() > expected {
            return Err(format!(
                "corrupt checkpoint: {} unexpected bytes after the {expected} its header describes",
                bytes.len() - expected
            ));
        }
        let body_end = expected - HASH_BYTES;
        let mut stored = [0u8; HASH_BYTES];
        stored.copy_from_slice(&bytes[body_end..]);
        if u64::from_le_bytes(stored) != fnv1a(&bytes[..body_end]) {
            return Err("corrupt checkpoint: its checksum does not match its contents \
                        (the file was changed after it was written)"
                .to_string());
        }
        let mut values =
            bytes[header_end..body_end].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let mut net = Sequential::default();
        let count = header.layers.len();
        for (i, &[fan_in, fan_out]) in header.layers.iter().enumerate() {
            let weight = DMatrix::from_iterator(fan_out, fan_in, values.by_ref().take(fan_in * fan_out));
            let bias = DMatrix::from_iterator(fan_out, 1, values.by_ref().take(fan_out));
            if weight.iter().chain(bias.iter()).any(|v| !v.is_finite()) {
                return Err(format!("layer {} holds weights that are not finite numbers", i + 1));
            }
            net.layers.push(Layer::Linear(Linear::from_parameters(weight, bias)));
            let last = i + 1 == count;
            match (last, output_activation) {
                (false, _) => net.layers.push(Layer::Activation(ActivationLayer::new(activation))),
                (true, Some(output)) => net.layers.push(Layer::Activation(ActivationLayer::new(output))),
                (true, None) => {}
            }
        }
        Ok(Checkpoint { dataset, activation, output_activation, net })
    }

    /// Writes the checkpoint to `path`, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        dlcore::atomic_file::write_bytes(path, &self.to_bytes())
    }

    /// Reads the checkpoint at `path`; a missing, truncated, foreign or damaged file
    /// is an error that names the file and the problem.
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Checkpoint::from_bytes(&bytes).map_err(|problem| Error::Format { path: path.to_path_buf(), problem })
    }
}

fn parse_header_names(
    header: &Header,
) -> std::result::Result<(ImageSet, Activation, Option<Activation>), String> {
    let dataset = header.dataset.parse::<ImageSet>().map_err(|e| format!("checkpoint header: {e}"))?;
    let activation =
        header.activation.parse::<Activation>().map_err(|e| format!("checkpoint header: {e}"))?;
    let output_activation = match &header.output_activation {
        None => None,
        Some(name) => Some(name.parse::<Activation>().map_err(|e| format!("checkpoint header: {e}"))?),
    };
    Ok((dataset, activation, output_activation))
}

/// The number of `f32`s the layers hold, after checking that they chain (each
/// layer's input is the previous one's output) and are of a believable size.
fn count_parameters(layers: &[[usize; 2]]) -> std::result::Result<usize, String> {
    if layers.is_empty() {
        return Err("checkpoint header lists no layers".to_string());
    }
    let mut total = 0usize;
    for (i, &[fan_in, fan_out]) in layers.iter().enumerate() {
        if fan_in == 0 || fan_out == 0 {
            return Err(format!("checkpoint header: layer {} has a zero size ({fan_in} → {fan_out})", i + 1));
        }
        if i > 0 && layers[i - 1][1] != fan_in {
            return Err(format!(
                "checkpoint header: layer {} takes {fan_in} inputs but layer {i} gives {}",
                i + 1,
                layers[i - 1][1]
            ));
        }
        total = fan_in
            .checked_mul(fan_out)
            .and_then(|w| w.checked_add(fan_out))
            .and_then(|p| total.checked_add(p))
            .filter(|&t| t <= MAX_PARAMETERS)
            .ok_or_else(|| format!("checkpoint header: more than {MAX_PARAMETERS} parameters"))?;
    }
    Ok(total)
}
