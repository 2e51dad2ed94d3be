#include "attacks/evaluator.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace spat::attacks {
namespace {

TEST(ParseAttack, KnownNames) {
  EXPECT_EQ(ParseAttack("pgd20")->steps, 20);
  EXPECT_TRUE(ParseAttack("pgd100")->random_start);
  EXPECT_TRUE(ParseAttack("fgsm")->fgsm);
  EXPECT_FALSE(ParseAttack("fgsm")->random_start);
  EXPECT_EQ(ParseAttack("mim20")->momentum, 1.0);
  EXPECT_EQ(ParseAttack("cw")->loss, "cw");
  EXPECT_EQ(ParseAttack("cw")->steps, 20);
  EXPECT_EQ(ParseAttack("aa")->kind, AttackKind::kAutoAttack);
  EXPECT_TRUE(ParseAttack("transfer_pgd20")->transfer);
  EXPECT_EQ(ParseAttack("clean")->kind, AttackKind::kClean);
}

TEST(ParseAttack, BadNamesAreClearErrors) {
  EXPECT_TRUE(ParseAttack("transfer_aa")->transfer);
  for (const char* bad : {"pgd", "pgd0", "pgdx", "deepfool", "transfer_clean", ""}) {
    absl::StatusOr<AttackSpec> s = ParseAttack(bad);
    ASSERT_FALSE(s.ok()) << bad;
  }
  EXPECT_NE(ParseAttack("deepfool").status().message().find("unknown attack 'deepfool'"),
            std::string::npos);
}

TEST(RunAttack, CleanAccuracyAndConfusionCountEveryPoint) {
  // A fixed "model" that predicts class 1 for everything.
  ForwardFn f = [](const at::Tensor& t) {
    at::Tensor z = torch::zeros({t.size(0), 3});
    z.select(1, 1).fill_(1.0);
    return z;
  };
  at::Tensor x = torch::rand({6, 1, 2, 2});
  at::Tensor y = torch::tensor({0, 1, 1, 2, 1, 0});
  EvaluatorOptions o;
  o.num_classes = 3;
  AttackOutcome c = RunAttack(*ParseAttack("clean"), f, nullptr, x, y, o, nullptr);
  EXPECT_NEAR(c.accuracy, 50.0, 1e-9);
  EXPECT_TRUE(torch::equal(c.confusion, torch::tensor({{0, 2, 0}, {0, 3, 0}, {0, 1, 0}})));
  // A constant model cannot be attacked: PGD changes nothing.
  AttackOutcome p = RunAttack(*ParseAttack("pgd5"), f, nullptr, x, y, o, nullptr);
  EXPECT_NEAR(p.accuracy, 50.0, 1e-9);
}

TEST(RunAttack, TransferIsCraftedOnTheSourceAndScoredOnTheTarget) {
  // Target: class = sign of the pixel sum; source: the opposite model. PGD on
  // the source pushes toward the source's wrong class, i.e. toward the
  // target's right class: transfer fails, white-box succeeds.
  ForwardFn target = [](const at::Tensor& t) {
    at::Tensor s = t.flatten(1).sum(1, true) - 2.0;
    return torch::cat({-s, s}, 1);
  };
  ForwardFn source = [&](const at::Tensor& t) { return -target(t); };
  at::Tensor x = torch::full({4, 1, 2, 2}, 0.45);  // sum 1.8 -> class 0
  at::Tensor y = torch::zeros({4}, torch::kLong);
  EvaluatorOptions o;
  o.epsilon = 0.1;
  o.step_size = 0.05;  // 10 steps saturate the ball from any random start
  o.num_classes = 2;
  EXPECT_NEAR(RunAttack(*ParseAttack("pgd10"), target, nullptr, x, y, o, nullptr).accuracy, 0.0, 1e-9);
  EXPECT_NEAR(RunAttack(*ParseAttack("transfer_pgd10"), target, source, x, y, o, nullptr).accuracy,
              100.0, 1e-9);
}

}  // namespace
}  // namespace spat::attacks
