// Writes DIR/<model>_<head>.pt for every registry model (deterministic
// weights, seed 0) plus DIR/manifest.tsv (key, shape, sum of each tensor), so
// that a Python script can check what torch.load returns.
//
//   write_checkpoints DIR
#include <torch/torch.h>

#include <fstream>
#include <iostream>

#include "models/checkpoint.h"
#include "models/registry.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: write_checkpoints DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  torch::manual_seed(0);
  std::ofstream manifest(dir + "/manifest.tsv");
  for (const std::string& name : {std::string("small_cnn"), std::string("lenet5"),
                                  std::string("resnet18"), std::string("wrn34_10")}) {
    for (const bool nce : {false, true}) {
      const bool cifar = name != "small_cnn" && name != "lenet5";
      spat::models::ModelSpec spec{
          name, 10, cifar ? 3 : 1, cifar ? 32 : 28,
          {nce ? spat::models::HeadType::kNce : spat::models::HeadType::kLinear, 5.0}};
      auto model = spat::models::CreateModel(spec);
      if (!model.ok()) {
        std::cerr << model.status() << "\n";
        return 1;
      }
      const std::string file = name + (nce ? "_nce" : "_linear") + ".pt";
      absl::Status st = spat::models::SaveCheckpoint(**model, dir + "/" + file);
      if (!st.ok()) {
        std::cerr << st << "\n";
        return 1;
      }
      for (const auto& [k, t] : spat::models::GetStateDict(**model)) {
        manifest << file << '\t' << k << '\t';
        for (int64_t d = 0; d < t.dim(); ++d) manifest << (d ? "," : "") << t.size(d);
        manifest << '\t' << t.to(torch::kDouble).sum().item<double>() << '\t'
                 << c10::toString(t.scalar_type()) << '\n';
      }
    }
  }
  return 0;
}
