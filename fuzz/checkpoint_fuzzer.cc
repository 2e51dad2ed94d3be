// torch.save checkpoint parsing (zip + pickle) on arbitrary bytes: never a
// crash; an accepted state dict's tensors can be read, and it survives a
// save/parse round trip with the same names and shapes.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.h"
#include "models/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto state = spat::models::ParseStateDict(bytes, "fuzz");
  if (!state.ok()) {
    FUZZ_CHECK(state.status().message().find("fuzz") != std::string::npos);
    return 0;
  }
  for (const auto& [name, t] : *state) {
    if (t.numel() > 0 && t.numel() < (1 << 20)) {
      (void)t.to(at::kDouble).sum().item<double>();  // reads every element
    }
  }
  auto again = spat::models::ParseStateDict(spat::models::SerializeStateDict(*state), "again");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again->size() == state->size());
  for (size_t i = 0; i < state->size(); ++i) {
    FUZZ_CHECK((*again)[i].first == (*state)[i].first);
    FUZZ_CHECK((*again)[i].second.sizes() == (*state)[i].second.sizes());
  }
  return 0;
}
