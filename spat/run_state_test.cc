#include "spat/run_state.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <string>

#include "base/files.h"
#include "gtest/gtest.h"

namespace spat {
namespace {

std::string TmpDir(const std::string& name) {
  const char* t = std::getenv("TEST_TMPDIR");
  const std::string d = std::string(t != nullptr ? t : "/tmp") + "/" + name;
  EXPECT_TRUE(MakeDirs(d).ok());
  return d;
}

TrainConfig Config(int epochs) {
  TrainConfig c;
  c.mutable_method()->set_name("madry");
  c.mutable_optimizer()->set_epochs(epochs);
  c.set_threads(2);
  c.set_out_dir("/somewhere");
  return c;
}

TrainSummary Epochs(int n) {
  TrainSummary s;
  for (int e = 1; e <= n; ++e) s.epochs.push_back({e, 1.0 / e, 50.0 + e, 10.0 + e, 100, 2.5, 0.01});
  s.clean_accuracy = s.epochs.back().clean;
  s.pgd_accuracy = s.epochs.back().pgd;
  return s;
}

TEST(SameRun, WhereAndHowFastItRunsIsNotPartOfTheRun) {
  TrainConfig now = Config(2);
  now.set_out_dir("/elsewhere");
  now.set_threads(7);
  now.set_device("cuda:1");
  now.mutable_dataset()->set_data_dir("/data");
  EXPECT_TRUE(CheckSameRun(Config(2), now, SameRun::kExactly).ok());
}

TEST(SameRun, AFieldSpelledAtItsDefaultIsTheFieldUnset) {
  TrainConfig spelled = Config(2);
  spelled.mutable_method()->set_s(5.0);  // the default
  spelled.mutable_train_attack()->set_ramp_epochs(0);
  spelled.set_stop_at_chance(false);  // ends a collapsed run only
  EXPECT_TRUE(CheckSameRun(Config(2), spelled, SameRun::kExactly).ok());
  spelled.mutable_method()->set_s(6.0);
  EXPECT_FALSE(CheckSameRun(Config(2), spelled, SameRun::kExactly).ok());
  TrainConfig ramped = Config(2);
  ramped.mutable_train_attack()->set_ramp_epochs(1);
  EXPECT_FALSE(CheckSameRun(Config(2), ramped, SameRun::kExactly).ok());
}

TEST(SameRun, WhatIsComputedIsAndEpochsOnlyGrowOnResume) {
  TrainConfig lr = Config(2);
  lr.mutable_optimizer()->set_lr(0.05);
  absl::Status st = CheckSameRun(Config(2), lr, SameRun::kMoreEpochsOk);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("lr"), std::string::npos) << st;
  EXPECT_TRUE(CheckSameRun(Config(2), Config(4), SameRun::kMoreEpochsOk).ok());
  EXPECT_FALSE(CheckSameRun(Config(2), Config(4), SameRun::kExactly).ok());
  EXPECT_FALSE(CheckSameRun(Config(4), Config(2), SameRun::kMoreEpochsOk).ok());
}

TEST(RunDir, FinishedOnlyWithEveryEpochOfTheSameRun) {
  const RunDir dir(TmpDir("finished"));
  EXPECT_EQ(dir.Finished(Config(2)).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(dir.WriteConfig(Config(2)).ok());
  ASSERT_TRUE(dir.WriteMetrics(Config(2), Epochs(1), 1, "cpu", "PGD").ok());
  EXPECT_FALSE(dir.Finished(Config(2)).ok()) << "one epoch of two";
  ASSERT_TRUE(dir.WriteMetrics(Config(2), Epochs(2), 1, "cpu", "PGD").ok());
  absl::StatusOr<TrainSummary> s = dir.Finished(Config(2));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->clean_accuracy, 52.0);
  EXPECT_DOUBLE_EQ(s->pgd_accuracy, 12.0);
  EXPECT_DOUBLE_EQ(s->seconds(), 5.0);
  EXPECT_FALSE(dir.Finished(Config(3)).ok()) << "a longer run is another run";
  TrainConfig other = Config(2);
  other.set_seed(9);
  EXPECT_FALSE(dir.Finished(other).ok());
}

TEST(RunDir, ResumeKeepsTheEpochsOfTheStateAndRefusesAnotherRun) {
  const RunDir dir(TmpDir("resume"));
  ASSERT_TRUE(dir.WriteConfig(Config(3)).ok());
  // Killed after metrics.json of epoch 2 but before train_state.pt.
  ASSERT_TRUE(dir.WriteMetrics(Config(3), Epochs(2), 1, "cpu", "PGD").ok());
  ResumeState st;
  st.epochs_done = 1;
  st.global_step = 17;
  st.model = {{"w", at::ones({2})}};
  st.rng_torch = at::arange(4);
  st.rng_attack = at::arange(3);
  ASSERT_TRUE(dir.WriteResumeState(st).ok());
  TrainSummary s;
  absl::StatusOr<ResumeState> back = dir.ReadResumeState(&s);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->epochs_done, 1);
  EXPECT_EQ(back->global_step, 17);
  ASSERT_EQ(back->model.size(), 1u);
  EXPECT_EQ(back->model[0].first, "w");
  EXPECT_FALSE(back->rng_cuda.defined());
  ASSERT_EQ(s.epochs.size(), 1u);
  EXPECT_DOUBLE_EQ(s.clean_accuracy, 51.0);
  EXPECT_TRUE(dir.CheckResumable(Config(5)).ok());
  TrainConfig other = Config(3);
  other.mutable_method()->set_name("trades");
  absl::Status refused = dir.CheckResumable(other);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("cannot resume"), std::string::npos);
}

TEST(RunDir, ReadsTheEpochsOfAnEarlierVersionsState) {
  // Earlier versions kept epoch.<i> = [loss, clean, pgd, img/s, s, lr] in
  // train_state.pt.
  const RunDir dir(TmpDir("legacy"));
  models::StateDict old = {
      {"model.w", at::ones({2})},
      {"meta.epoch", at::tensor(static_cast<int64_t>(2))},
      {"meta.global_step", at::tensor(static_cast<int64_t>(8))},
      {"rng.torch", at::arange(4)},
      {"rng.attack", at::arange(3)},
      {"epoch.2", at::tensor({0.5, 80.0, 40.0, 100.0, 3.0, 0.01}, at::kDouble)},
      {"epoch.1", at::tensor({0.9, 70.0, 30.0, 100.0, 3.0, 0.01}, at::kDouble)}};
  ASSERT_TRUE(models::SaveStateDict(old, dir.state_path()).ok());
  TrainSummary s;
  absl::StatusOr<ResumeState> back = dir.ReadResumeState(&s);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(s.epochs.size(), 2u);
  EXPECT_EQ(s.epochs[0].epoch, 1);
  EXPECT_DOUBLE_EQ(s.pgd_accuracy, 40.0);
  models::StateDict bad = old;
  bad.emplace_back("surprise", at::ones({1}));
  ASSERT_TRUE(models::SaveStateDict(bad, dir.state_path()).ok());
  absl::StatusOr<ResumeState> refused = dir.ReadResumeState(&s);
  EXPECT_NE(refused.status().message().find("unknown entry 'surprise'"), std::string::npos);
}

}  // namespace
}  // namespace spat
