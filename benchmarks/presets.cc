#include "benchmarks/presets.h"

#include <sys/stat.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "data/dataset.h"
#include "spat/config.h"
#include "spat/trainer.h"

namespace spat::benchmarks {

namespace {

// The eps03 preset: the pilot's recipe (docs/learning_curves.md). From
// scratch at eps 0.3 Madry stays at chance without the ramp; the paper's
// lr 0.01 with a cosine decay over the run.
void SetEps03Protocol(TrainConfig* c) {
  c->mutable_dataset()->set_name("mnist");
  c->mutable_dataset()->set_test_subset(1000);  // the per-epoch curve; tables use evals
  c->mutable_model()->set_name("small_cnn");
  c->mutable_train_attack()->set_epsilon(kEps03Epsilon);
  c->mutable_train_attack()->set_step_size(0.075);  // 10 x 0.075 = 2.5 eps
  c->mutable_train_attack()->set_num_steps(10);
  c->mutable_train_attack()->set_ramp_epochs(1);
  c->mutable_optimizer()->set_epochs(kEps03Epochs);
  c->mutable_optimizer()->set_batch_size(128);
  c->mutable_optimizer()->set_lr(0.01);
  c->mutable_optimizer()->set_lr_schedule(OptimizerConfig::COSINE);
}

}  // namespace

absl::StatusOr<TrainConfig> AblationBase(Preset preset) {
  TrainConfig c;
  MethodConfig* m = c.mutable_method();
  m->set_name("spat");
  m->set_s(5);
  m->set_alpha(0.2);
  m->set_beta(0.2);
  m->set_lambda(6);
  c.set_seed(1);
  switch (preset) {
    case Preset::kSmoke:
      c.mutable_dataset()->set_name("mnist");
      c.mutable_dataset()->set_train_subset(256);
      c.mutable_dataset()->set_test_subset(128);
      c.mutable_model()->set_name("small_cnn");
      c.mutable_train_attack()->set_epsilon(0.2);
      c.mutable_train_attack()->set_step_size(0.1);
      c.mutable_train_attack()->set_num_steps(2);
      c.mutable_eval_attack()->set_num_steps(5);
      c.mutable_optimizer()->set_epochs(1);
      c.mutable_optimizer()->set_batch_size(64);
      c.mutable_optimizer()->set_lr(0.01);
      // Four steps leave a model near chance: not a collapse.
      c.set_stop_at_chance(false);
      break;
    case Preset::kCpu:
      c.mutable_dataset()->set_name("mnist");
      c.mutable_dataset()->set_train_subset(10000);
      c.mutable_dataset()->set_test_subset(1000);
      c.mutable_model()->set_name("small_cnn");
      c.mutable_train_attack()->set_epsilon(0.2);
      c.mutable_train_attack()->set_step_size(0.05);
      c.mutable_train_attack()->set_num_steps(5);
      c.mutable_optimizer()->set_epochs(2);
      c.mutable_optimizer()->set_batch_size(128);
      c.mutable_optimizer()->set_lr(0.01);
      break;
    case Preset::kLong:
      // docs/learning_curves.md: at eps 0.1 with a one-cycle schedule, 16
      // epochs of 10,000 images leave SPAT's s = 10 under 98% clean; the
      // same number of images drawn from 40,000 passes it.
      c.mutable_dataset()->set_name("mnist");
      c.mutable_dataset()->set_train_subset(kLongTrainImages);
      c.mutable_dataset()->set_test_subset(1000);  // the per-epoch curve; tables use evals
      c.mutable_model()->set_name("small_cnn");
      c.mutable_train_attack()->set_epsilon(kLongEpsilon);
      c.mutable_train_attack()->set_step_size(0.04);
      c.mutable_train_attack()->set_num_steps(3);
      c.mutable_optimizer()->set_epochs(kLongEpochs);
      c.mutable_optimizer()->set_batch_size(128);
      c.mutable_optimizer()->set_lr(0.1);
      c.mutable_optimizer()->set_lr_schedule(OptimizerConfig::ONE_CYCLE);
      break;
    case Preset::kEps03:
      SetEps03Protocol(&c);
      break;
    case Preset::kPaper: {
      const std::string dir = data::DefaultDataDir("cifar10");
      struct stat st;
      if (stat(dir.c_str(), &st) != 0) {
        return absl::NotFoundError(absl::StrCat(
            "the paper preset trains on CIFAR-10, which is not in ", dir,
            ": download the binary version (cifar-10-binary.tar.gz) and unpack "
            "cifar-10-batches-bin there, or set SPAT_DATA_DIR"));
      }
      SPAT_ASSIGN_OR_RETURN(c, PaperProtocol("cifar10"));
      break;
    }
  }
  return c;
}

TrainConfig HalfBudget(const TrainConfig& config) {
  TrainConfig c = config;
  c.mutable_optimizer()->set_epochs(std::max(1, config.optimizer().epochs() / 2));
  return c;
}

CellEvals LongPresetEvals(const TrainConfig& config, bool robustness, bool autoattack,
                          Preset preset) {
  CellEvals e;
  e.epsilon = config.train_attack().epsilon();
  const std::vector<std::string> attacks =
      robustness ? std::vector<std::string>{"clean", "fgsm", "pgd20", "cw", "transfer_fgsm",
                                            "transfer_pgd20", "transfer_cw"}
                 : std::vector<std::string>{"clean", "pgd20"};
  for (const std::string& a : attacks) e.attacks.push_back({a, kLongTestImages});
  if (autoattack) e.attacks.push_back({"aa", kLongAutoAttackImages});
  if (robustness) {
    // One source for every cell, whatever its method and seed: the preset's
    // base protocol (the cell Tables 4-5 train first).
    absl::StatusOr<TrainConfig> base = AblationBase(preset);
    e.source_cell = "source_lenet5";
    e.source = MnistTransferSource(base.ok() ? *base : config);
  }
  return e;
}

TrainConfig SpatVariant(const TrainConfig& base, double s, double alpha, double beta,
                        bool sp_acc, bool sp_rob, bool use_nce) {
  TrainConfig c = base;
  MethodConfig* m = c.mutable_method();
  m->set_name("spat");
  m->set_s(s);
  m->set_alpha(alpha);
  m->set_beta(beta);
  m->set_sp_acc(sp_acc);
  m->set_sp_rob(sp_rob);
  m->set_use_nce(use_nce);
  return c;
}

std::string SpatVariantCell(const TrainConfig& c) {
  const MethodConfig& m = c.method();
  return absl::StrFormat("spat_s%g_a%g_b%g%s%s%s", m.s(), m.alpha(), m.beta(),
                         m.sp_acc() ? "" : "_noSPacc", m.sp_rob() ? "" : "_noSProb",
                         m.use_nce() ? "" : "_ce");
}

TrainConfig MnistTransferSource(const TrainConfig& base) {
  TrainConfig s = base;
  s.mutable_method()->set_name("natural");
  s.mutable_model()->set_name("lenet5");
  s.mutable_optimizer()->set_lr(0.05);
  return s;
}

absl::StatusOr<TrainConfig> PaperProtocol(const std::string& dataset) {
  const std::string path = SourceTreePath(absl::StrCat("spat/presets/", dataset, "_paper.textproto"));
  absl::StatusOr<TrainConfig> c = LoadTrainConfig(path);
  if (!c.ok()) {
    return absl::Status(c.status().code(),
                        absl::StrCat("the paper preset's protocol: ", c.status().message()));
  }
  // Each defense takes its own default lambda (a cell sets only the method's
  // name), as `train --config=<file> --method=M` does.
  if (c->method().has_lambda()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": method.lambda is set; leave it to each method's default so that "
              "--method gives every defense its own"));
  }
  return c;
}

namespace {

std::string DescribeSchedule(const OptimizerConfig& o) {
  switch (o.lr_schedule()) {
    case OptimizerConfig::COSINE:
      return absl::StrFormat("cosine schedule from lr %g", o.lr());
    case OptimizerConfig::ONE_CYCLE:
      return absl::StrFormat("one-cycle schedule, peak lr %g after %g of the steps", o.lr(),
                             o.warmup_fraction());
    default: {
      // The milestones of the resolved config (ResolveTrainConfig's default
      // when the config gives none).
      std::vector<std::string> at;
      for (double f : o.lr_milestones()) at.push_back(absl::StrFormat("%g", f));
      return absl::StrFormat("lr %g, x%g at %s of the epochs", o.lr(), o.lr_gamma(),
                             absl::StrJoin(at, ", "));
    }
  }
}

}  // namespace

std::string DescribeProtocol(const TrainConfig& raw, bool convergence_note) {
  // What the trainer runs: the resolved config (default milestones, the
  // evaluation attack's radius, step and steps). An invalid one is refused
  // before training; it is described as given.
  absl::StatusOr<TrainConfig> resolved = ResolveTrainConfig(raw);
  const TrainConfig& c = resolved.ok() ? *resolved : raw;
  const auto& d = c.dataset();
  const auto& o = c.optimizer();
  const auto& a = c.train_attack();
  const auto& e = c.eval_attack();
  const double eval_eps = e.has_epsilon() ? e.epsilon() : a.epsilon();
  const std::string ramp =
      a.ramp_epochs() > 0
          ? absl::StrFormat(" (radius and step ramped up from 0 over the first %g epoch%s)",
                            a.ramp_epochs(), a.ramp_epochs() == 1 ? "" : "s")
          : "";
  return absl::StrFormat(
      "%s, %s (%s init), %s train / %s test images, %d epoch(s) SGD (%s, momentum %g, wd %g, "
      "batch %d); training PGD-%d%s, eps %.4g, step %.4g%s; %s check PGD-%d (CE, random start), "
      "eps %.4g, step %.4g; base seed %d",
      d.name(), c.model().name(),
      c.model().init() == ModelConfig::TORCH_DEFAULT ? "PyTorch default" : "reference",
      d.train_subset() > 0 ? absl::StrCat(d.train_subset()) : std::string("all"),
      d.test_subset() > 0 ? absl::StrCat(d.test_subset()) : std::string("all"), o.epochs(),
      DescribeSchedule(o), o.momentum(), o.weight_decay(), o.batch_size(), a.num_steps(),
      c.bf16() ? " (bf16 autocast)" : "", a.epsilon(), a.step_size(), ramp,
      c.eval_every() > 1
          ? absl::StrFormat("every %d epochs and the last two:", c.eval_every())
          : std::string("per-epoch"),
      e.has_num_steps() ? e.num_steps() : 20, eval_eps,
      e.has_step_size() ? e.step_size() : eval_eps / 10, c.seed()) +
         (convergence_note && resolved.ok() && LearningRateDecays(c)
              ? "; the learning rate decays within the run, which flattens its last epochs "
                "whether or not training has plateaued, so a flat last epoch does not show "
                "convergence: no cell is marked converged, no claim on one is judged; the long "
                "preset (results/long/) judges each claim at the full and at half the budget"
              : "");
}

}  // namespace spat::benchmarks
