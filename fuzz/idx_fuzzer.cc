// IDX image and label parsing on arbitrary bytes: never a crash; what is
// accepted is well-formed ([N,1,H,W] in [0,1]; labels in [0, 10)).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "data/idx.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (auto x = spat::data::ParseIdxImages(bytes, "fuzz"); x.ok()) {
    FUZZ_CHECK(x->dim() == 4 && x->size(1) == 1);
    FUZZ_CHECK(x->numel() == 0 || (x->min().item<float>() >= 0 && x->max().item<float>() <= 1));
  } else {
    FUZZ_CHECK(x.status().message().find("fuzz") != std::string::npos);
  }
  if (auto y = spat::data::ParseIdxLabels(bytes, "fuzz", 10); y.ok()) {
    FUZZ_CHECK(y->dim() == 1);
    FUZZ_CHECK(y->numel() == 0 || (y->min().item<int64_t>() >= 0 && y->max().item<int64_t>() < 10));
  } else {
    FUZZ_CHECK(y.status().message().find("fuzz") != std::string::npos);
  }
  return 0;
}
