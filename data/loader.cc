#include "data/loader.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <numeric>

namespace spat::data {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t MixSeed(uint64_t a, uint64_t b) {
  uint64_t state = a * 0x2545f4914f6cdd1dULL + b;
  SplitMix64(state);
  return SplitMix64(state);
}

std::vector<int64_t> SeededPermutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  uint64_t state = seed;
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j =
        static_cast<int64_t>(SplitMix64(state) % static_cast<uint64_t>(i + 1));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
  }
  return perm;
}

at::Tensor CropAndFlip(const at::Tensor& x, int64_t padding, uint64_t seed) {
  TORCH_CHECK(x.dim() == 4, "x must be [B, C, H, W], got ", x.sizes());
  TORCH_CHECK(padding >= 0, "padding must be >= 0, got ", padding);
  const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  at::Tensor padded = at::constant_pad_nd(
      x, {padding, padding, padding, padding}, /*value=*/0.0);
  at::Tensor out = at::empty_like(x);
  uint64_t state = seed;
  const uint64_t range = static_cast<uint64_t>(2 * padding + 1);
  for (int64_t i = 0; i < b; ++i) {
    const int64_t dy = static_cast<int64_t>(SplitMix64(state) % range);
    const int64_t dx = static_cast<int64_t>(SplitMix64(state) % range);
    const bool flip = (SplitMix64(state) >> 63) != 0;
    at::Tensor crop = padded[i].narrow(1, dy, h).narrow(2, dx, w);
    out[i].copy_(flip ? crop.flip({2}) : crop);
  }
  return out;
}

BatchLoader::BatchLoader(const Dataset& dataset, const LoaderOptions& options)
    : dataset_(dataset), options_(options) {
  TORCH_CHECK(options_.batch_size > 0, "batch_size must be > 0, got ",
              options_.batch_size);
  StartEpoch(0);
}

void BatchLoader::StartEpoch(int64_t epoch) {
  epoch_ = epoch;
  const int64_t n = dataset_.size();
  if (options_.shuffle) {
    order_ = SeededPermutation(n, MixSeed(options_.seed, 2 * epoch_));
  } else {
    order_.resize(static_cast<size_t>(n));
    std::iota(order_.begin(), order_.end(), 0);
  }
}

int64_t BatchLoader::num_batches() const {
  const int64_t n = dataset_.size();
  const int64_t bs = options_.batch_size;
  return options_.drop_last ? n / bs : (n + bs - 1) / bs;
}

Batch BatchLoader::Get(int64_t b) const {
  TORCH_CHECK(b >= 0 && b < num_batches(), "batch ", b, " out of range [0, ",
              num_batches(), ")");
  const int64_t start = b * options_.batch_size;
  const int64_t len =
      std::min(options_.batch_size, dataset_.size() - start);
  at::Tensor index = at::empty({len}, at::kLong);
  std::copy_n(order_.begin() + start, len, index.data_ptr<int64_t>());
  Batch batch;
  batch.index = index;
  batch.x = dataset_.images.index_select(0, index);
  batch.y = dataset_.labels.index_select(0, index);
  if (options_.augment) {
    batch.x = CropAndFlip(batch.x, options_.crop_padding,
                          MixSeed(MixSeed(options_.seed, 2 * epoch_ + 1), b));
  }
  return batch;
}

}  // namespace spat::data
