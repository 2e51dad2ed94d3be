// In-memory datasets by name: MNIST, Fashion-MNIST, CIFAR-10 and a generated
// CIFAR-format set for smoke runs, with "first N" subsets.
//
//   DatasetSpec spec{.name = "mnist", .data_dir = DefaultDataDir("mnist")};
//   absl::StatusOr<Dataset> train = LoadDataset(spec, Split::kTrain, 10000);
//   // train->images: [10000, 1, 28, 28] float in [0, 1]
#ifndef SPAT_DATA_DATASET_H_
#define SPAT_DATA_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace spat::data {

enum class Split { kTrain, kTest };

// images: [N, C, H, W] float32 in [0, 1]; labels: [N] int64 in [0, classes).
struct Dataset {
  std::string name;
  at::Tensor images;
  at::Tensor labels;
  int64_t num_classes = 10;
  std::vector<std::string> class_names;

  int64_t size() const { return labels.size(0); }
};

struct DatasetSpec {
  // "mnist", "fashion_mnist", "cifar10" or "synthetic_cifar10" (generated,
  // deterministic, learnable; for smoke runs without CIFAR-10 on disk).
  std::string name;
  // Directory holding the dataset's files; empty means DefaultDataDir(name).
  std::string data_dir;
};

// The names LoadDataset accepts.
const std::vector<std::string>& KnownDatasets();

// Where tools/setup.sh puts (or Debian installs) each dataset:
//   mnist          ${SPAT_DATA_DIR:-$HOME/.cache/spat}/mnist
//   fashion_mnist  /usr/share/datasets/fashion-mnist
//   cifar10        ${SPAT_DATA_DIR:-$HOME/.cache/spat}/cifar-10-batches-bin
std::string DefaultDataDir(const std::string& name);

// Loads `split` of the dataset. `subset` > 0 keeps the first `subset` examples
// (an error if the split has fewer); 0 keeps all.
absl::StatusOr<Dataset> LoadDataset(const DatasetSpec& spec, Split split,
                                    int64_t subset = 0);

// A test set of the user's own from two .npy files: images [N, C, H, W]
// (float32 or float64, every value finite and in [0, 1]) and integer labels
// [N] (>= 0). num_classes is the largest label + 1 (at least 2); name is
// "npy:<images path>". Every fault is an InvalidArgument (NotFound for a
// missing file) naming the file and what was wrong.
absl::StatusOr<Dataset> LoadNpyTestSet(const std::string& images_path,
                                       const std::string& labels_path);

// Keeps the first n examples of `d` (n <= d.size()).
Dataset FirstN(const Dataset& d, int64_t n);

}  // namespace spat::data

#endif  // SPAT_DATA_DATASET_H_
