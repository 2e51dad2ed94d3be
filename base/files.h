// Files that survive a crash: replacement through a temporary file, fsync and
// rename, and directories created with their parents. Failures name the path.
//
//   SPAT_RETURN_IF_ERROR(MakeDirs(dir));
//   SPAT_RETURN_IF_ERROR(WriteFileAtomically(dir + "/metrics.json", json));
//   SPAT_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/config.textproto"));
#ifndef SPAT_BASE_FILES_H_
#define SPAT_BASE_FILES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spat {

// Writes a temporary file in the same directory, fsyncs it, renames it over
// `path` and fsyncs the directory. A failure leaves the previous file intact.
absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes);

// The whole file (bytes as they are); NotFound naming `path` if it cannot be
// opened, DataLoss if reading fails part way.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// True if something (a file, a directory, ...) exists at `path`.
bool PathExists(const std::string& path);

// Creates `dir` and its missing parents (like mkdir -p). OK if it exists as a
// directory; an error if it, or a parent, is something else.
absl::Status MakeDirs(const std::string& dir);

}  // namespace spat

#endif  // SPAT_BASE_FILES_H_
