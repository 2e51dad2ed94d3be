#include "spat/trades_loss.h"

#include <ATen/ATen.h>

#include "spat/divergences.h"

namespace spat {

at::Tensor TradesLoss(const at::Tensor& logits_nat, const at::Tensor& logits_adv,
                      const at::Tensor& y, double beta) {
  return at::cross_entropy_loss(logits_nat, y) +
         beta * KlPerExample(logits_nat, logits_adv).mean();
}

}  // namespace spat
