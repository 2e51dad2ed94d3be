// Reader for NumPy .npy files (format versions 1.0-3.0, C order, little-endian
// bool/uint8/int8/int16/int32/int64/float16/float32/float64), as CIFAR-10-C
// ships them.
//
//   absl::StatusOr<at::Tensor> t = ReadNpy("fog.npy");  // [50000,32,32,3] uint8
#ifndef SPAT_DATA_NPY_H_
#define SPAT_DATA_NPY_H_

#include <string>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace spat::data {

// Returns the array as a tensor of the matching dtype and shape.
absl::StatusOr<at::Tensor> ReadNpy(const std::string& path);

// Parses an in-memory .npy image; `name` is used in error messages.
absl::StatusOr<at::Tensor> ParseNpy(const std::string& bytes,
                                    const std::string& name);

}  // namespace spat::data

#endif  // SPAT_DATA_NPY_H_
