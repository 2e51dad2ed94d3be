#include "spat/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <unistd.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attacks/pgd.h"
#include "attacks/pgd_graphs.h"
#include "base/device.h"
#include "base/files.h"
#include "base/progress.h"
#include "base/status_macros.h"
#include "data/loader.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "spat/config.h"
#include "spat/distributed.h"
#include "spat/evaluation.h"
#include "spat/method.h"
#include "spat/sgd.h"

namespace spat {

bool EvaluatesAfter(const TrainConfig& c, int epoch) {
  const int done = epoch + 1;
  return done + 1 >= c.optimizer().epochs() || done % std::max(c.eval_every(), 1) == 0;
}

double LearningRate(const OptimizerConfig& o, int epoch, int64_t step, int64_t steps_per_epoch) {
  const double total = static_cast<double>(o.epochs()) * std::max<int64_t>(steps_per_epoch, 1);
  const double done = static_cast<double>(epoch) * std::max<int64_t>(steps_per_epoch, 1) + step;
  switch (o.lr_schedule()) {
    case OptimizerConfig::COSINE:
      return o.lr() * 0.5 * (1.0 + std::cos(M_PI * done / total));
    case OptimizerConfig::ONE_CYCLE: {
      // At the end of the step, as Wong et al.: the first step is not at 0.
      const double t = (done + 1) / total, w = o.warmup_fraction();
      return o.lr() * (t < w ? t / w : std::max(0.0, (1.0 - t) / (1.0 - w)));
    }
    default:
      break;
  }
  double lr = o.lr();
  for (double f : o.lr_milestones()) {
    // Milestone epoch ceil(f · epochs): 75 and 90 of 100 as in the paper;
    // a 2-epoch run keeps its learning rate.
    if (epoch >= static_cast<int>(std::ceil(f * o.epochs() - 1e-9))) lr *= o.lr_gamma();
  }
  return lr;
}

double AttackScale(const AttackConfig& a, int epoch, int64_t step, int64_t steps_per_epoch) {
  if (a.ramp_epochs() <= 0) return 1.0;
  const double per_epoch = static_cast<double>(std::max<int64_t>(steps_per_epoch, 1));
  const double done = epoch * per_epoch + step + 1;
  return std::min(1.0, done / (a.ramp_epochs() * per_epoch));
}

double ChanceAccuracy(const at::Tensor& test_labels, int64_t num_classes) {
  if (test_labels.numel() == 0) return 0.0;
  const at::Tensor counts = at::bincount(test_labels.to(at::kLong).flatten(), {}, num_classes);
  return 100.0 * counts.max().item<double>() / test_labels.numel() + 5.0;
}

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The model trained (and SEAT's ensemble beside it): NHWC conv weights when
// channels_last is set (config channels_last).
absl::StatusOr<std::shared_ptr<models::Classifier>> CreateTrainingModel(
    const models::ModelSpec& spec, bool channels_last) {
  SPAT_ASSIGN_OR_RETURN(std::shared_ptr<models::Classifier> model, models::CreateModel(spec));
  if (channels_last) models::ToChannelsLast(*model);
  return model;
}

// Who this process is in the run. The lead (rank 0) evaluates, logs and
// writes DIR/*; the others train their share of each batch and follow.
struct RunContext {
  Communicator* comm = nullptr;  // null: one process
  int rank = 0;
  int world = 1;
  std::ostream* log = nullptr;  // null on every rank but the lead
  bool lead() const { return rank == 0; }
};

RunContext MakeRunContext(std::ostream* log, const TrainRuntime& runtime) {
  RunContext rc;
  if (runtime.comm != nullptr && runtime.comm->world_size() > 1) {
    rc.comm = runtime.comm;
    rc.rank = rc.comm->rank();
    rc.world = rc.comm->world_size();
  }
  rc.log = rc.lead() ? log : nullptr;
  return rc;
}

// What a run trains with: data, model, method, optimizer, batch order and the
// attack's random stream, built in a fixed order (seeding included) so that
// the same config gives the same weights. Built in place (the loader refers
// to the training set).
struct Run {
  Run() = default;
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  data::Dataset train;
  data::Dataset test;
  models::ModelSpec spec;
  std::shared_ptr<models::Classifier> model;
  std::unique_ptr<TrainingMethod> method;
  std::unique_ptr<Sgd> opt;
  std::unique_ptr<data::BatchLoader> loader;
  MethodContext ctx;
  c10::Device device = c10::Device(c10::kCPU);
  std::unique_ptr<attacks::PgdGraphs> graphs;  // ctx.graphs on CUDA
  EvalPlan eval;  // the per-epoch evaluation (its seed is set per epoch)
  double chance = 0;  // ChanceAccuracy of the test set
};

MethodOptions MethodOptionsOf(const TrainConfig& c) {
  MethodOptions mo;
  const MethodConfig& m = c.method();
  mo.name = m.name();
  mo.lambda = m.lambda();
  mo.spat = {m.alpha(), m.beta(), m.lambda(), m.sp_acc(), m.sp_rob(), m.detach_gains()};
  mo.spat_attack_loss = m.spat_attack_loss();
  const AttackConfig& a = c.train_attack();
  mo.attack.epsilon = a.epsilon();
  mo.attack.step_size = a.step_size();
  mo.attack.num_steps = a.num_steps();
  mo.attack.norm = a.norm() == "l2" ? attacks::Norm::kL2 : attacks::Norm::kLinf;
  mo.attack.bf16 = c.bf16();
  mo.attack.clamp_start = a.clamp_start();
  // random_start = false: every method's inner attack starts at x.
  if (!a.random_start()) mo.attack.start = attacks::StartMode::kNone;
  return mo;
}

absl::Status BuildRun(const TrainConfig& c, const RunContext& rc, c10::Device device, Run& run) {
  run.device = device;
  data::DatasetSpec data_spec{c.dataset().name(), c.dataset().data_dir()};
  SPAT_ASSIGN_OR_RETURN(
      run.train, data::LoadDataset(data_spec, data::Split::kTrain, c.dataset().train_subset()));
  SPAT_ASSIGN_OR_RETURN(
      run.test, data::LoadDataset(data_spec, data::Split::kTest, c.dataset().test_subset()));

  models::ModelSpec& spec = run.spec;
  spec.name = c.model().name();
  spec.num_classes = run.train.num_classes;
  spec.in_channels = run.train.images.size(1);
  spec.image_size = run.train.images.size(2);
  spec.head = {c.model().head() == ModelConfig::NCE ? models::HeadType::kNce
                                                     : models::HeadType::kLinear,
               c.method().s(),
               c.model().prototype_init() == ModelConfig::NORMAL_0_01 ? 0.01 : 0.0};
  spec.init = c.model().init() == ModelConfig::TORCH_DEFAULT ? models::InitScheme::kTorchDefault
                                                             : models::InitScheme::kReference;
  torch::manual_seed(c.seed());  // initialization and dropout
  SPAT_ASSIGN_OR_RETURN(run.model, CreateTrainingModel(spec, c.channels_last()));
  run.model->to(device);  // initialized on the host: the same weights on every device
  // Other ranks draw their own dropout masks and attack starts.
  if (rc.rank > 0) torch::manual_seed(data::MixSeed(c.seed(), 0x72616e6bULL + rc.rank));

  MethodOptions mo = MethodOptionsOf(c);
  mo.make_model = [spec, nhwc = c.channels_last(), device]() {
    std::shared_ptr<models::Classifier> m = *CreateTrainingModel(spec, nhwc);
    m->to(device);
    return m;
  };
  SPAT_ASSIGN_OR_RETURN(run.method, MakeMethod(mo));
  run.opt = std::make_unique<Sgd>(
      run.model->named_parameters(),
      SgdOptions{c.optimizer().lr(), c.optimizer().momentum(), c.optimizer().weight_decay()});
  run.loader = std::make_unique<data::BatchLoader>(
      run.train, data::LoaderOptions{.batch_size = c.optimizer().batch_size(),
                                     .seed = c.seed(),
                                     .shuffle = true,
                                     .drop_last = false,
                                     .augment = c.dataset().augment(),
                                     .crop_padding = 4});
  run.ctx.num_epochs = c.optimizer().epochs();
  const uint64_t attack_seed = c.seed() ^ 0x5eed5eedULL;
  run.ctx.gen = at::detail::createCPUGenerator(
      rc.rank == 0 ? attack_seed : data::MixSeed(attack_seed, rc.rank));
  run.graphs = std::make_unique<attacks::PgdGraphs>(c.cuda_graphs());
  if (device.is_cuda()) run.ctx.graphs = run.graphs.get();
  run.chance = ChanceAccuracy(run.test.labels, run.test.num_classes);
  SPAT_ASSIGN_OR_RETURN(run.eval, PlanEvaluation(c.eval_attack(), run.test.num_classes, c.seed(),
                                                 device, c.cuda_graphs()));
  return absl::OkStatus();
}

// The run's state for --resume (RunDir::WriteResumeState).
ResumeState SaveResumeState(Run& run, int epochs_done) {
  ResumeState st;
  st.epochs_done = epochs_done;
  st.global_step = run.ctx.global_step;
  st.model = models::GetStateDict(*run.model);
  st.optimizer = run.opt->State();
  st.method = run.method->SaveState();
  st.rng_torch = at::detail::getDefaultCPUGenerator().get_state();
  st.rng_attack = run.ctx.gen.get_state();
  if (run.device.is_cuda()) st.rng_cuda = at::globalContext().defaultGenerator(run.device).get_state();
  return st;
}

// Puts `st` back into `run`; returns the first epoch still to train.
absl::StatusOr<int> RestoreResumeState(const ResumeState& st, const std::string& file, Run& run) {
  SPAT_RETURN_IF_ERROR(run.method->LoadState(st.method, file));
  SPAT_RETURN_IF_ERROR(models::ApplyStateDict(st.model, *run.model, {}, file));
  SPAT_RETURN_IF_ERROR(run.opt->LoadState(st.optimizer));
  run.ctx.global_step = st.global_step;
  if (st.rng_torch.defined()) {
    at::Generator g = at::detail::getDefaultCPUGenerator();
    g.set_state(st.rng_torch);
  }
  if (st.rng_attack.defined()) run.ctx.gen.set_state(st.rng_attack);
  // A CUDA run's dropout stream; a run resumed on the CPU has none.
  if (st.rng_cuda.defined() && run.device.is_cuda()) {
    at::Generator g = at::globalContext().defaultGenerator(run.device);
    g.set_state(st.rng_cuda);
  }
  return st.epochs_done;
}

// What metrics.json says of the per-epoch evaluation.
std::string EvalProtocol(const TrainConfig& c, const Run& run) {
  return absl::StrCat(run.eval.settings, "; on ",
                      c.dataset().test_subset() > 0
                          ? absl::StrCat("the first ", c.dataset().test_subset())
                          : std::string("all"),
                      " test images");
}

// After epoch `epoch` (0-based), the lead writes the run's files: checkpoint,
// then metrics, then the resumable state (RunDir's order).
absl::Status WriteEpoch(const TrainConfig& c, const RunDir& dir, Run& run,
                        const TrainSummary& summary, int epoch, int world) {
  SPAT_RETURN_IF_ERROR(
      models::SaveCheckpoint(run.method->EvalModel(*run.model), dir.checkpoint_path()));
  SPAT_RETURN_IF_ERROR(
      dir.WriteMetrics(c, summary, world, run.device.str(), EvalProtocol(c, run)));
  return dir.WriteResumeState(SaveResumeState(run, epoch + 1));
}

// Every rank starts from rank 0's parameters and buffers.
absl::Status StartFromRankZero(const RunContext& rc, Run& run) {
  if (rc.comm == nullptr) return absl::OkStatus();
  std::vector<at::Tensor> all = run.model->parameters();
  for (const at::Tensor& b : run.model->buffers()) all.push_back(b);
  return BroadcastFromRankZero(*rc.comm, all);
}

// What the log shows: the run's header, a progress line per batch, one line
// per epoch. Silent without a log (every rank but the lead).
class ProgressReporter {
 public:
  ProgressReporter(std::ostream* log, const TrainConfig& c, std::string eval_label)
      : log_(log), c_(c), label_(std::move(eval_label)),
        tty_(log == &std::cerr && ::isatty(2)) {}

  void Header(const RunContext& rc, const Run& run) const {
    if (log_ == nullptr) return;
    const int batch = c_.optimizer().batch_size();
    *log_ << absl::StrFormat(
        "training %s (%s head) with %s on %s: %d train / %d test images, %d epochs, "
        "batch %d, %d threads, on %s%s\n",
        run.spec.name, run.spec.head.type == models::HeadType::kNce ? "NCE" : "linear",
        c_.method().name(), c_.dataset().name(), run.train.size(), run.test.size(),
        c_.optimizer().epochs(), batch, c_.threads(), DeviceDescription(run.device, c_.device()),
        rc.world > 1 ? absl::StrCat(" per rank, ", rc.world, " ranks (", batch / rc.world,
                                    "+ images per rank and step)")
                     : "");
    if (c_.bf16()) {
      *log_ << "bf16: the inner attack's forward passes under bfloat16 autocast"
            << (attacks::CpuHasNativeBf16() ? "\n"
                                            : " (warning: this CPU lacks AVX512-BF16 and "
                                              "AMX; expect it slower than fp32)\n");
    }
  }

  void StartEpoch() {
    line_ = std::make_unique<ProgressLine>(log_, tty_);
    start_ = Clock::now();
  }

  // After batch b (0-based) of nb: seen images, mean loss so far.
  void Batch(int epoch, int64_t b, int64_t nb, int64_t seen, double loss_sum) {
    const double el = Seconds(start_, Clock::now());
    line_->Update(absl::StrFormat("epoch %d/%d %s %d/%d  %.0f img/s  loss %.4f  ETA %s ",
                                  epoch + 1, c_.optimizer().epochs(),
                                  ProgressBar(static_cast<double>(b + 1) / nb), b + 1, nb,
                                  seen / std::max(el, 1e-9), loss_sum / seen,
                                  Hms((nb - b - 1) * el / (b + 1))),
                  /*last=*/b + 1 == nb);
  }

  void Evaluating(bool evaluate) {
    line_->Finish();
    if (log_ != nullptr && evaluate) *log_ << "  evaluating..." << std::flush;
  }

  void EpochDone(const EpochRecord& r, double data_seconds) const {
    if (log_ == nullptr) return;
    const std::string accuracy =
        r.evaluated ? absl::StrFormat("clean %.2f%%  %s %.2f%%", r.clean, label_, r.pgd)
                    : absl::StrFormat("not evaluated (eval_every %d)", c_.eval_every());
    *log_ << absl::StrFormat(
        "\r  epoch %d: loss %.4f  %s  (%.1f s, %.0f img/s, data loading %.1f%%)\n", r.epoch,
        r.loss, accuracy, r.seconds, r.img_per_s, 100 * data_seconds / std::max(r.seconds, 1e-9));
  }

 private:
  std::ostream* log_;
  const TrainConfig& c_;
  std::string label_;  // the evaluation attack, e.g. "pgd-20"
  bool tty_;
  std::unique_ptr<ProgressLine> line_;
  Clock::time_point start_;
};

// One epoch of training: per batch, this rank's share, the method's loss,
// backward, gradients averaged over the ranks, an SGD step.
struct EpochStats {
  double loss_sum = 0;  // over the examples of every rank
  int64_t seen = 0;
  double seconds = 0;
  double data_seconds = 0;  // batch assembly and augmentation
  int64_t steps = 0;        // batches (optimizer steps) per epoch
  // Set where the loss became non-finite (training of the epoch stopped):
  // why, for TrainSummary::collapse_reason.
  std::string non_finite;
};

absl::StatusOr<EpochStats> TrainEpoch(const TrainConfig& c, const RunContext& rc, Run& run,
                                      int epoch, ProgressReporter& progress) {
  run.ctx.epoch = epoch;
  run.loader->StartEpoch(epoch);
  // Floating buffers (BatchNorm statistics) follow rank 0 before every step,
  // as torch's DistributedDataParallel does: the attack runs in eval mode.
  std::vector<at::Tensor> float_buffers;
  for (const at::Tensor& b : run.model->buffers()) {
    if (b.is_floating_point()) float_buffers.push_back(b);
  }
  EpochStats s;
  progress.StartEpoch();
  const Clock::time_point t0 = Clock::now();
  const int64_t nb = run.loader->num_batches();
  s.steps = nb;
  for (int64_t b = 0; b < nb; ++b) {
    run.opt->set_lr(LearningRate(c.optimizer(), epoch, b, nb));
    run.ctx.attack_scale = AttackScale(c.train_attack(), epoch, b, nb);
    // A CUDA graph holds the radius it was captured with: eager while it ramps.
    run.ctx.graphs = run.device.is_cuda() && run.ctx.attack_scale >= 1.0 ? run.graphs.get()
                                                                         : nullptr;
    const Clock::time_point before_data = Clock::now();
    data::Batch batch = run.loader->Get(b);
    s.data_seconds += Seconds(before_data, Clock::now());
    if (rc.comm != nullptr) {
      // This rank's contiguous share of the global batch.
      const int64_t len = batch.y.size(0);
      const int64_t lo = len * rc.rank / rc.world, hi = len * (rc.rank + 1) / rc.world;
      batch.x = batch.x.narrow(0, lo, hi - lo);
      batch.y = batch.y.narrow(0, lo, hi - lo);
      if (!float_buffers.empty()) {
        SPAT_RETURN_IF_ERROR(BroadcastFromRankZero(*rc.comm, float_buffers));
      }
    }
    batch.x = ToDevice(batch.x, run.device);
    batch.y = ToDevice(batch.y, run.device);
    int64_t n = batch.y.size(0);
    run.opt->ZeroGrad();
    double lv = 0;
    if (n > 0) {
      at::Tensor loss = run.method->Loss(*run.model, batch.x, batch.y, run.ctx);
      lv = loss.item<double>();
      if (!std::isfinite(lv)) {
        s.non_finite = absl::StrFormat("the training loss became %f at batch %d of epoch %d",
                                       lv, b + 1, epoch + 1);
        break;
      }
      loss.backward();
    }
    double batch_loss_sum = lv * n;
    if (rc.comm != nullptr) {
      SPAT_RETURN_IF_ERROR(AverageGradients(*rc.comm, run.model->parameters(), &batch_loss_sum, &n));
    }
    run.opt->Step();
    ++run.ctx.global_step;
    run.method->AfterStep(*run.model, run.ctx);
    s.loss_sum += batch_loss_sum;
    s.seen += n;
    progress.Batch(epoch, b, nb, s.seen, s.loss_sum);
  }
  s.seconds = Seconds(t0, Clock::now());
  return s;
}

// The lead evaluates the epoch's model (SEAT: its ensemble); the other ranks
// get its result from ShareEvaluation.
EvalResult EvaluateEpoch(const TrainConfig& c, const RunContext& rc, Run& run, int epoch) {
  if (!rc.lead()) return {};
  run.eval.options.seed = c.seed() + 1000 + epoch;
  return Evaluate(run.method->EvalModel(*run.model), run.test, run.eval);
}

// Every rank takes the lead's evaluation of the epoch (after the lead wrote
// DIR/*).
absl::Status ShareEvaluation(const RunContext& rc, TrainSummary* summary) {
  EpochRecord& r = summary->epochs.back();
  if (rc.comm == nullptr || !r.evaluated) return absl::OkStatus();
  std::vector<double> v = {r.clean, r.pgd};
  SPAT_RETURN_IF_ERROR(BroadcastValues(*rc.comm, &v));
  r.clean = summary->clean_accuracy = v[0];
  r.pgd = summary->pgd_accuracy = v[1];
  return absl::OkStatus();
}

// `ev`: null where the epoch was not evaluated (eval_every).
void AddEpoch(const TrainConfig& c, int epoch, const EpochStats& stats, const EvalResult* ev,
              TrainSummary* summary) {
  summary->epochs.push_back({epoch + 1, stats.loss_sum / std::max<int64_t>(stats.seen, 1),
                             ev != nullptr ? ev->clean : 0, ev != nullptr ? ev->adversarial : 0,
                             stats.seen / std::max(stats.seconds, 1e-9), stats.seconds,
                             LearningRate(c.optimizer(), epoch, 0, stats.steps), ev != nullptr});
  if (ev == nullptr) return;
  summary->clean_accuracy = ev->clean;
  summary->pgd_accuracy = ev->adversarial;
}

// What Train refuses before it starts.
absl::Status CheckRunnable(const TrainConfig& c, int world) {
  if (c.optimizer().batch_size() < world) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch_size=", c.optimizer().batch_size(), " is the global batch and must be at "
        "least WORLD_SIZE=", world, " (each rank trains on its share of it)"));
  }
  absl::StatusOr<c10::Device> device = ResolveDevice(c.device());
  if (!device.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("device: ", device.status().message()));
  }
  if (c.out_dir().empty()) return absl::InvalidArgumentError("--out_dir is required");
  if (c.bf16() && device->is_cpu() && !attacks::CpuBf16Supported()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--bf16: ", attacks::kNoCpuBf16, "; train without --bf16"));
  }
  return absl::OkStatus();
}

// Why the epoch's check finds the model at chance, once the radius has
// stopped ramping; empty if it does not (or the epoch was not evaluated).
std::string AtChance(const TrainConfig& c, double chance, const EpochRecord& r) {
  if (!c.stop_at_chance() || !r.evaluated || r.epoch < c.train_attack().ramp_epochs() ||
      r.clean > chance) {
    return "";
  }
  return absl::StrFormat(
      "clean accuracy %.2f%% after epoch %d is at chance (at most %.2f%%: the largest class's "
      "share of the test images plus 5 points)",
      r.clean, r.epoch, chance);
}

// Records the collapse in DIR/metrics.json (the checkpoint of the last
// finished epoch stays) and ends the run with it.
absl::StatusOr<TrainSummary> StopCollapsed(const TrainConfig& c, const RunDir& dir, Run& run,
                                           const RunContext& rc, int epoch, std::string why,
                                           TrainSummary summary) {
  summary.collapsed_epoch = epoch;
  summary.collapse_reason = std::move(why);
  if (rc.log) {
    *rc.log << "the run collapsed: " << summary.collapse_reason << "; training stops (recorded in "
            << dir.metrics_path() << ")\n";
  }
  if (rc.lead()) {
    SPAT_RETURN_IF_ERROR(
        dir.WriteMetrics(c, summary, rc.world, run.device.str(), EvalProtocol(c, run)));
  }
  return summary;
}

}  // namespace

absl::StatusOr<bool> MarkCollapseOnCurve(const TrainConfig& c, TrainSummary* summary) {
  if (summary->collapsed() || !c.stop_at_chance()) return summary->collapsed();
  double chance = summary->chance_accuracy;
  if (chance <= 0) {  // not recorded: from the test labels
    const data::DatasetSpec spec{c.dataset().name(), c.dataset().data_dir()};
    absl::StatusOr<data::Dataset> test =
        data::LoadDataset(spec, data::Split::kTest, c.dataset().test_subset());
    if (!test.ok()) {
      return absl::Status(test.status().code(),
                          absl::StrCat("the chance level of ", c.out_dir(),
                                       " (its metrics.json does not record it): ",
                                       test.status().message()));
    }
    chance = ChanceAccuracy(test->labels, test->num_classes);
  }
  for (const EpochRecord& e : summary->epochs) {
    const std::string why = AtChance(c, chance, e);
    if (why.empty()) continue;
    summary->collapsed_epoch = e.epoch;
    summary->collapse_reason =
        absl::StrCat(why, "; seen on its recorded curve (it trained on to epoch ",
                     summary->epochs.back().epoch, ")");
    return true;
  }
  return false;
}

absl::StatusOr<TrainSummary> Train(const TrainConfig& c, std::ostream* log, bool resume,
                                   const TrainRuntime& runtime) {
  const RunContext rc = MakeRunContext(log, runtime);
  SPAT_RETURN_IF_ERROR(CheckRunnable(c, rc.world));
  if (absl::Status st = rc.lead() ? MakeDirs(c.out_dir()) : absl::OkStatus(); !st.ok()) {
    return absl::Status(st.code(), absl::StrCat("--out_dir: ", st.message()));
  }
  at::set_num_threads(c.threads());
  SPAT_ASSIGN_OR_RETURN(const c10::Device device, ResolveDevice(c.device()));
  Run run;
  SPAT_RETURN_IF_ERROR(BuildRun(c, rc, device, run));

  const RunDir dir(c.out_dir());
  if (resume) SPAT_RETURN_IF_ERROR(dir.CheckResumable(c));
  if (rc.lead()) SPAT_RETURN_IF_ERROR(dir.WriteConfig(c));
  TrainSummary summary;
  summary.chance_accuracy = run.chance;
  int first_epoch = 0;
  if (resume) {
    if (absl::StatusOr<TrainSummary> before = dir.ReadSummary(); before.ok() && before->collapsed()) {
      if (rc.log) {
        *rc.log << c.out_dir() << " collapsed at epoch " << before->collapsed_epoch << " ("
                << before->collapse_reason << "); nothing to resume\n";
      }
      return *before;
    }
    SPAT_ASSIGN_OR_RETURN(const ResumeState st, dir.ReadResumeState(&summary));
    SPAT_ASSIGN_OR_RETURN(first_epoch, RestoreResumeState(st, dir.state_path(), run));
    if (rc.log) *rc.log << "resuming " << c.out_dir() << " after epoch " << first_epoch << "\n";
  }
  SPAT_RETURN_IF_ERROR(StartFromRankZero(rc, run));

  ProgressReporter progress(rc.log, c, run.eval.label);
  progress.Header(rc, run);
  for (int epoch = first_epoch; epoch < c.optimizer().epochs(); ++epoch) {
    SPAT_ASSIGN_OR_RETURN(EpochStats stats, TrainEpoch(c, rc, run, epoch, progress));
    if (!stats.non_finite.empty()) {
      progress.Evaluating(false);
      return StopCollapsed(c, dir, run, rc, epoch + 1, stats.non_finite, std::move(summary));
    }
    const bool evaluate = EvaluatesAfter(c, epoch);
    progress.Evaluating(evaluate);
    const EvalResult ev = evaluate ? EvaluateEpoch(c, rc, run, epoch) : EvalResult{};
    AddEpoch(c, epoch, stats, evaluate ? &ev : nullptr, &summary);
    progress.EpochDone(summary.epochs.back(), stats.data_seconds);
    if (rc.lead()) SPAT_RETURN_IF_ERROR(WriteEpoch(c, dir, run, summary, epoch, rc.world));
    SPAT_RETURN_IF_ERROR(ShareEvaluation(rc, &summary));
    if (std::string why = AtChance(c, run.chance, summary.epochs.back()); !why.empty()) {
      return StopCollapsed(c, dir, run, rc, epoch + 1, why, std::move(summary));
    }
  }
  if (runtime.final_state != nullptr) *runtime.final_state = models::GetStateDict(*run.model);
  return summary;
}

}  // namespace spat
