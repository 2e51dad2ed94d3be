// The main() of every table binary: flags (--preset, --out_dir, --threads),
// the harness, exit codes (0 ok, 1 failed run or bad data, 2 bad usage or a
// dataset the preset needs is missing).
//
//   int main(int argc, char** argv) { return TableMain(argc, argv, "table1", run); }
#ifndef SPAT_BENCHMARKS_TABLE_MAIN_H_
#define SPAT_BENCHMARKS_TABLE_MAIN_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "benchmarks/harness.h"

namespace spat::benchmarks {

// `run` builds the table; `plot` (may be null) renders its PNG.
int TableMain(int argc, char** argv, const std::string& id,
              const std::function<absl::StatusOr<Table>(const Harness&)>& run,
              const std::function<absl::Status(const Harness&, const Table&)>& plot);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_TABLE_MAIN_H_
