// The SPAT loss (paper eq. 9-15):
//
//   L = L_acc^sp + lambda * L_rob^sp
//   L_acc^sp = CE(g ⊙ logits, y), g_y = 1 - cos θ_y + β, g_j = cos θ_j + β (eq. 10-11)
//   L_rob^sp = α KL(f(x) || f(x')) + Σ_j [f_j(x) log(f_j(x) / f_j(x'))]^2  (eq. 13-15)
//
// with logits = s·cos θ for the NCE head (or the linear logits for the CE
// ablations), f = softmax(logits). Reductions follow the authors' script: sum
// over classes, mean over the batch; gains are not detached by default.
//
//   at::Tensor l = SpatLoss(logits_nat, cos_nat, logits_adv, y, options);
#ifndef SPAT_SPAT_SPAT_LOSS_H_
#define SPAT_SPAT_SPAT_LOSS_H_

#include <ATen/core/Tensor.h>

namespace spat {

struct SpatLossOptions {
  double alpha = 0.2;
  double beta = 0.2;
  double lambda = 6.0;
  bool sp_acc = true;         // self-paced gains in L_acc (off: plain NCE/CE)
  bool sp_rob = true;         // self-paced term in L_rob (off: plain KL)
  bool detach_gains = false;  // the authors' script lets gradients flow
};

// g: [B, C]; g[b, y_b] = 1 - cos[b, y_b] + beta, else cos[b, j] + beta.
// cos: [B, C] in [-1, 1]; y: [B] int64.
at::Tensor SelfPacedGains(const at::Tensor& cos, const at::Tensor& y, double beta);

// L_acc^sp, batch mean. logits: [B, C] (s·cos θ or linear logits).
at::Tensor SelfPacedAccuracyLoss(const at::Tensor& logits, const at::Tensor& cos,
                                 const at::Tensor& y, const SpatLossOptions& o);

// L_rob^sp per example: α KL + L_inc if o.sp_rob, else plain KL. [B].
at::Tensor SelfPacedRobustnessPerExample(const at::Tensor& logits_nat,
                                         const at::Tensor& logits_adv,
                                         const SpatLossOptions& o);

// The full loss (eq. 9), batch mean.
at::Tensor SpatLoss(const at::Tensor& logits_nat, const at::Tensor& cos_nat,
                    const at::Tensor& logits_adv, const at::Tensor& y,
                    const SpatLossOptions& o);

}  // namespace spat

#endif  // SPAT_SPAT_SPAT_LOSS_H_
