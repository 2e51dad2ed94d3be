// The few LibTorch APIs that differ between the versions we build against
// (Debian's 1.13 and the 2.x of pytorch.org and the torch Python package),
// behind one switch each. Everything else compiles unchanged on both.
//
//   ScopedAutocast bf16(x.device().type(), at::kBFloat16);   // until scope exit
//   if (spat::compat::AutocastEnabled(at::kCPU)) ...
#ifndef SPAT_BASE_TORCH_COMPAT_H_
#define SPAT_BASE_TORCH_COMPAT_H_

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

// 2.4 replaced the per-device autocast functions (is_cpu_enabled,
// get_autocast_gpu_dtype, ...) by ones taking the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SPAT_TORCH_AUTOCAST_BY_DEVICE_TYPE 1
#else
#define SPAT_TORCH_AUTOCAST_BY_DEVICE_TYPE 0
#endif

namespace spat::compat {

// Autocast of `type` (kCPU or kCUDA) on this thread.
inline bool AutocastEnabled(c10::DeviceType type) {
#if SPAT_TORCH_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == c10::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

inline void SetAutocastEnabled(c10::DeviceType type, bool enabled) {
#if SPAT_TORCH_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == c10::kCUDA) {
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

inline c10::ScalarType AutocastDtype(c10::DeviceType type) {
#if SPAT_TORCH_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == c10::kCUDA ? at::autocast::get_autocast_gpu_dtype()
                            : at::autocast::get_autocast_cpu_dtype();
#endif
}

inline void SetAutocastDtype(c10::DeviceType type, c10::ScalarType dtype) {
#if SPAT_TORCH_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

// Autocast of `type` to `dtype` while alive; restores the thread's previous
// state, also when what runs under it throws.
class ScopedAutocast {
 public:
  ScopedAutocast(c10::DeviceType type, c10::ScalarType dtype)
      : type_(type), was_enabled_(AutocastEnabled(type)), was_dtype_(AutocastDtype(type)) {
    SetAutocastDtype(type_, dtype);
    SetAutocastEnabled(type_, true);
  }
  ~ScopedAutocast() {
    SetAutocastEnabled(type_, was_enabled_);
    SetAutocastDtype(type_, was_dtype_);
    if (!was_enabled_) at::autocast::clear_cache();
  }
  ScopedAutocast(const ScopedAutocast&) = delete;
  ScopedAutocast& operator=(const ScopedAutocast&) = delete;

 private:
  c10::DeviceType type_;
  bool was_enabled_;
  c10::ScalarType was_dtype_;
};

}  // namespace spat::compat

#endif  // SPAT_BASE_TORCH_COMPAT_H_
