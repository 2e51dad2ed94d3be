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
absl::StatusOr<TrainSummary> Train(const TrainConfig& config, std::ostream* log,
                                   bool resume = false, const TrainRuntime& runtime = {});

}  // namespace spat

#endif  // SPAT_SPAT_TRAINER_H_
