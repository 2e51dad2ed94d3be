#include "attacks/targeted.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace spat::attacks {

void AttackRobustPoints(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                        const at::Tensor& logits, int target_rank, int64_t batch_size,
                        const BatchAttackFn& attack, at::Tensor* robust, at::Tensor* x_adv) {
  at::Tensor idx = robust->nonzero().squeeze(1);
  for (int64_t s = 0; s < idx.numel(); s += batch_size) {
    at::Tensor bi = idx.narrow(0, s, std::min(batch_size, idx.numel() - s));
    at::Tensor xb = x.index_select(0, bi), yb = y.index_select(0, bi);
    at::Tensor target;
    if (target_rank >= 2) {
      target = std::get<1>(logits.index_select(0, bi).sort(1, /*descending=*/true))
                   .select(1, target_rank - 1)
                   .contiguous();
    }
    BatchAttackResult r = attack(xb, yb, target);
    // Trust only what the model says about the returned point.
    at::NoGradGuard no_grad;
    at::Tensor fooled = forward(r.x_adv).argmax(1).ne(yb).logical_and(r.robust.logical_not());
    at::Tensor hit = bi.masked_select(fooled);
    robust->index_fill_(0, hit, false);
    x_adv->index_copy_(0, hit, r.x_adv.index_select(0, fooled.nonzero().squeeze(1)));
  }
}

void TargetedRestarts(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                      const at::Tensor& logits, int num_targets, int64_t batch_size,
                      const BatchAttackFn& attack, at::Tensor* robust, at::Tensor* x_adv) {
  const int rounds = std::min<int>(num_targets, static_cast<int>(logits.size(1)) - 1);
  for (int k = 0; k < rounds; ++k) {
    AttackRobustPoints(forward, x, y, logits, k + 2, batch_size, attack, robust, x_adv);
  }
}

}  // namespace spat::attacks
