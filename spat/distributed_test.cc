#include "spat/distributed.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "spat/trainer.h"

namespace spat {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Tmp(const std::string& name) {
  const char* d = std::getenv("TEST_TMPDIR");
  return std::string(d != nullptr ? d : "/tmp") + "/" + name;
}

// A TCP port that was free a moment ago.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

DistEnv Env(int rank, int world, int port) {
  DistEnv e;
  e.rank = rank;
  e.world_size = world;
  e.master_port = port;
  return e;
}

// Deterministic: no dropout (LeNet-5), no random start, augmentation drawn
// per global batch (identical whatever the number of ranks).
TrainConfig Deterministic(const std::string& out) {
  TrainConfig c;
  c.mutable_dataset()->set_name("synthetic_cifar10");
  c.mutable_dataset()->set_train_subset(160);  // 2 full batches and one of 32
  c.mutable_dataset()->set_test_subset(64);
  c.mutable_dataset()->set_augment(true);
  c.mutable_model()->set_name("lenet5");
  c.mutable_method()->set_name("madry");
  c.mutable_train_attack()->set_epsilon(8.0 / 255);
  c.mutable_train_attack()->set_step_size(2.0 / 255);
  c.mutable_train_attack()->set_num_steps(2);
  c.mutable_train_attack()->set_random_start(false);
  c.mutable_eval_attack()->set_num_steps(2);
  c.mutable_eval_attack()->set_random_start(false);
  c.mutable_optimizer()->set_epochs(2);
  c.mutable_optimizer()->set_batch_size(64);
  c.mutable_optimizer()->set_lr(0.05);
  c.set_seed(5);
  c.set_threads(1);
  c.set_out_dir(out);
  c.set_stop_at_chance(false);  // two epochs of 160 images may not leave chance
  return *ResolveTrainConfig(c);
}

double MaxAbsDiff(const models::StateDict& a, const models::StateDict& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    m = std::max(m, (a[i].second.to(at::kDouble) - b[i].second.to(at::kDouble))
                        .abs()
                        .max()
                        .item<double>());
  }
  return m;
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(DistEnv, ReadsTorchrunVariablesAndNamesTheBadOne) {
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("RANK", "3", 1);
  ::setenv("LOCAL_RANK", "1", 1);
  ::setenv("MASTER_ADDR", "10.0.0.7", 1);
  ::setenv("MASTER_PORT", "29511", 1);
  absl::StatusOr<DistEnv> e = DistEnvFromEnvironment();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->rank, 3);
  EXPECT_EQ(e->world_size, 4);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->master_addr, "10.0.0.7");
  EXPECT_EQ(e->master_port, 29511);

  ::setenv("RANK", "4", 1);
  e = DistEnvFromEnvironment();
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("RANK=4"), std::string::npos) << e.status();
  ::setenv("RANK", "x", 1);
  e = DistEnvFromEnvironment();
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("RANK='x'"), std::string::npos) << e.status();
  ::setenv("RANK", "0", 1);
  ::setenv("MASTER_PORT", "70000", 1);
  e = DistEnvFromEnvironment();
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("MASTER_PORT=70000"), std::string::npos) << e.status();
  for (const char* v : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
    ::unsetenv(v);
  }
  e = DistEnvFromEnvironment();
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->world_size, 1);
}

TEST(Communicator, BroadcastsAndSumsOverTwoRanks) {
  if (!Communicator::HasGloo()) GTEST_SKIP() << "built without Gloo (CPU collectives)";
  const int port = FreePort();
  std::vector<at::Tensor> got(2), sums(2);
  std::vector<absl::Status> st(2);
  auto run = [&](int r) {
    auto comm = Communicator::Connect(Env(r, 2, port), seconds(60));
    if (!comm.ok()) {
      st[r] = comm.status();
      return;
    }
    std::vector<at::Tensor> b{at::full({3}, r == 0 ? 7.0f : -1.0f)};
    st[r] = (*comm)->Broadcast(b);
    got[r] = b[0];
    at::Tensor s = at::full({2}, static_cast<float>(r + 1));
    if (st[r].ok()) st[r] = (*comm)->AllReduceSum(s);
    sums[r] = s;
    if (st[r].ok()) st[r] = (*comm)->Barrier();
  };
  std::thread t0(run, 0), t1(run, 1);
  t0.join();
  t1.join();
  for (int r = 0; r < 2; ++r) {
    ASSERT_TRUE(st[r].ok()) << st[r];
    EXPECT_TRUE(at::equal(got[r], at::full({3}, 7.0f)));
    EXPECT_TRUE(at::equal(sums[r], at::full({2}, 3.0f)));
  }
}

// A binary without Gloo says so instead of failing a rendezvous.
TEST(Communicator, ACpuGroupWithoutGlooIsAClearError) {
  if (Communicator::HasGloo()) GTEST_SKIP() << "built with Gloo";
  auto comm = Communicator::Connect(Env(0, 1, FreePort()), seconds(10));
  ASSERT_FALSE(comm.ok());
  EXPECT_EQ(comm.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(comm.status().message().find("needs Gloo"), std::string::npos) << comm.status();
}

// A world of one on the GPU: the NCCL group forms through the torchrun
// variables' rendezvous and its collectives leave the one rank's tensors as
// they are, CUDA or CPU. (What several GPUs exchange needs several GPUs.)
TEST(Communicator, OneRankNcclGroup_CUDA) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device gpu(c10::kCUDA, 0);
  auto comm = Communicator::Connect(Env(0, 1, FreePort()), seconds(60), gpu);
  ASSERT_TRUE(comm.ok()) << comm.status();
  EXPECT_STREQ((*comm)->backend(), "nccl");
  at::Tensor on_gpu = at::arange(6, at::kFloat).to(gpu);
  ASSERT_TRUE((*comm)->AllReduceSum(on_gpu).ok());
  EXPECT_TRUE(at::equal(on_gpu.cpu(), at::arange(6, at::kFloat)));
  std::vector<at::Tensor> b{at::full({3}, 7.0f).to(gpu), at::full({2}, 2.0f)};
  ASSERT_TRUE((*comm)->Broadcast(b).ok());
  EXPECT_TRUE(at::equal(b[0].cpu(), at::full({3}, 7.0f)));
  EXPECT_TRUE(b[1].device().is_cpu());
  EXPECT_TRUE(at::equal(b[1], at::full({2}, 2.0f)));
  ASSERT_TRUE((*comm)->Barrier().ok());
}

TEST(Communicator, AMissingRankIsAnErrorNotAHang) {
  if (!Communicator::HasGloo()) GTEST_SKIP() << "built without Gloo (CPU collectives)";
  auto comm = Communicator::Connect(Env(0, 2, FreePort()), milliseconds(1500));
  ASSERT_FALSE(comm.ok());
  EXPECT_NE(comm.status().message().find("rendezvous"), std::string::npos) << comm.status();
}

TEST(Communicator, APeerThatExitsFailsTheCollectiveOnTheOthers) {
  if (!Communicator::HasGloo()) GTEST_SKIP() << "built without Gloo (CPU collectives)";
  const int port = FreePort();
  absl::Status st0;
  // Rank 1 leaves only once rank 0 has finished connecting too: leaving
  // earlier fails rank 0's rendezvous instead (seen on a loaded machine).
  std::promise<void> rank0_connected;
  std::shared_future<void> rank0_ready = rank0_connected.get_future().share();
  std::thread t1([&] {
    auto comm = Communicator::Connect(Env(1, 2, port), seconds(30));
    ASSERT_TRUE(comm.ok()) << comm.status();
    rank0_ready.wait_for(seconds(60));
    // Rank 1 leaves without taking part in the all-reduce.
  });
  auto comm = Communicator::Connect(Env(0, 2, port), seconds(30));
  rank0_connected.set_value();
  t1.join();
  ASSERT_TRUE(comm.ok()) << comm.status();
  at::Tensor t = at::ones({4});
  st0 = (*comm)->AllReduceSum(t);
  EXPECT_FALSE(st0.ok());
  EXPECT_NE(st0.message().find("rank 0: all-reduce failed"), std::string::npos) << st0;
}

// Two ranks with a global batch of 64 hold identical parameters after every
// step, equal (to float rounding) to one process training on the same global
// batches; rank 0 alone writes the run's files, with world_size 2.
TEST(DistributedTraining, TwoRanksMatchOneProcess) {
  if (!Communicator::HasGloo()) GTEST_SKIP() << "built without Gloo (CPU collectives)";
  models::StateDict single;
  const TrainConfig one = Deterministic(Tmp("dist_single"));
  TrainRuntime rt_single;
  rt_single.final_state = &single;
  absl::StatusOr<TrainSummary> s1 = Train(one, nullptr, false, rt_single);
  ASSERT_TRUE(s1.ok()) << s1.status();

  const int port = FreePort();
  const TrainConfig two = Deterministic(Tmp("dist_two"));
  std::vector<models::StateDict> state(2);
  std::vector<absl::StatusOr<TrainSummary>> summary(2, absl::UnknownError("not run"));
  auto run = [&](int r) {
    auto comm = Communicator::Connect(Env(r, 2, port), seconds(120));
    if (!comm.ok()) {
      summary[r] = comm.status();
      return;
    }
    TrainRuntime rt;
    rt.comm = comm->get();
    rt.final_state = &state[r];
    summary[r] = Train(two, nullptr, false, rt);
  };
  std::thread t0(run, 0), t1(run, 1);
  t0.join();
  t1.join();
  for (int r = 0; r < 2; ++r) ASSERT_TRUE(summary[r].ok()) << "rank " << r << ": " << summary[r].status();

  EXPECT_EQ(MaxAbsDiff(state[0], state[1]), 0.0) << "ranks diverged";
  const double d = MaxAbsDiff(state[0], single);
  EXPECT_LT(d, 1e-5) << "2 ranks vs 1 process";
  EXPECT_NE(s1->epochs[0].loss, s1->epochs[1].loss) << "the runs did not train";
  for (int r = 0; r < 2; ++r) {
    ASSERT_EQ(summary[r]->epochs.size(), 2u);
    for (int e = 0; e < 2; ++e) {
      EXPECT_NEAR(summary[r]->epochs[e].loss, s1->epochs[e].loss, 1e-4);
      EXPECT_NEAR(summary[r]->epochs[e].clean, s1->epochs[e].clean, 1e-3);
      EXPECT_NEAR(summary[r]->epochs[e].pgd, s1->epochs[e].pgd, 1e-3);
    }
  }
  const std::string metrics = Read(two.out_dir() + "/metrics.json");
  EXPECT_NE(metrics.find("\"world_size\": 2"), std::string::npos) << metrics;
  EXPECT_NE(Read(one.out_dir() + "/metrics.json").find("\"world_size\": 1"), std::string::npos);
}

}  // namespace
}  // namespace spat
