#include "spat/method.h"

#include <torch/torch.h>

#include "gtest/gtest.h"
#include "models/registry.h"

namespace spat {
namespace {

std::shared_ptr<models::Classifier> Tiny(bool nce) {
  torch::manual_seed(0);
  models::ModelSpec spec{"lenet5", 10, 1, 28, {nce ? models::HeadType::kNce
                                                   : models::HeadType::kLinear, 5.0}};
  return *models::CreateModel(spec);
}

TEST(Method, EveryMethodGivesAFiniteDifferentiableLossInTrainMode) {
  torch::manual_seed(1);
  at::Tensor x = torch::rand({8, 1, 28, 28});
  at::Tensor y = torch::randint(0, 10, {8});
  for (const char* name : {"natural", "madry", "trades", "mart", "alp", "gairat",
                           "mail_at", "seat", "spat"}) {
    auto model = Tiny(std::string(name) == "spat");
    MethodOptions o;
    o.name = name;
    o.lambda = DefaultLambda(name);
    o.attack = {.epsilon = 0.3, .step_size = 0.1, .num_steps = 3};
    o.reweight_start = 0.0;
    o.make_model = [] { return Tiny(false); };
    auto method = MakeMethod(o);
    ASSERT_TRUE(method.ok()) << name;
    MethodContext ctx;
    ctx.gen = at::detail::createCPUGenerator(4);
    at::Tensor loss = (*method)->Loss(*model, x, y, ctx);
    EXPECT_EQ(loss.dim(), 0) << name;
    EXPECT_TRUE(std::isfinite(loss.item<double>())) << name;
    EXPECT_TRUE(model->is_training()) << name;
    loss.backward();
    double grad_norm = 0;
    for (const auto& p : model->parameters()) {
      if (p.grad().defined()) grad_norm += p.grad().norm().item<double>();
    }
    EXPECT_GT(grad_norm, 0) << name;
  }
}

// The three inner maximizations SPAT can ascend give three different
// adversarial batches, hence three different losses, from the same start;
// an unknown one is refused.
TEST(Method, SpatAscendsTheChosenInnerLoss) {
  torch::manual_seed(1);
  at::Tensor x = torch::rand({8, 1, 28, 28});
  at::Tensor y = torch::randint(0, 10, {8});
  std::vector<double> losses;
  for (const char* inner : {"rob_sp", "kl", "ce", "rob_sp"}) {
    auto model = Tiny(true);
    MethodOptions o;
    o.spat_attack_loss = inner;
    o.attack = {.epsilon = 0.3, .step_size = 0.1, .num_steps = 3};
    auto method = MakeMethod(o);
    ASSERT_TRUE(method.ok()) << inner;
    MethodContext ctx;
    ctx.gen = at::detail::createCPUGenerator(4);
    losses.push_back((*method)->Loss(*model, x, y, ctx).item<double>());
    EXPECT_TRUE(std::isfinite(losses.back())) << inner;
  }
  EXPECT_EQ(losses[0], losses[3]);  // deterministic for a given start
  EXPECT_NE(losses[0], losses[1]);
  EXPECT_NE(losses[0], losses[2]);
  EXPECT_NE(losses[1], losses[2]);

  MethodOptions bad;
  bad.spat_attack_loss = "dlr";
  auto m = MakeMethod(bad);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("unknown SPAT inner-maximization loss 'dlr'"),
            std::string::npos);
}

TEST(Method, SeatEvaluatesItsEnsemble) {
  auto model = Tiny(false);
  MethodOptions o;
  o.name = "seat";
  o.attack = {.epsilon = 0.3, .step_size = 0.1, .num_steps = 1};
  o.make_model = [] { return Tiny(false); };
  auto method = *MakeMethod(o);
  MethodContext ctx;
  ctx.gen = at::detail::createCPUGenerator(0);
  EXPECT_EQ(&method->EvalModel(*model), model.get());  // before any step
  method->AfterStep(*model, ctx);
  EXPECT_NE(&method->EvalModel(*model), model.get());
}

TEST(Method, UnknownNameIsAnError) {
  MethodOptions o;
  o.name = "fast_at";
  auto m = MakeMethod(o);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("unknown method 'fast_at'"), std::string::npos);
}

TEST(Method, DefaultLambdas) {
  EXPECT_EQ(DefaultLambda("spat"), 6.0);
  EXPECT_EQ(DefaultLambda("trades"), 6.0);
  EXPECT_EQ(DefaultLambda("mart"), 5.0);
  EXPECT_EQ(DefaultLambda("alp"), 0.5);
}

}  // namespace
}  // namespace spat
