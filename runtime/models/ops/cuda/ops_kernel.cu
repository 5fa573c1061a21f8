// Forward kernels for upfirdn2d and bias + leaky ReLU. Accumulation in float.
// Semantics match the PyTorch reference paths in upfirdn2d.py and layers.py.
#include <torch/extension.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

#include <algorithm>

namespace {

constexpr int kThreads = 256;

inline int blocks_for(int64_t total) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>((total + kThreads - 1) / kThreads, 65535)));
}

template <typename scalar_t>
__global__ void bias_lrelu_kernel(const scalar_t* __restrict__ x, const scalar_t* __restrict__ bias,
                                  scalar_t* __restrict__ out, int64_t total, int64_t channels, int64_t plane,
                                  float slope, float scale) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int64_t c = (i / plane) % channels;
    float v = static_cast<float>(x[i]) + static_cast<float>(bias[c]);
    v = v > 0.f ? v : v * slope;
    out[i] = static_cast<scalar_t>(v * scale);
  }
}

// out[p, oy, ox] = sum_{ky, kx} u[oy*down + ky - pad0, ox*down + kx - pad0] * k[kh-1-ky, kw-1-kx]
// where u is x with (up - 1) zeros inserted after every sample: u[up*i, up*j] = x[i, j].
template <typename scalar_t>
__global__ void upfirdn2d_kernel(const scalar_t* __restrict__ x, const float* __restrict__ k,
                                 scalar_t* __restrict__ out, int64_t planes, int in_h, int in_w, int out_h,
                                 int out_w, int kh, int kw, int up, int down, int pad0) {
  const int64_t total = planes * out_h * out_w;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int ox = static_cast<int>(i % out_w);
    const int64_t t = i / out_w;
    const int oy = static_cast<int>(t % out_h);
    const int64_t p = t / out_h;
    const scalar_t* src = x + p * static_cast<int64_t>(in_h) * in_w;
    const int base_y = oy * down - pad0;
    const int base_x = ox * down - pad0;
    float acc = 0.f;
    for (int ky = 0; ky < kh; ++ky) {
      const int uy = base_y + ky;
      if (uy < 0 || uy % up != 0) continue;
      const int iy = uy / up;
      if (iy >= in_h) continue;
      for (int kx = 0; kx < kw; ++kx) {
        const int ux = base_x + kx;
        if (ux < 0 || ux % up != 0) continue;
        const int ix = ux / up;
        if (ix >= in_w) continue;
        acc += static_cast<float>(src[static_cast<int64_t>(iy) * in_w + ix]) * k[(kh - 1 - ky) * kw + (kw - 1 - kx)];
      }
    }
    out[i] = static_cast<scalar_t>(acc);
  }
}

}  // namespace

torch::Tensor bias_lrelu_cuda(const torch::Tensor& x, const torch::Tensor& bias, double slope, double scale) {
  const c10::cuda::CUDAGuard guard(x.device());
  auto out = torch::empty_like(x);
  const int64_t total = x.numel();
  if (total == 0) return out;
  const int64_t channels = x.size(1);
  const int64_t plane = total / (x.size(0) * channels);
  auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::ScalarType::Half, at::ScalarType::BFloat16, x.scalar_type(), "bias_lrelu", [&] {
    bias_lrelu_kernel<scalar_t><<<blocks_for(total), kThreads, 0, stream>>>(
        x.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), total, channels, plane,
        static_cast<float>(slope), static_cast<float>(scale));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

torch::Tensor upfirdn2d_cuda(const torch::Tensor& x, const torch::Tensor& kernel, int64_t up, int64_t down,
                             int64_t pad0, int64_t pad1) {
  const c10::cuda::CUDAGuard guard(x.device());
  const int64_t n = x.size(0), c = x.size(1), in_h = x.size(2), in_w = x.size(3);
  const int64_t kh = kernel.size(0), kw = kernel.size(1);
  const int64_t span_h = in_h * up + pad0 + pad1 - kh;
  const int64_t span_w = in_w * up + pad0 + pad1 - kw;
  TORCH_CHECK(span_h >= 0 && span_w >= 0, "upfirdn2d: output would be empty");
  const int64_t out_h = span_h / down + 1, out_w = span_w / down + 1;
  auto out = torch::empty({n, c, out_h, out_w}, x.options());
  const int64_t total = out.numel();
  if (total == 0) return out;
  auto stream = c10::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::ScalarType::Half, at::ScalarType::BFloat16, x.scalar_type(), "upfirdn2d", [&] {
    upfirdn2d_kernel<scalar_t><<<blocks_for(total), kThreads, 0, stream>>>(
        x.data_ptr<scalar_t>(), kernel.data_ptr<float>(), out.data_ptr<scalar_t>(), n * c,
        static_cast<int>(in_h), static_cast<int>(in_w), static_cast<int>(out_h), static_cast<int>(out_w),
        static_cast<int>(kh), static_cast<int>(kw), static_cast<int>(up), static_cast<int>(down),
        static_cast<int>(pad0));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}
