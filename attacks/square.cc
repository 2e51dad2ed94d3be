#include "attacks/square.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>

#include "attacks/adv_losses.h"
#include "base/device.h"

namespace spat::attacks {

double SquareFraction(double p_init, int it) {
  static constexpr int kBounds[] = {10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000};
  double p = p_init;
  for (int bound : kBounds) {
    if (it > bound) p /= 2;
  }
  return p;
}

SquareResult SquareLinf(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                        const SquareOptions& o, at::Generator gen) {
  TORCH_CHECK(x.dim() == 4, "Square needs images [B, C, H, W], got ", x.sizes());
  TORCH_CHECK(o.epsilon > 0 && o.num_queries >= 1, "Square needs epsilon > 0, queries >= 1");
  at::NoGradGuard no_grad;
  const double eps = o.epsilon;
  const int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const int64_t n_features = c * h * w;
  auto sign = [&](at::IntArrayRef shape) {
    return at::randint(0, 2, shape, gen, HostOptions(x)).to(x.device()).mul_(2).sub_(1);
  };
  // Margin z_y - max_{k != y} z_k: <= 0 means misclassified.
  auto margin = [&](const at::Tensor& xa, const at::Tensor& ya) {
    return -CwMarginLoss(forward(xa), ya);
  };
  at::Tensor x_best = (x + eps * sign({b, c, 1, w})).clamp(0.0, 1.0);
  at::Tensor m_best = margin(x_best, y);
  at::Tensor queries = at::ones({b}, x.options().dtype(at::kLong));
  for (int it = 0; it < o.num_queries - 1; ++it) {
    at::Tensor active = (m_best > 0).nonzero().squeeze(1);
    if (active.numel() == 0) break;
    at::Tensor xc = x.index_select(0, active);
    at::Tensor xb = x_best.index_select(0, active);
    at::Tensor yc = y.index_select(0, active);
    const double p = SquareFraction(o.p_init, it);
    int64_t s = std::max<int64_t>(
        static_cast<int64_t>(std::lround(std::sqrt(p * n_features / c))), 1);
    s = std::min(s, std::min(h, w));
    // Top-left corner uniform in [0, H - s) as in the reference.
    const int64_t vh = at::randint(0, std::max<int64_t>(h - s, 1), {1}, gen, at::kLong).item<int64_t>();
    const int64_t vw = at::randint(0, std::max<int64_t>(w - s, 1), {1}, gen, at::kLong).item<int64_t>();
    at::Tensor delta = at::zeros({c, h, w}, x.options());
    delta.narrow(1, vh, s).narrow(2, vw, s).copy_(
        (2.0 * eps * sign({c, 1, 1})).expand({c, s, s}));
    at::Tensor xn = at::minimum(at::maximum(xb + delta, xc - eps), xc + eps).clamp(0.0, 1.0);
    at::Tensor m = margin(xn, yc);
    at::Tensor keep = m < m_best.index_select(0, active);
    x_best.index_copy_(0, active, at::where(keep.view({-1, 1, 1, 1}), xn, xb));
    m_best.index_copy_(0, active, at::where(keep, m, m_best.index_select(0, active)));
    queries.index_add_(0, active, at::ones({active.numel()}, queries.options()));
  }
  return {x_best, m_best > 0, queries};
}

}  // namespace spat::attacks
