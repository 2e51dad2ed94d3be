#include "spat/trainer.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <sys/stat.h>
#include <unistd.h>
#include <torch/utils.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "attacks/adv_losses.h"
#include "attacks/pgd.h"
#include "data/loader.h"
#include "models/checkpoint.h"
#include "models/registry.h"
#include "spat/atomic_file.h"
#include "spat/config.h"
#include "spat/distributed.h"
#include "spat/method.h"
#include "spat/sgd.h"
#include "spat/status_macros.h"

namespace spat {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string Json(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.6g", v);
}

std::string MetricsJson(const TrainConfig& c, const TrainSummary& s, int threads,
                        int world_size) {
  std::string config_json;
  google::protobuf::util::JsonPrintOptions opts;
  opts.always_print_primitive_fields = true;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(c, &config_json, opts);
  std::string out = "{\n";
  absl::StrAppend(&out, "  \"clean_accuracy\": ", Json(s.clean_accuracy), ",\n");
  absl::StrAppend(&out, "  \"pgd_accuracy\": ", Json(s.pgd_accuracy), ",\n");
  absl::StrAppend(&out, "  \"epochs\": [");
  for (size_t i = 0; i < s.epochs.size(); ++i) {
    const EpochRecord& e = s.epochs[i];
    absl::StrAppend(&out, i ? ",\n" : "\n", "    {\"epoch\": ", e.epoch,
                    ", \"loss\": ", Json(e.loss), ", \"clean\": ", Json(e.clean),
                    ", \"pgd\": ", Json(e.pgd), ", \"img_per_s\": ", Json(e.img_per_s),
                    ", \"seconds\": ", Json(e.seconds), ", \"lr\": ", Json(e.lr), "}");
  }
  absl::StrAppend(&out, s.epochs.empty() ? "],\n" : "\n  ],\n");
  const AttackConfig& a = c.eval_attack();
  absl::StrAppend(&out, "  \"eval_protocol\": \"", a.name(), "-", a.num_steps(), " (",
                  a.loss(), " loss, ", a.norm(), ", eps ", Json(a.epsilon()), ", step ",
                  Json(a.step_size()), ", random start) on ",
                  c.dataset().test_subset() > 0
                      ? absl::StrCat("the first ", c.dataset().test_subset())
                      : std::string("all"),
                  " test images\",\n");
  absl::StrAppend(&out, "  \"world_size\": ", world_size, ",\n");
  absl::StrAppend(&out, "  \"threads\": ", threads, ",\n");
  absl::StrAppend(&out, "  \"config\": ", config_json.empty() ? "{}" : config_json, "\n}\n");
  return out;
}

// Renders "[#####.....]" for a fraction in [0, 1].
std::string Bar(double f, int width = 24) {
  const int n = static_cast<int>(std::round(f * width));
  return "[" + std::string(n, '#') + std::string(width - n, '.') + "]";
}

std::string Hms(double s) {
  const int t = static_cast<int>(s);
  return absl::StrFormat("%02d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
}

at::Tensor GeneratorState(const at::Generator& g) { return g.get_state(); }

absl::Status MakeDir(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("--out_dir ", dir, " is not a directory"));
  }
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    SPAT_RETURN_IF_ERROR(MakeDir(dir.substr(0, slash)));
  }
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create --out_dir ", dir, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace

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
                              uint64_t seed) {
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
  at::Tensor clean_correct = at::zeros({}, at::kLong);
  at::Tensor adv_correct = at::zeros({}, at::kLong);
  const int64_t n = data.size();
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t len = std::min(batch_size, n - start);
    at::Tensor x = data.images.narrow(0, start, len);
    at::Tensor y = data.labels.narrow(0, start, len);
    {
      at::NoGradGuard no_grad;
      clean_correct += model.forward(x).argmax(1).eq(y).sum();
    }
    at::Tensor adv = attacks::Pgd(
        [&model](const at::Tensor& t) { return model.forward(t); }, x,
        [&](const at::Tensor& z) {
          if (loss == "cw") return attacks::CwMarginLoss(z, y);
          if (loss == "dlr") return attacks::DlrLoss(z, y);
          return attacks::CrossEntropyPerExample(z, y);
        },
        o, gen);
    at::NoGradGuard no_grad;
    adv_correct += model.forward(adv).argmax(1).eq(y).sum();
  }
  return {100.0 * clean_correct.item<int64_t>() / std::max<int64_t>(n, 1),
          100.0 * adv_correct.item<int64_t>() / std::max<int64_t>(n, 1)};
}

namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// OK if `path` is absent (a run from before config.textproto was written) or
// holds `c` up to out_dir, threads and the number of epochs (a run may be
// extended); otherwise FailedPrecondition naming the differing fields.
absl::Status CheckResumable(const TrainConfig& c, const std::string& path) {
  if (!Exists(path)) return absl::OkStatus();
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
  parts.push_back(at::tensor({static_cast<float>(*loss_sum), static_cast<float>(*n)}));
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

}  // namespace

absl::StatusOr<TrainSummary> Train(const TrainConfig& c, std::ostream* log, bool resume,
                                   const TrainRuntime& runtime) {
  Communicator* comm =
      runtime.comm != nullptr && runtime.comm->world_size() > 1 ? runtime.comm : nullptr;
  const int rank = comm != nullptr ? comm->rank() : 0;
  const int world = comm != nullptr ? comm->world_size() : 1;
  const bool lead = rank == 0;  // evaluates, logs and writes DIR/*
  if (!lead) log = nullptr;
  if (c.optimizer().batch_size() < world) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--batch_size=", c.optimizer().batch_size(), " is the global batch and must be at "
        "least WORLD_SIZE=", world, " (each rank trains on its share of it)"));
  }
  if (c.device() != "cpu") {
    return absl::UnimplementedError(absl::StrCat(
        "device '", c.device(), "': this build runs on the CPU only"));
  }
  if (c.out_dir().empty()) return absl::InvalidArgumentError("--out_dir is required");
  if (lead) SPAT_RETURN_IF_ERROR(MakeDir(c.out_dir()));
  at::set_num_threads(c.threads());

  data::DatasetSpec spec{c.dataset().name(), c.dataset().data_dir()};
  SPAT_ASSIGN_OR_RETURN(data::Dataset train,
                        data::LoadDataset(spec, data::Split::kTrain, c.dataset().train_subset()));
  SPAT_ASSIGN_OR_RETURN(data::Dataset test,
                        data::LoadDataset(spec, data::Split::kTest, c.dataset().test_subset()));

  models::ModelSpec mspec;
  mspec.name = c.model().name();
  mspec.num_classes = train.num_classes;
  mspec.in_channels = train.images.size(1);
  mspec.image_size = train.images.size(2);
  mspec.head = {c.model().head() == ModelConfig::NCE ? models::HeadType::kNce
                                                     : models::HeadType::kLinear,
                c.method().s()};
  torch::manual_seed(c.seed());  // initialization and dropout
  SPAT_ASSIGN_OR_RETURN(std::shared_ptr<models::Classifier> model,
                        CreateTrainingModel(mspec, c.channels_last()));
  // Other ranks draw their own dropout masks and attack starts.
  if (rank > 0) torch::manual_seed(data::MixSeed(c.seed(), 0x72616e6bULL + rank));

  MethodOptions mo;
  mo.name = c.method().name();
  mo.lambda = c.method().lambda();
  mo.spat = {c.method().alpha(), c.method().beta(), c.method().lambda(),
             c.method().sp_acc(), c.method().sp_rob(), c.method().detach_gains()};
  mo.attack.epsilon = c.train_attack().epsilon();
  mo.attack.step_size = c.train_attack().step_size();
  mo.attack.num_steps = c.train_attack().num_steps();
  mo.attack.norm = c.train_attack().norm() == "l2" ? attacks::Norm::kL2 : attacks::Norm::kLinf;
  mo.attack.bf16 = c.bf16();
  // random_start = false: every method's inner attack starts at x.
  if (!c.train_attack().random_start()) mo.attack.start = attacks::StartMode::kNone;
  mo.make_model = [mspec, nhwc = c.channels_last()]() {
    return *CreateTrainingModel(mspec, nhwc);
  };
  SPAT_ASSIGN_OR_RETURN(std::unique_ptr<TrainingMethod> method, MakeMethod(mo));

  Sgd opt(model->named_parameters(),
          {c.optimizer().lr(), c.optimizer().momentum(), c.optimizer().weight_decay()});
  data::BatchLoader loader(train, {.batch_size = c.optimizer().batch_size(),
                                   .seed = c.seed(),
                                   .shuffle = true,
                                   .drop_last = false,
                                   .augment = c.dataset().augment(),
                                   .crop_padding = 4});
  MethodContext ctx;
  ctx.num_epochs = c.optimizer().epochs();
  ctx.gen = at::detail::createCPUGenerator(
      rank == 0 ? c.seed() ^ 0x5eed5eedULL : data::MixSeed(c.seed() ^ 0x5eed5eedULL, rank));
  TrainSummary summary;
  int first_epoch = 0;

  const std::string ckpt_path = c.out_dir() + "/checkpoint.pt";
  const std::string state_path = c.out_dir() + "/train_state.pt";
  const std::string metrics_path = c.out_dir() + "/metrics.json";
  // The configuration the run in out_dir was started with: --resume must not
  // silently continue it with other hyper-parameters.
  const std::string config_path = c.out_dir() + "/config.textproto";
  if (resume) {
    SPAT_RETURN_IF_ERROR(CheckResumable(c, config_path));
  }
  std::string config_text;
  google::protobuf::TextFormat::PrintToString(c, &config_text);
  if (lead) SPAT_RETURN_IF_ERROR(WriteFileAtomically(config_path, config_text));
  if (resume) {
    absl::StatusOr<models::StateDict> st = models::LoadStateDict(state_path);
    if (!st.ok()) {
      return absl::Status(st.status().code(),
                          absl::StrCat("cannot resume: ", st.status().message()));
    }
    models::StateDict model_state, opt_state, method_state, extra;
    for (auto& [k, t] : *st) {
      if (absl::StartsWith(k, "model.")) model_state.emplace_back(k.substr(6), t);
      else if (absl::StartsWith(k, "momentum.")) opt_state.emplace_back(k, t);
      else if (k == "meta.epoch") first_epoch = static_cast<int>(t.item<int64_t>());
      else if (k == "meta.global_step") ctx.global_step = t.item<int64_t>();
      else if (k == "rng.torch") { at::Generator g = at::detail::getDefaultCPUGenerator(); g.set_state(t); }
      else if (k == "rng.attack") ctx.gen.set_state(t);
      else if (absl::StartsWith(k, "epoch.")) extra.emplace_back(k, t);
      else if (absl::StartsWith(k, "method.")) method_state.emplace_back(k.substr(7), t);
      else return absl::InvalidArgumentError(absl::StrCat(state_path, ": unknown entry '", k, "'"));
    }
    SPAT_RETURN_IF_ERROR(method->LoadState(method_state, state_path));
    SPAT_RETURN_IF_ERROR(models::ApplyStateDict(model_state, *model, {}, state_path));
    SPAT_RETURN_IF_ERROR(opt.LoadState(opt_state));
    for (const auto& [k, t] : extra) {
      // epoch.<i>: [loss, clean, pgd, img_per_s, seconds, lr]
      at::Tensor v = t.to(at::kDouble);
      EpochRecord r;
      r.epoch = std::stoi(k.substr(6));
      r.loss = v[0].item<double>();
      r.clean = v[1].item<double>();
      r.pgd = v[2].item<double>();
      r.img_per_s = v[3].item<double>();
      r.seconds = v[4].item<double>();
      r.lr = v[5].item<double>();
      summary.epochs.push_back(r);
    }
    std::sort(summary.epochs.begin(), summary.epochs.end(),
              [](const EpochRecord& a, const EpochRecord& b) { return a.epoch < b.epoch; });
    if (!summary.epochs.empty()) {
      summary.clean_accuracy = summary.epochs.back().clean;
      summary.pgd_accuracy = summary.epochs.back().pgd;
    }
    if (log) *log << "resuming " << c.out_dir() << " after epoch " << first_epoch << "\n";
  }
  if (comm != nullptr) {
    // Every rank starts from rank 0's parameters and buffers.
    std::vector<at::Tensor> all = model->parameters();
    for (const at::Tensor& b : model->buffers()) all.push_back(b);
    SPAT_RETURN_IF_ERROR(BroadcastFromRankZero(*comm, all));
  }
  // Floating buffers (BatchNorm statistics) follow rank 0 before every step,
  // as torch's DistributedDataParallel does: the attack runs in eval mode.
  std::vector<at::Tensor> float_buffers;
  for (const at::Tensor& b : model->buffers()) {
    if (b.is_floating_point()) float_buffers.push_back(b);
  }

  if (log) {
    *log << absl::StrFormat(
        "training %s (%s head) with %s on %s: %d train / %d test images, %d epochs, "
        "batch %d, %d threads%s\n",
        mspec.name, mspec.head.type == models::HeadType::kNce ? "NCE" : "linear",
        c.method().name(), c.dataset().name(), train.size(), test.size(),
        c.optimizer().epochs(), c.optimizer().batch_size(), c.threads(),
        world > 1 ? absl::StrCat(" per rank, ", world, " ranks (", c.optimizer().batch_size() / world,
                                 "+ images per rank and step)")
                  : "");
  }

  if (log && c.bf16()) {
    *log << "bf16: the inner attack's forward passes under bfloat16 autocast"
         << (CpuHasAvx512Bf16() ? "\n"
                                : " (warning: this CPU lacks AVX512-BF16; expect it slower "
                                  "than fp32)\n");
  }
  const bool tty = log == &std::cerr && ::isatty(2);
  for (int epoch = first_epoch; epoch < c.optimizer().epochs(); ++epoch) {
    ctx.epoch = epoch;
    const double lr = LearningRate(c.optimizer(), epoch);
    opt.set_lr(lr);
    loader.StartEpoch(epoch);
    const int64_t nb = loader.num_batches();
    const Clock::time_point t0 = Clock::now();
    Clock::time_point last_print = t0;
    double loss_sum = 0;
    double data_seconds = 0;  // batch assembly and augmentation
    int64_t seen = 0;
    for (int64_t b = 0; b < nb; ++b) {
      const Clock::time_point before_data = Clock::now();
      data::Batch batch = loader.Get(b);
      data_seconds += Seconds(before_data, Clock::now());
      if (comm != nullptr) {
        // This rank's contiguous share of the global batch.
        const int64_t len = batch.y.size(0);
        const int64_t lo = len * rank / world, hi = len * (rank + 1) / world;
        batch.x = batch.x.narrow(0, lo, hi - lo);
        batch.y = batch.y.narrow(0, lo, hi - lo);
        if (!float_buffers.empty()) {
          SPAT_RETURN_IF_ERROR(BroadcastFromRankZero(*comm, float_buffers));
        }
      }
      int64_t n = batch.y.size(0);
      opt.ZeroGrad();
      double lv = 0;
      if (n > 0) {
        at::Tensor loss = method->Loss(*model, batch.x, batch.y, ctx);
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
      if (comm != nullptr) {
        SPAT_RETURN_IF_ERROR(AverageGradients(*comm, *model, &batch_loss_sum, &n));
      }
      opt.Step();
      ++ctx.global_step;
      method->AfterStep(*model, ctx);
      loss_sum += batch_loss_sum;
      seen += n;
      const Clock::time_point now = Clock::now();
      if (log && (Seconds(last_print, now) > (tty ? 0.5 : 30.0) || b + 1 == nb)) {
        last_print = now;
        const double el = Seconds(t0, now);
        const double rate = seen / std::max(el, 1e-9);
        *log << (tty ? "\r" : "") << absl::StrFormat("epoch %d/%d %s %d/%d  %.0f img/s  loss %.4f  ETA %s ",
                                epoch + 1, c.optimizer().epochs(),
                                Bar(static_cast<double>(b + 1) / nb), b + 1, nb, rate,
                                loss_sum / seen, Hms((nb - b - 1) * el / (b + 1)))
             << (tty ? "" : "\n") << std::flush;
      }
    }
    const double train_seconds = Seconds(t0, Clock::now());
    models::Classifier& eval_model = method->EvalModel(*model);
    if (log) *log << (tty ? "\n" : "") << "  evaluating..." << std::flush;
    EvalResult ev;
    if (lead) {
      ev = EvaluateRobustness(eval_model, test, c.eval_attack(),
                              std::max(c.optimizer().batch_size(), 256), c.seed() + 1000 + epoch);
    }
    EpochRecord rec;
    rec.epoch = epoch + 1;
    rec.loss = loss_sum / std::max<int64_t>(seen, 1);
    rec.clean = ev.clean;
    rec.pgd = ev.adversarial;
    rec.seconds = train_seconds;
    rec.img_per_s = seen / std::max(train_seconds, 1e-9);
    rec.lr = lr;
    summary.epochs.push_back(rec);
    summary.clean_accuracy = ev.clean;
    summary.pgd_accuracy = ev.adversarial;
    if (log) {
      *log << absl::StrFormat("\r  epoch %d: loss %.4f  clean %.2f%%  %s-%d %.2f%%  (%.1f s, %.0f img/s, "
                              "data loading %.1f%%)\n",
                              rec.epoch, rec.loss, rec.clean, c.eval_attack().name(),
                              c.eval_attack().num_steps(), rec.pgd, rec.seconds, rec.img_per_s,
                              100 * data_seconds / std::max(rec.seconds, 1e-9));
    }

    if (!lead) {
      // Rank 0 evaluates, writes DIR/* and then shares the epoch's results.
      SPAT_RETURN_IF_ERROR(ShareEvalResult(*comm, &ev));
      summary.epochs.back().clean = summary.clean_accuracy = ev.clean;
      summary.epochs.back().pgd = summary.pgd_accuracy = ev.adversarial;
      continue;
    }
    // Persist: checkpoint, then resumable state, then metrics (each atomic).
    SPAT_RETURN_IF_ERROR(models::SaveCheckpoint(eval_model, ckpt_path));
    models::StateDict state;
    for (auto& [k, t] : models::GetStateDict(*model)) state.emplace_back("model." + k, t);
    for (auto& kv : opt.State()) state.push_back(kv);
    for (auto& [k, t] : method->SaveState()) state.emplace_back("method." + k, t);
    state.emplace_back("meta.epoch", at::tensor(static_cast<int64_t>(epoch + 1)));
    state.emplace_back("meta.global_step", at::tensor(ctx.global_step));
    state.emplace_back("rng.torch",
                       GeneratorState(at::detail::getDefaultCPUGenerator()));
    state.emplace_back("rng.attack", GeneratorState(ctx.gen));
    for (const EpochRecord& r : summary.epochs) {
      state.emplace_back(absl::StrCat("epoch.", r.epoch),
                         at::tensor({r.loss, r.clean, r.pgd, r.img_per_s, r.seconds, r.lr},
                                    at::kDouble));
    }
    SPAT_RETURN_IF_ERROR(models::SaveStateDict(state, state_path));
    SPAT_RETURN_IF_ERROR(
        WriteFileAtomically(metrics_path, MetricsJson(c, summary, c.threads(), world)));
    if (comm != nullptr) SPAT_RETURN_IF_ERROR(ShareEvalResult(*comm, &ev));
  }
  if (runtime.final_state != nullptr) *runtime.final_state = models::GetStateDict(*model);
  return summary;
}

}  // namespace spat
