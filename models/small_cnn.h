// SmallCNN, the MNIST network of TRADES/MART/SPAT, with the reference
// parameter names:
//
//   x [B,1,28,28] -> feature_extractor: conv1(1->32,3x3) relu conv2(32->32)
//   relu maxpool2 conv3(32->64) relu conv4(64->64) relu maxpool2 -> [B,1024]
//   -> classifier: fc1(1024->200) relu dropout(0.5) fc2(200->200) relu -> z
//   [B,200] -> fc3 (linear or NCE head) -> logits [B,10]
//
//   SmallCNN net(SmallCnnOptions{});
//   at::Tensor logits = net->forward(x);
#ifndef SPAT_MODELS_SMALL_CNN_H_
#define SPAT_MODELS_SMALL_CNN_H_

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "models/classifier.h"

namespace spat::models {

struct SmallCnnOptions {
  int64_t in_channels = 1;
  int64_t image_size = 28;
  int64_t num_classes = 10;
  double dropout = 0.5;
  HeadOptions head = {};
  bool reference_init = true;  // false: PyTorch's layer defaults
};

class SmallCNNImpl : public Classifier {
 public:
  explicit SmallCNNImpl(const SmallCnnOptions& options);
  at::Tensor Features(const at::Tensor& x) override;
  ClassHeadImpl& head() override { return *fc3_; }

 private:
  SmallCnnOptions options_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr},
      conv4_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr};
  ClassHead fc3_{nullptr};
};
TORCH_MODULE(SmallCNN);

}  // namespace spat::models

#endif  // SPAT_MODELS_SMALL_CNN_H_
