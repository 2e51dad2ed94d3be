// The loop every attack with restarts shares (AutoAttack's components, the
// evaluator's apgd_t and fab): attack the points still robust, in batches,
// and keep a returned point only where the model really misclassifies it.
// Targeted attacks restart once per target class, the k-th most likely class
// on clean inputs for k = 2, 3, ...
//
//   at::Tensor robust = at::ones({n}, at::kBool), x_adv = x.clone();
//   TargetedRestarts(forward, x, y, logits, 9, 128, attack, &robust, &x_adv);
#ifndef SPAT_ATTACKS_TARGETED_H_
#define SPAT_ATTACKS_TARGETED_H_

#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "attacks/pgd.h"

namespace spat::attacks {

struct BatchAttackResult {
  at::Tensor x_adv;   // [B, ...]
  at::Tensor robust;  // [B] bool: the attack found nothing
};

// One attack on a batch; `target` ([B] classes) is undefined for untargeted
// attacks.
using BatchAttackFn = std::function<BatchAttackResult(
    const at::Tensor& x, const at::Tensor& y, const at::Tensor& target)>;

// Runs `attack` on the points with (*robust)[i] true, batch_size at a time.
// target_rank k >= 2 gives each point the k-th most likely class of its row of
// `logits` as the target; 0 runs untargeted. A point the attack reports as
// broken and `forward` misclassifies at the returned x_adv is marked not
// robust, and its x_adv kept. x, y, logits, *robust and *x_adv share a device.
void AttackRobustPoints(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                        const at::Tensor& logits, int target_rank, int64_t batch_size,
                        const BatchAttackFn& attack, at::Tensor* robust, at::Tensor* x_adv);

// AttackRobustPoints with target_rank 2, ..., num_targets + 1 (capped at the
// number of classes).
void TargetedRestarts(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                      const at::Tensor& logits, int num_targets, int64_t batch_size,
                      const BatchAttackFn& attack, at::Tensor* robust, at::Tensor* x_adv);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_TARGETED_H_
