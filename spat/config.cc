#include "spat/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "data/dataset.h"
#include "models/registry.h"

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

const std::vector<std::string>& KnownMethods() {
  static const auto* v = new std::vector<std::string>{
      "natural", "madry", "trades", "mart", "alp",
      "gairat",  "mail_at", "seat", "spat"};
  return *v;
}

const std::vector<std::string>& KnownAttacks() {
  static const auto* v = new std::vector<std::string>{
      "fgsm", "pgd", "mim", "cw", "fab", "apgd_ce", "apgd_t", "square",
      "autoattack"};
  return *v;
}

const std::vector<std::string>& KnownAttackLosses() {
  static const auto* v = new std::vector<std::string>{"ce", "cw", "dlr", "kl"};
  return *v;
}

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

absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path) {
  std::ifstream f(path);
  if (!f) {
    return absl::NotFoundError(absl::StrCat("cannot open config ", path));
  }
  std::stringstream buffer;
  buffer << f.rdbuf();
  return ParseTrainConfig(buffer.str(), path);
}

absl::Status ValidateAttackConfig(const AttackConfig& a,
                                  const std::string& prefix) {
  SPAT_RETURN_IF_ERROR(CheckName(prefix + ".name", a.name(), KnownAttacks()));
  SPAT_RETURN_IF_ERROR(CheckName(prefix + ".loss", a.loss(), KnownAttackLosses()));
  SPAT_RETURN_IF_ERROR(CheckName(prefix + ".norm", a.norm(), KnownNorms()));
  const double eps_max = a.norm() == "linf" ? 1.0 : INFINITY;
  SPAT_RETURN_IF_ERROR(
      CheckRange(prefix + ".epsilon", a.epsilon(), 0.0, /*strict=*/true, eps_max));
  SPAT_RETURN_IF_ERROR(
      CheckRange(prefix + ".step_size", a.step_size(), 0.0, /*strict=*/true));
  SPAT_RETURN_IF_ERROR(
      CheckRange(prefix + ".num_steps", a.num_steps(), 1.0, /*strict=*/false, 1e6));
  return absl::OkStatus();
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
  if (m.name() != "natural") {
    SPAT_RETURN_IF_ERROR(ValidateAttackConfig(c.train_attack(), "train_attack"));
  }
  SPAT_RETURN_IF_ERROR(ValidateAttackConfig(c.eval_attack(), "eval_attack"));

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
  SPAT_RETURN_IF_ERROR(CheckRange("threads", c.threads(), 0.0, false, 4096));
  if (c.device() != "cpu" && c.device() != "auto" && c.device().rfind("cuda", 0) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "device: unknown value '", c.device(), "'; allowed: cpu, cuda, cuda:N, auto"));
  }
  return absl::OkStatus();
}

}  // namespace spat
