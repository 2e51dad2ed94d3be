#include "spat/mart_loss.h"

#include <ATen/ATen.h>

#include "spat/divergences.h"

namespace spat {

at::Tensor MartLoss(const at::Tensor& logits_nat, const at::Tensor& logits_adv,
                    const at::Tensor& y, double lambda) {
  TORCH_CHECK(logits_adv.dim() == 2 && logits_adv.size(1) >= 2,
              "logits must be [B, C >= 2], got ", logits_adv.sizes());
  at::Tensor p_adv = at::softmax(logits_adv, 1);
  at::Tensor is_true =
      at::zeros_like(p_adv, at::kBool).scatter_(1, y.unsqueeze(1), true);
  // The most likely wrong class on the adversarial input.
  at::Tensor k_star = p_adv.masked_fill(is_true, -1.0).argmax(1, /*keepdim=*/true);
  at::Tensor bce = at::cross_entropy_loss(logits_adv, y) -
                   at::log(1.0001 - p_adv.gather(1, k_star) + 1e-12).mean();
  at::Tensor p_nat_true = at::softmax(logits_nat, 1).gather(1, y.unsqueeze(1)).squeeze(1);
  at::Tensor robust =
      (KlPerExample(logits_nat, logits_adv) * (1.0000001 - p_nat_true)).mean();
  return bce + lambda * robust;
}

}  // namespace spat
