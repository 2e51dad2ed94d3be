#include "spat/alp_loss.h"

#include <ATen/ATen.h>

namespace spat {

at::Tensor AlpLoss(const at::Tensor& logits_nat, const at::Tensor& logits_adv,
                   const at::Tensor& y, double weight) {
  TORCH_CHECK(logits_nat.sizes() == logits_adv.sizes(),
              "logits must have one shape, got ", logits_nat.sizes(), " and ",
              logits_adv.sizes());
  return 0.5 * at::cross_entropy_loss(logits_nat, y) +
         0.5 * at::cross_entropy_loss(logits_adv, y) +
         weight * (logits_nat - logits_adv).square().sum(1).mean();
}

}  // namespace spat
