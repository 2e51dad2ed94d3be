// Where tensors live. One --device flag (cpu | cuda | cuda:N | auto) is
// resolved once, in main(), and the torch::Device is passed down; data comes
// from the host through pinned memory, random draws come from CPU generators
// so that a seed gives the same numbers on every device.
//
//   SPAT_ASSIGN_OR_RETURN(c10::Device device, ResolveDevice(flag_value));
//   model->to(device);
//   at::Tensor x = ToDevice(batch.x, device);      // pinned, non-blocking on CUDA
//   at::Tensor noise = at::randn(x.sizes(), gen, HostOptions(x)).to(x.device());
#ifndef SPAT_BASE_DEVICE_H_
#define SPAT_BASE_DEVICE_H_

#include <ostream>
#include <string>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/TensorOptions.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace spat {

// True if this LibTorch was built with CUDA and sees at least one device.
bool CudaAvailable();

// Parses a --device value: "cpu", "cuda" (device 0), "cuda:N", or "auto"
// (cuda:0 when CudaAvailable(), else cpu). InvalidArgument, with the allowed
// values or why CUDA cannot be used (a CPU-only LibTorch, no device, N out of
// range), otherwise; callers prefix the flag's name and exit 2.
absl::StatusOr<c10::Device> ResolveDevice(absl::string_view value);

// For logs: "cpu", "cuda:0 (1 CUDA device)"; with `requested` = "auto" it
// also says why that device was picked.
std::string DeviceDescription(c10::Device device, absl::string_view requested = "");

// A host tensor on `device`: itself on the CPU; on CUDA a copy staged in
// pinned (page-locked) host memory and sent without blocking the host, so
// the transfer overlaps the work already queued.
at::Tensor ToDevice(const at::Tensor& t, c10::Device device);

// `like`'s dtype and layout on the host: random draws from a CPU generator,
// then .to(like.device()), give the same numbers on every device.
inline at::TensorOptions HostOptions(const at::Tensor& like) {
  return like.options().device(c10::kCPU);
}

// For main(): ResolveDevice of the --device flag's value. On a bad value
// prints "error: --device=<value>: <why>" and exits 2; otherwise writes
// "device: <DeviceDescription>" to `log` (if not null) and returns it.
c10::Device DeviceFromFlagOrExit(absl::string_view value, std::ostream* log);

// Waits for the device's queued work (CUDA); no-op on the CPU. For timings.
void Synchronize(c10::Device device);

}  // namespace spat

#endif  // SPAT_BASE_DEVICE_H_
