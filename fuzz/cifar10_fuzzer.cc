// CIFAR-10 binary batch parsing on arbitrary bytes: never a crash; what is
// accepted has [N,3,32,32] images in [0,1] and labels in [0, 10).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "data/cifar10.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto r = spat::data::ParseCifar10Batch(bytes, "fuzz");
  if (!r.ok()) {
    FUZZ_CHECK(r.status().message().find("fuzz") != std::string::npos);
    return 0;
  }
  FUZZ_CHECK(r->images.dim() == 4 && r->images.size(1) == 3 && r->images.size(2) == 32 &&
             r->images.size(3) == 32);
  FUZZ_CHECK(r->labels.size(0) == r->images.size(0));
  FUZZ_CHECK(r->labels.min().item<int64_t>() >= 0 && r->labels.max().item<int64_t>() < 10);
  FUZZ_CHECK(r->images.min().item<float>() >= 0 && r->images.max().item<float>() <= 1);
  return 0;
}
