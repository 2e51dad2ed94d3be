// Every attack name of the suite in the trainer's per-epoch evaluation: each
// runs the attack it names through the evaluator, or is refused naming the
// field (never a silent PGD).
#include "spat/evaluation.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include "attacks/evaluator.h"
#include "gtest/gtest.h"
#include "models/registry.h"
#include "spat/config.h"

namespace spat {
namespace {

TrainConfig WithEvalAttack(const std::string& text_name) {
  TrainConfig c;
  c.mutable_method()->set_name("madry");
  c.mutable_eval_attack()->set_name(text_name);
  return c;
}

TEST(EvalAttack, EveryNameOfTheSuiteRunsThatAttack) {
  torch::manual_seed(0);
  auto model = *models::CreateModel({.name = "lenet5", .num_classes = 10, .in_channels = 1,
                                     .image_size = 28});
  data::Dataset data;
  data.images = torch::rand({6, 1, 28, 28});
  // The model's own predictions: every point starts correct and is attacked.
  data.labels = model->forward(data.images).argmax(1).detach();
  for (const attacks::AttackInfo& info : attacks::KnownAttacks()) {
    TrainConfig c = WithEvalAttack(info.name);
    if (info.default_count > 0) c.mutable_eval_attack()->set_num_steps(3);
    absl::StatusOr<TrainConfig> resolved = ResolveTrainConfig(c);
    ASSERT_TRUE(resolved.ok()) << info.name << ": " << resolved.status();
    absl::StatusOr<EvalPlan> plan = PlanEvaluation(resolved->eval_attack(), 10, 0);
    ASSERT_TRUE(plan.ok()) << info.name << ": " << plan.status();
    EXPECT_EQ(plan->spec.kind, info.kind) << info.name;
    EXPECT_EQ(plan->spec.fgsm, info.name == "fgsm") << info.name;
    if (info.kind == attacks::AttackKind::kPgd && info.name != "fgsm") {
      EXPECT_EQ(plan->spec.steps, 3) << info.name;
    }
    if (info.kind == attacks::AttackKind::kSquare) {
      EXPECT_EQ(plan->options.square_queries, 3);
    }
    EvalResult r = Evaluate(*model, data, *plan);
    EXPECT_DOUBLE_EQ(r.clean, 100.0) << info.name;
    EXPECT_GE(r.adversarial, 0.0);
    EXPECT_LE(r.adversarial, 100.0);
  }
}

TEST(EvalAttack, FabWithTwentyIterationsIsFab) {
  TrainConfig c = WithEvalAttack("fab");
  c.mutable_eval_attack()->set_num_steps(20);
  absl::StatusOr<TrainConfig> resolved = ResolveTrainConfig(c);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  absl::StatusOr<EvalPlan> plan = PlanEvaluation(resolved->eval_attack(), 10, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spec.kind, attacks::AttackKind::kFab);
  EXPECT_EQ(plan->options.fab_iters, 20);
  EXPECT_EQ(plan->label, "fab-20");
  EXPECT_NE(plan->settings.find("fab"), std::string::npos) << plan->settings;
}

TEST(EvalAttack, PgdKeepsItsLossNormAndStart) {
  TrainConfig c = WithEvalAttack("pgd");
  AttackConfig* a = c.mutable_eval_attack();
  a->set_num_steps(7);
  a->set_loss("dlr");
  a->set_norm("l2");
  a->set_epsilon(1.5);
  a->set_random_start(false);
  absl::StatusOr<TrainConfig> resolved = ResolveTrainConfig(c);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  absl::StatusOr<EvalPlan> plan = PlanEvaluation(resolved->eval_attack(), 10, 0);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spec.steps, 7);
  EXPECT_EQ(plan->spec.loss, "dlr");
  EXPECT_EQ(plan->spec.norm, attacks::Norm::kL2);
  EXPECT_FALSE(plan->spec.random_start);
  EXPECT_DOUBLE_EQ(plan->options.step_size, 0.15);
  EXPECT_EQ(plan->label, "pgd-7");
}

TEST(EvalAttack, WhatAnAttackDoesNotReadIsRefusedNamingTheField) {
  struct Bad {
    const char* name;
    std::function<void(AttackConfig*)> set;
    const char* field;
  };
  const Bad cases[] = {
      {"fgsm", [](AttackConfig* a) { a->set_num_steps(5); }, "eval_attack.num_steps"},
      {"clean", [](AttackConfig* a) { a->set_num_steps(5); }, "eval_attack.num_steps"},
      {"fab", [](AttackConfig* a) { a->set_loss("cw"); }, "eval_attack.loss"},
      {"cw", [](AttackConfig* a) { a->set_loss("ce"); }, "eval_attack.loss"},
      {"pgd", [](AttackConfig* a) { a->set_loss("kl"); }, "eval_attack.loss"},
      {"aa", [](AttackConfig* a) { a->set_step_size(0.01); }, "eval_attack.step_size"},
      {"square", [](AttackConfig* a) { a->set_norm("l2"); }, "eval_attack.norm"},
      {"apgd_t", [](AttackConfig* a) { a->set_random_start(false); }, "eval_attack.random_start"},
      {"transfer_pgd20", [](AttackConfig*) {}, "eval_attack.name"},
      {"pgd20", [](AttackConfig*) {}, "eval_attack.name"},
      {"deepfool", [](AttackConfig*) {}, "eval_attack.name"},
  };
  for (const Bad& b : cases) {
    TrainConfig c = WithEvalAttack(b.name);
    b.set(c.mutable_eval_attack());
    absl::Status st = ValidateTrainConfig(c);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << b.name;
    EXPECT_EQ(st.message().rfind(b.field, 0), 0u) << b.name << ": " << st;
  }
}

TEST(TrainAttack, OnlyPgdAndNoLossOfItsOwn) {
  for (const attacks::AttackInfo& info : attacks::KnownAttacks()) {
    TrainConfig c;
    c.mutable_train_attack()->set_name(info.name);
    absl::Status st = ValidateTrainConfig(c);
    if (info.name == "pgd") {
      EXPECT_TRUE(st.ok()) << st;
    } else {
      EXPECT_EQ(st.message().rfind("train_attack.name", 0), 0u) << info.name << ": " << st;
    }
  }
  TrainConfig c;
  c.mutable_train_attack()->set_loss("kl");
  EXPECT_EQ(ValidateTrainConfig(c).message().rfind("train_attack.loss", 0), 0u);
}

}  // namespace
}  // namespace spat
