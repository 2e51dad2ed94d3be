// KL divergence between the softmax distributions of two logit batches, per
// example, as TRADES/MART/SPAT use it.
//
//   at::Tensor kl = KlPerExample(logits_nat, logits_adv);  // [B]
#ifndef SPAT_SPAT_DIVERGENCES_H_
#define SPAT_SPAT_DIVERGENCES_H_

#include <ATen/core/Tensor.h>

namespace spat {

// KL(f(x) || f(x')) = sum_j f_j(x) (log f_j(x) - log f_j(x')), f = softmax.
// logits_p, logits_q: [B, C]. Returns [B] (>= 0).
at::Tensor KlPerExample(const at::Tensor& logits_p, const at::Tensor& logits_q);

}  // namespace spat

#endif  // SPAT_SPAT_DIVERGENCES_H_
