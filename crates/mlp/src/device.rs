//! Where training runs. The notes move a PyTorch model with `.to(device)`; here the
//! choice is a command-line flag, `--device cpu|cuda`, checked before any work
//! starts. CUDA is a build-time choice: only a build with the `cuda` feature
//! (`cargo run --release -p mlp --features cuda -- --device cuda`) contains GPU
//! code, and only a machine with an NVIDIA GPU can run it. Where either is
//! missing, asking for it is a clear error, never a silent fallback to the CPU.

use std::fmt;
use std::str::FromStr;

/// A place to train, as the flag names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The processor, through `dlcore::linalg`'s matrix products.
    #[default]
    Cpu,
    /// An NVIDIA GPU, through `dlcore::cuda` (a build with the `cuda` feature).
    Cuda,
}

/// A device ready to train on: what [`Device::open`] returns.
#[derive(Debug)]
pub enum Opened {
    Cpu,
    /// The GPU, its context and our kernels loaded.
    #[cfg(feature = "cuda")]
    Cuda(dlcore::cuda::Gpu),
}

// ANCHOR: device
impl Device {
    /// Opens the device, or says in one line why it cannot be used.
    pub fn open(self) -> Result<Opened, DeviceError> {
        match self {
            Device::Cpu => Ok(Opened::Cpu),
            #[cfg(feature = "cuda")]
            Device::Cuda => match dlcore::cuda::Gpu::new() {
                Ok(gpu) => Ok(Opened::Cuda(gpu)),
                Err(dlcore::cuda::GpuError::NoDevice) => Err(DeviceError::NoGpu),
                Err(error) => Err(DeviceError::Driver(error)),
            },
            #[cfg(not(feature = "cuda"))]
            Device::Cuda => Err(DeviceError::NotBuilt),
        }
    }
}
// ANCHOR_END: device

impl Opened {
    /// What the run's first line says it trains on.
    pub fn describe(&self) -> String {
        match self {
            Opened::Cpu => "cpu".to_owned(),
            #[cfg(feature = "cuda")]
            Opened::Cuda(gpu) => format!("cuda ({})", gpu.name()),
        }
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

impl FromStr for Device {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda),
            _ => Err(format!("unknown device `{s}`: expected cpu or cuda")),
        }
    }
}

/// The command that builds and runs the GPU version.
pub const REBUILD_WITH_CUDA: &str = "cargo run --release -p mlp --features cuda -- --device cuda";

/// Why a device cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// This build has no CUDA code (it was built without the `cuda` feature).
    NotBuilt,
    /// Built with CUDA, but the driver finds no GPU.
    NoGpu,
    /// Built with CUDA, and the driver failed while opening the GPU.
    #[cfg(feature = "cuda")]
    Driver(dlcore::cuda::GpuError),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NotBuilt => write!(
                f,
                "--device cuda: this build has no CUDA support; rebuild with it, \
                 `{REBUILD_WITH_CUDA}` (needs an NVIDIA GPU and its driver), or train with --device cpu"
            ),
            DeviceError::NoGpu => f.write_str(
                "--device cuda: no CUDA device was found (the driver reports none) — train with --device cpu",
            ),
            #[cfg(feature = "cuda")]
            DeviceError::Driver(error) => write!(f, "--device cuda: {error} — train with --device cpu"),
        }
    }
}

impl std::error::Error for DeviceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_opens_and_names_parse() {
        assert_eq!("cpu".parse::<Device>(), Ok(Device::Cpu));
        assert_eq!("cuda".parse::<Device>(), Ok(Device::Cuda));
        assert!(matches!(Device::Cpu.open(), Ok(Opened::Cpu)));
        assert!("tpu".parse::<Device>().unwrap_err().contains("cpu or cuda"));
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_rebuild() {
        let message = Device::Cuda.open().unwrap_err().to_string();
        assert!(message.contains("--features cuda") && message.contains("--device cpu"), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn every_refusal_is_one_line_that_offers_the_cpu() {
        let errors = [
            DeviceError::NotBuilt,
            DeviceError::NoGpu,
            #[cfg(feature = "cuda")]
            DeviceError::Driver(dlcore::cuda::GpuError::Driver {
                during: "to create a context",
                code: dlcore::cuda::CudaError::UnknownError,
            }),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with("--device cuda: ") && message.contains("--device cpu"), "{message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }
}
