// Exact t-SNE (van der Maaten & Hinton 2008) on ATen: per-point precisions
// bisected to the target perplexity, symmetrized affinities, Student-t
// low-dimensional kernel, gradient descent with early exaggeration (12 for
// the first 250 iterations), momentum 0.5 -> 0.8 and per-coordinate gains.
// O(N^2) memory and time per iteration: meant for ~1,000 points.
//
//   TsneResult r = Tsne(features, {.perplexity = 30, .iterations = 1000, .seed = 0});
//   // r.embedding: [N, 2]
#ifndef SPAT_BENCHMARKS_TSNE_H_
#define SPAT_BENCHMARKS_TSNE_H_

#include <cstdint>

#include <ATen/core/Tensor.h>

namespace spat::benchmarks {

struct TsneOptions {
  double perplexity = 30.0;
  int iterations = 1000;
  double learning_rate = 200.0;
  double exaggeration = 12.0;
  int exaggeration_iters = 250;
  uint64_t seed = 0;
};

struct TsneResult {
  at::Tensor embedding;  // [N, 2] double
  at::Tensor row_entropy;  // [N]: entropy (nats) of each conditional P_{.|i}
  double kl = 0;         // KL(P || Q) at the end
};

// x: [N, D] (N > 3 * perplexity recommended).
TsneResult Tsne(const at::Tensor& x, const TsneOptions& options);

// Fraction of points whose k nearest neighbours (in `emb`) mostly share
// their label: the mean over points of (same-label neighbours / k).
double NeighbourAgreement(const at::Tensor& emb, const at::Tensor& labels, int k);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_TSNE_H_
