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
#include <google/protobuf/struct.pb.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "attacks/pgd.h"
#include "attacks/pgd_graphs.h"
#include "base/cli.h"
#include "base/proto_json.h"
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

namespace {

// The method under test with the paper's inner attack for the model's data
// (MNIST eps 0.3 step 0.01, CIFAR eps 8/255 step 2/255).
spat::MethodOptions MethodOptionsFor(const spat::models::ModelSpec& spec, bool mnist,
                                     c10::Device device) {
  spat::MethodOptions o;
  o.name = absl::GetFlag(FLAGS_method);
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
  return o;
}

// The measurement as one JSON line.
std::string Result(const spat::MethodOptions& o, const std::string& model, int batch,
                   int threads, int iters, double seconds, c10::Device device, bool graphed) {
  google::protobuf::Struct r;
  auto& f = *r.mutable_fields();
  f["method"] = spat::JsonText(o.name);
  f["model"] = spat::JsonText(model);
  f["batch_size"] = spat::JsonNumber(batch);
  f["num_steps"] = spat::JsonNumber(o.attack.num_steps);
  f["threads"] = spat::JsonNumber(threads);
  f["iters"] = spat::JsonNumber(iters);
  f["img_per_s"] = spat::JsonNumber(std::round(10.0 * batch * iters / seconds) / 10.0);
  f["ms_per_step"] = spat::JsonNumber(std::round(10000.0 * seconds / iters) / 10.0);
  f["device"] = spat::JsonText(device.str());
  f["cuda_graphs"].set_bool_value(graphed);
  return spat::ToJsonLine(r);
}

}  // namespace

int main(int argc, char** argv) {
  spat::ParseCommandLineOrExit(argc, argv);
  const int threads = spat::ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
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
  spat::models::ModelSpec spec{name, 10, mnist ? 1 : 3, mnist ? 28 : 32,
                               {absl::GetFlag(FLAGS_method) == "spat"
                                    ? spat::models::HeadType::kNce
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
  const spat::MethodOptions o = MethodOptionsFor(spec, mnist, device);
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
  std::cout << Result(o, name, batch, threads, iters, s, device, graphs.captures() > 0)
            << std::endl;
  if (absl::GetFlag(FLAGS_profile)) {
    spat::benchmarks::OpProfile p;
    p.Start();
    for (int i = 0; i < 2; ++i) step();
    std::cout << p.StopAndFormat(30);
  }
  return 0;
}
