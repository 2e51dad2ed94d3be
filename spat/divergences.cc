#include "spat/divergences.h"

#include <ATen/ATen.h>

namespace spat {

at::Tensor KlPerExample(const at::Tensor& logits_p, const at::Tensor& logits_q) {
  TORCH_CHECK(logits_p.dim() == 2 && logits_p.sizes() == logits_q.sizes(),
              "logits must be two [B, C] tensors of one shape, got ",
              logits_p.sizes(), " and ", logits_q.sizes());
  at::Tensor log_p = at::log_softmax(logits_p, 1);
  at::Tensor log_q = at::log_softmax(logits_q, 1);
  return (log_p.exp() * (log_p - log_q)).sum(1);
}

}  // namespace spat
