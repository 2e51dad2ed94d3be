#include "benchmarks/tsne.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <cmath>

namespace spat::benchmarks {
namespace {

at::Tensor SquaredDistances(const at::Tensor& x) {
  at::Tensor sq = x.square().sum(1, /*keepdim=*/true);
  return (sq + sq.t() - 2 * at::matmul(x, x.t())).clamp_min(0.0);
}

}  // namespace

TsneResult Tsne(const at::Tensor& x_in, const TsneOptions& o) {
  TORCH_CHECK(x_in.dim() == 2 && x_in.size(0) >= 4, "t-SNE needs [N >= 4, D], got ", x_in.sizes());
  TORCH_CHECK(o.perplexity > 1 && o.perplexity < x_in.size(0), "perplexity must be in (1, N)");
  at::NoGradGuard no_grad;
  const at::Tensor x = x_in.to(at::kDouble);
  const int64_t n = x.size(0);
  const at::Tensor off_diag = 1.0 - at::eye(n, x.options());
  at::Tensor d2 = SquaredDistances(x);
  // Scale-free bisection on log(beta), all rows at once.
  const double target = std::log(o.perplexity);
  at::Tensor lo = at::full({n, 1}, -50.0, x.options());
  at::Tensor hi = at::full({n, 1}, 50.0, x.options());
  at::Tensor d2n = d2 / d2.masked_select(off_diag.to(at::kBool)).mean();
  at::Tensor p_cond, entropy;
  for (int it = 0; it < 64; ++it) {
    at::Tensor beta = ((lo + hi) / 2).exp();
    at::Tensor logits = -d2n * beta;
    logits = logits.masked_fill(off_diag.eq(0), -INFINITY);
    at::Tensor logp = at::log_softmax(logits, 1);
    p_cond = logp.exp();
    entropy = -(p_cond * logp.masked_fill(off_diag.eq(0), 0.0)).sum(1, true);
    // Entropy falls as beta rises: too high -> raise beta.
    at::Tensor too_high = entropy > target;
    lo = at::where(too_high, (lo + hi) / 2, lo);
    hi = at::where(too_high, hi, (lo + hi) / 2);
  }
  at::Tensor p = ((p_cond + p_cond.t()) / (2.0 * n)).clamp_min(1e-12) * off_diag;

  at::Generator gen = at::detail::createCPUGenerator(o.seed);
  at::Tensor y = at::randn({n, 2}, gen, x.options()) * 1e-4;
  at::Tensor update = at::zeros_like(y);
  at::Tensor gains = at::ones_like(y);
  at::Tensor q;
  for (int it = 0; it < o.iterations; ++it) {
    const double exag = it < o.exaggeration_iters ? o.exaggeration : 1.0;
    const double momentum = it < o.exaggeration_iters ? 0.5 : 0.8;
    at::Tensor num = (1.0 / (1.0 + SquaredDistances(y))) * off_diag;
    q = (num / num.sum()).clamp_min(1e-12);
    at::Tensor pq = (exag * p - q) * num;
    at::Tensor grad = 4.0 * (at::diag(pq.sum(1)) - pq).matmul(y);
    at::Tensor same_sign = (grad > 0) == (update > 0);
    gains = at::where(same_sign, gains * 0.8, gains + 0.2).clamp_min(0.01);
    update = momentum * update - o.learning_rate * gains * grad;
    y = y + update;
    y = y - y.mean(0, true);
  }
  TsneResult r;
  r.embedding = y;
  r.row_entropy = entropy.squeeze(1);
  r.kl = (p * (p.clamp_min(1e-12).log() - q.log())).sum().item<double>();  // p_ii = 0
  return r;
}

double NeighbourAgreement(const at::Tensor& emb, const at::Tensor& labels, int k) {
  at::NoGradGuard no_grad;
  const int64_t n = emb.size(0);
  at::Tensor d = SquaredDistances(emb.to(at::kDouble)) + at::eye(n, emb.options().dtype(at::kDouble)) * 1e30;
  at::Tensor nn = std::get<1>(d.topk(k, 1, /*largest=*/false));
  at::Tensor same = labels.index({nn}).eq(labels.unsqueeze(1)).to(at::kDouble);
  return same.mean().item<double>();
}

}  // namespace spat::benchmarks
