// Test helpers: compare a model against the reference PyTorch definitions in
// models/testdata (written by tools/make_reference_checkpoints.py).
#ifndef SPAT_MODELS_INTERNAL_REFERENCE_TESTING_H_
#define SPAT_MODELS_INTERNAL_REFERENCE_TESTING_H_

#include <torch/torch.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/checkpoint.h"
#include "models/classifier.h"

namespace spat::models::testing {

inline const char kTestData[] = "models/testdata/";

// "key<TAB>d0,d1,..." lines of the reference state dict of `model`, minus
// keys that start with `skip_prefix` (if non-empty).
inline std::vector<std::string> ReferenceKeys(const std::string& model,
                                              const std::string& skip_prefix = "") {
  std::ifstream f(std::string(kTestData) + "reference_keys.txt");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    if (line.substr(0, tab) != model) continue;
    const std::string rest = line.substr(tab + 1);
    if (!skip_prefix.empty() && rest.rfind(skip_prefix, 0) == 0) continue;
    out.push_back(rest);
  }
  return out;
}

inline std::vector<std::string> OwnKeys(const torch::nn::Module& m) {
  std::vector<std::string> out;
  for (const auto& [k, t] : GetStateDict(m)) {
    std::ostringstream s;
    s << k << '\t';
    for (int64_t d = 0; d < t.dim(); ++d) s << (d ? "," : "") << t.size(d);
    out.push_back(s.str());
  }
  return out;
}

inline int64_t NumParameters(const torch::nn::Module& m) {
  int64_t n = 0;
  for (const auto& p : m.parameters()) n += p.numel();
  return n;
}

// Loads `stem`.pt into `model` and checks that, in eval mode, it reproduces
// the features and logits PyTorch computed on the same input (`stem`_io.pt).
inline void ExpectMatchesPyTorch(Classifier& model, const std::string& stem,
                                 const std::vector<std::string>& ignored = {}) {
  const std::string dir = kTestData;
  absl::Status st = LoadCheckpoint(dir + stem + ".pt", model, ignored);
  ASSERT_TRUE(st.ok()) << st;
  absl::StatusOr<StateDict> io = LoadStateDict(dir + stem + "_io.pt");
  ASSERT_TRUE(io.ok()) << io.status();
  ASSERT_EQ(io->size(), 3u);
  at::Tensor x, z, logits;
  for (const auto& [k, t] : *io) {
    if (k == "x") x = t;
    if (k == "features") z = t;
    if (k == "logits") logits = t;
  }
  ASSERT_TRUE(x.defined() && z.defined() && logits.defined());
  model.eval();
  torch::NoGradGuard no_grad;
  at::Tensor our_z = model.Features(x);
  at::Tensor ours = model.forward(x);
  EXPECT_TRUE(torch::allclose(our_z, z, /*rtol=*/1e-4, /*atol=*/1e-5))
      << "max |dz| = " << (our_z - z).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(ours, logits, /*rtol=*/1e-4, /*atol=*/1e-5))
      << "max |dlogits| = " << (ours - logits).abs().max().item<double>();
}

}  // namespace spat::models::testing

#endif  // SPAT_MODELS_INTERNAL_REFERENCE_TESTING_H_
