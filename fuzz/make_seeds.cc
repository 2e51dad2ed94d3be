// Writes the fuzzers' seed corpora (small valid files of each format):
//
//   bazel run //fuzz:make_seeds -- $PWD/fuzz/corpus
//
// The seeds are committed; rerun this only when a format's writer changes.
#include <torch/torch.h>

#include <iostream>
#include <string>
#include <sys/stat.h>

#include "data/internal/test_files.h"
#include "models/checkpoint.h"

namespace t = spat::data::testing;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seeds OUT_DIR\n";
    return 2;
  }
  const std::string out = argv[1];
  for (const char* d : {"", "/idx", "/cifar10", "/npy", "/checkpoint"}) {
    ::mkdir((out + d).c_str(), 0755);
  }
  std::vector<uint8_t> pixels(2 * 3 * 4);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 11);
  t::WriteFile(out + "/idx/images_2x3x4", t::IdxImages(pixels, 2, 3, 4));
  t::WriteFile(out + "/idx/labels_5", t::IdxLabels({7, 2, 1, 0, 9}));
  t::WriteFile(out + "/cifar10/two_records", t::CifarRecords({3, 9}));
  t::WriteFile(out + "/npy/uint8_2x2x3", t::Npy("|u1", "(2, 2, 3)", std::string(12, '\x05')));
  t::WriteFile(out + "/npy/float32_3", t::Npy("<f4", "(3,)", std::string(12, '\x00')));
  t::WriteFile(out + "/npy/int64_fortran_2x2", t::Npy("<i8", "(2, 2)", std::string(32, '\x01'), true));
  spat::models::StateDict state = {
      {"conv.weight", torch::arange(6, torch::kFloat).view({1, 1, 2, 3})},
      {"bn.num_batches_tracked", torch::tensor(int64_t{4})},
      {"head.s", torch::tensor(5.0f)}};
  t::WriteFile(out + "/checkpoint/three_tensors.pt", spat::models::SerializeStateDict(state));
  std::cout << "wrote seeds under " << out << "\n";
  return 0;
}
