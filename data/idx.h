// IDX reader for MNIST and Fashion-MNIST (raw or gzip-compressed files).
//
//   absl::StatusOr<torch::Tensor> x = ReadIdxImages(".../train-images-idx3-ubyte");
//   absl::StatusOr<torch::Tensor> y = ReadIdxLabels(".../train-labels-idx1-ubyte.gz",
//                                                   /*num_classes=*/10);
//
// Every error names the file and says what was wrong with it.
#ifndef SPAT_DATA_IDX_H_
#define SPAT_DATA_IDX_H_

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace spat::data {

// Reads an IDX image file (magic 0x00000803, dims N x H x W, unsigned bytes).
// Returns [N, 1, H, W] float32 in [0, 1].
absl::StatusOr<at::Tensor> ReadIdxImages(const std::string& path);

// Reads an IDX label file (magic 0x00000801, dim N, unsigned bytes).
// Returns [N] int64; every label must lie in [0, num_classes).
absl::StatusOr<at::Tensor> ReadIdxLabels(const std::string& path,
                                         int64_t num_classes = 10);

// The same, from the file's (decompressed) bytes; `path` names it in errors.
absl::StatusOr<at::Tensor> ParseIdxImages(const std::string& bytes, const std::string& path);
absl::StatusOr<at::Tensor> ParseIdxLabels(const std::string& bytes, const std::string& path,
                                          int64_t num_classes = 10);

}  // namespace spat::data

#endif  // SPAT_DATA_IDX_H_
