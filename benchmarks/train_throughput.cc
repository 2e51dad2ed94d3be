// Training-step throughput of one method on one model, on fixed random data:
//
//   bazel run //benchmarks:train_throughput -- --method=spat --model=small_cnn
//       --batch_size=128 --num_steps=10 --iters=8
//
// prints one JSON line: {"method", "model", "batch_size", "num_steps",
// "threads", "iters", "img_per_s", "ms_per_step"}. The first (warm-up) step is
// not timed.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "attacks/pgd.h"
#include "attacks/pgd_graphs.h"
#include "base/cli.h"
#include "base/device.h"
#include "benchmarks/op_profile.h"
#include "models/registry.h"
#include "spat/method.h"
#include "spat/sgd.h"

ABSL_FLAG(std::string, method, "spat", "training method");
ABSL_FLAG(std::string, model, "small_cnn", "model name");
ABSL_FLAG(int, batch_size, 128, "batch size");
ABSL_FLAG(int, num_steps, 10, "inner attack steps");
ABSL_FLAG(int, iters, 8, "timed training steps");
ABSL_FLAG(int, threads, 0, "intra-op threads (0: all cores)");
ABSL_FLAG(bool, profile, false,
          "after the timed steps, profile 2 more and print self time per op and scope");
ABSL_FLAG(bool, channels_last, true,
          "NHWC memory format for inputs and conv weights (the trainer's default)");
ABSL_FLAG(bool, bf16, false,
          "bfloat16 autocast for the inner attack's forward passes (AVX512-BF16 CPUs, or CUDA)");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda | cuda:N | auto (CUDA when present)");
ABSL_FLAG(bool, cuda_graphs, true, "on CUDA: the inner PGD steps as a CUDA graph");

int main(int argc, char** argv) {
  spat::ParseCommandLineOrExit(argc, argv);
  const int threads = absl::GetFlag(FLAGS_threads) > 0
                          ? absl::GetFlag(FLAGS_threads)
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int batch = absl::GetFlag(FLAGS_batch_size);
  const int iters = absl::GetFlag(FLAGS_iters);
  if (batch < 1 || iters < 1 || absl::GetFlag(FLAGS_num_steps) < 1) {
    std::cerr << "error: --batch_size, --iters and --num_steps must be >= 1\n";
    return 2;
  }
  const c10::Device device = spat::DeviceFromFlagOrExit(absl::GetFlag(FLAGS_device), &std::cerr);
  at::set_num_threads(threads);
  torch::manual_seed(0);
  const std::string name = absl::GetFlag(FLAGS_model);
  const bool mnist = name == "small_cnn" || name == "lenet5";
  const std::string method_name = absl::GetFlag(FLAGS_method);
  spat::models::ModelSpec spec{name, 10, mnist ? 1 : 3, mnist ? 28 : 32,
                               {method_name == "spat" ? spat::models::HeadType::kNce
                                                      : spat::models::HeadType::kLinear,
                                5.0}};
  auto model = spat::models::CreateModel(spec);
  if (!model.ok()) {
    std::cerr << "error: --model: " << model.status().message() << "\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_bf16) && device.is_cpu() && !spat::attacks::CpuBf16Supported()) {
    std::cerr << "error: --bf16: " << spat::attacks::kNoCpuBf16 << "\n";
    return 2;
  }
  spat::MethodOptions o;
  o.name = method_name;
  o.lambda = spat::DefaultLambda(o.name);
  o.attack = {.epsilon = mnist ? 0.3 : 8.0 / 255,
              .step_size = mnist ? 0.01 : 2.0 / 255,
              .num_steps = absl::GetFlag(FLAGS_num_steps),
              .bf16 = absl::GetFlag(FLAGS_bf16)};
  o.make_model = [spec, device] {
    std::shared_ptr<spat::models::Classifier> m = *spat::models::CreateModel(spec);
    m->to(device);
    return m;
  };
  auto method = spat::MakeMethod(o);
  if (!method.ok()) {
    std::cerr << "error: --method: " << method.status().message() << "\n";
    return 2;
  }
  at::Tensor x = torch::rand({batch, spec.in_channels, spec.image_size, spec.image_size});
  at::Tensor y = torch::randint(0, 10, {batch});
  if (absl::GetFlag(FLAGS_channels_last)) {
    spat::models::ToChannelsLast(**model);
    x = x.contiguous(at::MemoryFormat::ChannelsLast);
  }
  (*model)->to(device);
  x = spat::ToDevice(x, device);
  y = spat::ToDevice(y, device);
  spat::Sgd opt((*model)->named_parameters(), {0.01, 0.9, 5e-4});
  spat::attacks::PgdGraphs graphs(absl::GetFlag(FLAGS_cuda_graphs));
  spat::MethodContext ctx;
  ctx.gen = at::detail::createCPUGenerator(1);
  if (device.is_cuda()) ctx.graphs = &graphs;
  auto step = [&] {
    at::Tensor loss;
    {
      RECORD_USER_SCOPE("spat.loss");
      loss = (*method)->Loss(**model, x, y, ctx);
    }
    {
      RECORD_USER_SCOPE("spat.backward");
      opt.ZeroGrad();
      loss.backward();
    }
    RECORD_USER_SCOPE("spat.sgd");
    opt.Step();
    (*method)->AfterStep(**model, ctx);
  };
  step();  // warm-up (on CUDA: the eager step that precedes the graph's capture)
  step();
  spat::Synchronize(device);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) step();
  spat::Synchronize(device);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << absl::StrFormat(
                   "{\"method\": \"%s\", \"model\": \"%s\", \"batch_size\": %d, \"num_steps\": %d, "
                   "\"threads\": %d, \"iters\": %d, \"img_per_s\": %.1f, \"ms_per_step\": %.1f, "
                   "\"device\": \"%s\", \"cuda_graphs\": %s}",
                   o.name, name, batch, o.attack.num_steps, threads, iters,
                   batch * iters / s, 1000.0 * s / iters, device.str(),
                   graphs.captures() > 0 ? "true" : "false")
            << std::endl;
  if (absl::GetFlag(FLAGS_profile)) {
    spat::benchmarks::OpProfile p;
    p.Start();
    for (int i = 0; i < 2; ++i) step();
    std::cout << p.StopAndFormat(30);
  }
  return 0;
}
