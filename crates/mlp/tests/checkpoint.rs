//! Checkpoints: what is saved comes back exactly, and every way a file can be
//! wrong (empty, foreign, truncated, damaged, from another version) is a clear
//! error rather than a panic or a silently wrong network.

use dlcore::activation::Activation;
use dlcore::data::images::ImageSet;
use dlcore::init::Init;
use dlcore::layer::{Layer, Sequential};
use dlcore::{Error, seeded_rng};
use mlp::checkpoint::{Checkpoint, MAGIC, VERSION, fnv1a};
use mlp::{Config, build};
use nalgebra::DMatrix;

fn small(output_activation: Option<Activation>) -> Checkpoint {
    let config = Config {
        hidden: vec![5, 4],
        activation: Activation::LeakyRelu(0.2),
        output_activation,
        init: Init::KaimingNormal,
        lr: 0.1,
        momentum: 0.0,
        weight_decay: 0.0,
        lr_schedule: None,
        batch_size: 1,
        epochs: 1,
    };
    let mut net = build(&config, 6, 3, &mut seeded_rng(11));
    // Non-zero biases, so that they are checked too.
    for (i, layer) in net.layers.iter_mut().enumerate() {
        if let Layer::Linear(linear) = layer {
            linear.bias = Init::Normal { std: 1.0 }.matrix(linear.fan_out(), 1, &mut seeded_rng(i as u64));
        }
    }
    Checkpoint { dataset: ImageSet::FashionMnist, activation: config.activation, output_activation, net }
}

fn outputs(net: &Sequential) -> DMatrix<f32> {
    let x = Init::Uniform { low: 0.0, high: 1.0 }.matrix(6, 7, &mut seeded_rng(5));
    net.clone().forward(&x).clone()
}

fn problem(bytes: &[u8]) -> String {
    match Checkpoint::from_bytes(bytes) {
        Ok(_) => panic!("{} bytes were accepted as a checkpoint", bytes.len()),
        Err(problem) => problem,
    }
}

#[test]
fn round_trip_keeps_every_parameter_and_the_outputs() {
    for output_activation in [None, Some(Activation::Relu)] {
        let saved = small(output_activation);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.ckpt");
        saved.save(&path).unwrap();
        let loaded = Checkpoint::load(&path).unwrap();
        assert_eq!(loaded.dataset, ImageSet::FashionMnist);
        assert_eq!(loaded.activation, Activation::LeakyRelu(0.2));
        assert_eq!(loaded.output_activation, output_activation);
        assert_eq!(loaded.net.layers.len(), saved.net.layers.len());
        for (a, b) in saved.net.linear_layers().zip(loaded.net.linear_layers()) {
            assert_eq!(a.weight, b.weight);
            assert_eq!(a.bias, b.bias);
        }
        assert_eq!(outputs(&saved.net), outputs(&loaded.net), "the same function, bit for bit");
        // Saving what was loaded gives the same bytes.
        assert_eq!(loaded.to_bytes(), saved.to_bytes());
    }
}

#[test]
fn the_file_starts_with_magic_version_and_a_readable_header() {
    let bytes = small(None).to_bytes();
    assert_eq!(&bytes[..8], MAGIC);
    assert_eq!(u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]), VERSION);
    let header_len = u32::from_le_bytes([bytes[12], bytes[13], bytes[14], bytes[15]]) as usize;
    let header = std::str::from_utf8(&bytes[16..16 + header_len]).unwrap();
    assert!(header.contains("\"fashion-mnist\"") && header.contains("[[6,5],[5,4],[4,3]]"), "{header}");
    // 6·5+5 + 5·4+4 + 4·3+3 = 74 floats, then the 8-byte hash.
    assert_eq!(bytes.len(), 16 + header_len + 74 * 4 + 8);
}

#[test]
fn empty_and_foreign_files_are_recognised() {
    assert!(problem(b"").contains("empty"));
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert!(problem(png).contains("not an mlp checkpoint"), "{}", problem(png));
    assert!(problem(b"epoch,train_loss\n1,0.5\n").contains("not an mlp checkpoint"));
    assert!(problem(b"DLML").contains("not an mlp checkpoint"));
}

#[test]
fn every_truncation_is_reported_as_one() {
    let bytes = small(None).to_bytes();
    // Cuts in the prefix, the header, the parameters and the hash.
    for len in (MAGIC.len()..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
        let message = problem(&bytes[..len]);
        assert!(message.contains("truncated"), "{len} bytes: {message}");
    }
}

#[test]
fn a_changed_byte_breaks_the_checksum() {
    let mut bytes = small(None).to_bytes();
    let middle = bytes.len() - 40;
    bytes[middle] ^= 0x10;
    assert!(problem(&bytes).contains("checksum"), "{}", problem(&bytes));
    let mut extra = small(None).to_bytes();
    extra.push(0);
    assert!(problem(&extra).contains("unexpected bytes"));
}

#[test]
fn other_versions_and_inconsistent_headers_are_refused() {
    let mut bytes = small(None).to_bytes();
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(problem(&bytes).contains("version 2"), "{}", problem(&bytes));

    // A well-formed file whose header lists layers that do not chain.
    let header =
        br#"{"dataset":"mnist","activation":"relu","output_activation":null,"layers":[[2,3],[4,1]]}"#;
    let mut forged = MAGIC.to_vec();
    forged.extend_from_slice(&VERSION.to_le_bytes());
    forged.extend_from_slice(&(header.len() as u32).to_le_bytes());
    forged.extend_from_slice(header);
    forged.extend(std::iter::repeat_n(0u8, 4 * (2 * 3 + 3 + 4 + 1)));
    let hash = fnv1a(&forged);
    forged.extend_from_slice(&hash.to_le_bytes());
    assert!(problem(&forged).contains("takes 4 inputs"), "{}", problem(&forged));

    let unknown = String::from_utf8(header.to_vec()).unwrap().replace("relu", "swish");
    let mut forged = MAGIC.to_vec();
    forged.extend_from_slice(&VERSION.to_le_bytes());
    forged.extend_from_slice(&(unknown.len() as u32).to_le_bytes());
    forged.extend_from_slice(unknown.as_bytes());
    assert!(problem(&forged).contains("unknown activation"), "{}", problem(&forged));
}

#[test]
fn load_names_the_file_in_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.ckpt");
    std::fs::write(&path, b"hello").unwrap();
    match Checkpoint::load(&path) {
        Err(e @ Error::Format { .. }) => {
            let message = e.to_string();
            assert!(
                message.contains("broken.ckpt") && message.contains("not an mlp checkpoint"),
                "{message}"
            );
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    assert!(matches!(Checkpoint::load(&dir.path().join("missing.ckpt")), Err(Error::Io { .. })));
}

#[test]
fn a_failed_save_leaves_the_old_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.ckpt");
    small(None).save(&path).unwrap();
    let before = std::fs::read(&path).unwrap();
    // A directory where the parent should be: the save fails, the old file stays.
    let blocked = dir.path().join("model.ckpt").join("inner.ckpt");
    assert!(small(Some(Activation::Relu)).save(&blocked).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
