#include "base/device.h"
#include "benchmarks/table_main.h"
#include "benchmarks/table_render.h"

#include <ATen/Parallel.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/cli.h"

ABSL_FLAG(std::string, preset, "cpu", "smoke | cpu | long | paper");
ABSL_FLAG(std::string, out_dir, "",
          "output directory (default: spat_results/<preset>; results/long for the long preset, "
          "relative to where the command runs)");
ABSL_FLAG(int, threads, 0, "intra-op threads (0: all cores)");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda | cuda:N | auto (CUDA when present)");
ABSL_FLAG(bool, cuda_graphs, true, "on CUDA: PGD steps (training and evaluation) as CUDA graphs");
ABSL_FLAG(int, seeds, 0,
          "runs per table cell, seeds base, base + 1, ... (0: the preset's default: smoke 1, "
          "cpu 3, long 3, paper 4)");
ABSL_FLAG(std::string, shard, "",
          "i/N: train only this shard's share of the cells (cell ordinal mod N == i); "
          "no table is written");
ABSL_FLAG(bool, merge, false,
          "assemble the tables from cells the shards finished (none is trained)");
ABSL_FLAG(bool, status, false,
          "say how far the cells in --out_dir are (finished, epochs trained, final attacks "
          "done, running now); nothing is trained or written");
ABSL_FLAG(int, jobs, 1,
          "train the cells in N processes at once (each a --shard=i/N with --threads/N "
          "threads), then assemble the tables as --merge does");

namespace spat::benchmarks {
namespace {

// Runs this binary as --shard=i/N, i < jobs, each with threads/jobs threads,
// and waits for all; the exit code of the first that failed, else 0.
int RunShards(int argc, char** argv, int jobs, int threads) {
  std::vector<pid_t> children;
  for (int i = 0; i < jobs; ++i) {
    std::vector<std::string> args(argv, argv + argc);
    args.push_back(absl::StrCat("--shard=", i, "/", jobs));
    args.push_back("--jobs=1");
    args.push_back(absl::StrCat("--threads=", std::max(1, threads / jobs)));
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> cargs;
      for (std::string& a : args) cargs.push_back(a.data());
      cargs.push_back(nullptr);
      ::execv("/proc/self/exe", cargs.data());
      std::perror("execv /proc/self/exe");
      std::_Exit(1);
    }
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    children.push_back(pid);
  }
  int rc = 0;
  for (pid_t pid : children) {
    int status = 0;
    if (::waitpid(pid, &status, 0) < 0) return 1;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (rc == 0) rc = code;
  }
  return rc;
}

}  // namespace

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

int HarnessMain(int argc, char** argv, const std::string& id,
                const std::function<int(const Harness&)>& body) {
  absl::SetProgramUsageMessage(absl::StrCat(
      "Reproduces the paper's ", id, " (our numbers beside the paper's).\n  --preset=smoke|cpu|long|paper "
      "--seeds=N --out_dir=DIR [--shard=i/N | --merge | --status]"));
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
  if (absl::GetFlag(FLAGS_seeds) < 0 || absl::GetFlag(FLAGS_seeds) > 100) {
    std::cerr << "error: --seeds=" << absl::GetFlag(FLAGS_seeds)
              << ": expected 1 to 100 runs per cell (0: the preset's default)\n";
    return 2;
  }
  HarnessOptions o;
  o.seeds = absl::GetFlag(FLAGS_seeds) > 0 ? absl::GetFlag(FLAGS_seeds) : DefaultSeeds(*preset);
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    if (absl::Status st = ParseShard(absl::GetFlag(FLAGS_shard), &o.shard, &o.num_shards);
        !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 2;
    }
    if (absl::GetFlag(FLAGS_merge)) {
      std::cerr << "error: --shard and --merge exclude each other: run the shards, then "
                   "--merge once\n";
      return 2;
    }
  }
  o.status = absl::GetFlag(FLAGS_status);
  if (o.status && (o.num_shards > 1 || absl::GetFlag(FLAGS_merge) || absl::GetFlag(FLAGS_jobs) > 1)) {
    std::cerr << "error: --status reads the cells only; use it without --shard, --merge and "
                 "--jobs\n";
    return 2;
  }
  const int jobs = absl::GetFlag(FLAGS_jobs);
  if (jobs < 1 || jobs > 64) {
    std::cerr << "error: --jobs=" << jobs << ": expected 1 to 64 processes\n";
    return 2;
  }
  if (jobs > 1 && (o.num_shards > 1 || absl::GetFlag(FLAGS_merge))) {
    std::cerr << "error: --jobs runs its own shards; use it without --shard and --merge\n";
    return 2;
  }
  if (jobs > 1) {
    const int threads = ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
    std::cerr << id << ": training the cells in " << jobs << " processes of "
              << std::max(1, threads / jobs) << " thread(s)\n";
    if (int rc = RunShards(argc, argv, jobs, threads); rc != 0) return rc;
  }
  o.merge = absl::GetFlag(FLAGS_merge) || jobs > 1;
  o.preset = *preset;
  o.out_dir = UserPath(absl::GetFlag(FLAGS_out_dir).empty() ? DefaultOutDir(*preset)
                                                            : absl::GetFlag(FLAGS_out_dir));
  o.threads = ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
  o.log = &std::cerr;
  o.device = DeviceFromFlagOrExit(absl::GetFlag(FLAGS_device), &std::cerr);
  o.cuda_graphs = absl::GetFlag(FLAGS_cuda_graphs);
  at::set_num_threads(o.threads);
  Harness h(o);
  // One write, so that the lines of --jobs' shards on one terminal do not interleave.
  std::cerr << absl::StrCat(
      id, ": preset ", PresetName(*preset), ", ", o.seeds, o.seeds == 1 ? " run" : " runs",
      " per cell, writing to ", o.out_dir, " (finished cells there are reused)",
      o.status           ? std::string("; --status: reading the cells, training none")
      : h.TrainingOnly() ? absl::StrCat("; shard ", o.shard, "/", o.num_shards,
                                        ": training only this shard's cells")
                         : std::string(o.merge ? "; merging the shards' cells" : ""),
      "\n");
  const int rc = body(h);
  if (rc == 0 && o.status) {
    std::cout << id << " (" << PresetName(*preset) << ", " << o.out_dir
              << "): " << h.StatusSummary() << "\n";
  } else if (rc == 0 && h.TrainingOnly()) {
    std::cerr << absl::StrFormat(
        "%s shard %d/%d: %d of %d cells are done in %s/cells/. When every shard is done, "
        "gather their cells/ directories into one --out_dir and run with --merge.\n",
        id, o.shard, o.num_shards, h.cells_owned(), h.cells_visited(), o.out_dir);
  }
  return rc;
}

int TableMain(int argc, char** argv, const std::string& id, const TablesFn& run,
              const PlotFn& plot) {
  return HarnessMain(argc, argv, id, [&](const Harness& h) {
    absl::StatusOr<std::vector<Table>> tables = run(h);
    if (!tables.ok()) {
      std::cerr << "error: " << tables.status().message() << "\n";
      return tables.status().code() == absl::StatusCode::kNotFound ? 2 : 1;
    }
    if (h.TrainingOnly()) return 0;  // the tables come from --merge
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
      std::cout << RenderMarkdown(table.result()) << "\n";
    }
    if (h.options().preset != Preset::kLong) {
      std::cout << "Tables from models trained to 98% clean accuracy, with each claim judged "
                   "only where its verdict holds at half the budget too: results/long/ in the "
                   "repository (README.md, \"Results\"; `--preset=long` reproduces them).\n";
    }
    return 0;
  });
}

}  // namespace spat::benchmarks
