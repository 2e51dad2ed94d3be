#include "spat/spat_loss.h"

#include <ATen/ATen.h>

#include "spat/divergences.h"

namespace spat {

at::Tensor SelfPacedGains(const at::Tensor& cos, const at::Tensor& y, double beta) {
  TORCH_CHECK(cos.dim() == 2, "cos must be [B, C], got ", cos.sizes());
  TORCH_CHECK(y.dim() == 1 && y.size(0) == cos.size(0), "y must be [",
              cos.size(0), "], got ", y.sizes());
  at::Tensor is_true = at::zeros_like(cos, at::kBool).scatter_(1, y.unsqueeze(1), true);
  return at::where(is_true, 1.0 - cos + beta, cos + beta);
}

at::Tensor SelfPacedAccuracyLoss(const at::Tensor& logits, const at::Tensor& cos,
                                 const at::Tensor& y, const SpatLossOptions& o) {
  at::Tensor z = logits;
  if (o.sp_acc) {
    at::Tensor g = SelfPacedGains(cos, y, o.beta);
    z = logits * (o.detach_gains ? g.detach() : g);
  }
  return at::cross_entropy_loss(z, y);
}

at::Tensor SelfPacedRobustnessPerExample(const at::Tensor& logits_nat,
                                         const at::Tensor& logits_adv,
                                         const SpatLossOptions& o) {
  if (!o.sp_rob) return KlPerExample(logits_nat, logits_adv);
  at::Tensor log_p = at::log_softmax(logits_nat, 1);
  at::Tensor log_q = at::log_softmax(logits_adv, 1);
  at::Tensor terms = log_p.exp() * (log_p - log_q);  // f_j log(f_j / f'_j)
  return o.alpha * terms.sum(1) + terms.square().sum(1);
}

at::Tensor SpatLoss(const at::Tensor& logits_nat, const at::Tensor& cos_nat,
                    const at::Tensor& logits_adv, const at::Tensor& y,
                    const SpatLossOptions& o) {
  return SelfPacedAccuracyLoss(logits_nat, cos_nat, y, o) +
         o.lambda * SelfPacedRobustnessPerExample(logits_nat, logits_adv, o).mean();
}

}  // namespace spat
