// Square Attack (Andriushchenko et al. 2020), l-inf, score-based (no
// gradients), with the AutoAttack reference's constants: 5000 queries,
// p_init 0.8 halved at iterations 10, 50, 200, 500, 1000, 2000, 4000, 6000,
// 8000; vertical-stripe initialization; square patches of ±2·eps per
// channel; a candidate is kept when the margin loss decreases; points stop
// once misclassified.
//
//   SquareResult r = SquareLinf(forward, x, y, {.epsilon = 0.3}, gen);
#ifndef SPAT_ATTACKS_SQUARE_H_
#define SPAT_ATTACKS_SQUARE_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "attacks/pgd.h"

namespace spat::attacks {

struct SquareOptions {
  double epsilon = 0.3;
  int num_queries = 5000;
  double p_init = 0.8;
};

struct SquareResult {
  at::Tensor x_adv;    // [B, C, H, W]
  at::Tensor robust;   // [B] bool
  at::Tensor queries;  // [B] int64: queries spent per point
};

// The fraction of pixels a square covers at iteration `it` (0-based).
double SquareFraction(double p_init, int it);

SquareResult SquareLinf(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                        const SquareOptions& options, at::Generator gen);

}  // namespace spat::attacks

#endif  // SPAT_ATTACKS_SQUARE_H_
