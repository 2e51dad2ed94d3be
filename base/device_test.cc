#include "base/device.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace spat {
namespace {

TEST(ResolveDevice, Cpu) {
  absl::StatusOr<c10::Device> d = ResolveDevice("cpu");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->is_cpu());
}

TEST(ResolveDevice, AutoPicksCudaExactlyWhenAvailable) {
  absl::StatusOr<c10::Device> d = ResolveDevice("auto");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->is_cuda(), CudaAvailable());
  EXPECT_TRUE(absl::StrContains(DeviceDescription(*d, "auto"), "--device=auto"));
}

TEST(ResolveDevice, RefusesUnknownValuesWithTheAllowedOnes) {
  for (const char* bad : {"tpu", "", "cuda:", "cuda:x", "cuda:-1", "cuda0", "CPU"}) {
    absl::StatusOr<c10::Device> d = ResolveDevice(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(d.status().message(), "allowed")) << d.status();
  }
}

TEST(ResolveDevice, CudaOnlyWhereAvailable) {
  absl::StatusOr<c10::Device> d = ResolveDevice("cuda");
  if (CudaAvailable()) {
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(*d, c10::Device(c10::kCUDA, 0));
    EXPECT_FALSE(ResolveDevice("cuda:4096").ok());
  } else {
    ASSERT_FALSE(d.ok());
    EXPECT_TRUE(absl::StrContains(d.status().message(), "needs CUDA")) << d.status();
    EXPECT_FALSE(ResolveDevice("cuda:1").ok());
  }
}

TEST(ToDevice, CpuIsTheSameTensor) {
  at::Tensor t = at::arange(6).view({2, 3});
  at::Tensor u = ToDevice(t, c10::Device(c10::kCPU));
  EXPECT_TRUE(u.is_same(t));
  Synchronize(c10::Device(c10::kCPU));  // a no-op, must not throw
}

TEST(ToDevice, CudaRoundTripKeepsValues_CUDA) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  at::Tensor t = at::rand({4, 3, 8, 8});
  at::Tensor u = ToDevice(t, c10::Device(c10::kCUDA, 0));
  EXPECT_TRUE(u.is_cuda());
  Synchronize(u.device());
  EXPECT_TRUE(at::equal(u.cpu(), t));
}

TEST(HostOptions, SameDrawsOnEveryDevice) {
  at::Tensor like = at::zeros({3}, at::kFloat);
  at::Generator a = at::detail::createCPUGenerator(7), b = at::detail::createCPUGenerator(7);
  at::Tensor x = at::randn({5}, a, HostOptions(like));
  at::Tensor y = at::randn({5}, b, HostOptions(like)).to(like.device());
  EXPECT_TRUE(x.is_cpu());
  EXPECT_TRUE(at::equal(x, y.cpu()));
}

}  // namespace
}  // namespace spat
