#include "attacks/fab.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <limits>

namespace spat::attacks {

at::Tensor ProjectLinfHyperplaneBox(const at::Tensor& p, const at::Tensor& w,
                                    const at::Tensor& b) {
  TORCH_CHECK(p.dim() == 2 && p.sizes() == w.sizes() && b.dim() == 1 &&
                  b.size(0) == p.size(0),
              "p, w must be [B, N] and b [B]; got ", p.sizes(), ", ", w.sizes(), ", ",
              b.sizes());
  // Move along sign(w) (or -sign(w) if the plane lies below): coordinate i
  // moves by t·s_i until it hits the box at t_i; g(t) = Σ|w_i| min(t, t_i) is
  // piecewise linear and nondecreasing; find the smallest t with g(t) = c.
  at::Tensor c = b - (w * p).sum(1);                   // [B]
  at::Tensor flip = c < 0;
  at::Tensor ws = at::where(flip.unsqueeze(1), -w, w);
  at::Tensor cc = c.abs();
  at::Tensor dir = ws.sign();
  at::Tensor room = at::where(dir > 0, 1.0 - p, at::where(dir < 0, p, at::zeros_like(p)));
  at::Tensor aw = ws.abs();
  // Coordinates with w_i = 0 never help: park their breakpoint at +inf.
  at::Tensor t_i = at::where(aw > 0, room, at::full_like(room, std::numeric_limits<float>::infinity()));
  auto sorted = t_i.sort(1);
  at::Tensor ts = std::get<0>(sorted);
  at::Tensor ws_sorted = aw.gather(1, std::get<1>(sorted));
  // Saturated mass before breakpoint k and remaining slope from k on.
  at::Tensor sat = (ws_sorted * at::where(at::isinf(ts), at::zeros_like(ts), ts)).cumsum(1);
  at::Tensor sat_before = sat - ws_sorted * at::where(at::isinf(ts), at::zeros_like(ts), ts);
  at::Tensor slope_from = ws_sorted.flip(1).cumsum(1).flip(1);
  // g at breakpoint k: sat_before_k + t_k · slope_from_k.
  at::Tensor g_at = sat_before + at::where(at::isinf(ts), at::full_like(ts, std::numeric_limits<float>::infinity()), ts * slope_from);
  at::Tensor reach = g_at >= cc.unsqueeze(1);
  at::Tensor any = reach.any(1);
  at::Tensor k = reach.to(at::kByte).argmax(1);        // first breakpoint reaching c
  at::Tensor a_k = sat_before.gather(1, k.unsqueeze(1)).squeeze(1);
  at::Tensor r_k = slope_from.gather(1, k.unsqueeze(1)).squeeze(1).clamp_min(1e-30);
  at::Tensor t_star = at::where(any, (cc - a_k) / r_k, at::full_like(cc, 1e30));
  t_star = t_star.clamp_min(0.0);
  // dir already points along +w or -w, whichever reaches the plane.
  return dir * at::minimum(t_star.unsqueeze(1), room);
}

FabResult FabTargeted(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                      const at::Tensor& target, const FabOptions& o) {
  TORCH_CHECK(o.epsilon > 0 && o.num_iters > 0, "FAB needs epsilon > 0 and iterations > 0");
  const at::Tensor x0 = x.detach();
  const int64_t b = x0.size(0);
  std::vector<int64_t> bshape(x0.dim(), 1);
  bshape[0] = b;
  const at::Tensor flat0 = x0.flatten(1);

  // f = z_t - z_y and its input gradient.
  auto diff_and_grad = [&](const at::Tensor& xa, at::Tensor* f) {
    at::Tensor leaf = xa.detach().requires_grad_(true);
    at::AutoGradMode enable(true);
    at::Tensor z = forward(leaf);
    at::Tensor d = z.gather(1, target.unsqueeze(1)).squeeze(1) -
                   z.gather(1, y.unsqueeze(1)).squeeze(1);
    at::Tensor g = InputGradient(d.sum(), leaf);
    *f = d.detach();
    return g;
  };

  at::NoGradGuard no_grad;
  at::Tensor best = x0.clone();
  at::Tensor best_dist = at::full({b}, std::numeric_limits<float>::infinity(), x0.options());
  {
    at::Tensor already = forward(x0).argmax(1).ne(y);
    best_dist = at::where(already, at::zeros_like(best_dist), best_dist);
  }
  at::Tensor x1 = x0.clone();
  for (int it = 0; it < o.num_iters; ++it) {
    at::Tensor f;
    at::Tensor g = diff_and_grad(x1, &f).flatten(1);
    at::Tensor p1 = x1.flatten(1);
    // Hyperplane g·x' = g·x1 - f; project x1 and the original point onto it.
    at::Tensor bb = (g * p1).sum(1) - f;
    at::Tensor d1 = ProjectLinfHyperplaneBox(p1, g, bb);
    at::Tensor d2 = ProjectLinfHyperplaneBox(flat0, g, bb);
    at::Tensor a1 = d1.abs().amax(1).clamp_min(1e-8);
    at::Tensor a2 = d2.abs().amax(1).clamp_min(1e-8);
    at::Tensor alpha = (a1 / (a1 + a2)).clamp(0.0, o.alpha_max).unsqueeze(1);
    at::Tensor next = ((p1 + o.eta * d1) * (1 - alpha) + (flat0 + o.eta * d2) * alpha).clamp(0.0, 1.0);
    x1 = next.view(x0.sizes());
    at::Tensor is_adv = forward(x1).argmax(1).ne(y);
    at::Tensor dist = (x1 - x0).flatten(1).abs().amax(1);
    at::Tensor better = is_adv.logical_and(dist < best_dist);
    best = at::where(better.view(bshape), x1, best);
    best_dist = at::where(better, dist, best_dist);
    // Step back toward the original point from adversarial iterates.
    x1 = at::where(is_adv.view(bshape), x0 + (x1 - x0) * o.beta, x1);
  }
  at::Tensor robust = best_dist > o.epsilon;
  return {at::where(robust.view(bshape), x0, best), robust, best_dist};
}

}  // namespace spat::attacks
