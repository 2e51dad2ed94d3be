// Seeded shuffling batch loader over an in-memory Dataset, with optional
// CIFAR augmentation (random crop 32 with 4 padding, horizontal flip).
//
//   BatchLoader loader(train, {.batch_size = 128, .seed = 1, .augment = true});
//   loader.StartEpoch(epoch);
//   for (int64_t b = 0; b < loader.num_batches(); ++b) Batch batch = loader.Get(b);
//
// The order of epoch e and the augmentation of batch b are pure functions of
// (seed, e, b): the same seed replays the same run, in any access order.
#ifndef SPAT_DATA_LOADER_H_
#define SPAT_DATA_LOADER_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "data/dataset.h"

namespace spat::data {

// x: [B, C, H, W] float in [0, 1]; y: [B] int64; index: [B] int64 positions
// in the dataset.
struct Batch {
  at::Tensor x;
  at::Tensor y;
  at::Tensor index;
};

struct LoaderOptions {
  int64_t batch_size = 128;
  uint64_t seed = 0;
  bool shuffle = true;
  bool drop_last = false;
  bool augment = false;  // CIFAR crop + flip
  int64_t crop_padding = 4;
};

// Deterministic 64-bit mixer (SplitMix64), used to derive per-epoch and
// per-batch streams from one seed.
uint64_t MixSeed(uint64_t a, uint64_t b);

// A permutation of [0, n) that depends only on `seed` (Fisher-Yates over a
// SplitMix64 stream; identical on every platform).
std::vector<int64_t> SeededPermutation(int64_t n, uint64_t seed);

// Random crop (zero padding `padding`, same output size) and horizontal flip
// with probability 1/2, per example. x: [B, C, H, W]. Returns a new tensor.
at::Tensor CropAndFlip(const at::Tensor& x, int64_t padding, uint64_t seed);

class BatchLoader {
 public:
  BatchLoader(const Dataset& dataset, const LoaderOptions& options);

  // Fixes the example order for `epoch` (identity order if !shuffle).
  void StartEpoch(int64_t epoch);
  int64_t num_batches() const;
  // Batch `b` (0 <= b < num_batches()) of the current epoch.
  Batch Get(int64_t b) const;

 private:
  const Dataset& dataset_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace spat::data

#endif  // SPAT_DATA_LOADER_H_
