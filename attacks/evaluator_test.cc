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
  for (const char* bad : {"pgd", "pgd0", "pgdx", "deepfool", "transfer_aa", ""}) {
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

}  // namespace
}  // namespace spat::attacks
