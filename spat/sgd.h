// SGD with momentum and L2 weight decay, PyTorch's semantics
// (torch.optim.SGD, dampening 0, no Nesterov):
//
//   d = grad + wd · p;  buf = d (first step) or momentum · buf + d;  p -= lr · buf
//
// Written out here so that its state (the momentum buffers, by parameter
// name) checkpoints and resumes exactly.
//
//   Sgd opt(model->named_parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4});
//   loss.backward(); opt.Step(); opt.ZeroGrad();
#ifndef SPAT_SPAT_SGD_H_
#define SPAT_SPAT_SGD_H_

#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/ordered_dict.h>

#include "absl/status/status.h"
#include "models/checkpoint.h"

namespace spat {

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 0.0;
};

class Sgd {
 public:
  Sgd(const torch::OrderedDict<std::string, at::Tensor>& params, const SgdOptions& o);

  void Step();
  void ZeroGrad();
  void set_lr(double lr) { options_.lr = lr; }
  double lr() const { return options_.lr; }

  // "momentum.<param name>" -> buffer, for the parameters that have one.
  models::StateDict State() const;
  // Restores State(); names must match this optimizer's parameters.
  absl::Status LoadState(const models::StateDict& state);

 private:
  SgdOptions options_;
  std::vector<std::string> names_;
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> buffers_;  // undefined until the first step
};

}  // namespace spat

#endif  // SPAT_SPAT_SGD_H_
