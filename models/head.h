// The classification layer shared by every model: a linear head
// (logits = z W^T + b) or the paper's NCE cosine head (eq. 10:
// logits_j = s * cos(theta_j), with unit-norm prototypes and features, no
// bias, `s` a buffer saved in the checkpoint).
//
//   ClassHead head(200, 10, {.type = HeadType::kNce, .s = 5.0});
//   at::Tensor logits = head->forward(z);   // z: [B, 200] -> [B, 10]
//   at::Tensor cos = head->Cosines(z);      // [B, 10] in [-1, 1]
#ifndef SPAT_MODELS_HEAD_H_
#define SPAT_MODELS_HEAD_H_

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace spat::models {

enum class HeadType { kLinear, kNce };

struct HeadOptions {
  HeadType type = HeadType::kLinear;
  double s = 5.0;  // NCE scale; ignored by the linear head.
  // > 0: the weight (the NCE prototypes) starts from N(0, prototype_std^2),
  // as in the authors' SPAT script; 0: nn.Linear's initialization.
  double prototype_std = 0.0;
};

class ClassHeadImpl : public torch::nn::Module {
 public:
  ClassHeadImpl(int64_t in_features, int64_t num_classes,
                const HeadOptions& options);

  // z: [B, D] float. Returns logits [B, C].
  at::Tensor forward(const at::Tensor& z);

  // cos(theta_j) between each feature and each class prototype: [B, C].
  at::Tensor Cosines(const at::Tensor& z);

  // Class prototypes W: [C, D] (the raw weight; unit rows for NCE after
  // normalization in forward).
  const at::Tensor& prototypes() const { return weight; }

  HeadType type() const { return options_.type; }
  // The NCE scale s (read from the buffer, so a loaded checkpoint's s wins).
  double scale() const;

  at::Tensor weight;  // [C, D]
  at::Tensor bias;    // [C], linear head only
  at::Tensor s;       // 0-dim float buffer, NCE head only

 private:
  HeadOptions options_;
};
TORCH_MODULE(ClassHead);

}  // namespace spat::models

#endif  // SPAT_MODELS_HEAD_H_
