// The training loop shared by every method: seeded data order, SGD with the
// paper's step schedule, clean and robust test accuracy after every epoch
// (or every eval_every-th and the last two; the config's eval_attack,
// through the attack suite's evaluator), a progress
// line, and after every epoch the run's files (spat/run_state.h: checkpoint,
// metrics, resumable state).
//
//   SPAT_ASSIGN_OR_RETURN(TrainConfig c, ResolveTrainConfig(raw));
//   SPAT_ASSIGN_OR_RETURN(TrainSummary s, Train(c, &std::cerr));
#ifndef SPAT_SPAT_TRAINER_H_
#define SPAT_SPAT_TRAINER_H_

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "spat/config.h"
#include "spat/config.pb.h"
#include "spat/run_state.h"

namespace spat {

// Whether the evaluation attack runs after epoch `epoch` (0-based): after
// every config.eval_every-th epoch and after the last two.
bool EvaluatesAfter(const TrainConfig& config, int epoch);

// The learning rate of step `step` (0-based) of epoch `epoch` (0-based) with
// `steps_per_epoch` steps, under o.lr_schedule (STEP: per epoch).
double LearningRate(const OptimizerConfig& o, int epoch, int64_t step = 0,
                    int64_t steps_per_epoch = 1);

// The inner attack's radius and step at step `step` (0-based) of epoch
// `epoch`, as a fraction of the configured ones: train_attack.ramp_epochs
// ramps them linearly from 0 (at the end of each step, like the one-cycle
// learning rate, so the first step's is not 0), then 1.
double AttackScale(const AttackConfig& a, int epoch, int64_t step, int64_t steps_per_epoch);

// The highest clean accuracy (percent) that still counts as chance: a model
// that predicts one class gets that class's share of the test images; chance
// is the largest class's share plus 5 points.
double ChanceAccuracy(const at::Tensor& test_labels, int64_t num_classes);

// A run recorded without the collapse check (before it existed, or resumed
// from such a run) may have trained on past a collapse: marks `summary`
// collapsed at the first epoch where its recorded curve shows what Train
// stops at under `config`, and returns whether it is collapsed. Reads the
// test labels of config's dataset for the chance level.
absl::StatusOr<bool> MarkCollapseOnCurve(const TrainConfig& config, TrainSummary* summary);

class Communicator;

// How a run takes part in data-parallel training, and what it hands back.
struct TrainRuntime {
  // Null or world size 1: one process. Otherwise every rank calls Train with
  // the same config: parameters and buffers start as rank 0's, each rank
  // trains on its share of every global batch of config.optimizer.batch_size
  // (the batch's contiguous slice r of W), gradients are averaged over the
  // global batch, rank 0 alone evaluates and writes DIR/*, and the epoch's
  // results are broadcast so that every rank returns the same summary.
  Communicator* comm = nullptr;
  // If set, receives the trained model's state dict (the model trained, not
  // SEAT's EMA).
  std::vector<std::pair<std::string, at::Tensor>>* final_state = nullptr;
};

// Runs training as configured (a resolved config); progress goes to `log`
// (may be null). With `resume`, continues from DIR/train_state.pt.
//
// A run that collapses or never starts stops there and is returned with
// summary.collapsed_epoch set (and recorded in DIR/metrics.json): a
// non-finite training loss (the checkpoint of the last finished epoch is
// kept), or clean accuracy at chance (ChanceAccuracy) on a per-epoch check
// once train_attack.ramp_epochs are over. Resuming a collapsed run returns
// its summary without training.
absl::StatusOr<TrainSummary> Train(const TrainConfig& config, std::ostream* log,
                                   bool resume = false, const TrainRuntime& runtime = {});

}  // namespace spat

#endif  // SPAT_SPAT_TRAINER_H_
