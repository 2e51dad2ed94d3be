// Whole-file reading for the dataset readers: raw files and gzip streams
// (zlib reads uncompressed files transparently, so both go through one path).
//
//   absl::StatusOr<std::string> bytes = ReadFileBytes(path);  // maybe .gz
#ifndef SPAT_DATA_FILE_BYTES_H_
#define SPAT_DATA_FILE_BYTES_H_

#include <string>

#include "absl/status/statusor.h"

namespace spat::data {

// Returns the (decompressed, if gzip) contents of `path`. NotFound if the file
// does not exist; DataLoss if a gzip stream is corrupt or truncated.
absl::StatusOr<std::string> ReadFileBytes(const std::string& path);

}  // namespace spat::data

#endif  // SPAT_DATA_FILE_BYTES_H_
