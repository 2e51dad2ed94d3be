// The training CLI:
//
//   bazel run //spat:train -- --dataset=mnist --model=small_cnn --method=spat
//     --epochs=2 --train_subset=20000 --epsilon=0.2 --step_size=0.05
//     --num_steps=5 --out_dir=/tmp/run      (one line)
//
// --config=file.textproto supplies a TrainConfig (spat/config.proto); flags
// given on the command line override it. Exit codes: 0 done, 1 bad data or a
// failed run, 2 bad usage.
//
// Data-parallel: started the way torchrun starts workers (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT in the environment), every rank runs
// this binary with the same flags; --batch_size is the global batch.
//
//   for r in 0 1; do RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29500
//     bazel-bin/spat/train --method=madry --out_dir=/tmp/dp & done; wait   (one line)
#include <chrono>
#include <cstdlib>
#include <memory>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "attacks/pgd.h"
#include "base/cli.h"
#include "base/device.h"
#include "spat/config.h"
#include "spat/distributed.h"
#include "spat/trainer.h"

ABSL_FLAG(std::string, config, "", "TrainConfig text proto; flags override it");
ABSL_FLAG(absl::optional<std::string>, dataset, absl::nullopt,
          "mnist | fashion_mnist | cifar10 | synthetic_cifar10");
ABSL_FLAG(absl::optional<std::string>, data_dir, absl::nullopt,
          "dataset directory (default: where tools/setup.sh puts it)");
ABSL_FLAG(absl::optional<std::string>, model, absl::nullopt,
          "small_cnn | lenet5 | resnet18 | resnet34 | resnet50 | resnet101 | wrn34_10");
ABSL_FLAG(absl::optional<std::string>, head, absl::nullopt,
          "linear | nce (default: nce for spat, linear otherwise)");
ABSL_FLAG(absl::optional<std::string>, method, absl::nullopt,
          "natural | madry | trades | mart | alp | gairat | mail_at | seat | spat");
ABSL_FLAG(absl::optional<int>, epochs, absl::nullopt, "training epochs");
ABSL_FLAG(absl::optional<int>, eval_every, absl::nullopt,
          "run the evaluation attack after every Nth epoch and the last two (default 1: every "
          "epoch); the trained model is the same for every N");
ABSL_FLAG(absl::optional<int64_t>, train_subset, absl::nullopt, "first N training images (0: all)");
ABSL_FLAG(absl::optional<int64_t>, test_subset, absl::nullopt, "first N test images (0: all)");
ABSL_FLAG(absl::optional<bool>, augment, absl::nullopt, "CIFAR crop+flip augmentation");
ABSL_FLAG(absl::optional<double>, epsilon, absl::nullopt, "training attack radius (l-inf, [0,1] pixels)");
ABSL_FLAG(absl::optional<double>, step_size, absl::nullopt, "training attack step size");
ABSL_FLAG(absl::optional<int>, num_steps, absl::nullopt, "training attack steps");
ABSL_FLAG(absl::optional<double>, ramp_epochs, absl::nullopt,
          "training attack radius and step grow linearly from 0 over the first N epochs "
          "(default 0: the full radius from the first step)");
ABSL_FLAG(absl::optional<bool>, stop_at_chance, absl::nullopt,
          "stop a run whose clean accuracy is at chance after an epoch once the ramp is over "
          "(default true; recorded in metrics.json as collapsed)");
ABSL_FLAG(absl::optional<bool>, random_start, absl::nullopt,
          "training attack starts at a random point (false: at x, deterministic)");
ABSL_FLAG(absl::optional<std::string>, eval_attack, absl::nullopt,
          "per-epoch evaluation attack: pgd (default), fgsm, mim, cw, apgd_ce, apgd_t, fab, "
          "square, aa, clean (the attacks of //attacks:evaluate)");
ABSL_FLAG(absl::optional<double>, eval_epsilon, absl::nullopt,
          "evaluation attack radius (default: --epsilon)");
ABSL_FLAG(absl::optional<double>, eval_step_size, absl::nullopt,
          "evaluation step of pgd/mim/cw (default: eps/10)");
ABSL_FLAG(absl::optional<int>, eval_steps, absl::nullopt,
          "evaluation steps of pgd/mim/cw (default 20), iterations of apgd_*/fab/aa (100), "
          "queries of square (5000)");
ABSL_FLAG(absl::optional<int>, batch_size, absl::nullopt, "batch size");
ABSL_FLAG(absl::optional<double>, lr, absl::nullopt, "initial (one_cycle: peak) learning rate");
ABSL_FLAG(absl::optional<std::string>, lr_schedule, absl::nullopt,
          "step (default: x0.1 at 75% and 90% of the epochs) | cosine | one_cycle (linear "
          "warm-up to --lr, then linear decay to 0; Wong et al. 2020)");
ABSL_FLAG(absl::optional<double>, warmup_fraction, absl::nullopt,
          "one_cycle: fraction of the steps spent warming up (default 0.4)");
ABSL_FLAG(absl::optional<std::string>, init, absl::nullopt,
          "reference (default: the reference scripts' layer init, e.g. TRADES's SmallCNN) | "
          "torch_default (PyTorch's layer defaults)");
ABSL_FLAG(absl::optional<std::string>, prototype_init, absl::nullopt,
          "NCE head: nn_linear (default: nn.Linear's init) | normal_0_01 (N(0, 0.01^2), as the "
          "authors' SPAT script)");
ABSL_FLAG(absl::optional<bool>, clamp_start, absl::nullopt,
          "training attack: project the random start into [0, 1] (default true; false: into "
          "the ball only, as the authors' script)");
ABSL_FLAG(absl::optional<double>, momentum, absl::nullopt, "SGD momentum");
ABSL_FLAG(absl::optional<double>, weight_decay, absl::nullopt, "L2 weight decay");
ABSL_FLAG(absl::optional<uint64_t>, seed, absl::nullopt, "random seed");
ABSL_FLAG(absl::optional<double>, s, absl::nullopt, "SPAT: NCE scale s (> 0)");
ABSL_FLAG(absl::optional<double>, alpha, absl::nullopt, "SPAT: KL weight alpha (>= 0)");
ABSL_FLAG(absl::optional<double>, beta, absl::nullopt, "SPAT: gain offset beta (>= 0)");
ABSL_FLAG(absl::optional<double>, lambda, absl::nullopt,
          "robustness weight (SPAT/TRADES 6, MART 5, ALP 0.5 by default)");
ABSL_FLAG(absl::optional<bool>, sp_acc, absl::nullopt, "SPAT ablation: self-paced gains in L_acc");
ABSL_FLAG(absl::optional<bool>, sp_rob, absl::nullopt, "SPAT ablation: self-paced term in L_rob");
ABSL_FLAG(absl::optional<bool>, use_nce, absl::nullopt, "SPAT ablation: NCE head (false: CE)");
ABSL_FLAG(absl::optional<bool>, detach_gains, absl::nullopt,
          "SPAT: no gradient through the gains g of eq. (11) (default false: the authors' script)");
ABSL_FLAG(absl::optional<std::string>, spat_attack_loss, absl::nullopt,
          "SPAT: the loss its inner maximization ascends: rob_sp (L_rob^sp, the authors' "
          "script; default), kl (TRADES'), ce (Madry's)");
ABSL_FLAG(absl::optional<int>, threads, absl::nullopt, "intra-op threads (0: all cores)");
ABSL_FLAG(absl::optional<std::string>, out_dir, absl::nullopt, "output directory");
ABSL_FLAG(absl::optional<bool>, bf16, absl::nullopt,
          "opt-in bfloat16 autocast for the inner attack's forward passes (AVX512-BF16 CPUs)");
ABSL_FLAG(absl::optional<bool>, channels_last, absl::nullopt,
          "NHWC convolution weights and activations (default true; false: NCHW)");
ABSL_FLAG(absl::optional<std::string>, device, absl::nullopt,
          "cpu | cuda | cuda:N | auto (CUDA when present); data-parallel CUDA runs put "
          "each rank on its LOCAL_RANK GPU");
ABSL_FLAG(absl::optional<bool>, cuda_graphs, absl::nullopt,
          "on CUDA: inner and evaluation PGD as CUDA graphs (default true; false: eager)");
ABSL_FLAG(bool, resume, false, "continue the run in --out_dir from its last finished epoch");
ABSL_FLAG(int, collective_timeout_s, 1800,
          "data-parallel runs (WORLD_SIZE > 1): seconds a rank waits for the others "
          "(rendezvous, each all-reduce, rank 0's evaluation) before failing");

namespace {

using spat::UserPath;

template <typename T, typename Setter>
void Override(const absl::Flag<absl::optional<T>>& flag, Setter set) {
  if (absl::optional<T> v = absl::GetFlag(flag); v.has_value()) set(*v);
}

// A named option (--init=torch_default): false after an error message naming
// the flag if `parse` refuses the name.
template <typename Enum, typename Setter>
bool OverrideEnum(const absl::Flag<absl::optional<std::string>>& flag, const char* name,
                  absl::StatusOr<Enum> (*parse)(const std::string&), Setter set) {
  absl::optional<std::string> v = absl::GetFlag(flag);
  if (!v.has_value()) return true;
  absl::StatusOr<Enum> e = parse(*v);
  if (!e.ok()) {
    std::cerr << "error: --" << name << " " << e.status().message() << "\n";
    return false;
  }
  set(*e);
  return true;
}

// "train_attack.epsilon = -1 is out of range..." -> "--epsilon (train_attack.epsilon) = -1 ...":
// validation speaks in config fields; a CLI user typed flags.
std::string WithFlagName(const std::string& message) {
  static const std::pair<const char*, const char*> kFlags[] = {
      {"dataset.name", "dataset"},           {"dataset.train_subset", "train_subset"},
      {"dataset.test_subset", "test_subset"}, {"model.name", "model"},
      {"method.name", "method"},              {"method.s", "s"},
      {"method.alpha", "alpha"},              {"method.beta", "beta"},
      {"method.lambda", "lambda"},            {"train_attack.epsilon", "epsilon"},
      {"train_attack.step_size", "step_size"}, {"train_attack.num_steps", "num_steps"},
      {"train_attack.ramp_epochs", "ramp_epochs"},
      {"eval_attack.name", "eval_attack"},    {"eval_attack.epsilon", "eval_epsilon"},
      {"eval_attack.step_size", "eval_step_size"},
      {"eval_attack.num_steps", "eval_steps"}, {"optimizer.lr", "lr"},
      {"optimizer.momentum", "momentum"},     {"optimizer.warmup_fraction", "warmup_fraction"},
      {"optimizer.weight_decay", "weight_decay"}, {"model.prototype_init", "prototype_init"},
      {"optimizer.epochs", "epochs"},         {"optimizer.batch_size", "batch_size"},
      {"threads", "threads"},                 {"device", "device"},
      {"eval_every", "eval_every"}};
  for (const auto& [field, flag] : kFlags) {
    const std::string f = field;
    if (message.rfind(f, 0) == 0 && message.size() > f.size() &&
        (message[f.size()] == ' ' || message[f.size()] == ':')) {
      return absl::StrCat("--", flag, " (", f, ")", message.substr(f.size()));
    }
  }
  return message;
}

// Configuration is validated before any work starts (exit 2), so what fails
// later is data or the run itself: exit 1.
int Fail(const absl::Status& st) {
  std::cerr << "error: " << st.message() << "\n";
  return 1;
}

// --config, then every flag given on the command line over it. False (after
// an error message) on bad usage.
bool ConfigFromFlags(spat::TrainConfig* config) {
  if (const std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    absl::StatusOr<spat::TrainConfig> c = spat::LoadTrainConfig(UserPath(path));
    if (!c.ok()) {
      std::cerr << "error: --config: " << c.status().message() << "\n";
      return false;
    }
    *config = *c;
  }
  auto* d = config->mutable_dataset();
  Override(FLAGS_dataset, [&](const std::string& v) { d->set_name(v); });
  Override(FLAGS_data_dir, [&](const std::string& v) { d->set_data_dir(UserPath(v)); });
  Override(FLAGS_train_subset, [&](int64_t v) { d->set_train_subset(v); });
  Override(FLAGS_test_subset, [&](int64_t v) { d->set_test_subset(v); });
  Override(FLAGS_augment, [&](bool v) { d->set_augment(v); });
  Override(FLAGS_model, [&](const std::string& v) { config->mutable_model()->set_name(v); });
  if (absl::optional<std::string> h = absl::GetFlag(FLAGS_head); h.has_value()) {
    if (*h != "linear" && *h != "nce") {
      std::cerr << "error: --head must be linear or nce, got '" << *h << "'\n";
      return false;
    }
    config->mutable_model()->set_head(*h == "nce" ? spat::ModelConfig::NCE
                                                  : spat::ModelConfig::LINEAR);
  }
  spat::ModelConfig* model = config->mutable_model();
  if (!OverrideEnum(FLAGS_init, "init", &spat::ParseInit,
                    [&](spat::ModelConfig::Init v) { model->set_init(v); }) ||
      !OverrideEnum(FLAGS_prototype_init, "prototype_init", &spat::ParsePrototypeInit,
                    [&](spat::ModelConfig::PrototypeInit v) { model->set_prototype_init(v); })) {
    return false;
  }
  auto* m = config->mutable_method();
  Override(FLAGS_method, [&](const std::string& v) { m->set_name(v); });
  Override(FLAGS_s, [&](double v) { m->set_s(v); });
  Override(FLAGS_alpha, [&](double v) { m->set_alpha(v); });
  Override(FLAGS_beta, [&](double v) { m->set_beta(v); });
  Override(FLAGS_lambda, [&](double v) { m->set_lambda(v); });
  Override(FLAGS_sp_acc, [&](bool v) { m->set_sp_acc(v); });
  Override(FLAGS_sp_rob, [&](bool v) { m->set_sp_rob(v); });
  Override(FLAGS_use_nce, [&](bool v) { m->set_use_nce(v); });
  Override(FLAGS_detach_gains, [&](bool v) { m->set_detach_gains(v); });
  Override(FLAGS_spat_attack_loss, [&](const std::string& v) { m->set_spat_attack_loss(v); });
  auto* a = config->mutable_train_attack();
  Override(FLAGS_epsilon, [&](double v) { a->set_epsilon(v); });
  Override(FLAGS_step_size, [&](double v) { a->set_step_size(v); });
  Override(FLAGS_num_steps, [&](int v) { a->set_num_steps(v); });
  Override(FLAGS_ramp_epochs, [&](double v) { a->set_ramp_epochs(v); });
  Override(FLAGS_random_start, [&](bool v) { a->set_random_start(v); });
  Override(FLAGS_clamp_start, [&](bool v) { a->set_clamp_start(v); });
  auto* e = config->mutable_eval_attack();
  Override(FLAGS_eval_attack, [&](const std::string& v) { e->set_name(v); });
  Override(FLAGS_eval_epsilon, [&](double v) { e->set_epsilon(v); });
  Override(FLAGS_eval_step_size, [&](double v) { e->set_step_size(v); });
  Override(FLAGS_eval_steps, [&](int v) { e->set_num_steps(v); });
  auto* o = config->mutable_optimizer();
  Override(FLAGS_epochs, [&](int v) { o->set_epochs(v); });
  Override(FLAGS_eval_every, [&](int v) { config->set_eval_every(v); });
  Override(FLAGS_stop_at_chance, [&](bool v) { config->set_stop_at_chance(v); });
  Override(FLAGS_batch_size, [&](int v) { o->set_batch_size(v); });
  Override(FLAGS_lr, [&](double v) { o->set_lr(v); });
  if (!OverrideEnum(FLAGS_lr_schedule, "lr_schedule", &spat::ParseLrSchedule,
                    [&](spat::OptimizerConfig::Schedule v) { o->set_lr_schedule(v); })) {
    return false;
  }
  Override(FLAGS_warmup_fraction, [&](double v) { o->set_warmup_fraction(v); });
  Override(FLAGS_momentum, [&](double v) { o->set_momentum(v); });
  Override(FLAGS_weight_decay, [&](double v) { o->set_weight_decay(v); });
  Override(FLAGS_seed, [&](uint64_t v) { config->set_seed(v); });
  Override(FLAGS_threads, [&](int v) { config->set_threads(v); });
  Override(FLAGS_bf16, [&](bool v) { config->set_bf16(v); });
  Override(FLAGS_channels_last, [&](bool v) { config->set_channels_last(v); });
  Override(FLAGS_device, [&](const std::string& v) { config->set_device(v); });
  Override(FLAGS_cuda_graphs, [&](bool v) { config->set_cuda_graphs(v); });
  Override(FLAGS_out_dir, [&](const std::string& v) { config->set_out_dir(UserPath(v)); });
  return true;
}

// The resolved config, its device checked; exit code 2 (after a message) on
// bad usage, 0 if usable.
int Resolve(const spat::TrainConfig& config, spat::TrainConfig* resolved, c10::Device* device) {
  if (config.out_dir().empty()) {
    std::cerr << "error: --out_dir is required (where checkpoint.pt and metrics.json go)\n";
    return 2;
  }
  absl::StatusOr<spat::TrainConfig> r = spat::ResolveTrainConfig(config);
  if (!r.ok()) {
    std::cerr << "error: invalid configuration: "
              << WithFlagName(std::string(r.status().message())) << "\n";
    return 2;
  }
  *resolved = *r;
  *device = spat::DeviceFromFlagOrExit(resolved->device(), nullptr);
  if (resolved->bf16() && device->is_cpu() && !spat::attacks::CpuBf16Supported()) {
    std::cerr << "error: --bf16: " << spat::attacks::kNoCpuBf16 << "; train without --bf16\n";
    return 2;
  }
  return 0;
}

// A data-parallel CUDA run puts each rank on its LOCAL_RANK GPU (torchrun's
// convention, NCCL between them). Exit code 2 if there is no such GPU.
int UseLocalRankGpu(const spat::DistEnv& env, spat::TrainConfig* config, c10::Device* device) {
  if (env.world_size <= 1 || !device->is_cuda()) return 0;
  const std::string mine = absl::StrCat("cuda:", env.local_rank);
  absl::StatusOr<c10::Device> local = spat::ResolveDevice(mine);
  if (!local.ok()) {
    std::cerr << "error: LOCAL_RANK=" << env.local_rank << " but " << local.status().message()
              << "\n";
    return 2;
  }
  *device = *local;
  config->set_device(mine);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Adversarial training (SPAT and baselines). Example:\n  train --dataset=mnist "
      "--model=small_cnn --method=spat --epochs=2 --out_dir=/tmp/run");
  spat::ParseCommandLineOrExit(argc, argv);
  spat::TrainConfig config, resolved;
  if (!ConfigFromFlags(&config)) return 2;
  c10::Device device(c10::kCPU);
  if (int rc = Resolve(config, &resolved, &device); rc != 0) return rc;
  absl::StatusOr<spat::DistEnv> env = spat::DistEnvFromEnvironment();
  if (!env.ok()) {
    std::cerr << "error: " << env.status().message() << "\n";
    return 2;
  }
  const int timeout_s = absl::GetFlag(FLAGS_collective_timeout_s);
  if (timeout_s <= 0) {
    std::cerr << "error: --collective_timeout_s=" << timeout_s << " must be > 0\n";
    return 2;
  }
  if (int rc = UseLocalRankGpu(*env, &resolved, &device); rc != 0) return rc;
  std::unique_ptr<spat::Communicator> comm;
  spat::TrainRuntime runtime;
  if (env->world_size > 1) {
    absl::StatusOr<std::unique_ptr<spat::Communicator>> c = spat::Communicator::Connect(
        *env, std::chrono::seconds(timeout_s), device);
    if (!c.ok()) return Fail(c.status());
    comm = std::move(*c);
    runtime.comm = comm.get();
  }
  absl::StatusOr<spat::TrainSummary> summary =
      spat::Train(resolved, &std::cerr, absl::GetFlag(FLAGS_resume), runtime);
  if (!summary.ok()) {
    if (env->world_size > 1 && !absl::StartsWith(summary.status().message(), "rank ")) {
      return Fail(absl::Status(summary.status().code(),
                               absl::StrCat("rank ", env->rank, ": ", summary.status().message())));
    }
    return Fail(summary.status());
  }
  if (env->rank > 0) return summary->collapsed() ? 1 : 0;  // rank 0 reports
  if (summary->collapsed()) {
    std::cerr << "error: the run collapsed at epoch " << summary->collapsed_epoch << ": "
              << summary->collapse_reason << " (recorded in " << resolved.out_dir()
              << "/metrics.json; the checkpoint is the last epoch's)\n";
    return 1;
  }
  std::cout << "clean_accuracy " << summary->clean_accuracy << "\n"
            << "pgd_accuracy " << summary->pgd_accuracy << "\n"
            << "wrote " << resolved.out_dir() << "/checkpoint.pt and metrics.json\n";
  return 0;
}
