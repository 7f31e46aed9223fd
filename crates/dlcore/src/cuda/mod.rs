//! The GPU matrix product, with the `cuda` feature: `cargo build --features cuda`.
//!
//! A [`Gpu`] is a connection to the first CUDA device: the driver's context, our
//! kernels loaded into it, and a stream to queue work on. A [`DeviceMatrix`] is a
//! matrix in the GPU's memory, stored column-major like nalgebra's `DMatrix`, that
//! stays there between calls: upload once, multiply many times, download when the
//! host needs the numbers. [`Gpu::matmul_into`] mirrors
//! [`linalg::matmul_into`](crate::linalg::matmul_into): C ← α·op(A)·op(B) + β·C,
//! any shapes, either operand transposed.
//!
//! The kernels are CUDA C (`sgemm.cu`), compiled to PTX by `cargo xtask ptx` and
//! committed (`sgemm.ptx`); the PTX is embedded in the library and the driver
//! compiles it for the GPU it finds when [`Gpu::new`] loads it. Building needs no
//! CUDA toolkit, only a directory with the driver library to link against.
//!
//! The driver's error values are printed with `{:?}` (their name), never with
//! `Display`, which asks the driver for a message and may call into a stub library.

use std::fmt;

use cust::context::{Context, CurrentContext};
use cust::device::Device;
use cust::function::{BlockSize, GridSize};
use cust::memory::{CopyDestination, DeviceBuffer};
use cust::module::Module;
use cust::stream::{Stream, StreamFlags};
use nalgebra::DMatrix;

use crate::linalg::Op;

/// The driver's error codes, as `cust` names them.
pub use cust::error::CudaError;

/// The kernels, compiled from `sgemm.cu` by `cargo xtask ptx`.
const PTX: &str = include_str!("sgemm.ptx");

/// The tile of C one block of threads computes, and the block's threads; these
/// must match `TILE_M`, `TILE_N`, `THREADS_X`, `THREADS_Y` in `sgemm.cu`.
const TILE_M: usize = 64;
const TILE_N: usize = 64;
const THREADS_X: u32 = 16;
const THREADS_Y: u32 = 16;
/// Threads per block of the elementwise SGD kernel.
const SGD_THREADS: u32 = 256;

/// Why the GPU could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuError {
    /// The driver library loaded but reports no CUDA device (no GPU, or no kernel
    /// driver behind the library).
    NoDevice,
    /// A driver call failed; `during` says what we were doing.
    Driver { during: &'static str, code: CudaError },
}

impl fmt::Display for GpuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuError::NoDevice => f.write_str("no CUDA device was found (the driver reports none)"),
            // `{:?}`: the driver's own message would need a call into the driver.
            GpuError::Driver { during, code } => write!(f, "the CUDA driver failed {during}: {code:?}"),
        }
    }
}

impl std::error::Error for GpuError {}

/// A `map_err` adapter: a failed driver call, labelled with what we were doing.
fn failed(during: &'static str) -> impl Fn(CudaError) -> GpuError {
    move |code| GpuError::Driver { during, code }
}

/// A matrix in GPU memory: `rows × cols` floats, column-major (element (i, j) at
/// `i + j·rows`), as in nalgebra's `DMatrix`. Made by a [`Gpu`] and used with it.
pub struct DeviceMatrix {
    rows: usize,
    cols: usize,
    buffer: DeviceBuffer<f32>,
}

impl fmt::Debug for DeviceMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceMatrix({}×{})", self.rows, self.cols)
    }
}

impl DeviceMatrix {
    pub fn nrows(&self) -> usize {
        self.rows
    }

    pub fn ncols(&self) -> usize {
        self.cols
    }

    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
}

/// The first CUDA device, with the kernels loaded. Every call first makes the
/// device's context current on the calling thread, so a `Gpu` may move between
/// threads.
pub struct Gpu {
    // Fields drop in order: the module and the stream before the context they
    // live in.
    module: Module,
    stream: Stream,
    name: String,
    context: Context,
}

impl fmt::Debug for Gpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gpu({})", self.name)
    }
}

impl Gpu {
    // ANCHOR: gpu_new
    /// Initialises the driver, takes device 0, and loads the kernels.
    ///
    /// [`GpuError::NoDevice`] where the driver finds no GPU: the usual answer on a
    /// machine without one, if the driver library is installed at all (a binary
    /// built with the `cuda` feature does not start without it).
    pub fn new() -> Result<Gpu, GpuError> {
        cust::init(cust::CudaFlags::empty()).map_err(|code| match code {
            CudaError::NoDevice | CudaError::InvalidDevice => GpuError::NoDevice,
            code => GpuError::Driver { during: "to initialise", code },
        })?;
        if Device::num_devices().map_err(failed("to count the devices"))? == 0 {
            return Err(GpuError::NoDevice);
        }
        let device = Device::get_device(0).map_err(failed("to open device 0"))?;
        let name = device.name().map_err(failed("to read the device's name"))?;
        let context = Context::new(device).map_err(failed("to create a context"))?;
        // The driver compiles the PTX for this GPU here. A driver older than CUDA
        // 12.0 cannot read PTX 8.0 and fails at this point.
        let module = Module::from_ptx(PTX, &[])
            .map_err(failed("to load the kernels (PTX 8.0 needs a driver for CUDA 12.0 or newer)"))?;
        let stream = Stream::new(StreamFlags::DEFAULT, None).map_err(failed("to create a stream"))?;
        Ok(Gpu { module, stream, name, context })
    }
    // ANCHOR_END: gpu_new

    /// The device's name, as the driver reports it ("NVIDIA H100 80GB HBM3", …).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes our context the calling thread's current one.
    fn enter(&self) -> Result<(), GpuError> {
        CurrentContext::set_current(&self.context).map_err(failed("to make its context current"))
    }

    /// A `rows × cols` matrix of zeros on the GPU.
    pub fn zeros(&self, rows: usize, cols: usize) -> Result<DeviceMatrix, GpuError> {
        self.enter()?;
        // An empty matrix allocates nothing (and must not ask the driver to clear
        // zero bytes at a null address).
        let buffer =
            if rows * cols == 0 { DeviceBuffer::from_slice(&[]) } else { DeviceBuffer::zeroed(rows * cols) };
        let buffer = buffer.map_err(failed("to allocate GPU memory"))?;
        Ok(DeviceMatrix { rows, cols, buffer })
    }

    /// A copy of `host` in GPU memory.
    pub fn upload(&self, host: &DMatrix<f32>) -> Result<DeviceMatrix, GpuError> {
        self.enter()?;
        let buffer = DeviceBuffer::from_slice(host.as_slice()).map_err(failed("to copy to the GPU"))?;
        Ok(DeviceMatrix { rows: host.nrows(), cols: host.ncols(), buffer })
    }

    // ANCHOR: transfers
    /// Copies `host` into `device`, reusing its memory when the shapes agree (the
    /// usual case: the same batch size step after step).
    pub fn upload_into(&self, host: &DMatrix<f32>, device: &mut DeviceMatrix) -> Result<(), GpuError> {
        if device.shape() != host.shape() {
            *device = self.upload(host)?;
            return Ok(());
        }
        self.enter()?;
        // A synchronous copy on the default stream, which waits for the kernels
        // queued on ours (a blocking stream) before it overwrites their inputs.
        device.buffer.copy_from(host.as_slice()).map_err(failed("to copy to the GPU"))
    }

    /// Copies `device` into `host` (resized if its shape differs), after every
    /// kernel queued so far has finished.
    pub fn download_into(&self, device: &DeviceMatrix, host: &mut DMatrix<f32>) -> Result<(), GpuError> {
        if host.shape() != device.shape() {
            *host = DMatrix::zeros(device.rows, device.cols);
        }
        self.synchronize()?;
        device.buffer.copy_to(host.as_mut_slice()).map_err(failed("to copy from the GPU"))
    }
    // ANCHOR_END: transfers

    /// A host copy of `device`.
    pub fn download(&self, device: &DeviceMatrix) -> Result<DMatrix<f32>, GpuError> {
        let mut host = DMatrix::zeros(device.rows, device.cols);
        self.download_into(device, &mut host)?;
        Ok(host)
    }

    /// Waits until every kernel queued so far has finished; reports a kernel's
    /// failure (they run asynchronously, so their errors surface here).
    pub fn synchronize(&self) -> Result<(), GpuError> {
        self.enter()?;
        self.stream.synchronize().map_err(failed("while running a kernel"))
    }

    // ANCHOR: matmul_into
    /// C ← α·op(A)·op(B) + β·C on the GPU, where op is identity or transpose; the
    /// same contract as [`linalg::matmul_into`](crate::linalg::matmul_into). With
    /// β = 0, C's old contents are ignored. The product is queued, not awaited:
    /// the next download waits for it.
    ///
    /// # Panics
    /// If the shapes do not agree (a bug in the caller, as on the CPU), or a
    /// dimension exceeds what one launch covers (2³¹ − 1 rows, 4 194 240 columns).
    #[allow(clippy::too_many_arguments)] // the BLAS signature, mirrored on purpose
    pub fn matmul_into(
        &self,
        c: &mut DeviceMatrix,
        alpha: f32,
        a: &DeviceMatrix,
        op_a: Op,
        b: &DeviceMatrix,
        op_b: Op,
        beta: f32,
    ) -> Result<(), GpuError> {
        let (m, k) = if op_a == Op::N { a.shape() } else { (a.cols, a.rows) };
        let (kb, n) = if op_b == Op::N { b.shape() } else { (b.cols, b.rows) };
        assert_eq!(k, kb, "inner dimensions differ: op(A) is {m}×{k}, op(B) is {kb}×{n}");
        assert_eq!(c.shape(), (m, n), "C is {:?}, the product is {m}×{n}", c.shape());
        if m == 0 || n == 0 {
            return Ok(());
        }
        let kernel = match (op_a, op_b) {
            (Op::N, Op::N) => "sgemm_nn",
            (Op::N, Op::T) => "sgemm_nt",
            (Op::T, Op::N) => "sgemm_tn",
            (Op::T, Op::T) => "sgemm_tt",
        };
        // One block per 64 × 64 tile of C, rounded up: the kernel skips the part
        // of an edge tile that lies outside C.
        let grid = GridSize::xy(
            launch_dim(m.div_ceil(TILE_M), u32::MAX >> 1),
            launch_dim(n.div_ceil(TILE_N), 65_535),
        );
        let block = BlockSize::xy(THREADS_X, THREADS_Y);
        let (m, n, k) = (to_i32(m), to_i32(n), to_i32(k));
        // Leading dimensions: the stored row counts (at least 1, as BLAS asks).
        let (lda, ldb, ldc) = (to_i32(a.rows.max(1)), to_i32(b.rows.max(1)), to_i32(c.rows.max(1)));
        let (a_ptr, b_ptr, c_ptr) =
            (a.buffer.as_device_ptr(), b.buffer.as_device_ptr(), c.buffer.as_device_ptr());
        self.enter()?;
        let function = self.module.get_function(kernel).map_err(failed("to find a kernel"))?;
        let stream = &self.stream;
        // SAFETY: the kernel's parameters are (int, int, int, float, const float*,
        // int, const float*, int, float, float*, int), which is what is passed, in
        // that order. The pointers are live allocations of this context holding
        // rows·cols floats each; the asserts above make the m × k, k × n and m × n
        // views with these leading dimensions fit inside them, and the kernel
        // touches no element outside those views. `c` is borrowed mutably, so it
        // is neither `a` nor `b`. Buffers are only freed or overwritten from the
        // host through calls that wait for queued kernels first.
        #[allow(unsafe_code)]
        let launched = unsafe {
            cust::launch!(function<<<grid, block, 0, stream>>>(
                m, n, k, alpha, a_ptr, lda, b_ptr, ldb, beta, c_ptr, ldc
            ))
        };
        launched.map_err(failed("to launch the matrix product"))
    }
    // ANCHOR_END: matmul_into

    /// One SGD step on a weight matrix, in place on the GPU, with
    /// [`Sgd`](crate::optim::Sgd)'s formula and bit-for-bit its float result:
    /// g′ = g + λ·w; with momentum μ ≠ 0, v ← μ·v + g′ and w ← w − η·v; without,
    /// w ← w − η·g′ (and `velocity` is not touched).
    ///
    /// # Panics
    /// If the three shapes differ.
    pub fn sgd_step(
        &self,
        weight: &mut DeviceMatrix,
        grad: &DeviceMatrix,
        velocity: &mut DeviceMatrix,
        lr: f32,
        momentum: f32,
        weight_decay: f32,
    ) -> Result<(), GpuError> {
        assert_eq!(weight.shape(), grad.shape(), "the gradient's shape differs from the weight's");
        assert_eq!(weight.shape(), velocity.shape(), "the velocity's shape differs from the weight's");
        let len = weight.rows * weight.cols;
        if len == 0 {
            return Ok(());
        }
        let grid = GridSize::x(launch_dim(len.div_ceil(SGD_THREADS as usize), u32::MAX >> 1));
        let block = BlockSize::x(SGD_THREADS);
        let len = to_i32(len);
        let (w_ptr, g_ptr, v_ptr) =
            (weight.buffer.as_device_ptr(), grad.buffer.as_device_ptr(), velocity.buffer.as_device_ptr());
        self.enter()?;
        let function = self.module.get_function("sgd_step").map_err(failed("to find a kernel"))?;
        let stream = &self.stream;
        // SAFETY: the kernel's parameters are (int, float, float, float, float*,
        // const float*, float*), passed in that order; the three buffers are live,
        // hold `len` floats each (asserted above), and the kernel touches indices
        // below `len` only. `weight` and `velocity` are borrowed mutably, so no
        // two of the pointers alias.
        #[allow(unsafe_code)]
        let launched = unsafe {
            cust::launch!(function<<<grid, block, 0, stream>>>(
                len, lr, momentum, weight_decay, w_ptr, g_ptr, v_ptr
            ))
        };
        launched.map_err(failed("to launch the SGD step"))
    }
}

/// `blocks` as a grid dimension.
///
/// # Panics
/// If it exceeds `limit`, the most a launch allows in that dimension.
fn launch_dim(blocks: usize, limit: u32) -> u32 {
    match u32::try_from(blocks) {
        Ok(blocks) if blocks <= limit => blocks,
        _ => panic!("{blocks} blocks exceed the launch limit of {limit} in one grid dimension"),
    }
}

/// A size as the kernels' `int`.
///
/// # Panics
/// Beyond 2³¹ − 1, which no matrix the kernels handle reaches.
fn to_i32(size: usize) -> i32 {
    i32::try_from(size).unwrap_or_else(|_| panic!("size {size} exceeds the kernels' int range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_ptx_is_lowered_and_has_every_kernel() {
        assert!(PTX.lines().any(|line| line == ".version 8.0"), "run `cargo xtask ptx`");
        assert!(PTX.lines().any(|line| line == ".target sm_80"));
        for kernel in ["sgemm_nn", "sgemm_nt", "sgemm_tn", "sgemm_tt", "sgd_step"] {
            assert!(PTX.contains(&format!(".entry {kernel}(")), "{kernel} missing from sgemm.ptx");
        }
    }

    #[test]
    fn errors_print_without_the_driver() {
        let error =
            GpuError::Driver { during: "to launch the matrix product", code: CudaError::LaunchFailed };
        assert_eq!(error.to_string(), "the CUDA driver failed to launch the matrix product: LaunchFailed");
        assert!(GpuError::NoDevice.to_string().contains("no CUDA device"));
    }

    #[test]
    fn launch_dimensions_round_up_and_refuse_too_many_blocks() {
        assert_eq!(launch_dim(1usize.div_ceil(TILE_M), 65_535), 1);
        assert_eq!(launch_dim(129usize.div_ceil(TILE_M), 65_535), 3);
        assert!(std::panic::catch_unwind(|| launch_dim(65_536, 65_535)).is_err());
    }
}
