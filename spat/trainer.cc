#include "spat/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <unistd.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "attacks/adv_losses.h"
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
#include "spat/method.h"
#include "spat/metrics.pb.h"
#include "spat/sgd.h"

namespace spat {

absl::StatusOr<TrainConfig> ResolveTrainConfig(const TrainConfig& raw) {
  SPAT_RETURN_IF_ERROR(ValidateTrainConfig(raw));
  TrainConfig c = raw;
  MethodConfig* m = c.mutable_method();
  if (!m->has_lambda()) m->set_lambda(DefaultLambda(m->name()));
  if (c.model().head() == ModelConfig::HEAD_DEFAULT) {
    c.mutable_model()->set_head(m->name() == "spat" && m->use_nce() ? ModelConfig::NCE
                                                                      : ModelConfig::LINEAR);
  }
  AttackConfig* ev = c.mutable_eval_attack();
  if (!raw.has_eval_attack() || !raw.eval_attack().has_epsilon()) {
    ev->set_epsilon(c.train_attack().epsilon());
  }
  if (!raw.eval_attack().has_step_size()) ev->set_step_size(ev->epsilon() / 10.0);
  if (!raw.eval_attack().has_num_steps()) ev->set_num_steps(20);
  if (c.optimizer().lr_milestones_size() == 0) {
    c.mutable_optimizer()->add_lr_milestones(0.75);
    c.mutable_optimizer()->add_lr_milestones(0.9);
  }
  if (c.threads() == 0) {
    c.set_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }
  SPAT_RETURN_IF_ERROR(ValidateTrainConfig(c));
  return c;
}

double LearningRate(const OptimizerConfig& o, int epoch) {
  double lr = o.lr();
  for (double f : o.lr_milestones()) {
    // Milestone epoch ceil(f · epochs): 75 and 90 of 100 as in the paper;
    // a 2-epoch run keeps its learning rate.
    if (epoch >= static_cast<int>(std::ceil(f * o.epochs() - 1e-9))) lr *= o.lr_gamma();
  }
  return lr;
}

EvalResult EvaluateRobustness(models::Classifier& model, const data::Dataset& data,
                              const AttackConfig& attack, int64_t batch_size,
                              uint64_t seed, c10::Device device, attacks::PgdGraphs* graphs) {
  model.eval();
  attacks::PgdOptions o;
  o.epsilon = attack.epsilon();
  o.step_size = attack.step_size();
  o.num_steps = attack.num_steps();
  o.norm = attack.norm() == "l2" ? attacks::Norm::kL2 : attacks::Norm::kLinf;
  o.start = attack.random_start() ? attacks::StartMode::kUniform : attacks::StartMode::kNone;
  o.momentum = attack.name() == "mim" ? 1.0 : 0.0;
  const std::string loss = attack.name() == "cw" ? "cw" : attack.loss();
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const at::TensorOptions counts = at::TensorOptions(at::kLong).device(device);
  at::Tensor clean_correct = at::zeros({}, counts);
  at::Tensor adv_correct = at::zeros({}, counts);
  const attacks::ForwardFn forward = [&model](const at::Tensor& t) { return model.forward(t); };
  const attacks::TargetLossFn per_example = [&loss](const at::Tensor& z, const at::Tensor& t) {
    if (loss == "cw") return attacks::CwMarginLoss(z, t);
    if (loss == "dlr") return attacks::DlrLoss(z, t);
    return attacks::CrossEntropyPerExample(z, t);
  };
  const std::string key = absl::StrCat("eval@", reinterpret_cast<uintptr_t>(&model));
  const int64_t n = data.size();
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t len = std::min(batch_size, n - start);
    at::Tensor x = ToDevice(data.images.narrow(0, start, len), device);
    at::Tensor y = ToDevice(data.labels.narrow(0, start, len), device);
    {
      at::NoGradGuard no_grad;
      clean_correct += model.forward(x).argmax(1).eq(y).sum();
    }
    at::Tensor adv = attacks::RunPgd(graphs, key, forward, x, y, per_example, o, gen);
    at::NoGradGuard no_grad;
    adv_correct += model.forward(adv).argmax(1).eq(y).sum();
  }
  return {100.0 * clean_correct.item<int64_t>() / std::max<int64_t>(n, 1),
          100.0 * adv_correct.item<int64_t>() / std::max<int64_t>(n, 1)};
}

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// OK if `path` is absent (a run from before config.textproto was written) or
// holds `c` up to out_dir, threads, device, cuda_graphs, the dataset's folder
// and the number of epochs (a run may be extended, or continue on another
// device or machine); otherwise FailedPrecondition naming the differing
// fields.
absl::Status CheckResumable(const TrainConfig& c, const std::string& path) {
  if (!PathExists(path)) return absl::OkStatus();
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  TrainConfig before;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &before)) {
    return absl::DataLossError(absl::StrCat("cannot resume: ", path, " does not parse"));
  }
  TrainConfig now = c;
  for (TrainConfig* x : {&before, &now}) {
    x->clear_out_dir();
    x->clear_threads();
    x->clear_device();
    x->clear_cuda_graphs();
    x->mutable_dataset()->clear_data_dir();
    x->mutable_optimizer()->clear_epochs();
  }
  google::protobuf::util::MessageDifferencer diff;
  std::string report;
  diff.ReportDifferencesToString(&report);
  if (diff.Compare(before, now)) return absl::OkStatus();
  absl::StrReplaceAll({{"\n", "; "}}, &report);
  return absl::FailedPreconditionError(absl::StrCat(
      "cannot resume: the run in ", c.out_dir(), " was started with a different configuration (",
      path, " vs now: ", report, "); use a new --out_dir or the original settings"));
}

// Overwrites every rank's copy of `tensors` with rank 0's: floating tensors in
// one broadcast of a flat buffer, others one by one.
absl::Status BroadcastFromRankZero(Communicator& comm, const std::vector<at::Tensor>& tensors) {
  std::vector<at::Tensor> floats, others;
  for (const at::Tensor& t : tensors) {
    (t.is_floating_point() ? floats : others).push_back(t);
  }
  if (!floats.empty()) {
    std::vector<at::Tensor> parts;
    for (const at::Tensor& t : floats) parts.push_back(t.detach().reshape(-1).to(at::kFloat));
    std::vector<at::Tensor> flat{at::cat(parts)};
    SPAT_RETURN_IF_ERROR(comm.Broadcast(flat));
    int64_t offset = 0;
    at::NoGradGuard no_grad;
    for (const at::Tensor& t : floats) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
  for (const at::Tensor& t : others) {
    std::vector<at::Tensor> one{t.contiguous()};
    SPAT_RETURN_IF_ERROR(comm.Broadcast(one));
    t.copy_(one[0]);
  }
  return absl::OkStatus();
}

// Rank 0's evaluation of the epoch, on every rank (rank 0 sends, the others
// receive).
absl::Status ShareEvalResult(Communicator& comm, EvalResult* ev) {
  std::vector<at::Tensor> one{at::tensor({ev->clean, ev->adversarial}, at::kDouble)};
  SPAT_RETURN_IF_ERROR(comm.Broadcast(one));
  ev->clean = one[0][0].item<double>();
  ev->adversarial = one[0][1].item<double>();
  return absl::OkStatus();
}

// Replaces every parameter's gradient (a mean over this rank's `n_local`
// examples) by the mean over the global batch, and *loss_sum (this rank's sum
// of per-example losses) by the global sum; *n becomes the global count. One
// all-reduce.
absl::Status AverageGradients(Communicator& comm, models::Classifier& model, double* loss_sum,
                              int64_t* n) {
  std::vector<at::Tensor> params = model.parameters();
  std::vector<at::Tensor> parts;
  parts.reserve(params.size() + 1);
  for (at::Tensor& p : params) {
    const at::Tensor& g = p.grad();
    parts.push_back(g.defined() && *n > 0 ? g.reshape(-1) * static_cast<double>(*n)
                                          : at::zeros({p.numel()}, p.options()));
  }
  parts.push_back(at::tensor({static_cast<float>(*loss_sum), static_cast<float>(*n)})
                      .to(params.front().device()));
  at::Tensor flat = at::cat(parts);
  SPAT_RETURN_IF_ERROR(comm.AllReduceSum(flat));
  const int64_t total = static_cast<int64_t>(std::llround(flat[-1].item<double>()));
  *loss_sum = flat[-2].item<double>();
  *n = total;
  int64_t offset = 0;
  at::NoGradGuard no_grad;
  for (at::Tensor& p : params) {
    at::Tensor mean = flat.narrow(0, offset, p.numel()).view(p.sizes()) / static_cast<double>(total);
    if (p.grad().defined()) {
      p.mutable_grad().copy_(mean);
    } else {
      p.mutable_grad() = mean.clone();
    }
    offset += p.numel();
  }
  return absl::OkStatus();
}

// The model trained (and SEAT's ensemble beside it): NHWC conv weights when
// channels_last is set (config channels_last).
absl::StatusOr<std::shared_ptr<models::Classifier>> CreateTrainingModel(
    const models::ModelSpec& spec, bool channels_last) {
  SPAT_ASSIGN_OR_RETURN(std::shared_ptr<models::Classifier> model, models::CreateModel(spec));
  if (channels_last) models::ToChannelsLast(*model);
  return model;
}

bool CpuHasAvx512Bf16() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) == 0) return line.find("avx512_bf16") != std::string::npos;
  }
  return false;
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
};

MethodOptions MethodOptionsOf(const TrainConfig& c) {
  MethodOptions mo;
  const MethodConfig& m = c.method();
  mo.name = m.name();
  mo.lambda = m.lambda();
  mo.spat = {m.alpha(), m.beta(), m.lambda(), m.sp_acc(), m.sp_rob(), m.detach_gains()};
  const AttackConfig& a = c.train_attack();
  mo.attack.epsilon = a.epsilon();
  mo.attack.step_size = a.step_size();
  mo.attack.num_steps = a.num_steps();
  mo.attack.norm = a.norm() == "l2" ? attacks::Norm::kL2 : attacks::Norm::kLinf;
  mo.attack.bf16 = c.bf16();
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
               c.method().s()};
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
  return absl::OkStatus();
}

// DIR/metrics.json as a proto (spat/metrics.proto), printed by protobuf.
std::string MetricsJson(const TrainConfig& c, const TrainSummary& s, int world_size,
                        c10::Device device) {
  TrainMetrics m;
  m.set_clean_accuracy(s.clean_accuracy);
  m.set_pgd_accuracy(s.pgd_accuracy);
  for (const EpochRecord& e : s.epochs) {
    EpochMetrics* r = m.add_epochs();
    r->set_epoch(e.epoch);
    r->set_loss(e.loss);
    r->set_clean(e.clean);
    r->set_pgd(e.pgd);
    r->set_img_per_s(e.img_per_s);
    r->set_seconds(e.seconds);
    r->set_lr(e.lr);
  }
  const AttackConfig& a = c.eval_attack();
  m.set_eval_protocol(absl::StrFormat(
      "%s-%d (%s loss, %s, eps %g, step %g, random start) on %s test images", a.name(),
      a.num_steps(), a.loss(), a.norm(), a.epsilon(), a.step_size(),
      c.dataset().test_subset() > 0 ? absl::StrCat("the first ", c.dataset().test_subset())
                                    : std::string("all")));
  m.set_world_size(world_size);
  m.set_threads(c.threads());
  m.set_device(device.str());
  *m.mutable_config() = c;
  google::protobuf::util::JsonPrintOptions opts;
  opts.add_whitespace = true;
  opts.always_print_primitive_fields = true;
  opts.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(m, &json, opts);
  return json;
}

// The files of a run in DIR: config.textproto (what the run was started
// with), checkpoint.pt (the evaluated model), train_state.pt (what --resume
// needs) and metrics.json; each written atomically, the lead's alone.
class RunFiles {
 public:
  explicit RunFiles(const TrainConfig& c)
      : c_(c),
        config_(c.out_dir() + "/config.textproto"),
        checkpoint_(c.out_dir() + "/checkpoint.pt"),
        state_(c.out_dir() + "/train_state.pt"),
        metrics_(c.out_dir() + "/metrics.json") {}

  // --resume must not silently continue a run with other hyper-parameters.
  absl::Status CheckResumable() const { return ::spat::CheckResumable(c_, config_); }

  absl::Status WriteConfig() const {
    std::string text;
    google::protobuf::TextFormat::PrintToString(c_, &text);
    return WriteFileAtomically(config_, text);
  }

  // Restores model, optimizer, method state, RNG streams and the epochs so
  // far from train_state.pt; returns the first epoch still to train.
  absl::StatusOr<int> Restore(Run& run, TrainSummary* summary) const {
    absl::StatusOr<models::StateDict> st = models::LoadStateDict(state_);
    if (!st.ok()) {
      return absl::Status(st.status().code(),
                          absl::StrCat("cannot resume: ", st.status().message()));
    }
    int first_epoch = 0;
    models::StateDict model_state, opt_state, method_state, epochs;
    for (auto& [k, t] : *st) {
      if (absl::StartsWith(k, "model.")) model_state.emplace_back(k.substr(6), t);
      else if (absl::StartsWith(k, "momentum.")) opt_state.emplace_back(k, t);
      else if (k == "meta.epoch") first_epoch = static_cast<int>(t.item<int64_t>());
      else if (k == "meta.global_step") run.ctx.global_step = t.item<int64_t>();
      else if (k == "rng.torch") { at::Generator g = at::detail::getDefaultCPUGenerator(); g.set_state(t); }
      else if (k == "rng.attack") run.ctx.gen.set_state(t);
      else if (k == "rng.cuda") {
        // A CUDA run's dropout stream; a run resumed on the CPU has none.
        if (run.device.is_cuda()) {
          at::Generator g = at::globalContext().defaultGenerator(run.device);
          g.set_state(t);
        }
      }
      else if (absl::StartsWith(k, "epoch.")) epochs.emplace_back(k, t);
      else if (absl::StartsWith(k, "method.")) method_state.emplace_back(k.substr(7), t);
      else return absl::InvalidArgumentError(absl::StrCat(state_, ": unknown entry '", k, "'"));
    }
    SPAT_RETURN_IF_ERROR(run.method->LoadState(method_state, state_));
    SPAT_RETURN_IF_ERROR(models::ApplyStateDict(model_state, *run.model, {}, state_));
    SPAT_RETURN_IF_ERROR(run.opt->LoadState(opt_state));
    for (const auto& [k, t] : epochs) {
      // epoch.<i>: [loss, clean, pgd, img_per_s, seconds, lr]
      at::Tensor v = t.to(at::kDouble);
      summary->epochs.push_back({std::stoi(k.substr(6)), v[0].item<double>(),
                                 v[1].item<double>(), v[2].item<double>(), v[3].item<double>(),
                                 v[4].item<double>(), v[5].item<double>()});
    }
    std::sort(summary->epochs.begin(), summary->epochs.end(),
              [](const EpochRecord& a, const EpochRecord& b) { return a.epoch < b.epoch; });
    if (!summary->epochs.empty()) {
      summary->clean_accuracy = summary->epochs.back().clean;
      summary->pgd_accuracy = summary->epochs.back().pgd;
    }
    return first_epoch;
  }

  // After epoch `epoch` (0-based): checkpoint, then resumable state, then
  // metrics, so that a kill between two writes loses at most this epoch.
  absl::Status Write(Run& run, const TrainSummary& summary, int epoch, int world) const {
    SPAT_RETURN_IF_ERROR(models::SaveCheckpoint(run.method->EvalModel(*run.model), checkpoint_));
    models::StateDict state;
    for (auto& [k, t] : models::GetStateDict(*run.model)) state.emplace_back("model." + k, t);
    for (auto& kv : run.opt->State()) state.push_back(kv);
    for (auto& [k, t] : run.method->SaveState()) state.emplace_back("method." + k, t);
    state.emplace_back("meta.epoch", at::tensor(static_cast<int64_t>(epoch + 1)));
    state.emplace_back("meta.global_step", at::tensor(run.ctx.global_step));
    state.emplace_back("rng.torch", at::detail::getDefaultCPUGenerator().get_state());
    state.emplace_back("rng.attack", run.ctx.gen.get_state());
    if (run.device.is_cuda()) {
      at::Generator g = at::globalContext().defaultGenerator(run.device);
      state.emplace_back("rng.cuda", g.get_state());
    }
    for (const EpochRecord& r : summary.epochs) {
      state.emplace_back(absl::StrCat("epoch.", r.epoch),
                         at::tensor({r.loss, r.clean, r.pgd, r.img_per_s, r.seconds, r.lr},
                                    at::kDouble));
    }
    SPAT_RETURN_IF_ERROR(models::SaveStateDict(state, state_));
    return WriteFileAtomically(metrics_, MetricsJson(c_, summary, world, run.device));
  }

 private:
  const TrainConfig& c_;
  std::string config_, checkpoint_, state_, metrics_;
};

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
  ProgressReporter(std::ostream* log, const TrainConfig& c)
      : log_(log), c_(c), tty_(log == &std::cerr && ::isatty(2)) {}

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
            << (CpuHasAvx512Bf16() ? "\n"
                                   : " (warning: this CPU lacks AVX512-BF16; expect it slower "
                                     "than fp32)\n");
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

  void Evaluating() {
    line_->Finish();
    if (log_ != nullptr) *log_ << "  evaluating..." << std::flush;
  }

  void EpochDone(const EpochRecord& r, double data_seconds) const {
    if (log_ == nullptr) return;
    *log_ << absl::StrFormat(
        "\r  epoch %d: loss %.4f  clean %.2f%%  %s-%d %.2f%%  (%.1f s, %.0f img/s, "
        "data loading %.1f%%)\n",
        r.epoch, r.loss, r.clean, c_.eval_attack().name(), c_.eval_attack().num_steps(), r.pgd,
        r.seconds, r.img_per_s, 100 * data_seconds / std::max(r.seconds, 1e-9));
  }

 private:
  std::ostream* log_;
  const TrainConfig& c_;
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
};

absl::StatusOr<EpochStats> TrainEpoch(const TrainConfig& c, const RunContext& rc, Run& run,
                                      int epoch, ProgressReporter& progress) {
  run.ctx.epoch = epoch;
  run.opt->set_lr(LearningRate(c.optimizer(), epoch));
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
  for (int64_t b = 0; b < nb; ++b) {
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
        return absl::InternalError(absl::StrFormat(
            "loss became %f at epoch %d, batch %d; stopping (the last good checkpoint "
            "in %s is kept). Lower --lr or check the data.",
            lv, epoch + 1, b + 1, c.out_dir()));
      }
      loss.backward();
    }
    double batch_loss_sum = lv * n;
    if (rc.comm != nullptr) {
      SPAT_RETURN_IF_ERROR(AverageGradients(*rc.comm, *run.model, &batch_loss_sum, &n));
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
// get its result from ShareEvalResult.
EvalResult EvaluateEpoch(const TrainConfig& c, const RunContext& rc, Run& run, int epoch) {
  if (!rc.lead()) return {};
  return EvaluateRobustness(run.method->EvalModel(*run.model), run.test, c.eval_attack(),
                            std::max(c.optimizer().batch_size(), 256), c.seed() + 1000 + epoch,
                            run.device, run.ctx.graphs);
}

void AddEpoch(const TrainConfig& c, int epoch, const EpochStats& stats, const EvalResult& ev,
              TrainSummary* summary) {
  summary->epochs.push_back({epoch + 1, stats.loss_sum / std::max<int64_t>(stats.seen, 1),
                             ev.clean, ev.adversarial,
                             stats.seen / std::max(stats.seconds, 1e-9), stats.seconds,
                             LearningRate(c.optimizer(), epoch)});
  summary->clean_accuracy = ev.clean;
  summary->pgd_accuracy = ev.adversarial;
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

}  // namespace

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

  const RunFiles files(c);
  if (resume) SPAT_RETURN_IF_ERROR(files.CheckResumable());
  if (rc.lead()) SPAT_RETURN_IF_ERROR(files.WriteConfig());
  TrainSummary summary;
  int first_epoch = 0;
  if (resume) {
    SPAT_ASSIGN_OR_RETURN(first_epoch, files.Restore(run, &summary));
    if (rc.log) *rc.log << "resuming " << c.out_dir() << " after epoch " << first_epoch << "\n";
  }
  SPAT_RETURN_IF_ERROR(StartFromRankZero(rc, run));

  ProgressReporter progress(rc.log, c);
  progress.Header(rc, run);
  for (int epoch = first_epoch; epoch < c.optimizer().epochs(); ++epoch) {
    SPAT_ASSIGN_OR_RETURN(EpochStats stats, TrainEpoch(c, rc, run, epoch, progress));
    progress.Evaluating();
    EvalResult ev = EvaluateEpoch(c, rc, run, epoch);
    AddEpoch(c, epoch, stats, ev, &summary);
    progress.EpochDone(summary.epochs.back(), stats.data_seconds);
    if (rc.lead()) SPAT_RETURN_IF_ERROR(files.Write(run, summary, epoch, rc.world));
    if (rc.comm != nullptr) {
      // Rank 0 wrote DIR/* first; then every rank takes its evaluation.
      SPAT_RETURN_IF_ERROR(ShareEvalResult(*rc.comm, &ev));
      summary.epochs.back().clean = summary.clean_accuracy = ev.clean;
      summary.epochs.back().pgd = summary.pgd_accuracy = ev.adversarial;
    }
  }
  if (runtime.final_state != nullptr) *runtime.final_state = models::GetStateDict(*run.model);
  return summary;
}

}  // namespace spat
