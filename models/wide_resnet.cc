#include "models/wide_resnet.h"

#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>

#include <cmath>
#include <string>

#include "models/internal/layers.h"

namespace spat::models {

namespace F = torch::nn::functional;

using internal::Conv;

WideBasicBlockImpl::WideBasicBlockImpl(int64_t in_planes, int64_t out_planes,
                                       int64_t stride, double dropout)
    : equal_in_out_(in_planes == out_planes), dropout_(dropout) {
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(in_planes));
  conv1_ = register_module("conv1", Conv(in_planes, out_planes, 3, stride));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out_planes));
  conv2_ = register_module("conv2", Conv(out_planes, out_planes, 3, 1));
  if (!equal_in_out_) {
    shortcut_ =
        register_module("convShortcut", Conv(in_planes, out_planes, 1, stride));
  }
}

at::Tensor WideBasicBlockImpl::forward(const at::Tensor& x) {
  // Pre-activation; when the widths differ the shortcut also sees the
  // activated input (as in the reference).
  const at::Tensor act = torch::relu(bn1_->forward(x));
  at::Tensor out = torch::relu(bn2_->forward(conv1_->forward(act)));
  if (dropout_ > 0) {
    out = F::dropout(out, F::DropoutFuncOptions().p(dropout_).training(is_training()));
  }
  out = conv2_->forward(out);
  return (equal_in_out_ ? x : shortcut_->forward(act)) + out;
}

WideResNetImpl::WideResNetImpl(const WideResNetOptions& options)
    : Classifier("WideResNet"), options_(options) {
  TORCH_CHECK(options.depth >= 10 && (options.depth - 4) % 6 == 0,
              "WideResNet depth must be 6n+4 >= 10, got ", options.depth);
  TORCH_CHECK(options.widen_factor >= 1, "widen_factor must be >= 1, got ",
              options.widen_factor);
  const int64_t n = (options.depth - 4) / 6;
  const int64_t k = options.widen_factor;
  const int64_t widths[4] = {16, 16 * k, 32 * k, 64 * k};
  conv1_ = register_module("conv1", Conv(options.in_channels, widths[0], 3, 1));
  for (int b = 0; b < 3; ++b) {
    auto holder = register_module("block" + std::to_string(b + 1),
                                  std::make_shared<torch::nn::Module>());
    torch::nn::Sequential layer;
    for (int64_t i = 0; i < n; ++i) {
      layer->push_back(WideBasicBlock(i == 0 ? widths[b] : widths[b + 1],
                                      widths[b + 1],
                                      (i == 0 && b > 0) ? 2 : 1,
                                      options.dropout));
    }
    blocks_.push_back(holder->register_module("layer", layer));
  }
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(widths[3]));
  fc_ = register_module("fc",
                        ClassHead(widths[3], options.num_classes, options.head));

  // The reference initialization.
  if (!options.reference_init) return;
  torch::NoGradGuard no_grad;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) {
      const auto& ks = conv->options.kernel_size();
      const double fan_out = static_cast<double>(
          (*ks)[0] * (*ks)[1] * conv->options.out_channels());
      conv->weight.normal_(0.0, std::sqrt(2.0 / fan_out));
    }
  }
  if (fc_->bias.defined()) fc_->bias.zero_();
}

at::Tensor WideResNetImpl::Features(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels,
              "WideResNet expects x of shape [B, ", options_.in_channels,
              ", H, W], got ", x.sizes());
  at::Tensor out = conv1_->forward(x);
  for (auto& block : blocks_) out = block->forward(out);
  out = torch::relu(bn1_->forward(out));
  return F::adaptive_avg_pool2d(out, F::AdaptiveAvgPool2dFuncOptions(1))
      .flatten(1);
}

}  // namespace spat::models
