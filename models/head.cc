#include "models/head.h"

#include <torch/nn/functional/normalization.h>
#include <torch/nn/init.h>

#include <cmath>

namespace spat::models {

namespace F = torch::nn::functional;

ClassHeadImpl::ClassHeadImpl(int64_t in_features, int64_t num_classes,
                             const HeadOptions& options)
    : options_(options) {
  TORCH_CHECK(in_features > 0 && num_classes > 1,
              "head needs in_features > 0 and num_classes > 1, got ",
              in_features, ", ", num_classes);
  weight = register_parameter("weight", torch::empty({num_classes, in_features}));
  TORCH_CHECK(options_.prototype_std >= 0, "prototype_std must be >= 0, got ",
              options_.prototype_std);
  if (options_.prototype_std > 0) {
    torch::nn::init::normal_(weight, 0.0, options_.prototype_std);
  } else {
    // nn.Linear's default initialization.
    torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  }
  if (options_.type == HeadType::kLinear) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    bias = register_parameter("bias", torch::empty({num_classes}));
    torch::nn::init::uniform_(bias, -bound, bound);
  } else {
    TORCH_CHECK(options_.s > 0, "NCE scale s must be > 0, got ", options_.s);
    s = register_buffer("s", torch::tensor(options_.s, torch::kFloat));
  }
}

at::Tensor ClassHeadImpl::Cosines(const at::Tensor& z) {
  TORCH_CHECK(z.dim() == 2 && z.size(1) == weight.size(1),
              "z must be [B, ", weight.size(1), "], got ", z.sizes());
  const auto opts = F::NormalizeFuncOptions().dim(1).eps(1e-12);
  return torch::matmul(F::normalize(z, opts),
                       F::normalize(weight, opts).t());
}

at::Tensor ClassHeadImpl::forward(const at::Tensor& z) {
  if (options_.type == HeadType::kNce) return Cosines(z) * s.to(z.dtype());
  TORCH_CHECK(z.dim() == 2 && z.size(1) == weight.size(1),
              "z must be [B, ", weight.size(1), "], got ", z.sizes());
  return torch::addmm(bias, z, weight.t());
}

double ClassHeadImpl::scale() const {
  return options_.type == HeadType::kNce ? s.item<double>() : 1.0;
}

}  // namespace spat::models
