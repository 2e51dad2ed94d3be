#include "spat/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attacks/evaluator.h"
#include "base/cli.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "data/dataset.h"
#include "models/registry.h"
#include "spat/method.h"

namespace spat {
namespace {

class CollectErrors : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    errors_.push_back(absl::StrCat(line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::vector<std::string> errors_;
};

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

absl::Status CheckName(const std::string& field, const std::string& value,
                       const std::vector<std::string>& known) {
  if (Contains(known, value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, ": unknown value '", value, "'; allowed: ", absl::StrJoin(known, ", ")));
}

// lo <= v (strict: lo < v) and v <= hi, and finite.
absl::Status CheckRange(const std::string& field, double v, double lo,
                        bool strict, double hi = INFINITY) {
  if (!std::isfinite(v) || (strict ? !(v > lo) : !(v >= lo)) || !(v <= hi)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " = ", v, " is out of range; must be finite and ",
        strict ? "> " : ">= ", lo,
        std::isinf(hi) ? "" : absl::StrCat(" and <= ", hi)));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& KnownNorms() {
  static const auto* v = new std::vector<std::string>{"linf", "l2"};
  return *v;
}

absl::StatusOr<TrainConfig> ParseTrainConfig(const std::string& text,
                                             const std::string& name) {
  TrainConfig config;
  CollectErrors errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": cannot parse config: ", absl::StrJoin(errors.errors(), "; ")));
  }
  return config;
}

namespace {

// The head a run trains: model.head, or by default NCE for SPAT's NCE
// variants and linear otherwise.
ModelConfig::Head ResolvedHead(const TrainConfig& c) {
  if (c.model().head() != ModelConfig::HEAD_DEFAULT) return c.model().head();
  return c.method().name() == "spat" && c.method().use_nce() ? ModelConfig::NCE
                                                              : ModelConfig::LINEAR;
}

// A config enum's value from its name in lower case (e.g. one_cycle).
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(const std::string& name, bool (*parse)(const std::string&, Enum*),
                               const char* allowed) {
  Enum e;
  if (!parse(absl::AsciiStrToUpper(name), &e)) {
    return absl::InvalidArgumentError(absl::StrCat("must be ", allowed, ", got '", name, "'"));
  }
  return e;
}

}  // namespace

absl::StatusOr<OptimizerConfig::Schedule> ParseLrSchedule(const std::string& name) {
  return ParseEnum(name, &OptimizerConfig::Schedule_Parse, "step, cosine or one_cycle");
}

absl::StatusOr<ModelConfig::Init> ParseInit(const std::string& name) {
  return ParseEnum(name, &ModelConfig::Init_Parse, "reference or torch_default");
}

absl::StatusOr<ModelConfig::PrototypeInit> ParsePrototypeInit(const std::string& name) {
  return ParseEnum(name, &ModelConfig::PrototypeInit_Parse, "nn_linear or normal_0_01");
}

absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("cannot open config ", path));
  }
  return ParseTrainConfig(*text, path);
}

namespace {

// What every attack reads: the radius, and the size of a step and a count
// where the attack has them.
absl::Status CheckRadiusAndSteps(const AttackConfig& a, const std::string& prefix) {
  SPAT_RETURN_IF_ERROR(CheckName(prefix + ".norm", a.norm(), KnownNorms()));
  const double eps_max = a.norm() == "linf" ? 1.0 : INFINITY;
  SPAT_RETURN_IF_ERROR(
      CheckRange(prefix + ".epsilon", a.epsilon(), 0.0, /*strict=*/true, eps_max));
  SPAT_RETURN_IF_ERROR(
      CheckRange(prefix + ".step_size", a.step_size(), 0.0, /*strict=*/true));
  return CheckRange(prefix + ".num_steps", a.num_steps(), 1.0, /*strict=*/false, 1e6);
}

absl::Status NotRead(const std::string& field, const std::string& attack,
                     const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": attack '", attack, "' ", why, "; remove the field"));
}

}  // namespace

absl::Status ValidateTrainAttack(const AttackConfig& a) {
  if (a.name() != "pgd") {
    return absl::InvalidArgumentError(absl::StrCat(
        "train_attack.name: unknown value '", a.name(),
        "'; allowed: pgd (every method's inner maximization is PGD with the method's own "
        "loss and start; other attacks evaluate, in eval_attack)"));
  }
  if (a.has_loss()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "train_attack.loss: '", a.loss(),
        "' is not used: each method ascends its own loss (madry, mart, alp, gairat, mail_at, "
        "seat: cross-entropy; trades: KL; spat: L_rob^sp); remove the field"));
  }
  SPAT_RETURN_IF_ERROR(CheckRange("train_attack.ramp_epochs", a.ramp_epochs(), 0.0, false, 1e6));
  return CheckRadiusAndSteps(a, "train_attack");
}

absl::Status ValidateEvalAttack(const AttackConfig& a) {
  const std::string p = "eval_attack";
  const attacks::AttackInfo* info = attacks::FindAttack(a.name());
  if (info == nullptr) {
    std::vector<std::string> names;
    for (const attacks::AttackInfo& k : attacks::KnownAttacks()) names.push_back(k.name);
    return absl::InvalidArgumentError(absl::StrCat(
        p, ".name: unknown value '", a.name(), "'; allowed: ", absl::StrJoin(names, ", "),
        " (the attacks of //attacks:evaluate; transfer attacks need a source model: "
        "evaluate the checkpoint with //attacks:evaluate)"));
  }
  if (a.has_num_steps() && info->default_count == 0) {
    return NotRead(p + ".num_steps", a.name(), "takes no step count");
  }
  if (a.has_step_size() && !info->step_size) {
    return NotRead(p + ".step_size", a.name(), "takes no step size");
  }
  if (a.has_random_start() && !info->random_start) {
    return NotRead(p + ".random_start", a.name(), "has no random start to switch");
  }
  if (a.has_loss()) {
    if (!info->loss) return NotRead(p + ".loss", a.name(), "ascends its own loss");
    SPAT_RETURN_IF_ERROR(CheckName(p + ".loss", a.loss(), attacks::KnownPgdLosses()));
  }
  if (a.has_clamp_start()) {
    return absl::InvalidArgumentError(
        "eval_attack.clamp_start: only the training attack's start reads it; remove the field");
  }
  if (a.has_ramp_epochs()) {
    return absl::InvalidArgumentError(
        "eval_attack.ramp_epochs: only the training attack ramps its radius; remove the field");
  }
  if (a.norm() == "l2" && !info->l2) {
    return absl::InvalidArgumentError(absl::StrCat(
        p, ".norm: attack '", a.name(), "' is l-inf only; l2 is available for pgd, mim, cw"));
  }
  return CheckRadiusAndSteps(a, p);
}

absl::Status ValidateTrainConfig(const TrainConfig& c) {
  const DatasetConfig& d = c.dataset();
  SPAT_RETURN_IF_ERROR(CheckName("dataset.name", d.name(), data::KnownDatasets()));
  SPAT_RETURN_IF_ERROR(CheckRange("dataset.train_subset",
                                  static_cast<double>(d.train_subset()), 0, false));
  SPAT_RETURN_IF_ERROR(CheckRange("dataset.test_subset",
                                  static_cast<double>(d.test_subset()), 0, false));
  SPAT_RETURN_IF_ERROR(CheckName("model.name", c.model().name(), models::KnownModels()));

  const MethodConfig& m = c.method();
  SPAT_RETURN_IF_ERROR(CheckName("method.name", m.name(), KnownMethods()));
  SPAT_RETURN_IF_ERROR(CheckRange("method.s", m.s(), 0.0, /*strict=*/true));
  SPAT_RETURN_IF_ERROR(CheckRange("method.alpha", m.alpha(), 0.0, false));
  SPAT_RETURN_IF_ERROR(CheckRange("method.beta", m.beta(), 0.0, false));
  if (m.has_lambda()) {
    SPAT_RETURN_IF_ERROR(CheckRange("method.lambda", m.lambda(), 0.0, false));
  }
  SPAT_RETURN_IF_ERROR(
      CheckName("method.spat_attack_loss", m.spat_attack_loss(), KnownSpatAttackLosses()));
  if (m.has_spat_attack_loss() && m.name() != "spat") {
    return absl::InvalidArgumentError(absl::StrCat(
        "method.spat_attack_loss sets SPAT's inner maximization, but this run's method is '",
        m.name(), "', which ascends its own loss; remove the field"));
  }
  if (m.name() != "natural") SPAT_RETURN_IF_ERROR(ValidateTrainAttack(c.train_attack()));
  SPAT_RETURN_IF_ERROR(ValidateEvalAttack(c.eval_attack()));
  if (c.model().prototype_init() != ModelConfig::NN_LINEAR &&
      ResolvedHead(c) != ModelConfig::NCE) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.prototype_init: ", ModelConfig::PrototypeInit_Name(c.model().prototype_init()),
        " sets the NCE head's prototypes, but this run's head is linear (the NCE head is "
        "SPAT's, with method.use_nce); remove the field"));
  }

  const OptimizerConfig& o = c.optimizer();
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.lr", o.lr(), 0.0, true));
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.momentum", o.momentum(), 0.0, false, 0.999999));
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.weight_decay", o.weight_decay(), 0.0, false));
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.epochs", o.epochs(), 1.0, false, 1e6));
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.batch_size", o.batch_size(), 1.0, false, 1e7));
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.lr_gamma", o.lr_gamma(), 0.0, true, 1.0));
  for (double f : o.lr_milestones()) {
    SPAT_RETURN_IF_ERROR(CheckRange("optimizer.lr_milestones", f, 0.0, true, 1.0));
  }
  if (o.lr_schedule() != OptimizerConfig::STEP &&
      (o.lr_milestones_size() > 0 || o.has_lr_gamma())) {
    return absl::InvalidArgumentError(
        "optimizer.lr_milestones / lr_gamma: used by lr_schedule STEP only; remove them or "
        "use the step schedule");
  }
  if (o.has_warmup_fraction() && o.lr_schedule() != OptimizerConfig::ONE_CYCLE) {
    return absl::InvalidArgumentError(
        "optimizer.warmup_fraction: used by lr_schedule ONE_CYCLE only; remove it");
  }
  SPAT_RETURN_IF_ERROR(CheckRange("optimizer.warmup_fraction", o.warmup_fraction(), 0.0,
                                  /*strict=*/true, 0.999));
  if (c.train_attack().ramp_epochs() > o.epochs()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "train_attack.ramp_epochs: %g is longer than the run (%d epochs); the radius would "
        "never reach train_attack.epsilon",
        c.train_attack().ramp_epochs(), o.epochs()));
  }
  SPAT_RETURN_IF_ERROR(CheckRange("threads", c.threads(), 0.0, false, 4096));
  SPAT_RETURN_IF_ERROR(CheckRange("eval_every", c.eval_every(), 1.0, false, 1e6));
  if (c.device() != "cpu" && c.device() != "auto" && c.device().rfind("cuda", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device: unknown value '", c.device(), "'; allowed: cpu, cuda, cuda:N, auto"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainConfig> ResolveTrainConfig(const TrainConfig& raw) {
  SPAT_RETURN_IF_ERROR(ValidateTrainConfig(raw));
  TrainConfig c = raw;
  MethodConfig* m = c.mutable_method();
  if (!m->has_lambda()) m->set_lambda(DefaultLambda(m->name()));
  c.mutable_model()->set_head(ResolvedHead(c));
  AttackConfig* ev = c.mutable_eval_attack();
  const attacks::AttackInfo& info = *attacks::FindAttack(ev->name());
  if (!ev->has_epsilon()) ev->set_epsilon(c.train_attack().epsilon());
  if (info.step_size && !ev->has_step_size()) ev->set_step_size(ev->epsilon() / 10.0);
  if (info.default_count > 0 && !ev->has_num_steps()) ev->set_num_steps(info.default_count);
  if (c.optimizer().lr_schedule() == OptimizerConfig::STEP &&
      c.optimizer().lr_milestones_size() == 0) {
    c.mutable_optimizer()->add_lr_milestones(0.75);
    c.mutable_optimizer()->add_lr_milestones(0.9);
  }
  c.set_threads(ThreadsOrAllCores(c.threads()));
  SPAT_RETURN_IF_ERROR(ValidateTrainConfig(c));
  return c;
}

}  // namespace spat
