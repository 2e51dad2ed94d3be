// TRADES (Zhang et al. 2019): CE(f(x), y) + beta · KL(f(x) || f(x')), the KL
// summed over classes and averaged over the batch.
//
//   at::Tensor l = TradesLoss(model(x), model(x_adv), y, /*beta=*/6.0);
#ifndef SPAT_SPAT_TRADES_LOSS_H_
#define SPAT_SPAT_TRADES_LOSS_H_

#include <ATen/core/Tensor.h>

namespace spat {

// logits_nat, logits_adv: [B, C]; y: [B] int64. Returns a scalar.
at::Tensor TradesLoss(const at::Tensor& logits_nat, const at::Tensor& logits_adv,
                      const at::Tensor& y, double beta);

}  // namespace spat

#endif  // SPAT_SPAT_TRADES_LOSS_H_
