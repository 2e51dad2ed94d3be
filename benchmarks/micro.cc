// Google Benchmark micro benchmarks: each loss (forward + backward), one PGD
// step, one training step per method, and forward/backward per model.
//
//   bazel run -c opt //benchmarks:micro                       # everything
//   bazel run -c opt //benchmarks:micro -- --benchmark_filter=Loss
//   bazel run //benchmarks:micro -- --threads=1 --benchmark_format=json
//
// Items per second are images per second. All inputs are fixed random data;
// the numbers measure compute, not accuracy. --threads sets LibTorch's
// intra-op threads (default: all cores); --device=cpu|cuda|cuda:N|auto where
// they run (on CUDA every iteration ends with a synchronize, so the time is
// the device's).
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

#include "attacks/adv_losses.h"
#include "attacks/pgd.h"
#include "base/cli.h"
#include "base/device.h"
#include "models/registry.h"
#include "spat/alp_loss.h"
#include "spat/mart_loss.h"
#include "spat/method.h"
#include "spat/sgd.h"
#include "spat/spat_loss.h"
#include "spat/trades_loss.h"

namespace spat::benchmarks {
namespace {

constexpr int64_t kClasses = 10;

// --device, set once in main() before any benchmark runs.
c10::Device g_device = c10::Device(c10::kCPU);

// Fixed random data on the benchmark device.
at::Tensor On(const at::Tensor& t) { return t.to(g_device); }

bool IsMnistModel(const std::string& name) { return name == "small_cnn" || name == "lenet5"; }

models::ModelSpec Spec(const std::string& name, bool nce) {
  const bool mnist = IsMnistModel(name);
  return {name, kClasses, mnist ? 1 : 3, mnist ? 28 : 32,
          {nce ? models::HeadType::kNce : models::HeadType::kLinear, 5.0}};
}

std::shared_ptr<models::Classifier> Model(const std::string& name, bool nce) {
  absl::StatusOr<std::shared_ptr<models::Classifier>> m = models::CreateModel(Spec(name, nce));
  if (!m.ok()) {
    std::cerr << "micro: " << m.status() << "\n";
    std::exit(1);
  }
  (*m)->to(g_device);
  return *m;
}

at::Tensor Images(const models::ModelSpec& s, int64_t batch) {
  return On(torch::rand({batch, s.in_channels, s.image_size, s.image_size}));
}

// Losses on logits alone: the cost of the loss itself, without a model.
// range(0) is the batch size.
using LossFn = at::Tensor (*)(const at::Tensor& nat, const at::Tensor& adv, const at::Tensor& y);

void RunLoss(benchmark::State& state, LossFn fn) {
  torch::manual_seed(0);
  const int64_t b = state.range(0);
  at::Tensor nat = On(torch::randn({b, kClasses})).requires_grad_();
  at::Tensor adv = On(torch::randn({b, kClasses})).requires_grad_();
  at::Tensor y = On(torch::randint(0, kClasses, {b}));
  for (auto _ : state) {
    at::Tensor loss = fn(nat, adv, y);
    loss.backward();
    benchmark::DoNotOptimize(nat.grad().data_ptr());
    nat.mutable_grad().reset();
    adv.mutable_grad().reset();
    Synchronize(g_device);
  }
  state.SetItemsProcessed(state.iterations() * b);
}

at::Tensor Ce(const at::Tensor& nat, const at::Tensor&, const at::Tensor& y) {
  return torch::nn::functional::cross_entropy(nat, y);
}
at::Tensor Trades(const at::Tensor& nat, const at::Tensor& adv, const at::Tensor& y) {
  return TradesLoss(nat, adv, y, 6.0);
}
at::Tensor Mart(const at::Tensor& nat, const at::Tensor& adv, const at::Tensor& y) {
  return MartLoss(nat, adv, y, 6.0);
}
at::Tensor Alp(const at::Tensor& nat, const at::Tensor& adv, const at::Tensor& y) {
  return AlpLoss(nat, adv, y, 0.5);
}
at::Tensor Spat(const at::Tensor& nat, const at::Tensor& adv, const at::Tensor& y) {
  // The NCE head's logits are s·cos: cos = nat / s with s = 5.
  return SpatLoss(nat, nat / 5.0, adv, y, SpatLossOptions{});
}
at::Tensor Dlr(const at::Tensor& nat, const at::Tensor&, const at::Tensor& y) {
  return attacks::DlrLoss(nat, y).sum();
}

void BM_Loss_CE(benchmark::State& s) { RunLoss(s, Ce); }
void BM_Loss_TRADES(benchmark::State& s) { RunLoss(s, Trades); }
void BM_Loss_MART(benchmark::State& s) { RunLoss(s, Mart); }
void BM_Loss_ALP(benchmark::State& s) { RunLoss(s, Alp); }
void BM_Loss_SPAT(benchmark::State& s) { RunLoss(s, Spat); }
void BM_Loss_DLR(benchmark::State& s) { RunLoss(s, Dlr); }
BENCHMARK(BM_Loss_CE)->Arg(128)->Arg(1024)->UseRealTime();
BENCHMARK(BM_Loss_TRADES)->Arg(128)->Arg(1024)->UseRealTime();
BENCHMARK(BM_Loss_MART)->Arg(128)->Arg(1024)->UseRealTime();
BENCHMARK(BM_Loss_ALP)->Arg(128)->Arg(1024)->UseRealTime();
BENCHMARK(BM_Loss_SPAT)->Arg(128)->Arg(1024)->UseRealTime();
BENCHMARK(BM_Loss_DLR)->Arg(128)->Arg(1024)->UseRealTime();

// Forward + parameter backward of one model on one batch of 128.
void BM_ModelForwardBackward(benchmark::State& state, const std::string& name) {
  torch::manual_seed(0);
  auto model = Model(name, false);
  const models::ModelSpec spec = Spec(name, false);
  at::Tensor x = Images(spec, 128);
  at::Tensor y = On(torch::randint(0, kClasses, {128}));
  for (auto _ : state) {
    model->zero_grad();
    at::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    Synchronize(g_device);
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

// One PGD step (forward, input gradient, signed step, projection): what every
// attack and every adversarial training method repeats 10–100 times a batch.
void BM_PgdStep(benchmark::State& state, const std::string& name) {
  torch::manual_seed(0);
  auto model = Model(name, false);
  model->eval();
  const models::ModelSpec spec = Spec(name, false);
  at::Tensor x = Images(spec, 128);
  at::Tensor y = On(torch::randint(0, kClasses, {128}));
  attacks::PgdOptions o;
  o.epsilon = 8.0 / 255;
  o.step_size = 2.0 / 255;
  o.num_steps = 1;
  at::Generator gen = at::detail::createCPUGenerator(1);
  auto forward = [&](const at::Tensor& in) { return model->forward(in); };
  auto loss = [&](const at::Tensor& logits) {
    return torch::nn::functional::cross_entropy(logits, y,
                                                torch::nn::functional::CrossEntropyFuncOptions()
                                                    .reduction(torch::kSum));
  };
  for (auto _ : state) {
    at::Tensor adv = attacks::Pgd(forward, x, loss, o, gen);
    benchmark::DoNotOptimize(adv.data_ptr());
    Synchronize(g_device);
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

// One full training step of a method (inner maximization with 10 steps, outer
// loss, backward, SGD), batch 128.
void BM_TrainStep(benchmark::State& state, const std::string& method,
                  const std::string& name) {
  torch::manual_seed(0);
  const bool nce = method == "spat";
  auto model = Model(name, nce);
  const models::ModelSpec spec = Spec(name, nce);
  MethodOptions o;
  o.name = method;
  o.lambda = DefaultLambda(method);
  const bool mnist = IsMnistModel(name);
  o.attack.epsilon = mnist ? 0.3 : 8.0 / 255;
  o.attack.step_size = mnist ? 0.01 : 2.0 / 255;
  o.attack.num_steps = 10;
  o.make_model = [spec] {
    std::shared_ptr<models::Classifier> m = *models::CreateModel(spec);
    m->to(g_device);
    return m;
  };
  absl::StatusOr<std::unique_ptr<TrainingMethod>> m = MakeMethod(o);
  if (!m.ok()) {
    state.SkipWithError(std::string(m.status().message()).c_str());
    return;
  }
  Sgd opt(model->named_parameters(), {0.01, 0.9, 5e-4});
  MethodContext ctx;
  ctx.gen = at::detail::createCPUGenerator(1);
  at::Tensor x = Images(spec, 128);
  at::Tensor y = On(torch::randint(0, kClasses, {128}));
  for (auto _ : state) {
    at::Tensor loss = (*m)->Loss(*model, x, y, ctx);
    opt.ZeroGrad();
    loss.backward();
    opt.Step();
    (*m)->AfterStep(*model, ctx);
    ++ctx.global_step;
    Synchronize(g_device);
  }
  state.SetItemsProcessed(state.iterations() * 128);
}

void Register() {
  for (const char* model : {"small_cnn", "lenet5", "resnet18", "wrn34_10"}) {
    benchmark::RegisterBenchmark((std::string("BM_ModelForwardBackward/") + model).c_str(),
                                 BM_ModelForwardBackward, std::string(model))
        ->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark((std::string("BM_PgdStep/") + model).c_str(), BM_PgdStep,
                                 std::string(model))
        ->Unit(benchmark::kMillisecond)->UseRealTime();
  }
  for (const std::string& method : KnownMethods()) {
    if (method == "natural") continue;
    for (const char* model : {"small_cnn", "resnet18"}) {
      benchmark::RegisterBenchmark(("BM_TrainStep/" + method + "/" + model).c_str(),
                                   BM_TrainStep, method, std::string(model))
          ->Unit(benchmark::kMillisecond)->UseRealTime();
    }
  }
}

}  // namespace
}  // namespace spat::benchmarks

int main(int argc, char** argv) {
  // Our flags, --threads=N and --device=D, are taken out before Google
  // Benchmark sees argv.
  std::string device = "cpu";
  int threads = spat::ThreadsOrAllCores(0);
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--threads=", 10) == 0) {
      char* end = nullptr;
      const long t = std::strtol(argv[i] + 10, &end, 10);
      if (*end != '\0' || t < 1 || t > 1024) {
        std::cerr << "error: --threads must be an integer in [1, 1024], got '" << argv[i] + 10
                  << "'\n";
        return 2;
      }
      threads = static_cast<int>(t);
    } else if (std::strncmp(argv[i], "--device=", 9) == 0) {
      device = argv[i] + 9;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  at::set_num_threads(threads);
  spat::benchmarks::g_device = spat::DeviceFromFlagOrExit(device, &std::cerr);
  spat::benchmarks::Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("torch_threads", std::to_string(threads));
  benchmark::AddCustomContext("device", spat::benchmarks::g_device.str());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
