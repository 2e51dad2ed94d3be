#include "benchmarks/table_main.h"

#include <ATen/Parallel.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "spat/cli.h"

ABSL_FLAG(std::string, preset, "cpu", "smoke | cpu | paper");
ABSL_FLAG(std::string, out_dir, "", "output directory (default: spat_results/<preset>)");
ABSL_FLAG(int, threads, 0, "intra-op threads (0: all cores)");

namespace spat::benchmarks {

TablesFn One(const std::function<absl::StatusOr<Table>(const Harness&)>& run) {
  return [run](const Harness& h) -> absl::StatusOr<std::vector<Table>> {
    absl::StatusOr<Table> t = run(h);
    if (!t.ok()) return t.status();
    return std::vector<Table>{*t};
  };
}

TablesFn Two(const std::function<absl::StatusOr<std::pair<Table, Table>>(const Harness&)>& run) {
  return [run](const Harness& h) -> absl::StatusOr<std::vector<Table>> {
    auto t = run(h);
    if (!t.ok()) return t.status();
    return std::vector<Table>{t->first, t->second};
  };
}

int TableMain(int argc, char** argv, const std::string& id, const TablesFn& run,
              const PlotFn& plot) {
  absl::SetProgramUsageMessage(absl::StrCat(
      "Reproduces the paper's ", id, " (our numbers beside the paper's).\n  --preset=smoke|cpu|paper "
      "--out_dir=DIR"));
  std::vector<char*> rest = spat::ParseCommandLineOrExit(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "error: unexpected argument '" << rest[1] << "'\n";
    return 2;
  }
  absl::StatusOr<Preset> preset = ParsePreset(absl::GetFlag(FLAGS_preset));
  if (!preset.ok()) {
    std::cerr << "error: " << preset.status().message() << "\n";
    return 2;
  }
  if (absl::GetFlag(FLAGS_threads) < 0) {
    std::cerr << "error: --threads must be >= 0\n";
    return 2;
  }
  HarnessOptions o;
  o.preset = *preset;
  o.out_dir = UserPath(absl::GetFlag(FLAGS_out_dir).empty()
                           ? absl::StrCat("spat_results/", PresetName(*preset))
                           : absl::GetFlag(FLAGS_out_dir));
  o.threads = absl::GetFlag(FLAGS_threads) > 0
                  ? absl::GetFlag(FLAGS_threads)
                  : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  o.log = &std::cerr;
  at::set_num_threads(o.threads);
  Harness h(o);
  std::cerr << id << ": preset " << PresetName(*preset) << ", writing to " << o.out_dir
            << " (finished cells there are reused)\n";
  absl::StatusOr<std::vector<Table>> tables = run(h);
  if (!tables.ok()) {
    std::cerr << "error: " << tables.status().message() << "\n";
    return tables.status().code() == absl::StatusCode::kNotFound ? 2 : 1;
  }
  for (const Table& table : *tables) {
    if (absl::Status st = h.Write(table); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
    if (plot) {
      if (absl::Status st = plot(h, table); !st.ok()) {
        std::cerr << "error: " << st.message() << "\n";
        return 1;
      }
    }
    std::cout << table.Markdown() << "\n";
  }
  for (const Table& table : *tables) {
    if (!table.claims().ok()) {
      std::cerr << "error: " << table.result().id() << ": " << table.claims().message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace spat::benchmarks
