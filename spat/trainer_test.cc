#include "spat/trainer.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "attacks/pgd.h"
#include "base/device.h"
#include "gtest/gtest.h"
#include "models/checkpoint.h"

namespace spat {
namespace {

std::string Tmp(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d != nullptr ? d : "/tmp") + "/" + name;
}

TrainConfig Tiny(const std::string& method, const std::string& out, int epochs) {
  TrainConfig c;
  c.mutable_dataset()->set_name("synthetic_cifar10");
  c.mutable_dataset()->set_train_subset(192);
  c.mutable_dataset()->set_test_subset(64);
  c.mutable_dataset()->set_augment(true);
  c.mutable_model()->set_name("lenet5");
  c.mutable_method()->set_name(method);
  c.mutable_train_attack()->set_epsilon(8.0 / 255);
  c.mutable_train_attack()->set_step_size(2.0 / 255);
  c.mutable_train_attack()->set_num_steps(2);
  c.mutable_eval_attack()->set_num_steps(3);
  c.mutable_optimizer()->set_epochs(epochs);
  c.mutable_optimizer()->set_batch_size(64);
  c.mutable_optimizer()->set_lr(0.05);
  c.set_seed(11);
  c.set_threads(1);
  c.set_out_dir(out);
  // Three steps an epoch may leave a model at chance: that is not a collapse
  // here (the collapse tests turn the check on).
  c.set_stop_at_chance(false);
  return *ResolveTrainConfig(c);
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Trainer, LearningRateScheduleIsThePapers) {
  OptimizerConfig o;
  o.set_lr(0.1);
  o.set_epochs(100);
  o.add_lr_milestones(0.75);
  o.add_lr_milestones(0.9);
  EXPECT_DOUBLE_EQ(LearningRate(o, 74), 0.1);
  EXPECT_NEAR(LearningRate(o, 75), 0.01, 1e-12);
  EXPECT_NEAR(LearningRate(o, 89), 0.01, 1e-12);
  EXPECT_NEAR(LearningRate(o, 90), 0.001, 1e-12);
  o.set_epochs(2);  // short runs keep their rate
  EXPECT_DOUBLE_EQ(LearningRate(o, 1), 0.1);
}

TEST(Trainer, CosineAndOneCycleSchedulesArePerStep) {
  OptimizerConfig o;
  o.set_lr(0.2);
  o.set_epochs(4);
  o.set_lr_schedule(OptimizerConfig::COSINE);
  EXPECT_DOUBLE_EQ(LearningRate(o, 0, 0, 10), 0.2);
  EXPECT_NEAR(LearningRate(o, 2, 0, 10), 0.1, 1e-12);  // half way
  EXPECT_NEAR(LearningRate(o, 3, 9, 10), 0.2 * 0.5 * (1 + std::cos(M_PI * 39 / 40)), 1e-12);
  o.set_lr_schedule(OptimizerConfig::ONE_CYCLE);
  o.set_warmup_fraction(0.5);
  // At the end of each step: 1/40 of the way up at the first.
  EXPECT_NEAR(LearningRate(o, 0, 0, 10), 0.2 * (1.0 / 40) / 0.5, 1e-12);
  EXPECT_NEAR(LearningRate(o, 1, 9, 10), 0.2, 1e-12);  // the peak, after 20 of 40 steps
  EXPECT_NEAR(LearningRate(o, 2, 9, 10), 0.1, 1e-12);
  EXPECT_NEAR(LearningRate(o, 3, 9, 10), 0.0, 1e-12);
}

TEST(Trainer, ScheduleOptionsAreCheckedAndOnlyStepGetsMilestones) {
  TrainConfig c;
  c.mutable_optimizer()->set_lr_schedule(OptimizerConfig::COSINE);
  absl::StatusOr<TrainConfig> r = ResolveTrainConfig(c);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->optimizer().lr_milestones_size(), 0);
  c.mutable_optimizer()->add_lr_milestones(0.5);
  EXPECT_NE(ResolveTrainConfig(c).status().message().find("optimizer.lr_milestones"),
            std::string::npos);
  TrainConfig w;
  w.mutable_optimizer()->set_warmup_fraction(0.3);
  EXPECT_NE(ResolveTrainConfig(w).status().message().find("optimizer.warmup_fraction"),
            std::string::npos);
  w.mutable_optimizer()->set_lr_schedule(OptimizerConfig::ONE_CYCLE);
  EXPECT_TRUE(ResolveTrainConfig(w).ok());
  w.mutable_optimizer()->set_warmup_fraction(1.0);
  EXPECT_FALSE(ResolveTrainConfig(w).ok());
}

TEST(Trainer, ResolvesMethodDefaults) {
  TrainConfig c;
  c.mutable_method()->set_name("mart");
  c.mutable_train_attack()->set_epsilon(0.2);
  TrainConfig r = *ResolveTrainConfig(c);
  EXPECT_EQ(r.method().lambda(), 5.0);
  EXPECT_EQ(r.model().head(), ModelConfig::LINEAR);
  EXPECT_DOUBLE_EQ(r.eval_attack().epsilon(), 0.2);
  EXPECT_DOUBLE_EQ(r.eval_attack().step_size(), 0.02);
  EXPECT_EQ(r.eval_attack().num_steps(), 20);
  EXPECT_GT(r.threads(), 0);
  c.mutable_method()->set_name("spat");
  EXPECT_EQ(ResolveTrainConfig(c)->model().head(), ModelConfig::NCE);
  c.mutable_method()->set_use_nce(false);
  EXPECT_EQ(ResolveTrainConfig(c)->model().head(), ModelConfig::LINEAR);
  c.mutable_train_attack()->set_epsilon(-1);
  EXPECT_FALSE(ResolveTrainConfig(c).ok());
}

TEST(Trainer, WritesCheckpointAndMetricsEveryEpochDeterministically) {
  const std::string a = Tmp("run-a"), b = Tmp("run-b");
  absl::StatusOr<TrainSummary> sa = Train(Tiny("trades", a, 2), nullptr);
  ASSERT_TRUE(sa.ok()) << sa.status();
  ASSERT_EQ(sa->epochs.size(), 2u);
  EXPECT_GE(sa->clean_accuracy, sa->pgd_accuracy);
  const std::string metrics = Read(a + "/metrics.json");
  for (const char* key : {"\"clean_accuracy\"", "\"pgd_accuracy\"", "\"epochs\"",
                          "\"world_size\": 1", "\"img_per_s\"", "\"config\"",
                          "\"name\": \"trades\""}) {
    EXPECT_NE(metrics.find(key), std::string::npos) << key << "\n" << metrics;
  }
  // Same seed, same threads: bit-identical weights.
  ASSERT_TRUE(Train(Tiny("trades", b, 2), nullptr).ok());
  absl::StatusOr<models::StateDict> ca = models::LoadStateDict(a + "/checkpoint.pt");
  absl::StatusOr<models::StateDict> cb = models::LoadStateDict(b + "/checkpoint.pt");
  ASSERT_TRUE(ca.ok() && cb.ok());
  ASSERT_EQ(ca->size(), cb->size());
  for (size_t i = 0; i < ca->size(); ++i) {
    EXPECT_TRUE(torch::equal((*ca)[i].second, (*cb)[i].second)) << (*ca)[i].first;
  }
}

TEST(Trainer, EvaluatesEveryNthEpochAndTheLastTwo) {
  auto evaluated = [](int epochs, int every) {
    TrainConfig c;
    c.mutable_optimizer()->set_epochs(epochs);
    c.set_eval_every(every);
    std::vector<int> out;
    for (int e = 0; e < epochs; ++e) {
      if (EvaluatesAfter(c, e)) out.push_back(e + 1);
    }
    return out;
  };
  EXPECT_EQ(evaluated(1, 4), std::vector<int>({1}));
  EXPECT_EQ(evaluated(3, 1), std::vector<int>({1, 2, 3}));
  EXPECT_EQ(evaluated(10, 4), std::vector<int>({4, 8, 9, 10}));
  EXPECT_EQ(evaluated(16, 8), std::vector<int>({8, 15, 16}));
}

// Skipping evaluations changes what is measured, not what is trained: same
// losses, same final accuracies and weights as evaluating every epoch; the
// skipped epochs have no accuracy in metrics.json, and a resumed run keeps
// the rule.
TEST(Trainer, EvalEveryTrainsTheSameModelAndRecordsOnlyEvaluatedEpochs) {
  const std::string every = Tmp("eval-every-1"), sparse = Tmp("eval-every-3");
  absl::StatusOr<TrainSummary> a = Train(Tiny("madry", every, 4), nullptr);
  TrainConfig c = Tiny("madry", sparse, 2);
  c.set_eval_every(3);
  ASSERT_TRUE(Train(c, nullptr).ok());
  c.mutable_optimizer()->set_epochs(4);  // resumed: epochs 3 and 4 of 4
  absl::StatusOr<TrainSummary> b = Train(c, nullptr, /*resume=*/true);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->epochs.size(), 4u);
  // A 2-epoch run evaluates both of its epochs; of the 4-epoch run, 3 and 4.
  for (int e = 0; e < 4; ++e) {
    EXPECT_EQ(a->epochs[e].loss, b->epochs[e].loss) << "epoch " << e + 1;
    EXPECT_TRUE(a->epochs[e].evaluated);
    EXPECT_TRUE(b->epochs[e].evaluated) << "epoch " << e + 1;
  }
  EXPECT_EQ(a->clean_accuracy, b->clean_accuracy);
  EXPECT_EQ(a->pgd_accuracy, b->pgd_accuracy);

  const std::string fresh = Tmp("eval-every-3-fresh");
  c.set_out_dir(fresh);
  absl::StatusOr<TrainSummary> f = Train(c, nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<int> evaluated;
  for (const EpochRecord& r : f->epochs) {
    if (r.evaluated) evaluated.push_back(r.epoch);
  }
  EXPECT_EQ(evaluated, std::vector<int>({3, 4}));
  EXPECT_EQ(f->clean_accuracy, a->clean_accuracy);
  EXPECT_EQ(f->pgd_accuracy, a->pgd_accuracy);
  absl::StatusOr<models::StateDict> wa = models::LoadStateDict(every + "/checkpoint.pt");
  absl::StatusOr<models::StateDict> wf = models::LoadStateDict(fresh + "/checkpoint.pt");
  ASSERT_TRUE(wa.ok() && wf.ok());
  for (size_t i = 0; i < wa->size(); ++i) {
    EXPECT_TRUE(torch::equal((*wa)[i].second, (*wf)[i].second)) << (*wa)[i].first;
  }
  absl::StatusOr<TrainSummary> read = RunDir(fresh).ReadSummary();
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->epochs.size(), 4u);
  EXPECT_FALSE(read->epochs[0].evaluated);
  EXPECT_FALSE(read->epochs[1].evaluated);
  EXPECT_TRUE(read->epochs[3].evaluated);
  EXPECT_EQ(read->clean_accuracy, a->clean_accuracy);
  const std::string metrics = Read(fresh + "/metrics.json");
  int accuracies = 0;
  for (size_t at = metrics.find("\"clean\":"); at != std::string::npos;
       at = metrics.find("\"clean\":", at + 1)) {
    ++accuracies;
  }
  EXPECT_EQ(accuracies, 2) << "only epochs 3 and 4 have an accuracy:\n" << metrics;
}

// bf16 autocast (opt-in) trains: finite losses, fp32 weights that differ
// from the fp32 run's, and the checkpoint stays fp32.
TEST(Trainer, Bf16AutocastTrainsAndKeepsFp32Weights) {
  if (!attacks::CpuBf16Supported()) {
    // Refused up front with a message naming the flag, not a oneDNN error.
    TrainConfig c = Tiny("spat", Tmp("bf16-refused"), 1);
    c.set_bf16(true);
    absl::StatusOr<TrainSummary> s = Train(c, nullptr);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("--bf16"), std::string::npos) << s.status();
    GTEST_SKIP() << "no bfloat16 CPU kernels (oneDNN needs AVX-512)";
  }
  TrainConfig c = Tiny("spat", Tmp("bf16"), 1);
  c.set_bf16(true);
  absl::StatusOr<TrainSummary> s = Train(c, nullptr);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->epochs.size(), 1u);
  EXPECT_TRUE(std::isfinite(s->epochs[0].loss));
  absl::StatusOr<TrainSummary> f = Train(Tiny("spat", Tmp("fp32"), 1), nullptr);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_NE(s->epochs[0].loss, f->epochs[0].loss) << "autocast had no effect";
  absl::StatusOr<models::StateDict> w = models::LoadStateDict(Tmp("bf16") + "/checkpoint.pt");
  ASSERT_TRUE(w.ok()) << w.status();
  for (const auto& [name, t] : *w) {
    if (t.is_floating_point()) {
      EXPECT_EQ(t.scalar_type(), at::kFloat) << name;
    }
  }
}

TEST(Trainer, ChannelsLastTrainsTheSameModelAndWritesNchwCheckpoints) {
  // The default NHWC layout changes only the order of float operations
  // inside oneDNN: the trained weights agree with an NCHW run up to rounding,
  // and the checkpoint holds plain contiguous NCHW tensors.
  TrainConfig nhwc = Tiny("trades", Tmp("nhwc"), 1);
  ASSERT_TRUE(nhwc.channels_last());  // the default
  TrainConfig nchw = Tiny("trades", Tmp("nchw"), 1);
  nchw.set_channels_last(false);
  nhwc.mutable_train_attack()->set_random_start(false);
  nchw.mutable_train_attack()->set_random_start(false);
  ASSERT_TRUE(Train(nhwc, nullptr).ok());
  ASSERT_TRUE(Train(nchw, nullptr).ok());
  auto a = *models::LoadStateDict(Tmp("nhwc") + "/checkpoint.pt");
  auto b = *models::LoadStateDict(Tmp("nchw") + "/checkpoint.pt");
  ASSERT_EQ(a.size(), b.size());
  int convs = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    EXPECT_TRUE(a[i].second.is_contiguous()) << a[i].first;
    if (a[i].second.dim() == 4) ++convs;
    EXPECT_TRUE(at::allclose(a[i].second, b[i].second, /*rtol=*/1e-3, /*atol=*/1e-4))
        << a[i].first << " differs by "
        << (a[i].second - b[i].second).abs().max().item<double>();
  }
  EXPECT_GE(convs, 2);
}

TEST(Trainer, ResumeEqualsAnUninterruptedRun) {
  // SEAT also checks that its EMA model (what checkpoint.pt holds) is resumed.
  for (const std::string method : {"spat", "seat"}) {
    const std::string full = Tmp("full-" + method), part = Tmp("part-" + method);
    absl::StatusOr<TrainSummary> uninterrupted = Train(Tiny(method, full, 2), nullptr);
    ASSERT_TRUE(uninterrupted.ok()) << uninterrupted.status();
    ASSERT_TRUE(Train(Tiny(method, part, 1), nullptr).ok());  // "killed" after epoch 1
    absl::StatusOr<TrainSummary> resumed = Train(Tiny(method, part, 2), nullptr, /*resume=*/true);
    ASSERT_TRUE(resumed.ok()) << resumed.status();
    EXPECT_EQ(resumed->epochs.size(), 2u);
    auto cf = *models::LoadStateDict(full + "/checkpoint.pt");
    auto cp = *models::LoadStateDict(part + "/checkpoint.pt");
    ASSERT_EQ(cf.size(), cp.size());
    for (size_t i = 0; i < cf.size(); ++i) {
      EXPECT_TRUE(torch::equal(cf[i].second, cp[i].second)) << method << " " << cf[i].first;
    }
    for (int e = 0; e < 2; ++e) {  // the partial metrics come back with the state
      EXPECT_EQ(resumed->epochs[e].clean, uninterrupted->epochs[e].clean) << method << e;
      EXPECT_EQ(resumed->epochs[e].pgd, uninterrupted->epochs[e].pgd) << method << e;
      EXPECT_EQ(resumed->epochs[e].loss, uninterrupted->epochs[e].loss) << method << e;
    }
  }
}

TEST(Trainer, ResumeWithOtherHyperParametersIsRefused) {
  const std::string dir = Tmp("changed");
  ASSERT_TRUE(Train(Tiny("madry", dir, 1), nullptr).ok());
  TrainConfig changed = Tiny("madry", dir, 2);
  changed.mutable_optimizer()->set_lr(0.5);
  absl::StatusOr<TrainSummary> s = Train(changed, nullptr, /*resume=*/true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("lr"), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("config.textproto"), std::string::npos) << s.status();
  // More epochs and other threads are fine: that is what resuming is for.
  TrainConfig longer = Tiny("madry", dir, 2);
  longer.set_threads(2);
  EXPECT_TRUE(Train(longer, nullptr, /*resume=*/true).ok());
}

TEST(Trainer, EpsilonRampGrowsLinearlyPerStepThenHolds) {
  AttackConfig a;
  EXPECT_DOUBLE_EQ(AttackScale(a, 0, 0, 10), 1.0);  // no ramp
  a.set_ramp_epochs(1);
  EXPECT_DOUBLE_EQ(AttackScale(a, 0, 0, 10), 0.1);  // the end of the first step: not 0
  EXPECT_DOUBLE_EQ(AttackScale(a, 0, 4, 10), 0.5);
  EXPECT_DOUBLE_EQ(AttackScale(a, 0, 9, 10), 1.0);
  EXPECT_DOUBLE_EQ(AttackScale(a, 3, 0, 10), 1.0);
  a.set_ramp_epochs(2);
  EXPECT_DOUBLE_EQ(AttackScale(a, 0, 9, 10), 0.5);
  EXPECT_DOUBLE_EQ(AttackScale(a, 1, 4, 10), 0.75);
  a.set_ramp_epochs(0.5);
  EXPECT_DOUBLE_EQ(AttackScale(a, 0, 4, 10), 1.0);
}

TEST(Trainer, ARampLongerThanTheRunIsRefused) {
  TrainConfig c = Tiny("madry", Tmp("ramp-long"), 2);
  c.mutable_train_attack()->set_ramp_epochs(3);
  absl::Status st = ValidateTrainConfig(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("train_attack.ramp_epochs"), std::string::npos) << st;
  c.mutable_train_attack()->set_ramp_epochs(-1);
  EXPECT_FALSE(ValidateTrainConfig(c).ok());
  c.mutable_train_attack()->clear_ramp_epochs();
  c.mutable_eval_attack()->set_ramp_epochs(1);
  st = ValidateTrainConfig(c);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("eval_attack.ramp_epochs"), std::string::npos) << st;
}

TEST(Trainer, ChanceIsTheLargestClassSharePlusFivePoints) {
  EXPECT_DOUBLE_EQ(ChanceAccuracy(torch::tensor({0, 0, 0, 1}), 2), 80.0);
  EXPECT_DOUBLE_EQ(ChanceAccuracy(torch::tensor({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 10), 15.0);
}

// A run that never leaves chance (learning rate too small to move it) is
// caught at the first check after the ramp, recorded, and stops there; the
// run folder then counts as finished, and resuming it trains nothing.
TEST(Trainer, ARunAtChanceAfterTheRampIsRecordedAsCollapsedAndStops) {
  const std::string dir = Tmp("at-chance");
  TrainConfig c = Tiny("madry", dir, 4);
  c.set_stop_at_chance(true);
  c.mutable_optimizer()->set_lr(1e-12);
  c.mutable_train_attack()->set_ramp_epochs(2);
  absl::StatusOr<TrainSummary> s = Train(c, nullptr);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->collapsed_epoch, 2);  // epoch 1 is inside the ramp: not checked
  EXPECT_EQ(s->epochs.size(), 2u);
  EXPECT_NE(s->collapse_reason.find("at chance"), std::string::npos) << s->collapse_reason;
  const std::string metrics = Read(dir + "/metrics.json");
  EXPECT_NE(metrics.find("\"collapsed_epoch\": 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\"collapse_reason\""), std::string::npos) << metrics;
  absl::StatusOr<TrainSummary> finished = RunDir(dir).Finished(c);
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(finished->collapsed_epoch, 2);
  absl::StatusOr<TrainSummary> resumed = Train(c, nullptr, /*resume=*/true);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->collapsed_epoch, 2);
  EXPECT_EQ(resumed->epochs.size(), 2u);
}

TEST(Trainer, ANonFiniteLossIsRecordedAsCollapsedAndStops) {
  const std::string dir = Tmp("non-finite");
  TrainConfig c = Tiny("madry", dir, 3);
  c.mutable_optimizer()->set_lr(1e30);
  absl::StatusOr<TrainSummary> s = Train(c, nullptr);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(s->collapsed());
  EXPECT_NE(s->collapse_reason.find("training loss became"), std::string::npos)
      << s->collapse_reason;
  EXPECT_LT(static_cast<int>(s->epochs.size()), s->collapsed_epoch);  // that epoch unfinished
  EXPECT_NE(Read(dir + "/metrics.json").find("collapsed_epoch"), std::string::npos);
}

TEST(Trainer, ResumeWithoutStateIsAClearError) {
  absl::StatusOr<TrainSummary> s = Train(Tiny("madry", Tmp("empty"), 1), nullptr, true);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("cannot resume"), std::string::npos) << s.status();
}

TEST(Trainer, MissingDataIsAClearError) {
  TrainConfig c = Tiny("natural", Tmp("nodata"), 1);
  c.mutable_dataset()->set_name("mnist");
  c.mutable_dataset()->set_data_dir("/nonexistent/mnist");
  absl::StatusOr<TrainSummary> s = Train(c, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/mnist"), std::string::npos);
}

// Where CUDA is absent (Debian's LibTorch), --device=cuda is refused before
// any work: no output directory, InvalidArgument naming the device.
TEST(Trainer, UnavailableDeviceIsRefusedBeforeAnyWork) {
  if (CudaAvailable()) GTEST_SKIP() << "CUDA is present";
  TrainConfig c = Tiny("madry", Tmp("no_cuda"), 1);
  c.set_device("cuda");
  absl::StatusOr<TrainSummary> s = Train(c, nullptr);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("device"), std::string::npos) << s.status();
  EXPECT_FALSE(std::ifstream(Tmp("no_cuda") + "/config.textproto").good());
}

// auto trains where CUDA is, else on the CPU, and metrics.json says which;
// on the CPU it is the same run as device "cpu".
TEST(Trainer, AutoDeviceRecordsWhereItTrained) {
  TrainConfig a = Tiny("madry", Tmp("auto"), 1);
  a.set_device("auto");
  absl::StatusOr<TrainSummary> s = Train(a, nullptr);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string want = CudaAvailable() ? "\"device\": \"cuda:0\"" : "\"device\": \"cpu\"";
  EXPECT_NE(Read(Tmp("auto") + "/metrics.json").find(want), std::string::npos);
  if (!CudaAvailable()) {
    absl::StatusOr<TrainSummary> cpu = Train(Tiny("madry", Tmp("auto_cpu"), 1), nullptr);
    ASSERT_TRUE(cpu.ok()) << cpu.status();
    EXPECT_EQ(s->epochs[0].loss, cpu->epochs[0].loss);
  }
}

// On CUDA: graphed and eager inner attacks train the same model (a
// deterministic start; float rounding apart), the checkpoint is written from
// CPU tensors and loads on the CPU, and the run resumes on the CPU.
TEST(Trainer, CudaTrainsGraphedAsEagerAndResumesOnTheCpu_CUDA) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  for (const char* method : {"trades", "spat", "madry"}) {
    TrainConfig g = Tiny(method, Tmp(std::string("graphed_") + method), 1);
    g.mutable_train_attack()->set_random_start(false);
    g.set_device("cuda");
    TrainConfig e = g;
    e.set_out_dir(Tmp(std::string("eager_") + method));
    e.set_cuda_graphs(false);
    absl::StatusOr<TrainSummary> sg = Train(g, nullptr), se = Train(e, nullptr);
    ASSERT_TRUE(sg.ok()) << sg.status();
    ASSERT_TRUE(se.ok()) << se.status();
    EXPECT_NEAR(sg->epochs[0].loss, se->epochs[0].loss, 1e-3 * std::abs(se->epochs[0].loss))
        << method;
    absl::StatusOr<models::StateDict> ck = models::LoadStateDict(g.out_dir() + "/checkpoint.pt");
    ASSERT_TRUE(ck.ok()) << ck.status();
    for (const auto& [k, t] : *ck) EXPECT_TRUE(t.is_cpu()) << k;
    TrainConfig more = g;
    more.set_device("cpu");
    more.mutable_optimizer()->set_epochs(2);
    absl::StatusOr<TrainSummary> r = Train(more, nullptr, /*resume=*/true);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->epochs.size(), 2u);
  }
}

}  // namespace
}  // namespace spat
