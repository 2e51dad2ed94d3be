// Command-line parsing for every spat binary: Abseil flags, but bad usage
// exits 2 (Abseil's own parser exits 1 on an unknown flag or a malformed
// value, which our convention reserves for bad data):
//
//   std::vector<char*> rest = spat::ParseCommandLineOrExit(argc, argv);
//
// Unknown flags and values that do not parse are reported by name
// ("error: --epsilon: Illegal value 'abc'...") with exit code 2; positional
// arguments are refused the same way. Returns argv[0] plus nothing else.
#ifndef SPAT_BASE_CLI_H_
#define SPAT_BASE_CLI_H_

#include <string>
#include <vector>

namespace spat {

// Also tunes glibc malloc and OpenBLAS for tensor workloads (TuneAllocator
// and TuneBlas in base/process_tuning.h).
std::vector<char*> ParseCommandLineOrExit(int argc, char** argv);

// A path the user typed, resolved against the directory `bazel run` was
// started from (BUILD_WORKING_DIRECTORY; `bazel run` changes directory).
// Absolute and empty paths are returned as they are.
std::string UserPath(const std::string& path);

// The thread count a --threads flag asks for: `requested` if positive, else
// every core (at least 1).
int ThreadsOrAllCores(int requested);

}  // namespace spat

#endif  // SPAT_BASE_CLI_H_
