// The training loop shared by every method: seeded data order, SGD with the
// paper's step schedule, per-epoch clean and PGD test accuracy, a progress
// line, and after every epoch an atomic write of
//
//   DIR/checkpoint.pt   the evaluated model's state dict (torch.load-able)
//   DIR/metrics.json    final clean/PGD accuracy, one record per epoch, config
//   DIR/train_state.pt  optimizer, RNG and epoch, for --resume
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
#include <c10/core/Device.h>

#include "absl/status/statusor.h"
#include "attacks/pgd_graphs.h"
#include "data/dataset.h"
#include "models/classifier.h"
#include "spat/config.pb.h"

namespace spat {

struct EpochRecord {
  int epoch = 0;  // 1-based
  double loss = 0;
  double clean = 0;  // percent
  double pgd = 0;    // percent
  double img_per_s = 0;
  double seconds = 0;
  double lr = 0;
};

struct TrainSummary {
  std::vector<EpochRecord> epochs;
  double clean_accuracy = 0;
  double pgd_accuracy = 0;
};

// Validates `raw` and fills what the user left to defaults: the method's
// lambda, the head (NCE for SPAT with use_nce), the evaluation attack
// (PGD-20, CE, epsilon of training, step epsilon/10), the LR milestones
// (0.75, 0.9), the thread count.
absl::StatusOr<TrainConfig> ResolveTrainConfig(const TrainConfig& raw);

// Accuracy (percent) of `model` (eval mode) on clean inputs and under
// `attack` (PGD with its loss), over `data` in batches.
struct EvalResult {
  double clean = 0;
  double adversarial = 0;
};
// The model must be on `device`; `data` stays on the host and is sent over
// batch by batch. `graphs` (optional): the attack as CUDA graphs on CUDA.
EvalResult EvaluateRobustness(models::Classifier& model, const data::Dataset& data,
                              const AttackConfig& attack, int64_t batch_size,
                              uint64_t seed, c10::Device device = c10::Device(c10::kCPU),
                              attacks::PgdGraphs* graphs = nullptr);

// The learning rate of epoch `epoch` (0-based) under the step schedule.
double LearningRate(const OptimizerConfig& o, int epoch);

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
