// LeNet-5, the naturally trained source model of the paper's MNIST transfer
// attacks (Table 5), with the reference names conv1, conv2, fc1, fc2, fc3:
//
//   x [B,C,H,W] -> conv1(C->6,5x5,pad 2 if H=28) relu maxpool2
//   -> conv2(6->16,5x5) relu maxpool2 -> [B,400] -> fc1(400->120) relu
//   -> fc2(120->84) relu -> z [B,84] -> fc3 head -> logits
//
//   LeNet5 net(LeNetOptions{});
#ifndef SPAT_MODELS_LENET_H_
#define SPAT_MODELS_LENET_H_

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/classifier.h"

namespace spat::models {

struct LeNetOptions {
  int64_t in_channels = 1;
  int64_t image_size = 28;  // 28 (MNIST, conv1 padded) or 32 (unpadded)
  int64_t num_classes = 10;
  HeadOptions head = {};
};

class LeNet5Impl : public Classifier {
 public:
  explicit LeNet5Impl(const LeNetOptions& options);
  at::Tensor Features(const at::Tensor& x) override;
  ClassHeadImpl& head() override { return *fc3_; }

 private:
  LeNetOptions options_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  ClassHead fc3_{nullptr};
};
TORCH_MODULE(LeNet5);

}  // namespace spat::models

#endif  // SPAT_MODELS_LENET_H_
