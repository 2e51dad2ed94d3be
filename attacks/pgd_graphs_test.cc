#include "attacks/pgd_graphs.h"

#include <torch/torch.h>

#include "attacks/adv_losses.h"
#include "base/device.h"
#include "gtest/gtest.h"

namespace spat::attacks {
namespace {

// A small conv net with BatchNorm (read in eval mode, as the inner attacks do).
torch::nn::Sequential SmallNet() {
  torch::manual_seed(3);
  torch::nn::Sequential net(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 8, 3).padding(1)), torch::nn::BatchNorm2d(8),
      torch::nn::ReLU(), torch::nn::Flatten(), torch::nn::Linear(8 * 12 * 12, 10));
  net->eval();
  return net;
}

at::Tensor Ce(const at::Tensor& z, const at::Tensor& y) { return CrossEntropyPerExample(z, y); }

// Share of the entries of a and b more than `tol` apart.
double ShareApart(const at::Tensor& a, const at::Tensor& b, double tol) {
  return (a - b).abs().gt(tol).to(at::kDouble).mean().item<double>();
}

// The split PgdStart + PgdSteps is Pgd: same start, same steps, bit for bit.
TEST(PgdSteps, StartThenStepsIsPgd) {
  torch::nn::Sequential net = SmallNet();
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  at::Tensor x = torch::rand({6, 1, 12, 12});
  at::Tensor y = torch::randint(0, 10, {6});
  for (Norm norm : {Norm::kLinf, Norm::kL2}) {
    PgdOptions o{.epsilon = norm == Norm::kLinf ? 0.1 : 1.0, .step_size = 0.03, .num_steps = 4,
                 .norm = norm};
    at::Tensor whole = Pgd(forward, x, [&](const at::Tensor& z) { return Ce(z, y); }, o,
                           at::detail::createCPUGenerator(5));
    at::Tensor adv = PgdStart(x, o, at::detail::createCPUGenerator(5));
    const void* storage = adv.data_ptr();
    PgdSteps(forward, x, adv, [&](const at::Tensor& z) { return Ce(z, y); }, o);
    EXPECT_TRUE(at::equal(adv, whole));
    EXPECT_EQ(adv.data_ptr(), storage) << "the steps must keep x_adv's storage";
  }
}

// Off CUDA (or disabled) Run is Pgd, and nothing is captured.
TEST(PgdGraphs, OnTheCpuRunIsPgd) {
  torch::nn::Sequential net = SmallNet();
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  PgdGraphs graphs(/*enabled=*/true);
  PgdOptions o{.epsilon = 0.1, .step_size = 0.03, .num_steps = 3};
  for (int call = 0; call < 3; ++call) {
    at::Tensor x = torch::rand({5, 1, 12, 12});
    at::Tensor y = torch::randint(0, 10, {5});
    at::Tensor a = graphs.Run("net", forward, x, y, Ce, o, at::detail::createCPUGenerator(call));
    at::Tensor b = Pgd(forward, x, [&](const at::Tensor& z) { return Ce(z, y); }, o,
                       at::detail::createCPUGenerator(call));
    EXPECT_TRUE(at::equal(a, b));
  }
  EXPECT_EQ(graphs.captures(), 0);
  EXPECT_EQ(graphs.replays(), 0);
}

// Graphed and eager PGD give the same x' from the same start: the first call
// captures, the later ones (new inputs, new targets) replay; an input of
// another shape gets its own graph. All but 0.1% of the pixels agree to 1e-5
// (a sign step may flip where a gradient entry is ~0 and the two runs sum in
// another order).
TEST(PgdGraphs, GraphedEqualsEager_CUDA) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  if (!CudaGraphsCompiled()) GTEST_SKIP() << "built without SPAT_WITH_CUDA";
  const c10::Device cuda(c10::kCUDA, 0);
  torch::nn::Sequential net = SmallNet();
  net->to(cuda);
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  PgdGraphs graphs(/*enabled=*/true);
  for (Norm norm : {Norm::kLinf, Norm::kL2}) {
    PgdOptions o{.epsilon = norm == Norm::kLinf ? 0.1 : 1.0, .step_size = 0.02, .num_steps = 10,
                 .norm = norm};
    const std::string key = norm == Norm::kLinf ? "linf" : "l2";
    for (int call = 0; call < 4; ++call) {
      const int64_t b = call == 3 ? 7 : 16;  // the last call: another shape
      at::Tensor x = torch::rand({b, 1, 12, 12}).to(cuda);
      at::Tensor y = torch::randint(0, 10, {b}).to(cuda);
      at::Tensor graphed = graphs.Run(key, forward, x, y, Ce, o, at::detail::createCPUGenerator(call));
      at::Tensor eager = Pgd(forward, x, [&](const at::Tensor& z) { return Ce(z, y); }, o,
                             at::detail::createCPUGenerator(call));
      EXPECT_LE(ShareApart(graphed, eager, 1e-5), 1e-3) << key << " call " << call;
      EXPECT_LE((graphed - x).abs().max().item<double>(), norm == Norm::kLinf ? 0.1 + 1e-6 : 1.0);
    }
  }
  EXPECT_EQ(graphs.captures(), 4);  // 2 norms x 2 shapes
  EXPECT_EQ(graphs.replays(), 4);
}

// --cuda_graphs=false: the same inputs on CUDA run eagerly.
TEST(PgdGraphs, DisabledNeverCaptures_CUDA) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0);
  torch::nn::Sequential net = SmallNet();
  net->to(cuda);
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  PgdGraphs graphs(/*enabled=*/false);
  PgdOptions o{.epsilon = 0.1, .step_size = 0.02, .num_steps = 5};
  at::Tensor x = torch::rand({8, 1, 12, 12}).to(cuda);
  at::Tensor y = torch::randint(0, 10, {8}).to(cuda);
  for (int call = 0; call < 2; ++call) graphs.Run("k", forward, x, y, Ce, o, at::detail::createCPUGenerator(0));
  EXPECT_EQ(graphs.captures(), 0);
}

}  // namespace
}  // namespace spat::attacks
