#include "attacks/apgd.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>

#include "attacks/adv_losses.h"
#include "base/device.h"

namespace spat::attacks {
namespace {

std::vector<int64_t> BroadcastShape(const at::Tensor& x) {
  std::vector<int64_t> s(x.dim(), 1);
  s[0] = x.size(0);
  return s;
}

at::Tensor PerExampleNorm(const at::Tensor& t, double p) {
  return t.flatten(1).norm(p, 1).clamp_min(1e-12).view(BroadcastShape(t));
}

}  // namespace

at::Tensor TargetedDlrLoss(const at::Tensor& logits, const at::Tensor& y,
                           const at::Tensor& target) {
  TORCH_CHECK(logits.dim() == 2 && logits.size(1) >= 4,
              "targeted DLR needs logits [B, C >= 4], got ", logits.sizes());
  at::Tensor sorted = std::get<0>(logits.sort(1, /*descending=*/true));
  at::Tensor zy = logits.gather(1, y.unsqueeze(1)).squeeze(1);
  at::Tensor zt = logits.gather(1, target.unsqueeze(1)).squeeze(1);
  at::Tensor denom = sorted.select(1, 0) - 0.5 * (sorted.select(1, 2) + sorted.select(1, 3)) + 1e-12;
  return -(zy - zt) / denom;
}

std::vector<int> ApgdCheckpoints(int n) {
  const int p = std::max(static_cast<int>(0.22 * n), 1);
  const int decr = std::max(static_cast<int>(0.03 * n), 1);
  const int min_len = std::max(static_cast<int>(0.06 * n), 1);
  std::vector<int> out;
  int k = p, at = 0;
  while (at + k <= n) {
    at += k;
    out.push_back(at - 1);
    k = std::max(k - decr, min_len);
  }
  return out;
}

namespace {

// The reference's random start: a random direction scaled to the ball's
// boundary (l-inf: by its largest coordinate), clipped to [0, 1].
at::Tensor ApgdStart(const at::Tensor& x0, double eps, Norm norm, at::Generator gen) {
  at::NoGradGuard no_grad;
  at::Tensor x_adv;
  if (norm == Norm::kLinf) {
    at::Tensor t = at::rand(x0.sizes(), gen, HostOptions(x0)).to(x0.device()) * 2 - 1;
    x_adv = x0 + eps * t / t.abs().flatten(1).amax(1).clamp_min(1e-12).view(BroadcastShape(x0));
  } else {
    at::Tensor t = at::randn(x0.sizes(), gen, HostOptions(x0)).to(x0.device());
    x_adv = x0 + eps * t / PerExampleNorm(t, 2);
  }
  return x_adv.clamp(0.0, 1.0);
}

// The step-size schedule's state between checkpoints.
struct StepSchedule {
  std::vector<at::Tensor> history;  // loss per iteration; index -1 reads as 0
  at::Tensor loss_best_last_check;
  at::Tensor reduced_last_check;
  std::vector<int> checkpoints;
  size_t next_check = 0;
};

// At a checkpoint (iteration i, k iterations since the last one): halve the
// step of the points whose loss oscillated (increased in at most rho·k of the
// iterations) or did not improve since the last check without a reduction
// then, and restart them from their best point and its gradient.
at::Tensor ReduceStep(StepSchedule& s, int i, int k, double rho, const at::Tensor& loss_best,
                      at::Tensor* step) {
  at::Tensor increases = at::zeros({loss_best.size(0)}, loss_best.options());
  for (int c = 0; c < k; ++c) {
    const int j = i - c;
    at::Tensor prev = j - 1 >= 0 ? s.history[j - 1] : at::zeros_like(loss_best);
    increases += (s.history[j] > prev).to(increases.dtype());
  }
  at::Tensor oscillating = increases <= k * rho;
  at::Tensor no_improvement =
      s.reduced_last_check.logical_not().logical_and(s.loss_best_last_check >= loss_best);
  at::Tensor reduce = oscillating.logical_or(no_improvement);
  s.reduced_last_check = reduce.clone();
  s.loss_best_last_check = loss_best.clone();
  *step = at::where(reduce.view(BroadcastShape(*step)), *step / 2, *step);
  return reduce;
}

}  // namespace

ApgdResult Apgd(const ForwardFn& forward, const at::Tensor& x, const at::Tensor& y,
                const ApgdOptions& o, at::Generator gen, const at::Tensor& target) {
  TORCH_CHECK(o.epsilon > 0 && o.num_iters > 0, "APGD needs epsilon > 0 and iterations > 0");
  TORCH_CHECK(o.loss != ApgdLoss::kTargetedDlr || target.defined(),
              "targeted APGD needs target classes");
  const double eps = o.epsilon;
  const at::Tensor x0 = x.detach();
  const int64_t b = x0.size(0);
  auto loss_fn = [&](const at::Tensor& z) {
    switch (o.loss) {
      case ApgdLoss::kCe: return CrossEntropyPerExample(z, y);
      case ApgdLoss::kDlr: return DlrLoss(z, y);
      case ApgdLoss::kTargetedDlr: return TargetedDlrLoss(z, y, target);
    }
    return CrossEntropyPerExample(z, y);
  };
  auto project = [&](const at::Tensor& v) { return Project(v, x0, eps, o.norm); };
  auto loss_and_grad = [&](const at::Tensor& xa, at::Tensor* loss, at::Tensor* pred_ok) {
    at::Tensor leaf = xa.detach().requires_grad_(true);
    at::AutoGradMode enable(true);
    at::Tensor z = forward(leaf);
    at::Tensor l = loss_fn(z);
    at::Tensor g = InputGradient(l.sum(), leaf);
    *loss = l.detach();
    *pred_ok = z.detach().argmax(1).eq(y);
    return g;
  };

  at::Tensor x_adv = ApgdStart(x0, eps, o.norm, gen);
  at::Tensor loss, ok;
  at::Tensor grad = loss_and_grad(x_adv, &loss, &ok);
  at::NoGradGuard no_grad;
  at::Tensor robust = ok.clone();
  at::Tensor x_best_adv = x_adv.clone();
  at::Tensor x_best = x_adv.clone();
  at::Tensor grad_best = grad.clone();
  at::Tensor loss_best = loss.clone();
  at::Tensor step = at::full(BroadcastShape(x0), 2.0 * eps, x0.options());
  at::Tensor x_prev = x_adv.clone();

  // Loss history for the oscillation test; index -1 reads as 0 (as in the
  // reference, whose history starts zeroed).
  StepSchedule sched;
  sched.loss_best_last_check = loss_best.clone();
  sched.reduced_last_check = at::ones({b}, x0.options().dtype(at::kBool));
  sched.checkpoints = ApgdCheckpoints(o.num_iters);
  const auto bshape = BroadcastShape(x0);

  for (int i = 0; i < o.num_iters; ++i) {
    at::Tensor momentum_term = x_adv - x_prev;
    x_prev = x_adv.clone();
    const double a = i > 0 ? 0.75 : 1.0;
    at::Tensor dir = o.norm == Norm::kLinf ? grad.sign() : grad / PerExampleNorm(grad, 2);
    at::Tensor z = project(x_adv + step * dir);
    x_adv = project(x_adv + (z - x_adv) * a + momentum_term * (1 - a));

    grad = loss_and_grad(x_adv, &loss, &ok);
    at::Tensor broken_now = ok.logical_not();
    x_best_adv = at::where(broken_now.view(BroadcastShape(x0)), x_adv, x_best_adv);
    robust = robust.logical_and(ok);

    sched.history.push_back(loss);
    at::Tensor improved = loss > loss_best;
    x_best = at::where(improved.view(bshape), x_adv, x_best);
    grad_best = at::where(improved.view(bshape), grad, grad_best);
    loss_best = at::where(improved, loss, loss_best);

    const std::vector<int>& cps = sched.checkpoints;
    if (sched.next_check < cps.size() && i == cps[sched.next_check]) {
      const int k = cps[sched.next_check] - (sched.next_check == 0 ? -1 : cps[sched.next_check - 1]);
      ++sched.next_check;
      at::Tensor reduce = ReduceStep(sched, i, k, o.rho, loss_best, &step);
      x_adv = at::where(reduce.view(bshape), x_best, x_adv);
      grad = at::where(reduce.view(bshape), grad_best, grad);
    }
  }
  return {at::where(robust.view(BroadcastShape(x0)), x_best, x_best_adv), robust};
}

}  // namespace spat::attacks
