#include "spat/sgd.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace spat {

Sgd::Sgd(const torch::OrderedDict<std::string, at::Tensor>& params, const SgdOptions& o)
    : options_(o) {
  for (const auto& item : params) {
    names_.push_back(item.key());
    params_.push_back(item.value());
  }
  buffers_.resize(params_.size());
}

void Sgd::Step() {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    if (!p.grad().defined()) continue;
    at::Tensor d = p.grad();
    if (options_.weight_decay != 0) d = d.add(p, options_.weight_decay);
    if (options_.momentum != 0) {
      if (!buffers_[i].defined()) {
        buffers_[i] = d.clone();
      } else {
        buffers_[i].mul_(options_.momentum).add_(d);
      }
      d = buffers_[i];
    }
    p.add_(d, -options_.lr);
  }
}

void Sgd::ZeroGrad() {
  for (at::Tensor& p : params_) {
    if (p.grad().defined()) {
      p.mutable_grad().detach_();
      p.mutable_grad().zero_();
    }
  }
}

models::StateDict Sgd::State() const {
  models::StateDict out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (buffers_[i].defined()) out.emplace_back("momentum." + names_[i], buffers_[i]);
  }
  return out;
}

absl::Status Sgd::LoadState(const models::StateDict& state) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < names_.size(); ++i) index["momentum." + names_[i]] = i;
  std::vector<at::Tensor> loaded(params_.size());
  for (const auto& [k, t] : state) {
    auto it = index.find(k);
    if (it == index.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("optimizer state has unknown entry '", k, "'"));
    }
    if (t.sizes() != params_[it->second].sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "optimizer state '", k, "' has shape ", c10::str(t.sizes()), ", expected ",
          c10::str(params_[it->second].sizes())));
    }
    loaded[it->second] = t.to(params_[it->second].options()).clone();
  }
  buffers_ = std::move(loaded);
  return absl::OkStatus();
}

}  // namespace spat
