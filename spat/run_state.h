// A training run's folder, the one owner of its files, its identity and its
// finished results:
//
//   DIR/config.textproto  the resolved TrainConfig the run was started with
//   DIR/checkpoint.pt     the evaluated model after the last finished epoch
//                         (a state dict torch.load reads)
//   DIR/metrics.json      TrainMetrics (spat/metrics.proto) in protobuf's JSON:
//                         one record per finished epoch, the final accuracies
//   DIR/train_state.pt    what --resume needs: model, optimizer, method state,
//                         RNG streams, epochs done
//
// Each file is replaced atomically, after every epoch in the order
// checkpoint, metrics, train_state: a kill loses at most the epoch in
// progress, and a run whose metrics list every epoch has its final
// checkpoint.
//
//   RunDir run(config.out_dir());
//   absl::StatusOr<TrainSummary> done = run.Finished(config);  // reuse if OK
#ifndef SPAT_SPAT_RUN_STATE_H_
#define SPAT_SPAT_RUN_STATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "models/checkpoint.h"
#include "spat/config.pb.h"

namespace spat {

struct EpochRecord {
  int epoch = 0;  // 1-based
  double loss = 0;
  double clean = 0;  // percent
  double pgd = 0;    // percent, under the evaluation attack
  double img_per_s = 0;
  double seconds = 0;
  double lr = 0;
  // False where config eval_every skipped the epoch's evaluation (clean and
  // pgd are then 0 and absent from metrics.json).
  bool evaluated = true;
};

struct TrainSummary {
  std::vector<EpochRecord> epochs;
  double clean_accuracy = 0;  // of the last evaluated epoch
  double pgd_accuracy = 0;
  // Nonzero: the run collapsed or never started, seen after this 1-based
  // epoch (training stopped there), for `collapse_reason`.
  int collapsed_epoch = 0;
  std::string collapse_reason;
  bool collapsed() const { return collapsed_epoch > 0; }
  // ChanceAccuracy of the run's per-epoch test images; 0: not recorded (runs
  // written before it was).
  double chance_accuracy = 0;
  double seconds() const;     // training time, summed over the epochs
};

// What may differ between the recorded config of a run and a config that
// continues it. Never: anything that changes what is computed. Always: where
// and how it runs (out_dir, dataset.data_dir, threads, device, cuda_graphs).
enum class SameRun {
  kExactly,        // the same number of epochs (a finished run is reused)
  kMoreEpochsOk,   // `now` may train more epochs (--resume extends a run)
};

// OK if `now` is the run recorded as `before` under `rule`; otherwise
// FailedPrecondition listing the differing fields.
absl::Status CheckSameRun(const TrainConfig& before, const TrainConfig& now, SameRun rule);

// The resumable state of train_state.pt beyond the epoch records.
struct ResumeState {
  int epochs_done = 0;
  int64_t global_step = 0;
  models::StateDict model;      // the trained model (not SEAT's ensemble)
  models::StateDict optimizer;  // Sgd::State()
  models::StateDict method;     // TrainingMethod::SaveState()
  at::Tensor rng_torch;         // the default CPU generator
  at::Tensor rng_attack;        // the inner attacks' generator
  at::Tensor rng_cuda;          // a CUDA run's default generator (else undefined)
};

class RunDir {
 public:
  explicit RunDir(std::string dir);

  const std::string& dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/config.textproto"; }
  std::string checkpoint_path() const { return dir_ + "/checkpoint.pt"; }
  std::string metrics_path() const { return dir_ + "/metrics.json"; }
  std::string state_path() const { return dir_ + "/train_state.pt"; }

  absl::StatusOr<TrainConfig> ReadConfig() const;  // NotFound if absent
  absl::Status WriteConfig(const TrainConfig& config) const;

  // The epochs recorded in metrics.json (NotFound if absent, DataLoss if it
  // does not parse).
  absl::StatusOr<TrainSummary> ReadSummary() const;
  // metrics.json for `summary`; eval_protocol describes the evaluation
  // attack, device where it ran.
  absl::Status WriteMetrics(const TrainConfig& config, const TrainSummary& summary,
                            int world_size, const std::string& device,
                            const std::string& eval_protocol) const;

  bool HasResumeState() const;
  absl::Status WriteResumeState(const ResumeState& state) const;
  // The state and the epochs finished so far (from metrics.json, or from a
  // train_state.pt written by an earlier version, which held them).
  absl::StatusOr<ResumeState> ReadResumeState(TrainSummary* summary) const;

  // --resume of `config` here: the recorded config (if any) must be the same
  // run, more epochs allowed.
  absl::Status CheckResumable(const TrainConfig& config) const;
  // OK with the summary if this folder holds a finished run of `config`:
  // the same run, every epoch in metrics.json. NotFound otherwise.
  absl::StatusOr<TrainSummary> Finished(const TrainConfig& config) const;
  // True if a run of `config` was started here and can be continued.
  bool Resumable(const TrainConfig& config) const;

 private:
  std::string dir_;
};

}  // namespace spat

#endif  // SPAT_SPAT_RUN_STATE_H_
