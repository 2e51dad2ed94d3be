#include "attacks/evaluator.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

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
#include "attacks/targeted.h"
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

// The PGD-family names that end in a step count: pgdK (no default), mimK and
// cwK (20 by default).
struct CountedName {
  const char* prefix;
  int fallback;
};
constexpr CountedName kCounted[] = {{"pgd", 0}, {"mim", 20}, {"cw", 20}};

AttackSpec PgdFamily(const std::string& prefix, int steps) {
  AttackSpec s;
  s.kind = AttackKind::kPgd;
  s.steps = steps;
  if (prefix == "mim") {
    s.momentum = 1.0;
    s.random_start = false;
  } else if (prefix == "cw") {
    s.loss = "cw";
  }
  return s;
}

}  // namespace

const std::vector<AttackInfo>& KnownAttacks() {
  // name, kind, default count, step size, random start, loss, l2
  static const auto* v = new std::vector<AttackInfo>{
      {"clean", AttackKind::kClean, 0, false, false, false, false},
      {"fgsm", AttackKind::kPgd, 0, false, false, false, false},
      {"pgd", AttackKind::kPgd, 20, true, true, true, true},
      {"mim", AttackKind::kPgd, 20, true, true, true, true},
      {"cw", AttackKind::kPgd, 20, true, true, false, true},
      {"apgd_ce", AttackKind::kApgdCe, 100, false, false, false, false},
      {"apgd_t", AttackKind::kApgdT, 100, false, false, false, false},
      {"fab", AttackKind::kFab, 100, false, false, false, false},
      {"square", AttackKind::kSquare, 5000, false, false, false, false},
      {"aa", AttackKind::kAutoAttack, 100, false, false, false, false},
  };
  return *v;
}

const AttackInfo* FindAttack(const std::string& base_name) {
  const std::string name = base_name == "autoattack" ? "aa" : base_name;
  for (const AttackInfo& a : KnownAttacks()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

const std::vector<std::string>& KnownPgdLosses() {
  static const auto* v = new std::vector<std::string>{"ce", "cw", "dlr"};
  return *v;
}

absl::StatusOr<AttackSpec> ParseAttack(const std::string& name) {
  std::string base = name;
  const bool transfer = absl::StartsWith(base, "transfer_");
  if (transfer) base = base.substr(9);
  AttackSpec s;
  if (base == "fgsm") {
    s = PgdFamily("pgd", 1);
    s.fgsm = true;
    s.random_start = false;
  } else if (const AttackInfo* info = FindAttack(base);
             info != nullptr && info->kind != AttackKind::kPgd) {
    if (transfer && info->kind == AttackKind::kClean) {
      return absl::InvalidArgumentError("'transfer_clean' is not an attack");
    }
    s.kind = info->kind;
  } else {
    bool matched = false;
    for (const CountedName& c : kCounted) {
      if (!absl::StartsWith(base, c.prefix)) continue;
      absl::StatusOr<int> k = StepsSuffix(base, c.prefix, c.fallback);
      if (!k.ok()) return k.status();
      s = PgdFamily(c.prefix, *k);
      matched = true;
      break;
    }
    if (!matched) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown attack '", name,
          "'; known: clean, fgsm, pgdK, mimK, cw[K], apgd_ce, apgd_t, fab, square, aa, and "
          "transfer_<any of these but clean>"));
    }
  }
  s.name = name;
  s.transfer = transfer;
  return s;
}

namespace {

// The target's predictions on x (on the host), batch by batch.
at::Tensor Predict(const ForwardFn& target, const at::Tensor& x, int64_t batch,
                   c10::Device dev) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> p;
  for (int64_t s = 0; s < x.size(0); s += batch) {
    p.push_back(target(ToDevice(x.narrow(0, s, std::min(batch, x.size(0) - s)), dev))
                    .argmax(1)
                    .cpu());
  }
  return p.empty() ? at::empty({0}, at::kLong) : at::cat(p);
}

double StepOf(const AttackSpec& spec, const EvaluatorOptions& o) {
  if (spec.fgsm) return o.epsilon;
  return o.step_size > 0 ? o.step_size : o.epsilon / 10;
}

}  // namespace

std::string DescribeAttack(const AttackSpec& spec, const EvaluatorOptions& o) {
  const double eps = o.epsilon;
  const char* via = spec.transfer ? "transfer " : "";
  switch (spec.kind) {
    case AttackKind::kClean:
      return "no attack";
    case AttackKind::kAutoAttack:
      return absl::StrFormat(
          "AutoAttack standard: APGD-CE, APGD-T (9 targets), FAB-T (9 targets), Square; "
          "linf eps %g; %d APGD/FAB iterations, %d Square queries; seed %d%s",
          eps, o.apgd_iters, o.square_queries, o.seed,
          spec.transfer ? "; crafted on the source model" : "");
    case AttackKind::kPgd:
      return absl::StrFormat(
          "%s%s: %d step(s) of %g, %s eps %g, %s loss, %s%s", via,
          spec.fgsm ? "FGSM" : (spec.momentum > 0 ? "MIM" : "PGD"), spec.steps,
          StepOf(spec, o), spec.norm == Norm::kL2 ? "l2" : "linf", eps,
          spec.loss == "cw" ? "C&W margin" : spec.loss == "dlr" ? "DLR" : "CE",
          spec.random_start ? "random start" : "no random start",
          spec.momentum > 0 ? ", momentum 1.0" : "");
    case AttackKind::kSquare:
      return absl::StrFormat("%sSquare linf eps %g, %d queries, p_init 0.8", via, eps,
                             o.square_queries);
    default:
      return absl::StrFormat("%s (%s) linf eps %g, %d iterations%s", spec.name,
                             spec.transfer ? "crafted on the source" : "white-box", eps,
                             spec.kind == AttackKind::kFab ? o.fab_iters : o.apgd_iters,
                             spec.kind == AttackKind::kApgdCe ? "" : ", 9 targets");
  }
}

namespace {

// The attack of a non-AutoAttack spec on one batch (on the device).
class BatchAttacker {
 public:
  BatchAttacker(const AttackSpec& spec, const ForwardFn& craft, const EvaluatorOptions& o)
      : spec_(spec), craft_(craft), o_(o), gen_(at::detail::createCPUGenerator(o.seed)),
        graphs_(o.cuda_graphs) {}

  at::Tensor Run(const at::Tensor& xb, const at::Tensor& yb) {
    switch (spec_.kind) {
      case AttackKind::kPgd: return PgdBatch(xb, yb);
      case AttackKind::kApgdCe: return Apgd(craft_, xb, yb, ApgdOpts(ApgdLoss::kCe), gen_).x_adv;
      case AttackKind::kSquare: {
        SquareOptions so;
        so.epsilon = o_.epsilon;
        so.num_queries = o_.square_queries;
        return SquareLinf(craft_, xb, yb, so, gen_).x_adv;
      }
      default: return Targeted(xb, yb);
    }
  }

 private:
  at::Tensor PgdBatch(const at::Tensor& xb, const at::Tensor& yb) {
    PgdOptions po;
    po.epsilon = o_.epsilon;
    po.step_size = StepOf(spec_, o_);
    po.num_steps = spec_.steps;
    po.norm = spec_.norm;
    po.start = spec_.random_start ? StartMode::kUniform : StartMode::kNone;
    po.momentum = spec_.momentum;
    const std::string& loss = spec_.loss;
    return graphs_.Run(spec_.name, craft_, xb, yb,
                       [&loss](const at::Tensor& z, const at::Tensor& t) {
                         if (loss == "cw") return CwMarginLoss(z, t);
                         if (loss == "dlr") return DlrLoss(z, t);
                         return CrossEntropyPerExample(z, t);
                       },
                       po, gen_);
  }

  ApgdOptions ApgdOpts(ApgdLoss loss) const {
    ApgdOptions ao;
    ao.epsilon = o_.epsilon;
    ao.num_iters = o_.apgd_iters;
    ao.loss = loss;
    return ao;
  }

  // APGD-T or FAB-T: one restart per target class (9 at most).
  at::Tensor Targeted(const at::Tensor& xb, const at::Tensor& yb) {
    BatchAttackFn attack;
    if (spec_.kind == AttackKind::kApgdT) {
      attack = [this](const at::Tensor& x, const at::Tensor& y, const at::Tensor& t) {
        ApgdResult r = Apgd(craft_, x, y, ApgdOpts(ApgdLoss::kTargetedDlr), gen_, t);
        return BatchAttackResult{r.x_adv, r.robust};
      };
    } else {
      attack = [this](const at::Tensor& x, const at::Tensor& y, const at::Tensor& t) {
        FabOptions fo;
        fo.epsilon = o_.epsilon;
        fo.num_iters = o_.fab_iters;
        FabResult r = FabTargeted(craft_, x, y, t, fo);
        return BatchAttackResult{r.x_adv, r.robust};
      };
    }
    at::Tensor logits;
    {
      at::NoGradGuard no_grad;
      logits = craft_(xb);
    }
    at::Tensor robust = at::ones({xb.size(0)}, xb.options().dtype(at::kBool));
    at::Tensor adv = xb.clone();
    TargetedRestarts(craft_, xb, yb, logits, 9, xb.size(0), attack, &robust, &adv);
    return adv;
  }

  const AttackSpec& spec_;
  const ForwardFn& craft_;
  const EvaluatorOptions& o_;
  at::Generator gen_;
  PgdGraphs graphs_;
};

// AutoAttack on the points in attack_idx; their predictions go to *pred_adv.
void RunAutoAttackOn(const AttackSpec& spec, const ForwardFn& target, const ForwardFn& craft,
                     const at::Tensor& x, const at::Tensor& y, const at::Tensor& attack_idx,
                     const EvaluatorOptions& o, std::ostream* log, at::Tensor* pred_adv,
                     AttackOutcome* out) {
  AutoAttackOptions ao;
  ao.epsilon = o.epsilon;
  ao.apgd_iters = o.apgd_iters;
  ao.fab_iters = o.fab_iters;
  ao.square_queries = o.square_queries;
  ao.batch_size = o.batch_size;
  ao.seed = o.seed;
  ao.resume_file = o.autoattack_resume_file;
  at::Tensor xs = ToDevice(x.index_select(0, attack_idx), o.device);
  at::Tensor ys = ToDevice(y.index_select(0, attack_idx), o.device);
  AutoAttackResult r = RunAutoAttack(craft, xs, ys, ao, log);
  out->seconds = r.resumed_seconds;  // time spent before an interruption
  at::NoGradGuard no_grad;
  for (int64_t s = 0; s < xs.size(0); s += o.batch_size) {
    const int64_t len = std::min(o.batch_size, xs.size(0) - s);
    pred_adv->index_copy_(0, attack_idx.narrow(0, s, len),
                          target(r.x_adv.narrow(0, s, len)).argmax(1).cpu());
  }
  const int64_t n = x.size(0);
  const double scale = n > 0 ? static_cast<double>(xs.size(0)) / n : 0;
  if (!spec.transfer) {
    for (const auto& [c, acc] : r.after) out->components.emplace_back(c, acc * scale);
  }
}

}  // namespace

AttackOutcome RunAttack(const AttackSpec& spec, const ForwardFn& target,
                        const ForwardFn& source, const at::Tensor& x_any, const at::Tensor& y_any,
                        const EvaluatorOptions& o, std::ostream* log) {
  const at::Tensor x = x_any.cpu(), y = y_any.cpu();  // indexed on the host
  const auto t0 = std::chrono::steady_clock::now();
  TORCH_CHECK(!spec.transfer || source, "transfer attack '", spec.name, "' needs a source model");
  const int64_t n = x.size(0);
  AttackOutcome out;
  const at::Tensor pred_clean = Predict(target, x, o.batch_size, o.device);
  at::Tensor pred_adv = pred_clean.clone();
  // Points the target already gets wrong need no attack. Transfer attacks are
  // crafted on the source model and scored on the target.
  const at::Tensor attack_idx = pred_clean.eq(y).nonzero().squeeze(1);
  const ForwardFn& craft = spec.transfer ? source : target;
  if (spec.kind == AttackKind::kAutoAttack) {
    RunAutoAttackOn(spec, target, craft, x, y, attack_idx, o, log, &pred_adv, &out);
  } else if (spec.kind != AttackKind::kClean) {
    BatchAttacker attacker(spec, craft, o);
    for (int64_t s = 0; s < attack_idx.numel(); s += o.batch_size) {
      at::Tensor bi = attack_idx.narrow(0, s, std::min(o.batch_size, attack_idx.numel() - s));
      at::Tensor adv = attacker.Run(ToDevice(x.index_select(0, bi), o.device),
                                    ToDevice(y.index_select(0, bi), o.device));
      at::NoGradGuard no_grad;
      pred_adv.index_copy_(0, bi, target(adv).argmax(1).cpu());
    }
  }
  out.settings = DescribeAttack(spec, o);
  out.clean_accuracy = 100.0 * attack_idx.numel() / std::max<int64_t>(n, 1);
  out.accuracy = 100.0 * pred_adv.eq(y).sum().item<int64_t>() / std::max<int64_t>(n, 1);
  out.confusion = at::zeros({o.num_classes * o.num_classes}, at::kLong)
                      .index_add_(0, y * o.num_classes + pred_adv, at::ones({n}, at::kLong))
                      .view({o.num_classes, o.num_classes});
  out.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace spat::attacks
