#include "base/device.h"

#include <torch/cuda.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace spat {

bool CudaAvailable() { return torch::cuda::is_available(); }

absl::StatusOr<c10::Device> ResolveDevice(absl::string_view value) {
  if (value == "cpu") return c10::Device(c10::kCPU);
  if (value == "auto") {
    return CudaAvailable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  absl::string_view rest = value;
  if (!absl::ConsumePrefix(&rest, "cuda")) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown device '", value, "'; allowed: cpu, cuda, cuda:N, auto"));
  }
  int index = 0;
  if (!rest.empty() && (!absl::ConsumePrefix(&rest, ":") || !absl::SimpleAtoi(rest, &index) ||
                        index < 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown device '", value, "'; allowed: cpu, cuda, cuda:N (N >= 0), auto"));
  }
  if (!CudaAvailable()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", value, "' needs CUDA, but this LibTorch ",
        torch::cuda::device_count() == 0 ? "has no CUDA support or sees no CUDA device"
                                         : "cannot use its CUDA devices",
        " (build against a CUDA LibTorch: docs/gpu_and_libtorch.md; or use --device=cpu)"));
  }
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  if (index >= count) {
    return absl::InvalidArgumentError(absl::StrCat("'", value, "': only ", count,
                                                   " CUDA device(s) are visible"));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string DeviceDescription(c10::Device device, absl::string_view requested) {
  std::string s = device.str();
  if (device.is_cuda()) {
    const size_t n = torch::cuda::device_count();
    absl::StrAppend(&s, " (", n, " CUDA device", n == 1 ? "" : "s", " visible)");
  }
  if (requested == "auto") {
    absl::StrAppend(&s, device.is_cuda() ? ", picked by --device=auto"
                                         : ", picked by --device=auto: no CUDA device");
  }
  return s;
}

at::Tensor ToDevice(const at::Tensor& t, c10::Device device) {
  if (t.device() == device) return t;
  if (device.is_cuda() && t.device().is_cpu()) {
    return t.pin_memory().to(device, /*non_blocking=*/true);
  }
  return t.to(device);
}

c10::Device DeviceFromFlagOrExit(absl::string_view value, std::ostream* log) {
  absl::StatusOr<c10::Device> d = ResolveDevice(value);
  if (!d.ok()) {
    std::cerr << "error: --device=" << value << ": " << d.status().message() << "\n";
    std::exit(2);
  }
  if (log != nullptr) *log << "device: " << DeviceDescription(*d, value) << "\n";
  return *d;
}

void Synchronize(c10::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace spat
