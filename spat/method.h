// Training methods: SPAT and the paper's baselines, each with its own inner
// maximization and outer loss, behind one interface the trainer drives.
//
//   natural  CE(f(x))                                   (no attack)
//   madry    CE(f(x')), x' = PGD-CE, uniform start
//   trades   CE(f(x)) + λ KL(f(x)||f(x')), x' = PGD-KL, start x + 0.001 N(0,1)
//   mart     BCE(f(x')) + λ KL·(1 - p_y), x' = PGD-CE, start x + 0.001 N(0,1)
//   alp      ½CE(x) + ½CE(x') + λ ||z - z'||², x' = PGD-CE, uniform start
//   gairat   mean w(κ)·CE(f(x')), κ = steps PGD-CE left the point correct
//   mail_at  mean w(PM)·CE(f(x')), PM = probabilistic margin on x'
//   seat     madry + EMA self-ensemble (evaluated and saved)
//   spat     L_acc^sp(x) + λ L_rob^sp(x, x'), x' = PGD on L_rob^sp (eq. 9-15)
//
// The inner maximization runs with the model in eval mode; the outer loss in
// train mode, clean and adversarial batches through separate forward passes
// (as in the reference scripts, which matters for BatchNorm).
//
//   auto method = MakeMethod(options);
//   at::Tensor loss = (*method)->Loss(*model, x, y, ctx);
#ifndef SPAT_SPAT_METHOD_H_
#define SPAT_SPAT_METHOD_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>

#include "attacks/pgd_graphs.h"

#include "absl/status/statusor.h"
#include "attacks/pgd.h"
#include "models/checkpoint.h"
#include "models/classifier.h"
#include "spat/spat_loss.h"

namespace spat {

struct MethodContext {
  int epoch = 0;         // 0-based
  int num_epochs = 1;
  int64_t global_step = 0;
  at::Generator gen;     // random starts
  // The inner attack's radius and step as a fraction of the configured ones
  // (train_attack.ramp_epochs: below 1 while the radius ramps up).
  double attack_scale = 1.0;
  // If set: the inner attacks (all but GAIRAT's, which watches every step)
  // run through these CUDA graphs when the batch is on CUDA.
  attacks::PgdGraphs* graphs = nullptr;
};

struct MethodOptions {
  std::string name = "spat";
  // Weight of the robustness term (TRADES β, MART λ, ALP weight, SPAT λ).
  double lambda = 6.0;
  SpatLossOptions spat;
  // SPAT's inner maximization: one of KnownSpatAttackLosses().
  std::string spat_attack_loss = "rob_sp";
  // Radius, step and steps of the inner maximization (its loss and start are
  // the method's own; attack.start = kNone asks every method to start at x).
  attacks::PgdOptions attack;
  double gairat_lambda = -1.0;
  double mail_bias = -1.5;
  double mail_slope = 1.0;
  // GAIRAT and MAIL-AT train as Madry for this fraction of the epochs first.
  double reweight_start = 0.5;
  double ema_decay = 0.999;  // SEAT
  // Builds a fresh model of the same architecture (SEAT's ensemble).
  std::function<std::shared_ptr<models::Classifier>()> make_model;
};

// The methods, in the paper's order: our name (config method.name), the
// paper's, and the default robustness weight (SPAT 6, TRADES 6, MART 5,
// ALP 0.5; 0 where unused). The single list every other place reads.
struct MethodInfo {
  std::string name;
  std::string paper_name;
  double default_lambda = 0.0;
};
const std::vector<MethodInfo>& KnownMethodInfos();
const std::vector<std::string>& KnownMethods();
double DefaultLambda(const std::string& method);
// The losses SPAT's inner maximization can ascend: rob_sp (the default), kl, ce.
const std::vector<std::string>& KnownSpatAttackLosses();

class TrainingMethod {
 public:
  virtual ~TrainingMethod() = default;

  // x: [B, C, H, W] in [0, 1]; y: [B]. Leaves the model in train mode and
  // returns the scalar loss (with graph) for this batch.
  virtual at::Tensor Loss(models::Classifier& model, const at::Tensor& x,
                          const at::Tensor& y, MethodContext& ctx) = 0;

  // Called after each optimizer step.
  virtual void AfterStep(models::Classifier& /*model*/, const MethodContext& /*ctx*/) {}

  // The model to evaluate and save: the model itself, or SEAT's ensemble.
  virtual models::Classifier& EvalModel(models::Classifier& model) { return model; }
  // State beyond the model and optimizer that --resume must restore (SEAT's
  // EMA model); names are unique within the method. Empty for most methods.
  virtual models::StateDict SaveState() const { return {}; }
  virtual absl::Status LoadState(const models::StateDict& state, const std::string& file) {
    if (!state.empty()) {
      return absl::InvalidArgumentError(
          file + ": holds method state ('" + state.front().first + "') this method does not use");
    }
    return absl::OkStatus();
  }
};

// Unknown names are an InvalidArgument error listing the known ones.
absl::StatusOr<std::unique_ptr<TrainingMethod>> MakeMethod(const MethodOptions& o);

}  // namespace spat

#endif  // SPAT_SPAT_METHOD_H_
