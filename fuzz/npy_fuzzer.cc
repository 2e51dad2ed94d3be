// .npy parsing (CIFAR-10-C) on arbitrary bytes: never a crash; an accepted
// array's every element can be read.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "data/npy.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto t = spat::data::ParseNpy(bytes, "fuzz");
  if (!t.ok()) {
    FUZZ_CHECK(t.status().message().find("fuzz") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(t->is_contiguous());
  FUZZ_CHECK(static_cast<size_t>(t->nbytes()) <= bytes.size());
  if (t->numel() > 0) (void)t->to(at::kDouble).sum().item<double>();  // reads every element
  return 0;
}
