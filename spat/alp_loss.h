// Adversarial logit pairing (Kannan et al. 2018): the mixed clean/adversarial
// cross-entropy plus a penalty on the squared logit distance,
//
//   L = ½ CE(z, y) + ½ CE(z', y) + weight · mean_b ||z - z'||²
//
//   at::Tensor l = AlpLoss(model(x), model(x_adv), y, /*weight=*/0.5);
#ifndef SPAT_SPAT_ALP_LOSS_H_
#define SPAT_SPAT_ALP_LOSS_H_

#include <ATen/core/Tensor.h>

namespace spat {

// logits_nat, logits_adv: [B, C]; y: [B] int64. Returns a scalar.
at::Tensor AlpLoss(const at::Tensor& logits_nat, const at::Tensor& logits_adv,
                   const at::Tensor& y, double weight);

}  // namespace spat

#endif  // SPAT_SPAT_ALP_LOSS_H_
