// Python bindings of the optional StyleGAN2 CUDA kernels (forward only).
// Built on first use by styleclip_runtime.models.ops._cuda; never on CPU.
#include <torch/extension.h>

torch::Tensor upfirdn2d_cuda(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                             int64_t pad0, int64_t pad1);
torch::Tensor bias_lrelu_cuda(const torch::Tensor& x, const torch::Tensor& bias, double slope, double scale);

static torch::Tensor upfirdn2d(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                               int64_t pad0, int64_t pad1) {
  TORCH_CHECK(x.is_cuda() && kernel.is_cuda(), "upfirdn2d: tensors must be on a CUDA device");
  TORCH_CHECK(x.dim() == 4, "upfirdn2d: x must be (N, C, H, W)");
  TORCH_CHECK(kernel.dim() == 2 && kernel.scalar_type() == torch::kFloat32, "upfirdn2d: kernel must be 2-D float32");
  TORCH_CHECK(up >= 1 && down >= 1, "upfirdn2d: up and down must be >= 1");
  return upfirdn2d_cuda(x.contiguous(), kernel.contiguous(), up, down, pad0, pad1);
}

static torch::Tensor bias_lrelu(const torch::Tensor& x, const torch::Tensor& bias, double slope, double scale) {
  TORCH_CHECK(x.is_cuda() && bias.is_cuda(), "bias_lrelu: tensors must be on a CUDA device");
  TORCH_CHECK(x.dim() >= 2, "bias_lrelu: x must have a channel axis (dim 1)");
  TORCH_CHECK(bias.dim() == 1 && bias.size(0) == x.size(1), "bias_lrelu: bias must be (C,)");
  TORCH_CHECK(bias.scalar_type() == x.scalar_type(), "bias_lrelu: bias and x must share a dtype");
  return bias_lrelu_cuda(x.contiguous(), bias.contiguous(), slope, scale);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("upfirdn2d", &upfirdn2d, "zero-insert up, pad, FIR (true convolution), down; (N, C, H, W)");
  m.def("bias_lrelu", &bias_lrelu, "leaky_relu(x + bias[c]) * scale, bias over dim 1");
}
