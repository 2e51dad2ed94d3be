#include "models/lenet.h"

#include <torch/nn/functional/pooling.h>

namespace spat::models {

namespace F = torch::nn::functional;

LeNet5Impl::LeNet5Impl(const LeNetOptions& options)
    : Classifier("LeNet5"), options_(options) {
  TORCH_CHECK(options.image_size == 28 || options.image_size == 32,
              "LeNet-5 takes 28x28 or 32x32 images, got ", options.image_size);
  const int64_t pad = options.image_size == 28 ? 2 : 0;
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(
                   torch::nn::Conv2dOptions(options.in_channels, 6, 5).padding(pad)));
  conv2_ = register_module("conv2",
                           torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)));
  fc1_ = register_module("fc1", torch::nn::Linear(16 * 5 * 5, 120));
  fc2_ = register_module("fc2", torch::nn::Linear(120, 84));
  fc3_ = register_module("fc3", ClassHead(84, options.num_classes, options.head));
}

at::Tensor LeNet5Impl::Features(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels &&
                  x.size(2) == options_.image_size &&
                  x.size(3) == options_.image_size,
              "LeNet-5 expects x of shape [B, ", options_.in_channels, ", ",
              options_.image_size, ", ", options_.image_size, "], got ",
              x.sizes());
  at::Tensor h = F::max_pool2d(torch::relu(conv1_->forward(x)),
                               F::MaxPool2dFuncOptions(2));
  h = F::max_pool2d(torch::relu(conv2_->forward(h)), F::MaxPool2dFuncOptions(2));
  h = torch::relu(fc1_->forward(h.flatten(1)));
  return torch::relu(fc2_->forward(h));
}

}  // namespace spat::models
