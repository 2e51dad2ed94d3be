// MART (Wang et al. 2020), as in the authors' code:
//
//   L = BCE(p', y) + lambda · mean_b[ KL(p || p') · (1 - p_y) ]
//   BCE(p', y) = CE(z', y) - log(1.0001 - p'_{k*}),  k* = argmax_{k != y} p'_k
//
// where p = softmax(z) on clean and p' = softmax(z') on adversarial inputs.
//
//   at::Tensor l = MartLoss(model(x), model(x_adv), y, /*lambda=*/5.0);
#ifndef SPAT_SPAT_MART_LOSS_H_
#define SPAT_SPAT_MART_LOSS_H_

#include <ATen/core/Tensor.h>

namespace spat {

// logits_nat, logits_adv: [B, C]; y: [B] int64. Returns a scalar.
at::Tensor MartLoss(const at::Tensor& logits_nat, const at::Tensor& logits_adv,
                    const at::Tensor& y, double lambda);

}  // namespace spat

#endif  // SPAT_SPAT_MART_LOSS_H_
