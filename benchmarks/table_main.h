// The main() of every table binary: flags (--preset, --out_dir, --threads),
// the harness, exit codes (0 ok, 1 failed run or bad data, 2 bad usage or a
// dataset the preset needs is missing).
//
//   int main(int argc, char** argv) { return TableMain(argc, argv, "table1", run); }
#ifndef SPAT_BENCHMARKS_TABLE_MAIN_H_
#define SPAT_BENCHMARKS_TABLE_MAIN_H_

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmarks/harness.h"

namespace spat::benchmarks {

// The main() shared by every benchmark binary: parses --preset, --seeds,
// --out_dir, --threads, --shard=i/N and --merge (bad usage: exit 2), builds the harness
// and returns what `body` returns. Under --shard, reports what this shard
// trained after `body` ran.
int HarnessMain(int argc, char** argv, const std::string& id,
                const std::function<int(const Harness&)>& body);

using TablesFn = std::function<absl::StatusOr<std::vector<Table>>(const Harness&)>;
using PlotFn = std::function<absl::Status(const Harness&, const Table&)>;

// `run` builds the table(s); `plot` (may be null) renders a PNG per table.
int TableMain(int argc, char** argv, const std::string& id, const TablesFn& run,
              const PlotFn& plot);

// Adapts a one-table runner.
TablesFn One(const std::function<absl::StatusOr<Table>(const Harness&)>& run);
// Adapts a two-table runner (white-box and black-box).
TablesFn Two(const std::function<absl::StatusOr<std::pair<Table, Table>>(const Harness&)>& run);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_TABLE_MAIN_H_
