#include "attacks/pgd.h"

#include <torch/torch.h>

#include <cmath>

#include "attacks/adv_losses.h"
#include "gtest/gtest.h"

namespace spat::attacks {
namespace {

TEST(AdvLosses, ByHand) {
  at::Tensor z = torch::tensor({{3.0, 1.0, 2.0, -1.0}});
  at::Tensor y = torch::tensor({0});
  EXPECT_NEAR(CwMarginLoss(z, y).item<double>(), 2.0 - 3.0, 1e-6);
  // DLR: -(3 - 2) / (3 - 1) with z sorted [3, 2, 1, -1].
  EXPECT_NEAR(DlrLoss(z, y).item<double>(), -0.5, 1e-6);
  const double lse = std::log(std::exp(3.0) + std::exp(1.0) + std::exp(2.0) + std::exp(-1.0));
  EXPECT_NEAR(CrossEntropyPerExample(z, y).item<double>(), lse - 3.0, 1e-5);
}

// A linear "model" whose loss is w · x: the l-inf worst case is x + eps·sign(w),
// the l2 worst case x + eps·w/||w||.
TEST(Pgd, ReachesTheAnalyticWorstCaseOfALinearLoss) {
  torch::manual_seed(0);
  at::Tensor w = torch::randn({1, 1, 4, 4});
  at::Tensor x = torch::full({1, 1, 4, 4}, 0.5);
  ForwardFn forward = [&](const at::Tensor& t) {
    return (t * w).flatten(1).sum(1, /*keepdim=*/true);
  };
  AdvLossFn loss = [](const at::Tensor& z) { return z.squeeze(1); };
  at::Generator gen = at::detail::createCPUGenerator(1);
  PgdOptions o{.epsilon = 0.1, .step_size = 0.03, .num_steps = 10};
  at::Tensor adv = Pgd(forward, x, loss, o, gen);
  EXPECT_TRUE(torch::allclose(adv, x + 0.1 * w.sign(), 0, 1e-6));
  o.norm = Norm::kL2;
  o.epsilon = 0.2;
  o.step_size = 0.05;
  o.num_steps = 50;
  adv = Pgd(forward, x, loss, o, gen);
  EXPECT_TRUE(torch::allclose(adv, x + 0.2 * w / w.norm(), 0, 1e-4)) << (adv - x);
}

TEST(Pgd, StaysInTheBallAndTheImageRange) {
  torch::manual_seed(1);
  auto net = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(3 * 8 * 8, 16),
                                   torch::nn::ReLU(), torch::nn::Linear(16, 5));
  at::Tensor x = torch::rand({32, 3, 8, 8});
  x.index_put_({torch::indexing::Slice(0, 4)}, 0.0);  // points on the boundary
  at::Tensor y = torch::randint(0, 5, {32});
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  for (Norm norm : {Norm::kLinf, Norm::kL2}) {
    for (StartMode start : {StartMode::kNone, StartMode::kUniform, StartMode::kGaussian}) {
      PgdOptions o{.epsilon = norm == Norm::kLinf ? 0.05 : 0.5,
                   .step_size = norm == Norm::kLinf ? 0.02 : 0.2,
                   .num_steps = 7, .norm = norm, .start = start, .start_std = 0.01};
      at::Tensor adv = Pgd(forward, x,
                           [&](const at::Tensor& z) { return CrossEntropyPerExample(z, y); },
                           o, at::detail::createCPUGenerator(2));
      at::Tensor d = (adv - x).flatten(1);
      const double bound = norm == Norm::kLinf ? d.abs().max().item<double>()
                                               : d.norm(2, 1).max().item<double>();
      EXPECT_LE(bound, o.epsilon + 1e-6);
      EXPECT_GE(adv.min().item<double>(), 0.0);
      EXPECT_LE(adv.max().item<double>(), 1.0);
    }
  }
  // Input gradients only: the parameters' gradients stay untouched.
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

// clamp_start = false: the start is in the ball but may leave [0, 1] (the
// authors' SPAT script); the first step's projection brings it back.
TEST(Pgd, UnclampedStartLeavesTheImageRangeUntilTheFirstStep) {
  at::Tensor x = torch::zeros({4, 1, 6, 6});
  x.index_put_({torch::indexing::Slice(2, 4)}, 1.0);
  for (Norm norm : {Norm::kLinf, Norm::kL2}) {
    PgdOptions o{.epsilon = norm == Norm::kLinf ? 0.05 : 0.5, .step_size = 0.01, .num_steps = 1,
                 .norm = norm, .start = StartMode::kGaussian, .start_std = 0.01};
    at::Tensor clamped = PgdStart(x, o, at::detail::createCPUGenerator(3));
    EXPECT_GE(clamped.min().item<double>(), 0.0);
    EXPECT_LE(clamped.max().item<double>(), 1.0);
    o.clamp_start = false;
    at::Tensor start = PgdStart(x, o, at::detail::createCPUGenerator(3));
    EXPECT_LT(start.min().item<double>(), 0.0);
    EXPECT_GT(start.max().item<double>(), 1.0);
    // The same draw: where the clamp did nothing, both starts agree.
    at::Tensor inside = (start >= 0) & (start <= 1);
    EXPECT_TRUE(at::equal(start.masked_select(inside), clamped.masked_select(inside)));
    at::Tensor d = (start - x).flatten(1);
    const double bound = norm == Norm::kLinf ? d.abs().max().item<double>()
                                             : d.norm(2, 1).max().item<double>();
    EXPECT_LE(bound, o.epsilon + 1e-6);
    auto net = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(36, 3));
    at::Tensor adv = Pgd([&](const at::Tensor& t) { return net->forward(t); }, x,
                         [](const at::Tensor& z) { return z.sum(1); }, o,
                         at::detail::createCPUGenerator(3));
    EXPECT_GE(adv.min().item<double>(), 0.0);
    EXPECT_LE(adv.max().item<double>(), 1.0);
  }
}

// An explicit init replaces the random start: k steps from x'_j equal k
// further steps of the same attack, and an init outside the ball is projected.
TEST(Pgd, InitContinuesAnEarlierAttack) {
  torch::manual_seed(3);
  auto net = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(2 * 6 * 6, 8),
                                   torch::nn::Tanh(), torch::nn::Linear(8, 4));
  at::Tensor x = torch::rand({16, 2, 6, 6});
  at::Tensor y = torch::randint(0, 4, {16});
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  AdvLossFn loss = [&](const at::Tensor& z) { return CrossEntropyPerExample(z, y); };
  PgdOptions o{.epsilon = 0.1, .step_size = 0.03, .num_steps = 5,
               .start = StartMode::kGaussian, .start_std = 0.01};
  at::Tensor five = Pgd(forward, x, loss, o, at::detail::createCPUGenerator(4));
  o.num_steps = 2;
  at::Tensor two = Pgd(forward, x, loss, o, at::detail::createCPUGenerator(4));
  PgdOptions more = o;
  more.num_steps = 3;
  more.init = two;
  // (Up to the rounding of re-projecting x'_2: x + (x'_2 - x).)
  EXPECT_TRUE(torch::allclose(Pgd(forward, x, loss, more, at::detail::createCPUGenerator(99)),
                              five, /*rtol=*/0, /*atol=*/1e-6));
  more.num_steps = 0;
  more.init = x + 1.0;  // far outside the ball and the image range
  at::Tensor projected = Pgd(forward, x, loss, more, at::detail::createCPUGenerator(5));
  EXPECT_TRUE(torch::allclose(projected, (x + 0.1).clamp(0, 1), /*rtol=*/0, /*atol=*/1e-6));
  more.init = torch::zeros({3, 2, 6, 6});
  EXPECT_THROW(Pgd(forward, x, loss, more, at::detail::createCPUGenerator(5)), c10::Error);
}

TEST(Pgd, IncreasesTheLossAndMomentumVariantWorks) {
  torch::manual_seed(2);
  auto net = torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Linear(64, 10));
  at::Tensor x = torch::rand({16, 1, 8, 8});
  at::Tensor y = torch::randint(0, 10, {16});
  ForwardFn forward = [&](const at::Tensor& t) { return net->forward(t); };
  AdvLossFn ce = [&](const at::Tensor& z) { return CrossEntropyPerExample(z, y); };
  const double before = ce(forward(x)).sum().item<double>();
  for (double momentum : {0.0, 1.0}) {
    PgdOptions o{.epsilon = 0.1, .step_size = 0.01, .num_steps = 20, .momentum = momentum};
    at::Tensor adv = Pgd(forward, x, ce, o, at::detail::createCPUGenerator(3));
    EXPECT_GT(ce(forward(adv)).sum().item<double>(), before) << momentum;
  }
}

TEST(Pgd, ObserverSeesEveryStep) {
  auto net = torch::nn::Linear(4, 3);
  at::Tensor x = torch::rand({2, 4});
  int calls = 0;
  Pgd([&](const at::Tensor& t) { return net->forward(t); }, x,
      [](const at::Tensor& z) { return z.sum(1); },
      PgdOptions{.epsilon = 0.1, .step_size = 0.1, .num_steps = 6},
      at::detail::createCPUGenerator(0), [&](int step, const at::Tensor&) {
        EXPECT_EQ(step, calls);
        ++calls;
      });
  EXPECT_EQ(calls, 6);
}

}  // namespace
}  // namespace spat::attacks
