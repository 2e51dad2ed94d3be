#include "spat/ema.h"

#include <algorithm>

namespace spat {

double EmaDecay(int64_t step, double decay) {
  return std::min(decay, (1.0 + static_cast<double>(step)) /
                             (10.0 + static_cast<double>(step)));
}

void UpdateEma(torch::nn::Module& ema, const torch::nn::Module& model, double decay) {
  torch::NoGradGuard no_grad;
  auto ep = ema.parameters();
  auto mp = model.parameters();
  TORCH_CHECK(ep.size() == mp.size(), "EMA and model differ in structure");
  for (size_t i = 0; i < ep.size(); ++i) {
    ep[i].mul_(decay).add_(mp[i].detach(), 1.0 - decay);
  }
  auto eb = ema.buffers();
  auto mb = model.buffers();
  TORCH_CHECK(eb.size() == mb.size(), "EMA and model differ in buffers");
  for (size_t i = 0; i < eb.size(); ++i) eb[i].copy_(mb[i]);
}

}  // namespace spat
