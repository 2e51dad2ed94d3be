#include "models/resnet.h"

#include <torch/nn/functional/pooling.h>

#include <string>

#include "models/internal/layers.h"

namespace spat::models {
using internal::Conv;

ResidualBlockImpl::ResidualBlockImpl(int64_t in_planes, int64_t planes,
                                     int64_t stride, bool bottleneck) {
  const int64_t expansion = bottleneck ? 4 : 1;
  if (bottleneck) {
    conv1_ = register_module("conv1", Conv(in_planes, planes, 1, 1));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2_ = register_module("conv2", Conv(planes, planes, 3, stride));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
    conv3_ = register_module("conv3", Conv(planes, expansion * planes, 1, 1));
    bn3_ = register_module("bn3", torch::nn::BatchNorm2d(expansion * planes));
  } else {
    conv1_ = register_module("conv1", Conv(in_planes, planes, 3, stride));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(planes));
    conv2_ = register_module("conv2", Conv(planes, planes, 3, 1));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(planes));
  }
  shortcut_ = register_module("shortcut", torch::nn::Sequential());
  if (stride != 1 || in_planes != expansion * planes) {
    shortcut_->push_back(Conv(in_planes, expansion * planes, 1, stride));
    shortcut_->push_back(torch::nn::BatchNorm2d(expansion * planes));
  }
}

at::Tensor ResidualBlockImpl::forward(const at::Tensor& x) {
  at::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
  if (conv3_) {
    out = torch::relu(bn2_->forward(conv2_->forward(out)));
    out = bn3_->forward(conv3_->forward(out));
  } else {
    out = bn2_->forward(conv2_->forward(out));
  }
  out = out + (shortcut_->is_empty() ? x : shortcut_->forward(x));
  return torch::relu(out);
}

ResNetImpl::ResNetImpl(const ResNetOptions& options)
    : Classifier("ResNet"), options_(options) {
  TORCH_CHECK(options.num_blocks.size() == 4, "ResNet needs 4 stages, got ",
              options.num_blocks.size());
  const int64_t w = options.base_width;
  const int64_t expansion = options.bottleneck ? 4 : 1;
  conv1_ = register_module("conv1", Conv(options.in_channels, w, 3, 1));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(w));
  int64_t in_planes = w;
  for (int stage = 0; stage < 4; ++stage) {
    const int64_t planes = w << stage;
    torch::nn::Sequential layer;
    for (int64_t i = 0; i < options.num_blocks[stage]; ++i) {
      const int64_t stride = (stage > 0 && i == 0) ? 2 : 1;
      layer->push_back(
          ResidualBlock(in_planes, planes, stride, options.bottleneck));
      in_planes = planes * expansion;
    }
    layers_.push_back(
        register_module("layer" + std::to_string(stage + 1), layer));
  }
  linear_ = register_module(
      "linear", ClassHead(in_planes, options.num_classes, options.head));
}

at::Tensor ResNetImpl::Features(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels,
              "ResNet expects x of shape [B, ", options_.in_channels,
              ", H, W], got ", x.sizes());
  at::Tensor out = torch::relu(bn1_->forward(conv1_->forward(x)));
  for (auto& layer : layers_) out = layer->forward(out);
  // Global average pooling; equals the reference avg_pool2d(4) on 32x32.
  return torch::nn::functional::adaptive_avg_pool2d(
             out, torch::nn::functional::AdaptiveAvgPool2dFuncOptions(1))
      .flatten(1);
}

}  // namespace spat::models
