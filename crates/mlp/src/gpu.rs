//! The MLP with its weights on a GPU (feature `cuda`), for `mlp --device cuda`.
//!
//! What runs where, in this first version:
//! - on the GPU, through `dlcore::cuda`: the three matrix products of every dense
//!   layer (forward W·X, backward ∂L/∂W = ∂L/∂Z·Xᵀ and ∂L/∂X = Wᵀ·∂L/∂Z) and the
//!   SGD update of the weights. Weights, their gradients and their momentum never
//!   leave the GPU while training;
//! - on the CPU, with dlcore's own code: adding the biases, the activations and
//!   their derivatives, the loss and its gradient, the biases' gradients and
//!   updates. Each is a pass over a small matrix.
//!
//! So every layer sends its input to the GPU and gets its product back, forward and
//! backward: a few hundred kilobytes per layer and step. Moving the elementwise work
//! to the GPU too would remove those copies; that is the next step, not this one.

use dlcore::Result;
use dlcore::cuda::{DeviceMatrix, Gpu};
use dlcore::layer::{ActivationLayer, Layer, Linear, Sequential};
use dlcore::linalg::Op;
use dlcore::optim::{Param, Params, Sgd};
use nalgebra::DMatrix;

use crate::Network;

/// A [`Sequential`] MLP whose dense layers keep their weights on the GPU.
#[derive(Debug)]
pub struct GpuMlp<'gpu> {
    gpu: &'gpu Gpu,
    layers: Vec<GpuLayer>,
}

#[derive(Debug)]
enum GpuLayer {
    Linear(Box<GpuLinear>),
    Activation(ActivationLayer),
}

// ANCHOR: gpu_linear
/// A dense layer Z = W·X + b with W on the GPU and b on the CPU.
#[derive(Debug)]
struct GpuLinear {
    /// `fan_out × fan_in`, with its gradient and its momentum, all on the GPU.
    weight: DeviceMatrix,
    grad_weight: DeviceMatrix,
    velocity: DeviceMatrix,
    /// `fan_out × 1`, and its gradient, on the CPU.
    bias: DMatrix<f32>,
    grad_bias: DMatrix<f32>,
    /// The last forward pass's input, kept on the GPU for ∂L/∂W.
    input: DeviceMatrix,
    /// W·X on the GPU; Z = W·X + b on the CPU.
    product: DeviceMatrix,
    output: DMatrix<f32>,
    /// ∂L/∂Z uploaded, and ∂L/∂X = Wᵀ·∂L/∂Z on the GPU and on the CPU.
    grad_output: DeviceMatrix,
    grad_input_on_gpu: DeviceMatrix,
    grad_input: DMatrix<f32>,
    /// False for the first layer: nothing needs ∂L/∂(the images).
    needs_grad_input: bool,
}
// ANCHOR_END: gpu_linear

impl GpuLinear {
    fn upload(gpu: &Gpu, layer: &Linear, needs_grad_input: bool) -> Result<Self> {
        let (rows, cols) = layer.weight.shape();
        Ok(GpuLinear {
            weight: gpu.upload(&layer.weight)?,
            grad_weight: gpu.zeros(rows, cols)?,
            velocity: gpu.zeros(rows, cols)?,
            bias: layer.bias.clone(),
            grad_bias: DMatrix::zeros(rows, 1),
            input: gpu.zeros(0, 0)?,
            product: gpu.zeros(0, 0)?,
            output: DMatrix::zeros(0, 0),
            grad_output: gpu.zeros(0, 0)?,
            grad_input_on_gpu: gpu.zeros(0, 0)?,
            grad_input: DMatrix::zeros(0, 0),
            needs_grad_input,
        })
    }

    // ANCHOR: gpu_forward
    /// Z = W·X + b: X goes up, W·X is computed on the GPU and comes back, b is
    /// added on the CPU.
    fn forward(&mut self, gpu: &Gpu, x: &DMatrix<f32>) -> Result<()> {
        gpu.upload_into(x, &mut self.input)?;
        resize(gpu, &mut self.product, self.weight.nrows(), x.ncols())?;
        gpu.matmul_into(&mut self.product, 1.0, &self.weight, Op::N, &self.input, Op::N, 0.0)?;
        gpu.download_into(&self.product, &mut self.output)?;
        for mut column in self.output.column_iter_mut() {
            column += &self.bias;
        }
        Ok(())
    }
    // ANCHOR_END: gpu_forward

    // ANCHOR: gpu_backward
    /// ∂L/∂W = ∂L/∂Z·Xᵀ on the GPU (overwritten, not accumulated: one backward
    /// pass per step), ∂L/∂b = Σ_columns ∂L/∂Z on the CPU, and ∂L/∂X = Wᵀ·∂L/∂Z
    /// on the GPU, brought back for the layer below.
    fn backward(&mut self, gpu: &Gpu, grad_output: &DMatrix<f32>) -> Result<()> {
        gpu.upload_into(grad_output, &mut self.grad_output)?;
        gpu.matmul_into(&mut self.grad_weight, 1.0, &self.grad_output, Op::N, &self.input, Op::T, 0.0)?;
        self.grad_bias.fill(0.0);
        for column in grad_output.column_iter() {
            self.grad_bias += column;
        }
        if self.needs_grad_input {
            resize(gpu, &mut self.grad_input_on_gpu, self.weight.ncols(), grad_output.ncols())?;
            gpu.matmul_into(
                &mut self.grad_input_on_gpu,
                1.0,
                &self.weight,
                Op::T,
                &self.grad_output,
                Op::N,
                0.0,
            )?;
            gpu.download_into(&self.grad_input_on_gpu, &mut self.grad_input)?;
        }
        Ok(())
    }
    // ANCHOR_END: gpu_backward
}

/// Makes `matrix` `rows × cols`, allocating only when the shape changes (the last,
/// smaller batch of an epoch; the test set's larger batches).
fn resize(gpu: &Gpu, matrix: &mut DeviceMatrix, rows: usize, cols: usize) -> Result<()> {
    if matrix.shape() != (rows, cols) {
        *matrix = gpu.zeros(rows, cols)?;
    }
    Ok(())
}

impl GpuLayer {
    fn forward(&mut self, gpu: &Gpu, x: &DMatrix<f32>) -> Result<()> {
        match self {
            GpuLayer::Linear(layer) => layer.forward(gpu, x),
            GpuLayer::Activation(layer) => {
                layer.forward(x);
                Ok(())
            }
        }
    }

    fn backward(&mut self, gpu: &Gpu, grad_output: &DMatrix<f32>) -> Result<()> {
        match self {
            GpuLayer::Linear(layer) => layer.backward(gpu, grad_output),
            GpuLayer::Activation(layer) => {
                layer.backward(grad_output);
                Ok(())
            }
        }
    }

    fn output(&self) -> &DMatrix<f32> {
        match self {
            GpuLayer::Linear(layer) => &layer.output,
            GpuLayer::Activation(layer) => layer.output(),
        }
    }

    fn grad_input(&self) -> &DMatrix<f32> {
        match self {
            GpuLayer::Linear(layer) => &layer.grad_input,
            GpuLayer::Activation(layer) => layer.grad_input(),
        }
    }
}

impl<'gpu> GpuMlp<'gpu> {
    /// Copies `net`'s parameters to the GPU (its weights) and keeps its biases and
    /// activations on the CPU.
    pub fn upload(gpu: &'gpu Gpu, net: &Sequential) -> Result<Self> {
        let mut layers = Vec::with_capacity(net.layers.len());
        for (index, layer) in net.layers.iter().enumerate() {
            layers.push(match layer {
                Layer::Linear(linear) => {
                    GpuLayer::Linear(Box::new(GpuLinear::upload(gpu, linear, index > 0)?))
                }
                Layer::Activation(activation) => {
                    GpuLayer::Activation(ActivationLayer::new(activation.activation))
                }
            });
        }
        Ok(GpuMlp { gpu, layers })
    }

    /// The trained network back on the CPU, as a [`Sequential`].
    pub fn download(&self) -> Result<Sequential> {
        let mut layers = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            layers.push(match layer {
                GpuLayer::Linear(linear) => Layer::Linear(Linear::from_parameters(
                    self.gpu.download(&linear.weight)?,
                    linear.bias.clone(),
                )),
                GpuLayer::Activation(activation) => {
                    Layer::Activation(ActivationLayer::new(activation.activation))
                }
            });
        }
        Ok(Sequential { layers })
    }
}

// ANCHOR: gpu_network
impl Network for GpuMlp<'_> {
    fn tensors(&self) -> Result<Vec<(String, Vec<f32>)>> {
        // The gradients live on the GPU only within a step; the parameters are
        // downloaded (a copy per epoch, not per step).
        Ok(crate::parameter_tensors(&self.download()?, false))
    }

    fn classes(&self) -> usize {
        self.layers
            .iter()
            .rev()
            .find_map(|layer| match layer {
                GpuLayer::Linear(linear) => Some(linear.weight.nrows()),
                GpuLayer::Activation(_) => None,
            })
            .unwrap_or(0)
    }

    fn forward(&mut self, x: &DMatrix<f32>) -> Result<&DMatrix<f32>> {
        let Some((first, rest)) = self.layers.split_first_mut() else {
            panic!("a network needs at least one layer");
        };
        first.forward(self.gpu, x)?;
        let mut previous = first;
        for layer in rest {
            layer.forward(self.gpu, previous.output())?;
            previous = layer;
        }
        Ok(previous.output())
    }

    fn learn(&mut self, grad_output: &DMatrix<f32>, sgd: &mut Sgd) -> Result<()> {
        let Some((last, rest)) = self.layers.split_last_mut() else {
            panic!("a network needs at least one layer");
        };
        last.backward(self.gpu, grad_output)?;
        let mut next = last;
        for layer in rest.iter_mut().rev() {
            layer.backward(self.gpu, next.grad_input())?;
            next = layer;
        }
        // The weights, on the GPU, with the formula of `sgd`...
        let (lr, momentum, decay) = (sgd.current_lr(), sgd.momentum, sgd.weight_decay);
        for layer in &mut self.layers {
            if let GpuLayer::Linear(linear) = layer {
                self.gpu.sgd_step(
                    &mut linear.weight,
                    &linear.grad_weight,
                    &mut linear.velocity,
                    lr,
                    momentum,
                    decay,
                )?;
            }
        }
        // ...and the biases, on the CPU, by `sgd` itself.
        sgd.step(&mut Biases(&mut self.layers));
        Ok(())
    }
}
// ANCHOR_END: gpu_network

/// The biases of a [`GpuMlp`], as the parameters an [`Sgd`] updates on the CPU.
/// Never decayed, as in [`Linear`].
struct Biases<'a>(&'a mut [GpuLayer]);

impl Params for Biases<'_> {
    fn visit_params(&mut self, visit: &mut dyn FnMut(Param<'_>)) {
        for layer in self.0.iter_mut() {
            if let GpuLayer::Linear(linear) = layer {
                visit(Param { value: &mut linear.bias, grad: &linear.grad_bias, decay: false });
            }
        }
    }
}
