// CIFAR-10 binary-format reader (data_batch_{1..5}.bin, test_batch.bin) and
// CIFAR-10-C reader (<corruption>.npy + labels.npy, severities 1-5).
//
//   absl::StatusOr<LabeledImages> test = ReadCifar10(dir, /*train=*/false);
//   absl::StatusOr<LabeledImages> fog = ReadCifar10C(c_dir, "fog", /*severity=*/3);
#ifndef SPAT_DATA_CIFAR10_H_
#define SPAT_DATA_CIFAR10_H_

#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace spat::data {

// images: [N, C, H, W] float32 in [0, 1]; labels: [N] int64.
struct LabeledImages {
  at::Tensor images;
  at::Tensor labels;
};

inline constexpr int64_t kCifarRecordBytes = 1 + 3 * 32 * 32;

// Reads one binary batch file: N records of 1 label byte + 3072 pixel bytes
// (channel-major). The file size must be a positive multiple of 3073 and
// every label below 10.
absl::StatusOr<LabeledImages> ReadCifar10Batch(const std::string& path);
// The same, from the file's bytes; `path` names it in errors.
absl::StatusOr<LabeledImages> ParseCifar10Batch(const std::string& bytes,
                                                const std::string& path);

// Reads data_batch_1..5.bin (train) or test_batch.bin from `dir`.
absl::StatusOr<LabeledImages> ReadCifar10(const std::string& dir, bool train);

// Reads CIFAR-10-C: `dir`/<corruption>.npy ([50000, 32, 32, 3] uint8, the five
// severities stacked) and `dir`/labels.npy; returns the 10,000 images of
// `severity` (1-5) as [10000, 3, 32, 32] float32.
absl::StatusOr<LabeledImages> ReadCifar10C(const std::string& dir,
                                           const std::string& corruption,
                                           int severity);

}  // namespace spat::data

#endif  // SPAT_DATA_CIFAR10_H_
