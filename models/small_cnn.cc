#include "models/small_cnn.h"

#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>

namespace spat::models {

namespace F = torch::nn::functional;

SmallCNNImpl::SmallCNNImpl(const SmallCnnOptions& options)
    : Classifier("SmallCNN"), options_(options) {
  TORCH_CHECK(options.image_size >= 16, "SmallCNN needs images >= 16 px, got ",
              options.image_size);
  auto features = register_module("feature_extractor",
                                  std::make_shared<torch::nn::Module>());
  auto conv = [](int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3));
  };
  conv1_ = features->register_module("conv1", conv(options.in_channels, 32));
  conv2_ = features->register_module("conv2", conv(32, 32));
  conv3_ = features->register_module("conv3", conv(32, 64));
  conv4_ = features->register_module("conv4", conv(64, 64));
  const int64_t side = ((options.image_size - 4) / 2 - 4) / 2;
  auto classifier = register_module("classifier",
                                    std::make_shared<torch::nn::Module>());
  fc1_ = classifier->register_module(
      "fc1", torch::nn::Linear(64 * side * side, 200));
  fc2_ = classifier->register_module("fc2", torch::nn::Linear(200, 200));
  fc3_ = classifier->register_module(
      "fc3", ClassHead(200, options.num_classes, options.head));

  // The reference initialization: Kaiming-normal convolutions with zero
  // bias, and a zero linear output layer.
  if (!options.reference_init) return;
  torch::NoGradGuard no_grad;
  for (auto* c : {&conv1_, &conv2_, &conv3_, &conv4_}) {
    torch::nn::init::kaiming_normal_((*c)->weight);
    torch::nn::init::zeros_((*c)->bias);
  }
  if (options.head.type == HeadType::kLinear) {
    fc3_->weight.zero_();
    fc3_->bias.zero_();
  }
}

at::Tensor SmallCNNImpl::Features(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == options_.in_channels &&
                  x.size(2) == options_.image_size &&
                  x.size(3) == options_.image_size,
              "SmallCNN expects x of shape [B, ", options_.in_channels, ", ",
              options_.image_size, ", ", options_.image_size, "], got ",
              x.sizes());
  at::Tensor h = torch::relu(conv1_->forward(x));
  h = F::max_pool2d(torch::relu(conv2_->forward(h)), F::MaxPool2dFuncOptions(2));
  h = torch::relu(conv3_->forward(h));
  h = F::max_pool2d(torch::relu(conv4_->forward(h)), F::MaxPool2dFuncOptions(2));
  h = torch::relu(fc1_->forward(h.flatten(1)));
  h = F::dropout(h, F::DropoutFuncOptions().p(options_.dropout).training(is_training()));
  return torch::relu(fc2_->forward(h));
}

}  // namespace spat::models
