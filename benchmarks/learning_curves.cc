// Learning curves: where each method's training plateaus on a protocol.
//
//   bazel run //benchmarks:learning_curves -- --preset=cpu --methods=madry,trades,mart,spat
//       --budgets=2,4,8 --lr=0.05 --lr_schedule=cosine --init=reference --seeds=3
//
// For every method and budget (epochs), --seeds runs of the preset's protocol
// (benchmarks/presets.h, with the flags below over it), each a resumable
// harness cell. Writes DIR/curves.md (the final clean and PGD-20 accuracy per
// budget, mean ± sd, and whether doubling the budget still moved either by
// more than 1 point), DIR/curves.json (every run's per-epoch curve) and
// DIR/curves.png (per-epoch clean and PGD-20 of the largest budget, mean ± sd
// over the seeds). Exit codes as the table binaries.
#include <google/protobuf/struct.pb.h>

#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/proto_json.h"
#include "base/status_macros.h"
#include "benchmarks/claims.h"
#include "benchmarks/harness.h"
#include "benchmarks/presets.h"
#include "benchmarks/stats.h"
#include "benchmarks/table_main.h"
#include "spat/config.h"
#include "spat/method.h"

ABSL_FLAG(std::string, methods, "madry,trades,mart,spat",
          "comma-separated methods; spat:s=V sets SPAT's scale s (Table 1's rows)");
ABSL_FLAG(std::string, budgets, "",
          "comma-separated epoch counts, each a full run of its own schedule (default: the "
          "preset's epochs and twice that)");
ABSL_FLAG(double, lr, 0, "learning rate (0: the preset's)");
ABSL_FLAG(std::string, lr_schedule, "", "step | cosine | one_cycle (empty: the preset's)");
ABSL_FLAG(std::string, init, "", "reference | torch_default (empty: the preset's)");
ABSL_FLAG(int64_t, train_subset, -1, "training images (-1: the preset's; 0: all)");
ABSL_FLAG(int, batch_size, 0, "batch size (0: the preset's)");
ABSL_FLAG(double, epsilon, 0, "training and evaluation radius (0: the preset's)");
ABSL_FLAG(int, num_steps, 0, "inner PGD steps (0: the preset's)");
ABSL_FLAG(double, step_size, 0, "inner PGD step (0: the preset's)");
ABSL_FLAG(bool, bf16, false, "the inner attack under bfloat16 autocast (CPUs with AVX512-BF16 or AMX)");
ABSL_FLAG(int, eval_every, 0,
          "evaluate after every Nth epoch and the last two (0: the preset's); the curves then "
          "have those epochs only");

namespace spat::benchmarks {
namespace {

// The preset's protocol with the flags over it, for `method` ("spat:s=V" sets s).
absl::StatusOr<TrainConfig> Protocol(Preset preset, const std::string& method) {
  SPAT_ASSIGN_OR_RETURN(TrainConfig c, AblationBase(preset));
  const std::vector<std::string> parts = absl::StrSplit(method, ':');
  c.mutable_method()->set_name(parts[0]);
  c.mutable_method()->clear_lambda();  // the method's own default
  if (parts.size() > 1) {
    double s = 0;
    if (parts.size() != 2 || parts[0] != "spat" || !absl::StartsWith(parts[1], "s=") ||
        !absl::SimpleAtod(parts[1].substr(2), &s) || !(s > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--methods: '", method, "': expected a method name, or spat:s=V with V > 0"));
    }
    c.mutable_method()->set_s(s);
  }
  OptimizerConfig* o = c.mutable_optimizer();
  if (absl::GetFlag(FLAGS_lr) > 0) o->set_lr(absl::GetFlag(FLAGS_lr));
  if (const std::string s = absl::GetFlag(FLAGS_lr_schedule); !s.empty()) {
    absl::StatusOr<OptimizerConfig::Schedule> sched = ParseLrSchedule(s);
    if (!sched.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--lr_schedule ", sched.status().message()));
    }
    o->set_lr_schedule(*sched);
  }
  if (const std::string s = absl::GetFlag(FLAGS_init); !s.empty()) {
    absl::StatusOr<ModelConfig::Init> init = ParseInit(s);
    if (!init.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--init ", init.status().message()));
    }
    c.mutable_model()->set_init(*init);
  }
  if (absl::GetFlag(FLAGS_train_subset) >= 0) {
    c.mutable_dataset()->set_train_subset(absl::GetFlag(FLAGS_train_subset));
  }
  if (absl::GetFlag(FLAGS_batch_size) > 0) o->set_batch_size(absl::GetFlag(FLAGS_batch_size));
  AttackConfig* a = c.mutable_train_attack();
  if (absl::GetFlag(FLAGS_epsilon) > 0) {
    a->set_epsilon(absl::GetFlag(FLAGS_epsilon));
    c.mutable_eval_attack()->set_epsilon(absl::GetFlag(FLAGS_epsilon));
  }
  if (absl::GetFlag(FLAGS_num_steps) > 0) a->set_num_steps(absl::GetFlag(FLAGS_num_steps));
  if (absl::GetFlag(FLAGS_step_size) > 0) a->set_step_size(absl::GetFlag(FLAGS_step_size));
  if (absl::GetFlag(FLAGS_bf16)) c.set_bf16(true);
  if (absl::GetFlag(FLAGS_eval_every) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--eval_every=", absl::GetFlag(FLAGS_eval_every), ": expected N >= 1 (0: the preset's)"));
  }
  if (absl::GetFlag(FLAGS_eval_every) > 0) c.set_eval_every(absl::GetFlag(FLAGS_eval_every));
  return c;
}

absl::StatusOr<std::vector<int>> Budgets(int preset_epochs) {
  const std::string text = absl::GetFlag(FLAGS_budgets);
  if (text.empty()) return std::vector<int>{preset_epochs, 2 * preset_epochs};
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int e = 0;
    if (!absl::SimpleAtoi(part, &e) || e < 1 || e > 100000 || (!out.empty() && e <= out.back())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--budgets='", text, "': expected increasing epoch counts >= 1, e.g. 2,4,8"));
    }
    out.push_back(e);
  }
  if (out.empty()) return absl::InvalidArgumentError("--budgets is empty");
  return out;
}

// A cell's name: the method, the budget and what the flags changed (not
// eval_every, which changes what is measured, not what is trained).
std::string CellName(const TrainConfig& c, int epochs) {
  const OptimizerConfig& o = c.optimizer();
  const std::string s = c.method().name() == "spat" && c.method().s() != MethodConfig().s()
                            ? absl::StrFormat("_s%g", c.method().s())
                            : "";
  return absl::StrFormat("curve_%s%s_e%d_n%d_lr%g_%s_%s_b%d_eps%g_k%d_st%g%s", c.method().name(), s,
                         epochs, c.dataset().train_subset(), o.lr(),
                         absl::AsciiStrToLower(OptimizerConfig::Schedule_Name(o.lr_schedule())),
                         absl::AsciiStrToLower(ModelConfig::Init_Name(c.model().init())),
                         o.batch_size(), c.train_attack().epsilon(), c.train_attack().num_steps(),
                         c.train_attack().step_size(), c.bf16() ? "_bf16" : "");
}

struct Curves {
  std::string method;
  std::vector<int> budgets;
  std::vector<std::vector<CellResult>> runs;  // per budget, per seed
};

// Per evaluated epoch, mean and sd over the runs of `which` (clean or PGD-20).
std::string EpochRows(const std::vector<CellResult>& runs, bool pgd) {
  std::map<int, std::vector<double>> at;
  for (const CellResult& r : runs) {
    const std::vector<double>& curve = pgd ? r.pgd_curve : r.clean_curve;
    for (size_t i = 0; i < curve.size() && i < r.curve_epochs.size(); ++i) {
      at[r.curve_epochs[i]].push_back(curve[i]);
    }
  }
  std::string rows;
  for (const auto& [epoch, v] : at) {
    const Summary s = Summarize(v);
    absl::StrAppend(&rows, epoch, " ", s.mean, " ", s.sd, "\n");
  }
  return rows;
}

std::string Markdown(const Harness& h, const std::vector<Curves>& all, const std::string& protocol) {
  std::string md = absl::StrCat(
      "# Learning curves\n\nPreset `", PresetName(h.options().preset), "`, ", h.options().seeds,
      " run(s) per cell (seeds base, base + 1, ...). Each budget is a run of its own (its "
      "schedule spans its epochs). Final clean / PGD-20 accuracy, mean ± sd:\n\n"
      "| method | epochs | clean | PGD-20 | change vs the previous budget (clean / PGD-20) |\n"
      "| --- | --- | --- | --- | --- |\n");
  for (const Curves& c : all) {
    for (size_t b = 0; b < c.budgets.size(); ++b) {
      const std::vector<double> clean = Clean(c.runs[b]), pgd = Pgd(c.runs[b]);
      std::string change = "—";
      if (b > 0) {
        const double dc = Summarize(clean).mean - Summarize(Clean(c.runs[b - 1])).mean;
        const double dp = Summarize(pgd).mean - Summarize(Pgd(c.runs[b - 1])).mean;
        const bool plateau = std::abs(dc) <= kConvergedWithin && std::abs(dp) <= kConvergedWithin;
        change = absl::StrFormat("%+.2f / %+.2f: %s", dc, dp,
                                 plateau ? "plateau" : "**still moving**");
      }
      absl::StrAppend(&md, absl::StrFormat("| %s | %d | %s | %s | %s |\n", c.method, c.budgets[b],
                                           MeanSd(clean), MeanSd(pgd), change));
    }
  }
  absl::StrAppend(&md, "\n**Protocol**: ", protocol,
                  "\n\nA method has converged on this protocol when doubling its budget moves "
                  "neither number by more than 1 point (\"plateau\").\n");
  return md;
}

google::protobuf::Struct Json(const Harness& h, const std::vector<Curves>& all,
                              const std::string& protocol) {
  google::protobuf::Struct j;
  auto& f = *j.mutable_fields();
  f["preset"] = JsonText(PresetName(h.options().preset));
  f["protocol"] = JsonText(protocol);
  for (const Curves& c : all) {
    auto& m = JsonObject(&j, c.method);
    for (size_t b = 0; b < c.budgets.size(); ++b) {
      google::protobuf::ListValue* runs =
          m[absl::StrCat("epochs_", c.budgets[b])].mutable_list_value();
      for (const CellResult& r : c.runs[b]) {
        auto& run = *runs->add_values()->mutable_struct_value()->mutable_fields();
        run["epoch"] = JsonList(std::vector<double>(r.curve_epochs.begin(), r.curve_epochs.end()));
        run["clean"] = JsonList(r.clean_curve);
        run["pgd20"] = JsonList(r.pgd_curve);
      }
    }
  }
  return j;
}

absl::Status Plot(const Harness& h, const std::vector<Curves>& all) {
  std::map<std::string, std::string> data;
  std::vector<std::string> clean_plots, pgd_plots;
  for (const Curves& c : all) {
    // A data file's variable in the script is its name before the '.'.
    std::string name = absl::StrCat("m_", c.method);
    for (char& ch : name) {
      if (!absl::ascii_isalnum(ch)) ch = '_';
    }
    data[name + "_clean.dat"] = EpochRows(c.runs.back(), false);
    data[name + "_pgd.dat"] = EpochRows(c.runs.back(), true);
    const std::string title = absl::StrCat(" using 1:2:3 with yerrorlines title '", c.method, "'");
    clean_plots.push_back(name + "_clean" + title);
    pgd_plots.push_back(name + "_pgd" + title);
  }
  const std::string script = absl::StrCat(
      "set terminal pngcairo size 1200,500 font ',10' noenhanced\nset output png\n"
      "set multiplot layout 1,2 title 'Learning curves (largest budget; mean ± sd over seeds)'\n"
      "set xlabel 'epoch'\nset key bottom right\nset grid\n"
      "set title 'clean accuracy (%)'\nplot ", absl::StrJoin(clean_plots, ", "),
      "\nset title 'PGD-20 accuracy (%)'\nplot ", absl::StrJoin(pgd_plots, ", "),
      "\nunset multiplot\n");
  return h.Plot("curves", script, data);
}

int Run(const Harness& h) {
  std::vector<Curves> all;
  std::string protocol;
  for (absl::string_view m : absl::StrSplit(absl::GetFlag(FLAGS_methods), ',', absl::SkipEmpty())) {
    Curves c;
    c.method = std::string(m);
    absl::StatusOr<TrainConfig> base = Protocol(h.options().preset, c.method);
    absl::StatusOr<std::vector<int>> budgets =
        base.ok() ? Budgets(base->optimizer().epochs()) : base.status();
    if (!budgets.ok()) {
      std::cerr << "error: " << budgets.status().message() << "\n";
      return 2;
    }
    c.budgets = *budgets;
    for (int epochs : c.budgets) {
      TrainConfig config = *base;
      config.mutable_optimizer()->set_epochs(epochs);
      if (protocol.empty()) {
        // One line for every budget: the epochs are each row's.
        protocol = absl::StrReplaceAll(DescribeProtocol(config),
                                       {{absl::StrCat(epochs, " epoch(s)"), "E epoch(s) (E: the row's)"}});
      }
      absl::StatusOr<std::vector<CellResult>> runs = h.TrainCells(CellName(config, epochs), config);
      if (!runs.ok()) {
        std::cerr << "error: " << runs.status().message() << "\n";
        return runs.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
      }
      c.runs.push_back(*runs);
    }
    all.push_back(std::move(c));
  }
  if (h.TrainingOnly()) return 0;
  const std::string md = Markdown(h, all, protocol);
  const std::string dir = h.options().out_dir;
  absl::Status st = MakeDirs(dir);
  if (st.ok()) st = WriteFileAtomically(dir + "/curves.md", md);
  if (st.ok()) st = WriteFileAtomically(dir + "/curves.json", ToJson(Json(h, all, protocol)));
  if (st.ok()) st = Plot(h, all);
  if (!st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  std::cout << md;
  return 0;
}

}  // namespace
}  // namespace spat::benchmarks

int main(int argc, char** argv) {
  return spat::benchmarks::HarnessMain(argc, argv, "learning curves", spat::benchmarks::Run);
}
