#include "attacks/autoattack.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "attacks/apgd.h"
#include "attacks/fab.h"
#include "attacks/square.h"
#include "attacks/targeted.h"
#include "base/files.h"
#include "models/checkpoint.h"

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

// What a resume file must match: the points (in order), the labels, the
// model (through its logits on the points) and the options that change the
// result.
at::Tensor Fingerprint(const at::Tensor& x, const at::Tensor& y, const at::Tensor& logits,
                       const AutoAttackOptions& o) {
  const int64_t n = x.size(0);
  const at::Tensor w = at::arange(1, n + 1, at::TensorOptions().dtype(at::kDouble));
  const at::Tensor per_point = x.detach().cpu().to(at::kDouble).reshape({n, -1});
  const at::Tensor z = logits.detach().cpu().to(at::kDouble).reshape({n, -1});
  const std::vector<double> v = {
      static_cast<double>(n),
      (per_point.sum(1) * w).sum().item<double>(),
      per_point.square().sum().item<double>(),
      (y.cpu().to(at::kDouble) * w).sum().item<double>(),
      (z.sum(1) * w).sum().item<double>(),
      z.square().sum().item<double>(),
      o.epsilon,
      static_cast<double>(o.apgd_iters),
      static_cast<double>(o.fab_iters),
      static_cast<double>(o.square_queries),
      static_cast<double>(o.num_targets),
      static_cast<double>(o.seed)};
  return at::tensor(v, at::TensorOptions().dtype(at::kDouble));
}

int64_t ComponentIndex(const std::string& name) {
  const auto& all = AutoAttackComponents();
  return std::find(all.begin(), all.end(), name) - all.begin();
}

absl::Status SavePartial(const std::string& path, const at::Tensor& fingerprint,
                         const AutoAttackResult& r) {
  std::vector<int64_t> done;
  std::vector<double> after, seconds;
  for (const auto& [name, acc] : r.after) {
    done.push_back(ComponentIndex(name));
    after.push_back(acc);
    seconds.push_back(r.seconds.at(name));
  }
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  return models::SaveStateDict(
      {{"fingerprint", fingerprint},
       {"done", at::tensor(done, at::TensorOptions().dtype(at::kLong))},
       {"after", at::tensor(after, f64)},
       {"seconds", at::tensor(seconds, f64)},
       {"robust", r.robust},
       {"x_adv", r.x_adv}},
      path);
}

// Restores *r from a resume file of this run; false (with a line to `log`
// unless there is no file) where there is none to resume from.
bool LoadPartial(const std::string& path, const at::Tensor& fingerprint, AutoAttackResult* r,
                 std::ostream* log) {
  if (!PathExists(path)) return false;
  auto ignore = [&](const std::string& why) {
    if (log) *log << "  autoattack: ignoring " << path << ": " << why << "; starting over\n";
    return false;
  };
  absl::StatusOr<models::StateDict> state = models::LoadStateDict(path);
  if (!state.ok()) return ignore(std::string(state.status().message()));
  std::map<std::string, at::Tensor> t(state->begin(), state->end());
  for (const char* key : {"fingerprint", "done", "after", "seconds", "robust", "x_adv"}) {
    if (!t.count(key)) return ignore(absl::StrFormat("no '%s'", key));
  }
  if (!t["fingerprint"].sizes().equals(fingerprint.sizes()) ||
      !t["fingerprint"].equal(fingerprint)) {
    return ignore("saved for other points, labels, model or options");
  }
  const int64_t k = t["done"].numel();
  if (t["after"].numel() != k || t["seconds"].numel() != k ||
      !t["robust"].sizes().equals(r->robust.sizes()) ||
      !t["x_adv"].sizes().equals(r->x_adv.sizes())) {
    return ignore("inconsistent shapes");
  }
  const auto& all = AutoAttackComponents();
  for (int64_t i = 0; i < k; ++i) {
    const int64_t c = t["done"][i].item<int64_t>();
    if (c < 0 || c >= static_cast<int64_t>(all.size())) return ignore("unknown component");
    r->after.emplace_back(all[c], t["after"][i].item<double>());
    r->seconds[all[c]] = t["seconds"][i].item<double>();
    r->resumed_seconds += r->seconds[all[c]];
  }
  r->robust = t["robust"].to(r->robust.device(), r->robust.scalar_type());
  r->x_adv = t["x_adv"].to(r->x_adv.device(), r->x_adv.scalar_type());
  return true;
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
  at::Tensor fingerprint;
  if (!o.resume_file.empty()) {
    fingerprint = Fingerprint(x, y, logits, o);
    if (LoadPartial(o.resume_file, fingerprint, &r, log) && log) {
      for (const auto& [name, acc] : r.after) {
        *log << absl::StrFormat(
            "  autoattack %-8s resumed from %s (%.2f%% of the %d points passed in still robust)\n",
            name, o.resume_file, acc, n);
      }
    }
  }
  for (const std::string& name : AutoAttackComponents()) {
    if (std::find(order.begin(), order.end(), name) == order.end()) continue;
    if (r.seconds.count(name)) continue;  // finished before the run was interrupted
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
    if (!o.resume_file.empty()) {
      const absl::Status saved = SavePartial(o.resume_file, fingerprint, r);
      if (!saved.ok() && log) *log << "  autoattack: not resumable: " << saved << "\n";
    }
  }
  if (!o.resume_file.empty()) std::remove(o.resume_file.c_str());
  return r;
}

}  // namespace spat::attacks
