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
#include "base/status_macros.h"

ABSL_FLAG(std::string, preset, "cpu", "smoke | cpu | long | eps03 | paper");
ABSL_FLAG(std::string, out_dir, "",
          "output directory (default: spat_results/<preset>; results/<preset> for the long and "
          "eps03 presets, relative to where the command runs)");
ABSL_FLAG(int, threads, 0, "intra-op threads (0: all cores)");
ABSL_FLAG(std::string, device, "cpu", "cpu | cuda | cuda:N | auto (CUDA when present)");
ABSL_FLAG(bool, cuda_graphs, true, "on CUDA: PGD steps (training and evaluation) as CUDA graphs");
ABSL_FLAG(int, seeds, 0,
          "runs per table cell, seeds base, base + 1, ... (0: the preset's default: smoke 1, "
          "cpu 3, long 3, eps03 3, paper 4)");
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

namespace {

// --shard, --merge, --status and --jobs: which combinations make sense.
absl::Status CheckModeFlags(const HarnessOptions& o, int jobs) {
  if (!absl::GetFlag(FLAGS_shard).empty() && absl::GetFlag(FLAGS_merge)) {
    return absl::InvalidArgumentError(
        "--shard and --merge exclude each other: run the shards, then --merge once");
  }
  if (o.status && (o.num_shards > 1 || absl::GetFlag(FLAGS_merge) || jobs > 1)) {
    return absl::InvalidArgumentError(
        "--status reads the cells only; use it without --shard, --merge and --jobs");
  }
  if (jobs < 1 || jobs > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--jobs=", jobs, ": expected 1 to 64 processes"));
  }
  if (jobs > 1 && (o.num_shards > 1 || absl::GetFlag(FLAGS_merge))) {
    return absl::InvalidArgumentError(
        "--jobs runs its own shards; use it without --shard and --merge");
  }
  return absl::OkStatus();
}

// The harness's options from the flags; InvalidArgument (exit 2) on bad usage.
absl::StatusOr<HarnessOptions> OptionsFromFlags() {
  HarnessOptions o;
  SPAT_ASSIGN_OR_RETURN(o.preset, ParsePreset(absl::GetFlag(FLAGS_preset)));
  if (absl::GetFlag(FLAGS_threads) < 0) {
    return absl::InvalidArgumentError("--threads must be >= 0");
  }
  const int seeds = absl::GetFlag(FLAGS_seeds);
  if (seeds < 0 || seeds > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--seeds=", seeds, ": expected 1 to 100 runs per cell (0: the preset's default)"));
  }
  o.seeds = seeds > 0 ? seeds : DefaultSeeds(o.preset);
  if (!absl::GetFlag(FLAGS_shard).empty()) {
    SPAT_RETURN_IF_ERROR(ParseShard(absl::GetFlag(FLAGS_shard), &o.shard, &o.num_shards));
  }
  o.status = absl::GetFlag(FLAGS_status);
  SPAT_RETURN_IF_ERROR(CheckModeFlags(o, absl::GetFlag(FLAGS_jobs)));
  o.merge = absl::GetFlag(FLAGS_merge) || absl::GetFlag(FLAGS_jobs) > 1;
  o.out_dir = UserPath(absl::GetFlag(FLAGS_out_dir).empty() ? DefaultOutDir(o.preset)
                                                            : absl::GetFlag(FLAGS_out_dir));
  o.threads = ThreadsOrAllCores(absl::GetFlag(FLAGS_threads));
  o.log = &std::cerr;
  o.cuda_graphs = absl::GetFlag(FLAGS_cuda_graphs);
  return o;
}

// One line: what this process does and where it writes.
void AnnounceStart(const std::string& id, const Harness& h) {
  const HarnessOptions& o = h.options();
  // One write, so that the lines of --jobs' shards on one terminal do not interleave.
  std::cerr << absl::StrCat(
      id, ": preset ", PresetName(o.preset), ", ", o.seeds, o.seeds == 1 ? " run" : " runs",
      " per cell, writing to ", o.out_dir, " (finished cells there are reused)",
      o.status           ? std::string("; --status: reading the cells, training none")
      : h.TrainingOnly() ? absl::StrCat("; shard ", o.shard, "/", o.num_shards,
                                        ": training only this shard's cells")
                         : std::string(o.merge ? "; merging the shards' cells" : ""),
      "\n");
}

// After the body: --status's totals, or what a shard has done.
void ReportEnd(const std::string& id, const Harness& h) {
  const HarnessOptions& o = h.options();
  if (o.status) {
    std::cout << id << " (" << PresetName(o.preset) << ", " << o.out_dir
              << "): " << h.StatusSummary() << "\n";
  } else if (h.TrainingOnly()) {
    std::cerr << absl::StrFormat(
        "%s shard %d/%d: %d of %d cells are done in %s/cells/. When every shard is done, "
        "gather their cells/ directories into one --out_dir and run with --merge.\n",
        id, o.shard, o.num_shards, h.cells_owned(), h.cells_visited(), o.out_dir);
  }
}

}  // namespace

int HarnessMain(int argc, char** argv, const std::string& id,
                const std::function<int(const Harness&)>& body) {
  absl::SetProgramUsageMessage(absl::StrCat(
      "Reproduces the paper's ", id,
      " (our numbers beside the paper's).\n  --preset=smoke|cpu|long|eps03|paper "
      "--seeds=N --out_dir=DIR [--shard=i/N | --merge | --status]"));
  std::vector<char*> rest = spat::ParseCommandLineOrExit(argc, argv);
  if (rest.size() > 1) {
    std::cerr << "error: unexpected argument '" << rest[1] << "'\n";
    return 2;
  }
  absl::StatusOr<HarnessOptions> o = OptionsFromFlags();
  if (!o.ok()) {
    std::cerr << "error: " << o.status().message() << "\n";
    return 2;
  }
  if (const int jobs = absl::GetFlag(FLAGS_jobs); jobs > 1) {
    std::cerr << id << ": training the cells in " << jobs << " processes of "
              << std::max(1, o->threads / jobs) << " thread(s)\n";
    if (int rc = RunShards(argc, argv, jobs, o->threads); rc != 0) return rc;
  }
  o->device = DeviceFromFlagOrExit(absl::GetFlag(FLAGS_device), &std::cerr);
  at::set_num_threads(o->threads);
  Harness h(*o);
  AnnounceStart(id, h);
  const int rc = body(h);
  if (rc == 0) ReportEnd(id, h);
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
    if (!JudgedAtTwoBudgets(h.options().preset)) {
      std::cout << "Tables from models trained to 98% clean accuracy, with each claim judged "
                   "only where its verdict holds at half the budget too: results/long/ in the "
                   "repository (README.md, \"Results\"; `--preset=long` reproduces them).\n";
    }
    return 0;
  });
}

}  // namespace spat::benchmarks
