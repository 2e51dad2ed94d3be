#include "spat/sgd.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace spat {
namespace {

torch::nn::Sequential Net() {
  torch::manual_seed(0);
  return torch::nn::Sequential(torch::nn::Linear(4, 8), torch::nn::ReLU(), torch::nn::Linear(8, 3));
}

at::Tensor LossOf(torch::nn::Sequential& net, int step) {
  torch::manual_seed(100 + step);
  at::Tensor x = torch::randn({5, 4});
  at::Tensor y = torch::randint(0, 3, {5});
  return torch::cross_entropy_loss(net->forward(x), y);
}

TEST(Sgd, MatchesTorchOptimSgd) {
  torch::nn::Sequential a = Net(), b = Net();
  Sgd ours(a->named_parameters(), {0.1, 0.9, 5e-4});
  torch::optim::SGD theirs(b->parameters(),
                           torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(5e-4));
  for (int step = 0; step < 5; ++step) {
    ours.ZeroGrad();
    LossOf(a, step).backward();
    ours.Step();
    theirs.zero_grad();
    LossOf(b, step).backward();
    theirs.step();
  }
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-6, 1e-7)) << i;
  }
}

TEST(Sgd, StateRoundTripResumesExactly) {
  torch::nn::Sequential a = Net(), b = Net();
  Sgd oa(a->named_parameters(), {0.05, 0.9, 1e-4});
  for (int step = 0; step < 3; ++step) {
    oa.ZeroGrad();
    LossOf(a, step).backward();
    oa.Step();
  }
  // b takes a's weights and optimizer state, then both continue.
  {
    torch::NoGradGuard no_grad;
    auto pa = a->parameters(), pb = b->parameters();
    for (size_t i = 0; i < pa.size(); ++i) pb[i].copy_(pa[i]);
  }
  Sgd ob(b->named_parameters(), {0.05, 0.9, 1e-4});
  ASSERT_TRUE(ob.LoadState(oa.State()).ok());
  EXPECT_EQ(oa.State().size(), 4u);
  EXPECT_EQ(oa.State()[0].first, "momentum.0.weight");
  for (int step = 3; step < 6; ++step) {
    oa.ZeroGrad();
    LossOf(a, step).backward();
    oa.Step();
    ob.ZeroGrad();
    LossOf(b, step).backward();
    ob.Step();
  }
  auto pa = a->parameters(), pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
}

TEST(Sgd, LoadStateRejectsUnknownOrMisshapen) {
  torch::nn::Sequential a = Net();
  Sgd o(a->named_parameters(), {});
  EXPECT_FALSE(o.LoadState({{"momentum.nope", torch::zeros({1})}}).ok());
  EXPECT_FALSE(o.LoadState({{"momentum.0.weight", torch::zeros({2, 2})}}).ok());
}

}  // namespace
}  // namespace spat
