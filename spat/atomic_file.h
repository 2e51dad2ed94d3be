// Crash-safe file replacement: write a temporary file in the same directory,
// fsync it, rename it over the target, fsync the directory. A failure leaves
// the previous file intact and names the path.
//
//   SPAT_RETURN_IF_ERROR(WriteFileAtomically(dir + "/metrics.json", json));
#ifndef SPAT_SPAT_ATOMIC_FILE_H_
#define SPAT_SPAT_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace spat {

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace spat

#endif  // SPAT_SPAT_ATOMIC_FILE_H_
