#include "spat/config.h"

#include <functional>

#include "gtest/gtest.h"

namespace spat {
namespace {

TEST(Config, DefaultsAreValid) {
  TrainConfig c;
  absl::Status st = ValidateTrainConfig(c);
  EXPECT_TRUE(st.ok()) << st;
  EXPECT_EQ(c.optimizer().batch_size(), 128);
  EXPECT_FALSE(c.method().has_lambda());  // resolved per method later
}

TEST(Config, ParsesTextFormat) {
  absl::StatusOr<TrainConfig> c = ParseTrainConfig(R"pb(
    dataset { name: "fashion_mnist" train_subset: 1000 }
    model { name: "lenet5" head: NCE }
    method { name: "trades" lambda: 6 }
    optimizer { epochs: 3 lr_milestones: 0.5 }
    seed: 7
  )pb", "inline");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dataset().name(), "fashion_mnist");
  EXPECT_EQ(c->dataset().train_subset(), 1000);
  EXPECT_EQ(c->model().head(), ModelConfig::NCE);
  EXPECT_DOUBLE_EQ(c->method().lambda(), 6.0);
  EXPECT_EQ(c->optimizer().lr_milestones_size(), 1);
  EXPECT_EQ(c->seed(), 7u);
  EXPECT_TRUE(ValidateTrainConfig(*c).ok());
}

TEST(Config, SyntaxErrorsNameFileAndLine) {
  absl::StatusOr<TrainConfig> c =
      ParseTrainConfig("dataset {\n  nmae: \"mnist\"\n}\n", "run.textproto");
  ASSERT_FALSE(c.ok());
  const std::string msg(c.status().message());
  EXPECT_NE(msg.find("run.textproto"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nmae"), std::string::npos) << msg;
}

TEST(Config, MissingFileIsNotFound) {
  EXPECT_EQ(LoadTrainConfig("/nonexistent.textproto").status().code(),
            absl::StatusCode::kNotFound);
}

struct BadCase {
  const char* what;
  std::function<void(TrainConfig*)> mutate;
  const char* expect;  // must appear in the message
};

TEST(Config, ValidationRejectsNonsenseNamingTheField) {
  const std::vector<BadCase> cases = {
      {"negative eps", [](TrainConfig* c) { c->mutable_train_attack()->set_epsilon(-1); },
       "train_attack.epsilon = -1"},
      {"zero eps", [](TrainConfig* c) { c->mutable_eval_attack()->set_epsilon(0); },
       "eval_attack.epsilon"},
      {"linf eps > 1", [](TrainConfig* c) { c->mutable_eval_attack()->set_epsilon(2); },
       "<= 1"},
      {"nan step", [](TrainConfig* c) { c->mutable_train_attack()->set_step_size(NAN); },
       "train_attack.step_size"},
      {"zero steps", [](TrainConfig* c) { c->mutable_train_attack()->set_num_steps(0); },
       "train_attack.num_steps"},
      {"s <= 0", [](TrainConfig* c) { c->mutable_method()->set_s(0); }, "method.s = 0"},
      {"alpha < 0", [](TrainConfig* c) { c->mutable_method()->set_alpha(-0.1); },
       "method.alpha"},
      {"beta inf", [](TrainConfig* c) { c->mutable_method()->set_beta(INFINITY); },
       "method.beta"},
      {"lambda < 0", [](TrainConfig* c) { c->mutable_method()->set_lambda(-6); },
       "method.lambda"},
      {"batch 0", [](TrainConfig* c) { c->mutable_optimizer()->set_batch_size(0); },
       "optimizer.batch_size = 0"},
      {"epochs 0", [](TrainConfig* c) { c->mutable_optimizer()->set_epochs(0); },
       "optimizer.epochs"},
      {"lr 0", [](TrainConfig* c) { c->mutable_optimizer()->set_lr(0); }, "optimizer.lr"},
      {"momentum 1", [](TrainConfig* c) { c->mutable_optimizer()->set_momentum(1); },
       "optimizer.momentum"},
      {"milestone > 1", [](TrainConfig* c) { c->mutable_optimizer()->add_lr_milestones(1.5); },
       "optimizer.lr_milestones"},
      {"subset < 0", [](TrainConfig* c) { c->mutable_dataset()->set_train_subset(-5); },
       "dataset.train_subset"},
      {"threads < 0", [](TrainConfig* c) { c->set_threads(-1); }, "threads"},
      {"eval_every 0", [](TrainConfig* c) { c->set_eval_every(0); }, "eval_every"},
      {"unknown model", [](TrainConfig* c) { c->mutable_model()->set_name("vgg"); },
       "model.name: unknown value 'vgg'; allowed: small_cnn"},
      {"unknown method", [](TrainConfig* c) { c->mutable_method()->set_name("sgd"); },
       "method.name: unknown value 'sgd'"},
      {"unknown dataset", [](TrainConfig* c) { c->mutable_dataset()->set_name("svhn"); },
       "dataset.name: unknown value 'svhn'"},
      {"unknown attack", [](TrainConfig* c) { c->mutable_eval_attack()->set_name("deepfool"); },
       "eval_attack.name"},
      {"unknown loss", [](TrainConfig* c) { c->mutable_train_attack()->set_loss("mse"); },
       "train_attack.loss"},
      {"unknown norm", [](TrainConfig* c) { c->mutable_train_attack()->set_norm("l1"); },
       "train_attack.norm"},
      {"unknown device", [](TrainConfig* c) { c->set_device("tpu"); }, "device"},
      {"prototypes of a linear head",
       [](TrainConfig* c) {
         c->mutable_method()->set_name("trades");
         c->mutable_model()->set_prototype_init(ModelConfig::NORMAL_0_01);
       },
       "model.prototype_init: NORMAL_0_01 sets the NCE head's prototypes, but this run's head "
       "is linear"},
      {"prototypes of SPAT's CE variant",
       [](TrainConfig* c) {
         c->mutable_method()->set_use_nce(false);
         c->mutable_model()->set_prototype_init(ModelConfig::NORMAL_0_01);
       },
       "model.prototype_init"},
      {"unknown SPAT inner loss",
       [](TrainConfig* c) { c->mutable_method()->set_spat_attack_loss("dlr"); },
       "method.spat_attack_loss: unknown value 'dlr'; allowed: rob_sp, kl, ce"},
      {"SPAT inner loss on another method",
       [](TrainConfig* c) {
         c->mutable_method()->set_name("trades");
         c->mutable_method()->set_spat_attack_loss("kl");
       },
       "method.spat_attack_loss sets SPAT's inner maximization, but this run's method is "
       "'trades'"},
      {"eval clamp_start", [](TrainConfig* c) { c->mutable_eval_attack()->set_clamp_start(false); },
       "eval_attack.clamp_start: only the training attack's start reads it"},
  };
  for (const BadCase& b : cases) {
    TrainConfig c;
    b.mutate(&c);
    absl::Status st = ValidateTrainConfig(c);
    ASSERT_FALSE(st.ok()) << b.what;
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << b.what;
    EXPECT_NE(st.message().find(b.expect), std::string::npos)
        << b.what << ": " << st;
  }
}

TEST(Config, NaturalTrainingIgnoresTheTrainAttack) {
  TrainConfig c;
  c.mutable_method()->set_name("natural");
  c.mutable_train_attack()->set_epsilon(-1);
  EXPECT_TRUE(ValidateTrainConfig(c).ok());
}

TEST(Config, PaperPresetsParseAndValidate) {
  for (const char* p : {"spat/presets/mnist_paper.textproto",
                        "spat/presets/cifar10_paper.textproto"}) {
    absl::StatusOr<TrainConfig> c = LoadTrainConfig(p);
    ASSERT_TRUE(c.ok()) << c.status();
    absl::Status st = ValidateTrainConfig(*c);
    EXPECT_TRUE(st.ok()) << p << ": " << st;
  }
  absl::StatusOr<TrainConfig> mnist = LoadTrainConfig("spat/presets/mnist_paper.textproto");
  EXPECT_DOUBLE_EQ(mnist->train_attack().epsilon(), 0.3);
  EXPECT_EQ(mnist->train_attack().num_steps(), 40);
  EXPECT_EQ(mnist->optimizer().epochs(), 80);
  absl::StatusOr<TrainConfig> cifar = LoadTrainConfig("spat/presets/cifar10_paper.textproto");
  EXPECT_NEAR(cifar->train_attack().epsilon(), 8.0 / 255.0, 1e-9);
  EXPECT_NEAR(cifar->train_attack().step_size(), 2.0 / 255.0, 1e-9);
  EXPECT_EQ(cifar->model().name(), "resnet18");
}

}  // namespace
}  // namespace spat
