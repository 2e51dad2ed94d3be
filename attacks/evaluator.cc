#include "attacks/evaluator.h"

#include <ATen/ATen.h>

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attacks/adv_losses.h"
#include "attacks/apgd.h"
#include "attacks/autoattack.h"
#include "attacks/fab.h"
#include "attacks/pgd.h"
#include "attacks/pgd_graphs.h"
#include "attacks/square.h"
#include "base/device.h"

namespace spat::attacks {
namespace {

absl::StatusOr<int> StepsSuffix(const std::string& name, const std::string& prefix,
                                int fallback) {
  const std::string rest = name.substr(prefix.size());
  if (rest.empty()) {
    if (fallback > 0) return fallback;
    return absl::InvalidArgumentError(
        absl::StrCat("attack '", name, "' needs a step count, e.g. ", prefix, "20"));
  }
  int k = 0;
  if (!absl::SimpleAtoi(rest, &k) || k < 1 || k > 100000) {
    return absl::InvalidArgumentError(
        absl::StrCat("attack '", name, "': '", rest, "' is not a step count in 1..100000"));
  }
  return k;
}

}  // namespace

absl::StatusOr<AttackSpec> ParseAttack(const std::string& name) {
  AttackSpec s;
  s.name = name;
  std::string base = name;
  if (absl::StartsWith(base, "transfer_")) {
    s.transfer = true;
    base = base.substr(9);
  }
  if (!s.transfer && base == "clean") return s;
  s.kind = AttackKind::kPgd;
  if (base == "fgsm") {
    s.steps = 1;
    s.fgsm = true;
    s.random_start = false;
    return s;
  }
  if (absl::StartsWith(base, "pgd")) {
    absl::StatusOr<int> k = StepsSuffix(base, "pgd", 0);
    if (!k.ok()) return k.status();
    s.steps = *k;
    return s;
  }
  if (absl::StartsWith(base, "mim")) {
    absl::StatusOr<int> k = StepsSuffix(base, "mim", 20);
    if (!k.ok()) return k.status();
    s.steps = *k;
    s.momentum = 1.0;
    s.random_start = false;
    return s;
  }
  if (absl::StartsWith(base, "cw")) {
    absl::StatusOr<int> k = StepsSuffix(base, "cw", 20);
    if (!k.ok()) return k.status();
    s.steps = *k;
    s.loss = "cw";
    return s;
  }
  if (base == "apgd_ce") { s.kind = AttackKind::kApgdCe; return s; }
  if (base == "apgd_t") { s.kind = AttackKind::kApgdT; return s; }
  if (base == "fab") { s.kind = AttackKind::kFab; return s; }
  if (base == "square") { s.kind = AttackKind::kSquare; return s; }
  if (base == "aa") { s.kind = AttackKind::kAutoAttack; return s; }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown attack '", name,
      "'; known: clean, fgsm, pgdK, mimK, cw[K], apgd_ce, apgd_t, fab, square, aa, and "
      "transfer_<any of these but clean>"));
}

AttackOutcome RunAttack(const AttackSpec& spec, const ForwardFn& target,
                        const ForwardFn& source, const at::Tensor& x_any, const at::Tensor& y_any,
                        const EvaluatorOptions& o, std::ostream* log) {
  const at::Tensor x = x_any.cpu(), y = y_any.cpu();  // indexed on the host
  const c10::Device dev = o.device;
  const auto t0 = std::chrono::steady_clock::now();
  TORCH_CHECK(!spec.transfer || source, "transfer attack '", spec.name, "' needs a source model");
  const int64_t n = x.size(0);
  const double eps = o.epsilon;
  const double step = spec.fgsm ? eps : (o.step_size > 0 ? o.step_size : eps / 10);
  AttackOutcome out;
  at::Tensor pred_adv = at::empty({n}, at::kLong);
  at::Tensor pred_clean;
  {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> p;
    for (int64_t s = 0; s < n; s += o.batch_size) {
      p.push_back(
          target(ToDevice(x.narrow(0, s, std::min(o.batch_size, n - s)), dev)).argmax(1).cpu());
    }
    pred_clean = at::cat(p);
  }
  pred_adv.copy_(pred_clean);
  // Points the target already gets wrong need no attack. Transfer attacks are
  // crafted on the source model and scored on the target.
  at::Tensor attack_idx = pred_clean.eq(y).nonzero().squeeze(1);
  const ForwardFn& craft = spec.transfer ? source : target;

  switch (spec.kind) {
    case AttackKind::kClean:
      out.settings = "no attack";
      break;
    case AttackKind::kAutoAttack: {
      AutoAttackOptions ao;
      ao.epsilon = eps;
      ao.apgd_iters = o.apgd_iters;
      ao.fab_iters = o.fab_iters;
      ao.square_queries = o.square_queries;
      ao.batch_size = o.batch_size;
      ao.seed = o.seed;
      at::Tensor xs = ToDevice(x.index_select(0, attack_idx), dev);
      at::Tensor ys = ToDevice(y.index_select(0, attack_idx), dev);
      AutoAttackResult r = RunAutoAttack(craft, xs, ys, ao, log);
      at::NoGradGuard no_grad;
      for (int64_t s = 0; s < xs.size(0); s += o.batch_size) {
        const int64_t len = std::min(o.batch_size, xs.size(0) - s);
        pred_adv.index_copy_(0, attack_idx.narrow(0, s, len),
                             target(r.x_adv.narrow(0, s, len)).argmax(1).cpu());
      }
      const double scale = n > 0 ? static_cast<double>(xs.size(0)) / n : 0;
      if (!spec.transfer) {
        for (const auto& [c, acc] : r.after) out.components.emplace_back(c, acc * scale);
      }
      out.settings = absl::StrFormat(
          "AutoAttack standard: APGD-CE, APGD-T (9 targets), FAB-T (9 targets), Square; "
          "linf eps %g; %d APGD/FAB iterations, %d Square queries; seed %d%s",
          eps, o.apgd_iters, o.square_queries, o.seed,
          spec.transfer ? "; crafted on the source model" : "");
      break;
    }
    default: {
      at::Generator gen = at::detail::createCPUGenerator(o.seed);
      PgdGraphs graphs(o.cuda_graphs);
      for (int64_t s = 0; s < attack_idx.numel(); s += o.batch_size) {
        at::Tensor bi = attack_idx.narrow(0, s, std::min(o.batch_size, attack_idx.numel() - s));
        at::Tensor xb = ToDevice(x.index_select(0, bi), dev);
        at::Tensor yb = ToDevice(y.index_select(0, bi), dev);
        at::Tensor adv;
        if (spec.kind == AttackKind::kPgd) {
          PgdOptions po;
          po.epsilon = eps;
          po.step_size = step;
          po.num_steps = spec.steps;
          po.start = spec.random_start ? StartMode::kUniform : StartMode::kNone;
          po.momentum = spec.momentum;
          adv = graphs.Run(spec.name, craft, xb, yb,
                           [&spec](const at::Tensor& z, const at::Tensor& t) {
                             return spec.loss == "cw" ? CwMarginLoss(z, t)
                                                      : CrossEntropyPerExample(z, t);
                           },
                           po, gen);
        } else if (spec.kind == AttackKind::kApgdCe || spec.kind == AttackKind::kApgdT) {
          ApgdOptions ao;
          ao.epsilon = eps;
          ao.num_iters = o.apgd_iters;
          if (spec.kind == AttackKind::kApgdCe) {
            adv = Apgd(craft, xb, yb, ao, gen).x_adv;
          } else {
            ao.loss = ApgdLoss::kTargetedDlr;
            adv = xb.clone();
            at::Tensor logits, alive = at::ones({xb.size(0)}, xb.options().dtype(at::kBool));
            {
              at::NoGradGuard no_grad;
              logits = craft(xb);
            }
            at::Tensor order = std::get<1>(logits.sort(1, true));
            for (int k = 1; k < std::min<int64_t>(10, logits.size(1)); ++k) {
              at::Tensor live = alive.nonzero().squeeze(1);
              if (live.numel() == 0) break;
              ApgdResult r = Apgd(craft, xb.index_select(0, live), yb.index_select(0, live),
                                  ao, gen, order.select(1, k).index_select(0, live));
              at::Tensor hit = r.robust.logical_not();
              adv.index_copy_(0, live, at::where(hit.view({-1, 1, 1, 1}), r.x_adv,
                                                  adv.index_select(0, live)));
              alive.index_fill_(0, live.masked_select(hit), false);
            }
          }
        } else if (spec.kind == AttackKind::kFab) {
          FabOptions fo;
          fo.epsilon = eps;
          fo.num_iters = o.fab_iters;
          adv = xb.clone();
          at::Tensor logits;
          {
            at::NoGradGuard no_grad;
            logits = craft(xb);
          }
          at::Tensor order = std::get<1>(logits.sort(1, true));
          at::Tensor alive = at::ones({xb.size(0)}, xb.options().dtype(at::kBool));
          for (int k = 1; k < std::min<int64_t>(10, logits.size(1)); ++k) {
            at::Tensor live = alive.nonzero().squeeze(1);
            if (live.numel() == 0) break;
            FabResult r = FabTargeted(craft, xb.index_select(0, live), yb.index_select(0, live),
                                      order.select(1, k).index_select(0, live), fo);
            at::Tensor hit = r.robust.logical_not();
            adv.index_copy_(0, live, at::where(hit.view({-1, 1, 1, 1}), r.x_adv,
                                                adv.index_select(0, live)));
            alive.index_fill_(0, live.masked_select(hit), false);
          }
        } else {
          SquareOptions so;
          so.epsilon = eps;
          so.num_queries = o.square_queries;
          adv = SquareLinf(craft, xb, yb, so, gen).x_adv;
        }
        at::NoGradGuard no_grad;
        pred_adv.index_copy_(0, bi, target(adv).argmax(1).cpu());
      }
      if (spec.kind == AttackKind::kPgd) {
        out.settings = absl::StrFormat(
            "%s%s: %d step(s) of %g, linf eps %g, %s loss, %s%s", spec.transfer ? "transfer " : "",
            spec.fgsm ? "FGSM" : (spec.momentum > 0 ? "MIM" : "PGD"), spec.steps, step, eps,
            spec.loss == "cw" ? "C&W margin" : "CE",
            spec.random_start ? "random start" : "no random start",
            spec.momentum > 0 ? ", momentum 1.0" : "");
      } else if (spec.kind == AttackKind::kSquare) {
        out.settings = absl::StrFormat("%sSquare linf eps %g, %d queries, p_init 0.8",
                                       spec.transfer ? "transfer " : "", eps, o.square_queries);
      } else {
        out.settings = absl::StrFormat("%s (%s) linf eps %g, %d iterations%s", spec.name,
                                       spec.transfer ? "crafted on the source" : "white-box", eps,
                                       spec.kind == AttackKind::kFab ? o.fab_iters : o.apgd_iters,
                                       spec.kind == AttackKind::kApgdCe ? "" : ", 9 targets");
      }
      break;
    }
  }
  out.accuracy = 100.0 * pred_adv.eq(y).sum().item<int64_t>() / std::max<int64_t>(n, 1);
  out.confusion = at::zeros({o.num_classes * o.num_classes}, at::kLong)
                      .index_add_(0, y * o.num_classes + pred_adv, at::ones({n}, at::kLong))
                      .view({o.num_classes, o.num_classes});
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace spat::attacks
