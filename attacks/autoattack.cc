#include "attacks/autoattack.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_format.h"
#include "attacks/apgd.h"
#include "attacks/fab.h"
#include "attacks/square.h"
#include "attacks/targeted.h"

namespace spat::attacks {
namespace {

// Component `name` on one batch (target: its target class for the targeted
// components).
BatchAttackFn Component(const std::string& name, const ForwardFn& forward,
                        const AutoAttackOptions& o, at::Generator gen) {
  return [name, &forward, &o, gen](const at::Tensor& xb, const at::Tensor& yb,
                                   const at::Tensor& target) -> BatchAttackResult {
    if (name == "apgd_ce" || name == "apgd_t") {
      ApgdOptions ao;
      ao.epsilon = o.epsilon;
      ao.num_iters = o.apgd_iters;
      ao.loss = name == "apgd_ce" ? ApgdLoss::kCe : ApgdLoss::kTargetedDlr;
      ApgdResult r = Apgd(forward, xb, yb, ao, gen, target);
      return {r.x_adv, r.robust};
    }
    if (name == "fab_t") {
      FabOptions fo;
      fo.epsilon = o.epsilon;
      fo.num_iters = o.fab_iters;
      FabResult r = FabTargeted(forward, xb, yb, target, fo);
      return {r.x_adv, r.robust};
    }
    SquareOptions so;
    so.epsilon = o.epsilon;
    so.num_queries = o.square_queries;
    SquareResult r = SquareLinf(forward, xb, yb, so, gen);
    return {r.x_adv, r.robust};
  };
}

}  // namespace

const std::vector<std::string>& AutoAttackComponents() {
  static const auto* v = new std::vector<std::string>{"apgd_ce", "apgd_t", "fab_t", "square"};
  return *v;
}

AutoAttackResult RunAutoAttack(const ForwardFn& forward, const at::Tensor& x,
                               const at::Tensor& y, const AutoAttackOptions& o,
                               std::ostream* log) {
  const int64_t n = x.size(0);
  at::Tensor logits;
  {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> parts;
    for (int64_t s = 0; s < n; s += o.batch_size) {
      parts.push_back(forward(x.narrow(0, s, std::min(o.batch_size, n - s))));
    }
    logits = at::cat(parts);
  }
  AutoAttackResult r;
  r.robust = logits.argmax(1).eq(y);
  r.x_adv = x.clone();
  const std::vector<std::string>& order =
      o.components.empty() ? AutoAttackComponents() : o.components;
  for (const std::string& name : AutoAttackComponents()) {
    if (std::find(order.begin(), order.end(), name) == order.end()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    at::Generator gen = at::detail::createCPUGenerator(o.seed);  // reseed per attack
    const BatchAttackFn attack = Component(name, forward, o, gen);
    if (name == "apgd_t" || name == "fab_t") {
      TargetedRestarts(forward, x, y, logits, o.num_targets, o.batch_size, attack, &r.robust,
                       &r.x_adv);
    } else {
      AttackRobustPoints(forward, x, y, logits, 0, o.batch_size, attack, &r.robust, &r.x_adv);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double acc = 100.0 * r.robust.sum().item<int64_t>() / std::max<int64_t>(n, 1);
    r.after.emplace_back(name, acc);
    r.seconds[name] = secs;
    if (log) {
      *log << absl::StrFormat("  autoattack %-8s %d of the %d points passed in still robust (%.2f%%)  (%.1f s)\n",
                              name, r.robust.sum().item<int64_t>(), n, acc, secs)
           << std::flush;
    }
  }
  return r;
}

}  // namespace spat::attacks
