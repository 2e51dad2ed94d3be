// The interface every model implements: penultimate features z_x, a class
// head (linear or NCE), and the class prototypes W the hard-class-pair
// analysis reads.
//
//   std::shared_ptr<Classifier> model = *CreateModel({.name = "small_cnn"});
//   at::Tensor logits = model->forward(x);     // [B, C]
//   at::Tensor z = model->Features(x);         // [B, D]
//   at::Tensor w = model->Prototypes();        // [C, D]
#ifndef SPAT_MODELS_CLASSIFIER_H_
#define SPAT_MODELS_CLASSIFIER_H_

#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "models/head.h"

namespace spat::models {

class Classifier : public torch::nn::Module {
 public:
  // x: [B, C_in, H, W] float in [0, 1]. Returns penultimate features [B, D].
  virtual at::Tensor Features(const at::Tensor& x) = 0;

  // x: [B, C_in, H, W] float in [0, 1]. Returns logits [B, num_classes].
  at::Tensor forward(const at::Tensor& x) { return head().forward(Features(x)); }

  // Class prototypes W: [num_classes, D].
  at::Tensor Prototypes() { return head().prototypes(); }

  virtual ClassHeadImpl& head() = 0;

  // State-dict key prefixes that reference checkpoints carry but this model
  // does not use (e.g. WideResNet's `sub_block1.`); loading skips them.
  virtual std::vector<std::string> IgnoredCheckpointPrefixes() const {
    return {};
  }

 protected:
  Classifier() = default;
  explicit Classifier(const std::string& name) : torch::nn::Module(name) {}
};

}  // namespace spat::models

#endif  // SPAT_MODELS_CLASSIFIER_H_
