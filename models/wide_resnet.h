// WideResNet-34-10 (the TRADES/MART/SPAT CIFAR-10 definition), pre-activation
// blocks, with the reference names conv1, block{1,2,3}.layer.{i}.bn1/conv1/
// bn2/conv2/convShortcut, bn1, fc:
//
//   x [B,3,32,32] -> conv1 (16) -> block1 (16k) -> block2 (32k, /2)
//   -> block3 (64k, /2) -> bn1 relu -> global avg pool -> z [B, 64k] -> fc
//
// The reference also defines an unused `sub_block1`; checkpoints that carry
// it load fine (the keys are skipped).
//
//   WideResNet net(WideResNetOptions{});   // depth 34, widen factor 10
#ifndef SPAT_MODELS_WIDE_RESNET_H_
#define SPAT_MODELS_WIDE_RESNET_H_

#include <vector>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>

#include "models/classifier.h"

namespace spat::models {

struct WideResNetOptions {
  int64_t depth = 34;  // 6n + 4
  int64_t widen_factor = 10;
  double dropout = 0.0;
  int64_t in_channels = 3;
  int64_t num_classes = 10;
  HeadOptions head = {};
  bool reference_init = true;  // false: PyTorch's layer defaults
};

class WideBasicBlockImpl : public torch::nn::Module {
 public:
  WideBasicBlockImpl(int64_t in_planes, int64_t out_planes, int64_t stride,
                     double dropout);
  at::Tensor forward(const at::Tensor& x);

 private:
  bool equal_in_out_;
  double dropout_;
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(WideBasicBlock);

class WideResNetImpl : public Classifier {
 public:
  explicit WideResNetImpl(const WideResNetOptions& options);
  at::Tensor Features(const at::Tensor& x) override;
  ClassHeadImpl& head() override { return *fc_; }
  std::vector<std::string> IgnoredCheckpointPrefixes() const override {
    return {"sub_block1."};
  }

 private:
  WideResNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr};
  std::vector<torch::nn::Sequential> blocks_;
  torch::nn::BatchNorm2d bn1_{nullptr};
  ClassHead fc_{nullptr};
};
TORCH_MODULE(WideResNet);

}  // namespace spat::models

#endif  // SPAT_MODELS_WIDE_RESNET_H_
