//! Where training runs. The notes move a PyTorch model with `.to(device)`; here the
//! choice is a command-line flag, `--device cpu|cuda`, checked before any work
//! starts. Only the CPU exists in this build: GPU training comes with the CUDA
//! issue, and until then asking for it is a clear error, not a silent fallback.

use std::fmt;
use std::str::FromStr;

/// A place to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Device {
    /// The processor, through `dlcore::linalg`'s matrix products.
    #[default]
    Cpu,
    /// An NVIDIA GPU. Named so the flag exists and the error can say why it is
    /// refused; not built yet.
    Cuda,
}

// ANCHOR: device
impl Device {
    /// `Ok` if this build can train on the device; otherwise the one-line reason.
    pub fn ensure_available(self) -> Result<(), DeviceError> {
        match self {
            Device::Cpu => Ok(()),
            Device::Cuda => Err(DeviceError::NotBuilt),
        }
    }
}
// ANCHOR_END: device

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

/// Why a device cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// The device is known but this build has no code for it.
    NotBuilt,
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::NotBuilt => f.write_str(
                "--device cuda: CUDA support is not built in; this build trains on the CPU only \
                 (GPU training comes with a later issue) — use --device cpu",
            ),
        }
    }
}

impl std::error::Error for DeviceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_works_and_cuda_says_why_not() {
        assert_eq!("cpu".parse::<Device>(), Ok(Device::Cpu));
        assert!(Device::Cpu.ensure_available().is_ok());
        let message = Device::Cuda.ensure_available().unwrap_err().to_string();
        assert!(message.contains("not built in") && !message.contains('\n'), "{message}");
        assert!("tpu".parse::<Device>().unwrap_err().contains("cpu or cuda"));
    }
}
