#include "spat/method.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attacks/adv_losses.h"
#include "base/status_macros.h"
#include "models/checkpoint.h"
#include "spat/alp_loss.h"
#include "spat/divergences.h"
#include "spat/ema.h"
#include "spat/mart_loss.h"
#include "spat/reweighting.h"
#include "spat/trades_loss.h"

namespace spat {
namespace {

using attacks::CrossEntropyPerExample;
using attacks::PgdOptions;
using attacks::StartMode;
using models::Classifier;

// The CUDA graph of an inner attack: one per loss and model.
std::string GraphKey(const char* loss, const Classifier& model) {
  return absl::StrCat(loss, "@", reinterpret_cast<uintptr_t>(&model));
}

attacks::ForwardFn Forward(Classifier& model) {
  return [&model](const at::Tensor& x) { return model.forward(x); };
}

// The method's own start, unless the caller asked for none (o.start == kNone:
// a deterministic inner attack, e.g. train_attack.random_start = false); the
// radius and step scaled by the epsilon ramp.
PgdOptions WithStart(PgdOptions o, StartMode start, const MethodContext& ctx) {
  if (o.start != StartMode::kNone) o.start = start;
  o.start_std = 0.001;
  o.epsilon *= ctx.attack_scale;
  o.step_size *= ctx.attack_scale;
  return o;
}

// PGD on the cross-entropy, model in eval mode; returns x'.
// Through `graphs` (CUDA graphs on CUDA) when set and there is no observer.
at::Tensor PgdCe(Classifier& model, const at::Tensor& x, const at::Tensor& y,
                 const PgdOptions& o, at::Generator gen, attacks::PgdGraphs* graphs,
                 const attacks::StepObserver& observer = nullptr) {
  model.eval();
  at::Tensor adv =
      observer ? attacks::Pgd(
                     Forward(model), x,
                     [&y](const at::Tensor& z) { return CrossEntropyPerExample(z, y); }, o, gen,
                     observer)
               : attacks::RunPgd(graphs, GraphKey("ce", model),
                                 Forward(model), x, y, CrossEntropyPerExample, o, gen);
  model.train();
  return adv;
}

// PGD on a divergence from the (fixed) clean logits, model in eval mode.
at::Tensor PgdFromClean(
    Classifier& model, const at::Tensor& x, const PgdOptions& o, at::Generator gen,
    attacks::PgdGraphs* graphs, const char* div_name,
    const std::function<at::Tensor(const at::Tensor&, const at::Tensor&)>& div) {
  model.eval();
  at::Tensor nat;
  {
    at::NoGradGuard no_grad;
    nat = model.forward(x);
  }
  at::Tensor adv = attacks::RunPgd(
      graphs, GraphKey(div_name, model), Forward(model),
      x, nat, [&div](const at::Tensor& z, const at::Tensor& clean) { return div(clean, z); }, o,
      gen);
  model.train();
  return adv;
}

class Natural : public TrainingMethod {
 public:
  at::Tensor Loss(Classifier& model, const at::Tensor& x, const at::Tensor& y,
                  MethodContext&) override {
    model.train();
    return at::cross_entropy_loss(model.forward(x), y);
  }
};

class Madry : public TrainingMethod {
 public:
  explicit Madry(const MethodOptions& o) : o_(o) {}
  at::Tensor Loss(Classifier& model, const at::Tensor& x, const at::Tensor& y,
                  MethodContext& ctx) override {
    at::Tensor adv = PgdCe(model, x, y, WithStart(o_.attack, StartMode::kUniform, ctx), ctx.gen,
                           ctx.graphs);
    return at::cross_entropy_loss(model.forward(adv), y);
  }

 protected:
  MethodOptions o_;
};

// True if a forward pass treats every example on its own (no BatchNorm, whose
// training-mode statistics depend on the batch): then clean and adversarial
// inputs can share one forward pass of twice the batch, which is faster.
bool BatchIndependent(Classifier& model) {
  for (const auto& b : model.named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) return false;
  }
  return true;
}

// Features of x and of adv (z_nat, z_adv), in one pass where possible.
std::pair<at::Tensor, at::Tensor> FeaturePair(Classifier& model, const at::Tensor& x,
                                              const at::Tensor& adv) {
  if (!BatchIndependent(model)) return {model.Features(x), model.Features(adv)};
  at::Tensor z = model.Features(at::cat({x, adv}));
  return {z.narrow(0, 0, x.size(0)), z.narrow(0, x.size(0), adv.size(0))};
}

// TRADES, MART and ALP: an inner attack, then an outer loss on the clean and
// adversarial logits.
class PairMethod : public TrainingMethod {
 public:
  using PairLoss = at::Tensor (*)(const at::Tensor& nat, const at::Tensor& adv,
                                  const at::Tensor& y, double lambda);
  // kl_attack: TRADES' inner maximization of KL(clean || adv); otherwise CE.
  PairMethod(const MethodOptions& o, PairLoss loss, bool kl_attack, StartMode start)
      : o_(o), loss_(loss), kl_attack_(kl_attack), start_(start) {}
  at::Tensor Loss(Classifier& model, const at::Tensor& x, const at::Tensor& y,
                  MethodContext& ctx) override {
    const PgdOptions o = WithStart(o_.attack, start_, ctx);
    at::Tensor adv = kl_attack_ ? PgdFromClean(model, x, o, ctx.gen, ctx.graphs, "kl", KlPerExample)
                                : PgdCe(model, x, y, o, ctx.gen, ctx.graphs);
    auto [z_nat, z_adv] = FeaturePair(model, x, adv);
    return loss_(model.head().forward(z_nat), model.head().forward(z_adv), y, o_.lambda);
  }

 private:
  MethodOptions o_;
  PairLoss loss_;
  bool kl_attack_;
  StartMode start_;
};

class Reweighted : public TrainingMethod {
 public:
  Reweighted(const MethodOptions& o, bool gairat) : o_(o), gairat_(gairat) {}
  at::Tensor Loss(Classifier& model, const at::Tensor& x, const at::Tensor& y,
                  MethodContext& ctx) override {
    at::Tensor kappa = at::zeros({x.size(0)}, x.options());
    attacks::StepObserver count;
    if (gairat_) {
      count = [&](int, const at::Tensor& logits) {
        kappa.add_(logits.argmax(1).eq(y).to(kappa.dtype()));
      };
    }
    at::Tensor adv = PgdCe(model, x, y, WithStart(o_.attack, StartMode::kUniform, ctx),
                           ctx.gen, gairat_ ? nullptr : ctx.graphs, count);
    at::Tensor logits = model.forward(adv);
    at::Tensor ce = CrossEntropyPerExample(logits, y);
    if (ctx.epoch < o_.reweight_start * ctx.num_epochs) return ce.mean();
    at::Tensor w = gairat_ ? GairatWeights(kappa, o_.attack.num_steps, o_.gairat_lambda)
                           : MailWeights(logits.detach(), y, o_.mail_bias, o_.mail_slope);
    return (w * ce).mean();
  }

 private:
  MethodOptions o_;
  bool gairat_;
};

class Seat : public Madry {
 public:
  explicit Seat(const MethodOptions& o) : Madry(o) {}
  void AfterStep(Classifier& model, const MethodContext& ctx) override {
    if (!ema_) {
      ema_ = o_.make_model();
      models::StateDict live = models::GetStateDict(model);
      torch::NoGradGuard no_grad;
      auto own = models::GetStateDict(*ema_);
      for (size_t i = 0; i < own.size(); ++i) own[i].second.copy_(live[i].second);
      ema_->eval();
      return;
    }
    UpdateEma(*ema_, model, EmaDecay(ctx.global_step, o_.ema_decay));
  }
  Classifier& EvalModel(Classifier& model) override {
    return ema_ ? *ema_ : model;
  }
  models::StateDict SaveState() const override {
    models::StateDict out;
    if (ema_) {
      for (auto& [k, t] : models::GetStateDict(*ema_)) out.emplace_back("ema." + k, t);
    }
    return out;
  }
  absl::Status LoadState(const models::StateDict& state, const std::string& file) override {
    if (state.empty()) return absl::OkStatus();  // saved before the first step
    models::StateDict ema;
    for (const auto& [k, t] : state) {
      if (k.rfind("ema.", 0) != 0) {
        return absl::InvalidArgumentError(file + ": unexpected SEAT state '" + k + "'");
      }
      ema.emplace_back(k.substr(4), t);
    }
    ema_ = o_.make_model();
    SPAT_RETURN_IF_ERROR(models::ApplyStateDict(ema, *ema_, {}, file));
    ema_->eval();
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Classifier> ema_;
};

class Spat : public TrainingMethod {
 public:
  explicit Spat(const MethodOptions& o) : o_(o) {}
  at::Tensor Loss(Classifier& model, const at::Tensor& x, const at::Tensor& y,
                  MethodContext& ctx) override {
    const SpatLossOptions& so = o_.spat;
    PgdOptions start = WithStart(o_.attack, StartMode::kGaussian, ctx);
    at::Tensor adv;
    if (o_.spat_attack_loss == "ce") {
      adv = PgdCe(model, x, y, start, ctx.gen, ctx.graphs);
    } else if (o_.spat_attack_loss == "kl") {
      adv = PgdFromClean(model, x, start, ctx.gen, ctx.graphs, "kl", KlPerExample);
    } else {
      adv = PgdFromClean(model, x, start, ctx.gen, ctx.graphs, "spat",
                         [&so](const at::Tensor& nat, const at::Tensor& z) {
                           return SelfPacedRobustnessPerExample(nat, z, so);
                         });
    }
    auto [z, z_adv] = FeaturePair(model, x, adv);
    at::Tensor cos = model.head().Cosines(z);
    at::Tensor logits_nat = model.head().forward(z);
    return SpatLoss(logits_nat, cos, model.head().forward(z_adv), y, so);
  }

 private:
  MethodOptions o_;
};

}  // namespace

namespace {

using Factory = std::function<absl::StatusOr<std::unique_ptr<TrainingMethod>>(
    const MethodOptions&)>;

template <typename M, typename... Args>
Factory Make(Args... args) {
  return [=](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<TrainingMethod>> {
    if constexpr (std::is_constructible_v<M, const MethodOptions&, Args...>) {
      return std::unique_ptr<TrainingMethod>(new M(o, args...));
    } else {
      return std::unique_ptr<TrainingMethod>(new M());
    }
  };
}

struct Registered {
  MethodInfo info;
  Factory make;
};

// The one list of methods: name, the paper's name, default lambda, factory.
const std::vector<Registered>& Registry() {
  static const auto* v = new std::vector<Registered>{
      {{"natural", "Natural", 0.0}, Make<Natural>()},
      {{"madry", "Madry", 0.0}, Make<Madry>()},
      {{"trades", "TRADES", 6.0},
       Make<PairMethod>(TradesLoss, /*kl_attack=*/true, StartMode::kGaussian)},
      {{"mart", "MART", 5.0},
       Make<PairMethod>(MartLoss, /*kl_attack=*/false, StartMode::kGaussian)},
      {{"alp", "ALP", 0.5}, Make<PairMethod>(AlpLoss, /*kl_attack=*/false, StartMode::kUniform)},
      {{"gairat", "GAIRAT", 0.0}, Make<Reweighted>(/*gairat=*/true)},
      {{"mail_at", "MAIL-AT", 0.0}, Make<Reweighted>(/*gairat=*/false)},
      {{"seat", "SEAT", 0.0},
       [](const MethodOptions& o) -> absl::StatusOr<std::unique_ptr<TrainingMethod>> {
         if (!o.make_model) {
           return absl::InvalidArgumentError("seat needs make_model for its ensemble");
         }
         return std::unique_ptr<TrainingMethod>(new Seat(o));
       }},
      {{"spat", "SPAT", 6.0}, Make<Spat>()},
  };
  return *v;
}

const Registered* Find(const std::string& name) {
  for (const Registered& r : Registry()) {
    if (r.info.name == name) return &r;
  }
  return nullptr;
}

}  // namespace

const std::vector<MethodInfo>& KnownMethodInfos() {
  static const auto* v = [] {
    auto* out = new std::vector<MethodInfo>;
    for (const Registered& r : Registry()) out->push_back(r.info);
    return out;
  }();
  return *v;
}

const std::vector<std::string>& KnownSpatAttackLosses() {
  static const auto* v = new std::vector<std::string>{"rob_sp", "kl", "ce"};
  return *v;
}

const std::vector<std::string>& KnownMethods() {
  static const auto* v = [] {
    auto* out = new std::vector<std::string>;
    for (const Registered& r : Registry()) out->push_back(r.info.name);
    return out;
  }();
  return *v;
}

double DefaultLambda(const std::string& method) {
  const Registered* r = Find(method);
  return r != nullptr ? r->info.default_lambda : 0.0;
}

absl::StatusOr<std::unique_ptr<TrainingMethod>> MakeMethod(const MethodOptions& o) {
  const Registered* r = Find(o.name);
  if (r == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown method '", o.name, "'; known: ", absl::StrJoin(KnownMethods(), ", ")));
  }
  const auto& losses = KnownSpatAttackLosses();
  if (std::find(losses.begin(), losses.end(), o.spat_attack_loss) == losses.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown SPAT inner-maximization loss '", o.spat_attack_loss,
                     "'; known: ", absl::StrJoin(losses, ", ")));
  }
  return r->make(o);
}

}  // namespace spat
