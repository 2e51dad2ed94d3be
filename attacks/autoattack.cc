#include "attacks/autoattack.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_format.h"
#include "attacks/apgd.h"
#include "attacks/fab.h"
#include "attacks/square.h"

namespace spat::attacks {
namespace {

// The k-th most likely class on clean inputs (k = 1 is the prediction).
at::Tensor KthClass(const at::Tensor& logits, int k) {
  return std::get<1>(logits.sort(1, /*descending=*/true)).select(1, k - 1).contiguous();
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
  const int num_targets = std::min<int>(o.num_targets, static_cast<int>(logits.size(1)) - 1);
  for (const std::string& name : AutoAttackComponents()) {
    if (std::find(order.begin(), order.end(), name) == order.end()) continue;
    const auto t0 = std::chrono::steady_clock::now();
    at::Generator gen = at::detail::createCPUGenerator(o.seed);  // reseed per attack
    const int rounds = (name == "apgd_t" || name == "fab_t") ? num_targets : 1;
    for (int round = 0; round < rounds; ++round) {
      at::Tensor idx = r.robust.nonzero().squeeze(1);
      for (int64_t s = 0; s < idx.numel(); s += o.batch_size) {
        at::Tensor bi = idx.narrow(0, s, std::min(o.batch_size, idx.numel() - s));
        at::Tensor xb = x.index_select(0, bi), yb = y.index_select(0, bi);
        at::Tensor target = KthClass(logits.index_select(0, bi), round + 2);
        at::Tensor adv, still;
        if (name == "apgd_ce" || name == "apgd_t") {
          ApgdOptions ao;
          ao.epsilon = o.epsilon;
          ao.num_iters = o.apgd_iters;
          ao.loss = name == "apgd_ce" ? ApgdLoss::kCe : ApgdLoss::kTargetedDlr;
          ApgdResult ar = Apgd(forward, xb, yb, ao, gen, target);
          adv = ar.x_adv;
          still = ar.robust;
        } else if (name == "fab_t") {
          FabOptions fo;
          fo.epsilon = o.epsilon;
          fo.num_iters = o.fab_iters;
          FabResult fr = FabTargeted(forward, xb, yb, target, fo);
          adv = fr.x_adv;
          still = fr.robust;
        } else {
          SquareOptions so;
          so.epsilon = o.epsilon;
          so.num_queries = o.square_queries;
          SquareResult sr = SquareLinf(forward, xb, yb, so, gen);
          adv = sr.x_adv;
          still = sr.robust;
        }
        // Trust only what the model says about the returned point.
        at::NoGradGuard no_grad;
        at::Tensor fooled = forward(adv).argmax(1).ne(yb).logical_and(still.logical_not());
        at::Tensor hit = bi.masked_select(fooled);
        r.robust.index_fill_(0, hit, false);
        r.x_adv.index_copy_(0, hit, adv.index_select(0, fooled.nonzero().squeeze(1)));
      }
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
