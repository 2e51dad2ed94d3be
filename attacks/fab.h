// FAB (Croce & Hein 2020), l-inf, untargeted or targeted (FAB-T), with the
// AutoAttack reference's constants: 100 iterations, alpha_max 0.1, eta 1.05,
// beta 0.9, no random start. Each step projects onto the linearized decision
// boundary of the true and the target class (exact l-inf projection with the
// [0, 1] box) and biases the step toward the original point; a point counts
// as broken only if its smallest adversarial perturbation is <= epsilon.
//
//   FabResult r = FabTargeted(forward, x, y, target, {.epsilon = 0.3});
#ifndef SPAT_ATTACKS_FAB_H_
#define SPAT_ATTACKS_FAB_H_

#include <ATen/core/Tensor.h>

#include "attacks/pgd.h"

namespace spat::attacks {

struct FabOptions {
  double epsilon = 0.3;
  int num_iters = 100;
  double alpha_max = 0.1;
  double eta = 1.05;
  double beta = 0.9;
};

struct FabResult {
  at::Tensor x_adv;      // [B, ...]: the smallest adversarial point found, else x
  at::Tensor robust;     // [B] bool: no adversarial point within epsilon
  at::Tensor distance;   // [B]: l-inf norm of the smallest perturbation (inf if none)
};

// Minimal l-inf step d per row with w·(p + d) = b and 0 <= p + d <= 1.
// p, w: [B, N]; b: [B]. Where the box makes it infeasible, returns the box
// corner that gets closest. Returns [B, N].
at::Tensor ProjectLinfHyperplaneBox(const at::Tensor& p, const at::Tensor& w,
                                    const at::Tensor& b);

// Targeted FAB toward `target` ([B] classes); success = any misclassification.
FabResult FabTargeted(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                      const at::Tensor& target, const FabOptions& options);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_FAB_H_
