#include "spat/reweighting.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

namespace spat {
namespace {

at::Tensor NormalizeToMeanOne(const at::Tensor& w) {
  return w * (static_cast<double>(w.numel()) / w.sum().clamp_min(1e-12));
}

}  // namespace

at::Tensor GairatWeights(const at::Tensor& kappa, int num_steps, double lambda) {
  TORCH_CHECK(num_steps > 0, "num_steps must be > 0, got ", num_steps);
  TORCH_CHECK(kappa.dim() == 1, "kappa must be [B], got ", kappa.sizes());
  at::NoGradGuard no_grad;
  at::Tensor k = kappa.to(at::kFloat);
  at::Tensor w = (at::tanh(lambda + 5.0 * (1.0 - 2.0 * k / num_steps)) + 1.0) / 2.0;
  return NormalizeToMeanOne(w);
}

at::Tensor MailWeights(const at::Tensor& logits_adv, const at::Tensor& y,
                       double bias, double slope) {
  TORCH_CHECK(logits_adv.dim() == 2, "logits must be [B, C], got ", logits_adv.sizes());
  at::NoGradGuard no_grad;
  at::Tensor p = at::softmax(logits_adv, 1);
  at::Tensor is_true = at::zeros_like(p, at::kBool).scatter_(1, y.unsqueeze(1), true);
  at::Tensor p_true = p.gather(1, y.unsqueeze(1)).squeeze(1);
  at::Tensor p_other = p.masked_fill(is_true, -1.0).amax(1);
  at::Tensor pm = p_true - p_other;
  return NormalizeToMeanOne(at::sigmoid(slope * (-pm + bias)));
}

}  // namespace spat
