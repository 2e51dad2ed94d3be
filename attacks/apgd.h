// APGD (Croce & Hein 2020), l-inf and l2, with the public AutoAttack
// reference's constants (../shared/ATTACKS.md): 100 iterations, step 2·eps,
// momentum 0.75, checkpoints at 22, 19, 16, ... (p = 0.22, decrement 0.03,
// minimum 0.06 of the iterations), step halving on oscillation (rho = 0.75)
// or on no improvement since the last unreduced checkpoint, restart from the
// best point.
//
//   ApgdResult r = Apgd(forward, x, y, {.epsilon = 0.3, .loss = ApgdLoss::kCe}, gen);
//   // r.robust[b] is false where some iterate was misclassified; r.x_adv holds it.
#ifndef SPAT_ATTACKS_APGD_H_
#define SPAT_ATTACKS_APGD_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "attacks/pgd.h"

namespace spat::attacks {

enum class ApgdLoss { kCe, kDlr, kTargetedDlr };

struct ApgdOptions {
  double epsilon = 0.3;
  int num_iters = 100;
  Norm norm = Norm::kLinf;
  ApgdLoss loss = ApgdLoss::kCe;
  double rho = 0.75;
};

struct ApgdResult {
  at::Tensor x_adv;   // [B, ...]: a misclassified iterate, else the best-loss one
  at::Tensor robust;  // [B] bool: no iterate was misclassified
};

// Targeted DLR: -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4) / 2 + 1e-12). [B].
at::Tensor TargetedDlrLoss(const at::Tensor& logits, const at::Tensor& y,
                           const at::Tensor& target);

// Checkpoints of the step-size schedule for `n` iterations: 22, 41, 57, ...
// for n = 100 (the iteration indices, 0-based, at which the check runs).
std::vector<int> ApgdCheckpoints(int n);

// x: [B, ...] in [0, 1]; y: [B]; target: [B] (kTargetedDlr only).
ApgdResult Apgd(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                const ApgdOptions& options, at::Generator gen,
                const at::Tensor& target = at::Tensor());

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_APGD_H_
