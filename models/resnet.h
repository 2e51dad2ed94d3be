// ResNet-18/34/50/101, CIFAR variant (3x3 stem, stride 1, no max-pool), with
// the reference parameter names conv1, bn1, layer{1..4}.{i}.conv1/bn1/conv2/
// bn2[/conv3/bn3]/shortcut.{0,1}, linear:
//
//   x [B,C,32,32] -> conv1 bn1 relu -> layer1 (w) -> layer2 (2w, /2)
//   -> layer3 (4w, /2) -> layer4 (8w, /2) -> global avg pool -> z [B, 8w*e]
//   -> linear (head) -> logits        (w = base_width = 64; e = 1 or 4)
//
//   ResNet net(ResNetOptions::ResNet18());
#ifndef SPAT_MODELS_RESNET_H_
#define SPAT_MODELS_RESNET_H_

#include <vector>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "models/classifier.h"

namespace spat::models {

struct ResNetOptions {
  bool bottleneck = false;             // Bottleneck (x4) or BasicBlock (x1)
  std::vector<int64_t> num_blocks = {2, 2, 2, 2};
  int64_t base_width = 64;
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  HeadOptions head = {};

  static ResNetOptions ResNet18() { return {false, {2, 2, 2, 2}, 64, 3, 10, {}}; }
  static ResNetOptions ResNet34() { return {false, {3, 4, 6, 3}, 64, 3, 10, {}}; }
  static ResNetOptions ResNet50() { return {true, {3, 4, 6, 3}, 64, 3, 10, {}}; }
  static ResNetOptions ResNet101() { return {true, {3, 4, 23, 3}, 64, 3, 10, {}}; }
};

// One residual block; conv3/bn3 only in the bottleneck form.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in_planes, int64_t planes, int64_t stride,
                    bool bottleneck);
  at::Tensor forward(const at::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential shortcut_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class ResNetImpl : public Classifier {
 public:
  explicit ResNetImpl(const ResNetOptions& options);
  at::Tensor Features(const at::Tensor& x) override;
  ClassHeadImpl& head() override { return *linear_; }

 private:
  ResNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<torch::nn::Sequential> layers_;
  ClassHead linear_{nullptr};
};
TORCH_MODULE(ResNet);

}  // namespace spat::models

#endif  // SPAT_MODELS_RESNET_H_
