#include "spat/run_state.h"

#include <ATen/ATen.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "base/files.h"
#include "base/proto_json.h"
#include "base/status_macros.h"
#include "spat/config.h"
#include "spat/metrics.pb.h"

namespace spat {
namespace {

// train_state.pt's keys: prefixes of the state dicts, and single entries.
constexpr char kModel[] = "model.";
constexpr char kOptimizer[] = "momentum.";  // Sgd::State() names its own
constexpr char kMethod[] = "method.";
constexpr char kEpochsDone[] = "meta.epoch";
constexpr char kGlobalStep[] = "meta.global_step";
constexpr char kRngTorch[] = "rng.torch";
constexpr char kRngAttack[] = "rng.attack";
constexpr char kRngCuda[] = "rng.cuda";
// Written by earlier versions: epoch.<i> = [loss, clean, pgd, img/s, s, lr].
constexpr char kLegacyEpoch[] = "epoch.";

// `config` without what SameRun never compares.
TrainConfig WhatIsComputed(TrainConfig c) {
  c.clear_out_dir();
  c.clear_threads();
  c.clear_device();
  c.clear_cuda_graphs();
  c.mutable_dataset()->clear_data_dir();
  // Ignored by every method before it was refused; runs recorded with it
  // (the paper presets set "kl") stay resumable.
  c.mutable_train_attack()->clear_loss();
  c.clear_eval_every();  // which epochs are evaluated, not what is trained
  c.clear_stop_at_chance();  // ends a collapsed run; a healthy one is the same
  // A field set to its default computes what the field unset does: a run
  // configured by flags and the same run configured by a preset that spells
  // the defaults out are one run.
  SetDefaultsExplicitly(&c);
  return c;
}

EpochRecord FromProto(const EpochMetrics& e) {
  return {e.epoch(), e.loss(),      e.clean(), e.pgd(),
          e.img_per_s(), e.seconds(), e.lr(),    e.has_clean() || e.has_pgd()};
}

void SetFinal(TrainSummary* s) {
  std::sort(s->epochs.begin(), s->epochs.end(),
            [](const EpochRecord& a, const EpochRecord& b) { return a.epoch < b.epoch; });
  s->clean_accuracy = s->pgd_accuracy = 0;
  for (const EpochRecord& e : s->epochs) {
    if (!e.evaluated) continue;
    s->clean_accuracy = e.clean;
    s->pgd_accuracy = e.pgd;
  }
}

absl::StatusOr<EpochRecord> LegacyEpoch(const std::string& key, const at::Tensor& t,
                                        const std::string& file) {
  EpochRecord r;
  at::Tensor v = t.to(at::kDouble).reshape(-1);
  if (!absl::SimpleAtoi(key.substr(sizeof(kLegacyEpoch) - 1), &r.epoch) || v.numel() != 6) {
    return absl::DataLossError(absl::StrCat(file, ": malformed entry '", key, "'"));
  }
  r.loss = v[0].item<double>();
  r.clean = v[1].item<double>();
  r.pgd = v[2].item<double>();
  r.img_per_s = v[3].item<double>();
  r.seconds = v[4].item<double>();
  r.lr = v[5].item<double>();
  return r;
}

// Sorts one train_state.pt entry into `state` (or `legacy`).
absl::Status TakeEntry(const std::string& k, const at::Tensor& t, const std::string& file,
                       ResumeState* state, std::vector<EpochRecord>* legacy) {
  if (absl::StartsWith(k, kModel)) {
    state->model.emplace_back(k.substr(sizeof(kModel) - 1), t);
  } else if (absl::StartsWith(k, kOptimizer)) {
    state->optimizer.emplace_back(k, t);
  } else if (absl::StartsWith(k, kMethod)) {
    state->method.emplace_back(k.substr(sizeof(kMethod) - 1), t);
  } else if (k == kEpochsDone) {
    state->epochs_done = static_cast<int>(t.item<int64_t>());
  } else if (k == kGlobalStep) {
    state->global_step = t.item<int64_t>();
  } else if (k == kRngTorch) {
    state->rng_torch = t;
  } else if (k == kRngAttack) {
    state->rng_attack = t;
  } else if (k == kRngCuda) {
    state->rng_cuda = t;
  } else if (absl::StartsWith(k, kLegacyEpoch)) {
    SPAT_ASSIGN_OR_RETURN(EpochRecord r, LegacyEpoch(k, t, file));
    legacy->push_back(r);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(file, ": unknown entry '", k, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

double TrainSummary::seconds() const {
  double s = 0;
  for (const EpochRecord& e : epochs) s += e.seconds;
  return s;
}

absl::Status CheckSameRun(const TrainConfig& before, const TrainConfig& now, SameRun rule) {
  TrainConfig a = WhatIsComputed(before), b = WhatIsComputed(now);
  const int epochs_before = a.optimizer().epochs(), epochs_now = b.optimizer().epochs();
  if (rule == SameRun::kMoreEpochsOk && epochs_now >= epochs_before) {
    a.mutable_optimizer()->clear_epochs();
    b.mutable_optimizer()->clear_epochs();
  }
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  if (diff.Compare(a, b)) return absl::OkStatus();
  absl::StrReplaceAll({{"\n", "; "}}, &report);
  return absl::FailedPreconditionError(
      absl::StrCat("not the same run (recorded vs now: ", report, ")"));
}

RunDir::RunDir(std::string dir) : dir_(std::move(dir)) {}

absl::StatusOr<TrainConfig> RunDir::ReadConfig() const {
  SPAT_ASSIGN_OR_RETURN(std::string text, ReadFile(config_path()));
  TrainConfig c;
  if (!google::protobuf::TextFormat::ParseFromString(text, &c)) {
    return absl::DataLossError(absl::StrCat(config_path(), " does not parse"));
  }
  return c;
}

absl::Status RunDir::WriteConfig(const TrainConfig& config) const {
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  return WriteFileAtomically(config_path(), text);
}

absl::StatusOr<TrainSummary> RunDir::ReadSummary() const {
  SPAT_ASSIGN_OR_RETURN(std::string json, ReadFile(metrics_path()));
  TrainMetrics m;
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(json, &m, opts).ok()) {
    return absl::DataLossError(absl::StrCat(metrics_path(), " does not parse"));
  }
  TrainSummary s;
  for (const EpochMetrics& e : m.epochs()) s.epochs.push_back(FromProto(e));
  SetFinal(&s);
  s.collapsed_epoch = m.collapsed_epoch();
  s.collapse_reason = m.collapse_reason();
  s.chance_accuracy = m.chance_accuracy();
  return s;
}

absl::Status RunDir::WriteMetrics(const TrainConfig& config, const TrainSummary& summary,
                                  int world_size, const std::string& device,
                                  const std::string& eval_protocol) const {
  TrainMetrics m;
  m.set_clean_accuracy(summary.clean_accuracy);
  m.set_pgd_accuracy(summary.pgd_accuracy);
  for (const EpochRecord& e : summary.epochs) {
    EpochMetrics* r = m.add_epochs();
    r->set_epoch(e.epoch);
    r->set_loss(e.loss);
    if (e.evaluated) {
      r->set_clean(e.clean);
      r->set_pgd(e.pgd);
    }
    r->set_img_per_s(e.img_per_s);
    r->set_seconds(e.seconds);
    r->set_lr(e.lr);
  }
  m.set_eval_protocol(eval_protocol);
  m.set_world_size(world_size);
  m.set_threads(config.threads());
  m.set_device(device);
  if (summary.chance_accuracy > 0) m.set_chance_accuracy(summary.chance_accuracy);
  if (summary.collapsed()) {
    m.set_collapsed_epoch(summary.collapsed_epoch);
    m.set_collapse_reason(summary.collapse_reason);
  }
  *m.mutable_config() = config;
  // Every field of the config printed, defaults too; an epoch that was not
  // evaluated has no clean or pgd.
  SetDefaultsExplicitly(m.mutable_config());
  return WriteFileAtomically(metrics_path(), ToJson(m, /*with_defaults=*/false));
}

bool RunDir::HasResumeState() const { return PathExists(state_path()); }

absl::Status RunDir::WriteResumeState(const ResumeState& s) const {
  models::StateDict all;
  for (const auto& [k, t] : s.model) all.emplace_back(kModel + k, t);
  for (const auto& kv : s.optimizer) all.push_back(kv);
  for (const auto& [k, t] : s.method) all.emplace_back(kMethod + k, t);
  all.emplace_back(kEpochsDone, at::tensor(static_cast<int64_t>(s.epochs_done)));
  all.emplace_back(kGlobalStep, at::tensor(s.global_step));
  all.emplace_back(kRngTorch, s.rng_torch);
  all.emplace_back(kRngAttack, s.rng_attack);
  if (s.rng_cuda.defined()) all.emplace_back(kRngCuda, s.rng_cuda);
  return models::SaveStateDict(all, state_path());
}

absl::StatusOr<ResumeState> RunDir::ReadResumeState(TrainSummary* summary) const {
  absl::StatusOr<models::StateDict> st = models::LoadStateDict(state_path());
  if (!st.ok()) {
    return absl::Status(st.status().code(),
                        absl::StrCat("cannot resume: ", st.status().message()));
  }
  ResumeState state;
  std::vector<EpochRecord> legacy;
  for (const auto& [k, t] : *st) {
    SPAT_RETURN_IF_ERROR(TakeEntry(k, t, state_path(), &state, &legacy));
  }
  if (!legacy.empty()) {
    summary->epochs = std::move(legacy);
  } else {
    absl::StatusOr<TrainSummary> recorded = ReadSummary();
    if (!recorded.ok()) {
      return absl::Status(recorded.status().code(),
                          absl::StrCat("cannot resume: ", recorded.status().message()));
    }
    summary->epochs = std::move(recorded->epochs);
  }
  // metrics.json is written before train_state.pt: drop an epoch it has that
  // the state does not.
  summary->epochs.erase(std::remove_if(summary->epochs.begin(), summary->epochs.end(),
                                       [&](const EpochRecord& e) {
                                         return e.epoch > state.epochs_done;
                                       }),
                        summary->epochs.end());
  SetFinal(summary);
  return state;
}

absl::Status RunDir::CheckResumable(const TrainConfig& config) const {
  absl::StatusOr<TrainConfig> before = ReadConfig();
  // A run from before config.textproto was written has none to compare.
  if (before.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!before.ok()) {
    return absl::DataLossError(absl::StrCat("cannot resume: ", before.status().message()));
  }
  if (absl::Status same = CheckSameRun(*before, config, SameRun::kMoreEpochsOk); !same.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot resume: the run in ", dir_, " was started with a different configuration (",
        config_path(), ": ", same.message(),
        "); use a new --out_dir or the original settings"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainSummary> RunDir::Finished(const TrainConfig& config) const {
  absl::StatusOr<TrainConfig> before = ReadConfig();
  if (!before.ok() || !CheckSameRun(*before, config, SameRun::kExactly).ok()) {
    return absl::NotFoundError(absl::StrCat("no finished run of this config in ", dir_));
  }
  absl::StatusOr<TrainSummary> s = ReadSummary();
  const int epochs = config.optimizer().epochs();
  // A collapsed run is finished where it stopped.
  if (s.ok() && s->collapsed()) return s;
  if (!s.ok() || static_cast<int>(s->epochs.size()) != epochs ||
      s->epochs.back().epoch != epochs) {
    return absl::NotFoundError(absl::StrCat("the run in ", dir_, " is not finished"));
  }
  return s;
}

bool RunDir::Resumable(const TrainConfig& config) const {
  absl::StatusOr<TrainConfig> before = ReadConfig();
  return HasResumeState() && before.ok() &&
         CheckSameRun(*before, config, SameRun::kExactly).ok();
}

}  // namespace spat
