#include "benchmarks/harness.h"
#include "benchmarks/table_render.h"

#include <google/protobuf/text_format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "benchmarks/presets.h"
#include "benchmarks/robustness_tables.h"
#include "spat/config.h"
#include "spat/method.h"
#include "spat/run_state.h"
#include "base/files.h"

#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

TEST(Harness, PaperTablesAreTranscribedCompletely) {
  Harness h({});
  for (const auto& [id, rows, cols] :
       std::vector<std::tuple<std::string, int, int>>{{"table1", 13, 2}, {"table2", 4, 2},
                                                      {"table3", 3, 2}, {"table4", 5, 4},
                                                      {"table5", 5, 4}, {"table6", 7, 8},
                                                      {"table7", 7, 8}}) {
    absl::StatusOr<PaperTable> t = h.Paper(id);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(t->rows_size(), rows) << id;
    EXPECT_EQ(t->columns_size(), cols) << id;
    EXPECT_EQ(t->cells_size(), rows * cols) << id;
    for (const Cell& c : t->cells()) {
      EXPECT_GT(c.value(), 30.0) << id << " " << c.row();
      EXPECT_LT(c.value(), 100.0) << id << " " << c.row();
    }
  }
  // Spot checks against the paper's text.
  absl::StatusOr<PaperTable> t6 = h.Paper("table6");
  bool found = false;
  for (const Cell& c : t6->cells()) {
    if (c.row() == "SPAT" && c.column() == "AA") {
      EXPECT_DOUBLE_EQ(c.value(), 48.09);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(h.Paper("table9").ok());
}

// A cell whose training still moved in its last epoch is marked, keeps its
// runs' curves, and the claims on it are not judged.
TEST(Harness, CellsThatDidNotConvergeAreMarkedAndTheirClaimsNotJudged) {
  PaperTable paper;
  google::protobuf::TextFormat::ParseFromString(
      R"pb(id: "t" title: "T" rows: "SPAT" rows: "TRADES" columns: "PGD-20")pb", &paper);
  Table t(paper, Preset::kCpu, "our protocol");
  auto run = [](double clean_before, double clean, double pgd_before, double pgd) {
    CellResult r;
    r.clean = clean;
    r.pgd = pgd;
    r.clean_curve = {clean_before, clean};
    r.pgd_curve = {pgd_before, pgd};
    return r;
  };
  const std::vector<CellResult> flat = {run(90, 90.5, 40, 40.2), run(91, 90.8, 41, 41.5)};
  const std::vector<CellResult> moving = {run(80, 85, 20, 30), run(81, 84, 22, 29)};
  t.Add("SPAT", "PGD-20", Pgd(flat), 0, &flat);
  t.Add("TRADES", "PGD-20", Pgd(moving), 0, &moving);
  ASSERT_EQ(t.result().cells(0).curves_size(), 2);
  EXPECT_EQ(t.result().cells(0).curves(1).pgd(1), 41.5);
  EXPECT_TRUE(t.result().cells(0).converged());
  EXPECT_FALSE(t.result().cells(1).converged());
  EXPECT_NEAR(t.result().cells(1).last_epoch_change_pgd(), 8.5, 1e-9);
  const std::vector<Claim> claims = WhiteBoxClaims(t.result(), /*cifar=*/false);
  ASSERT_FALSE(claims.empty());
  t.AddClaims(claims);
  const std::string md = RenderMarkdown(t.result());
  EXPECT_NE(md.find("*not converged*"), std::string::npos) << md;
  EXPECT_NE(md.find("**Not converged**: 1 cell(s)"), std::string::npos) << md;
  EXPECT_NE(md.find("- **not judged**"), std::string::npos) << md;
  EXPECT_NE(md.find("'TRADES' / PGD-20 (last epoch moved clean +4.00, PGD-20 +8.50)"),
            std::string::npos)
      << md;
  // A learning rate that decays within the run flattens its last epoch
  // whatever the training's progress: never marked converged, and said why.
  std::vector<CellResult> annealed = flat;
  for (CellResult& r : annealed) r.lr_decays = true;
  Table u(paper, Preset::kCpu, "our protocol");
  u.Add("SPAT", "PGD-20", Pgd(annealed), 0, &annealed);
  u.Add("TRADES", "PGD-20", Pgd(flat), 0, &flat);
  EXPECT_FALSE(u.result().cells(0).converged());
  EXPECT_TRUE(u.result().cells(0).lr_decays());
  EXPECT_TRUE(u.result().cells(1).converged());
  u.AddClaims(WhiteBoxClaims(u.result(), /*cifar=*/false));
  const std::string umd = RenderMarkdown(u.result());
  EXPECT_NE(umd.find("**Not converged**: 1 cell(s) marked *not converged* come from training "
                     "whose learning rate decays"),
            std::string::npos)
      << umd;
  EXPECT_NE(umd.find("'SPAT' / PGD-20 (its learning rate decays within the run"),
            std::string::npos)
      << umd;
  // The long preset leaves the marking to its verdict check.
  Table l(paper, Preset::kLong, "our protocol");
  l.Add("SPAT", "PGD-20", Pgd(annealed), 0, &annealed);
  EXPECT_FALSE(l.result().cells(0).has_converged());
  EXPECT_FALSE(l.result().cells(0).has_lr_decays());
  // One epoch has nothing to compare with: not converged.
  const std::vector<CellResult> one = {run(50, 50, 10, 10)};
  std::vector<CellResult> single = one;
  single[0].clean_curve = {50};
  single[0].pgd_curve = {10};
  t.Add("SPAT", "Clean", Clean(single), 0, &single);
  EXPECT_FALSE(t.result().cells(2).converged());
  // Runs evaluated every 4th epoch and the last two compare epochs 15 and 16
  // and record which epochs they are; a last evaluation whose epoch before
  // was skipped has nothing to compare with.
  std::vector<CellResult> sparse = {run(90, 90.5, 40, 40.2)};
  sparse[0].curve_epochs = {15, 16};
  t.Add("SPAT", "C&W", Clean(sparse), 0, &sparse);
  EXPECT_TRUE(t.result().cells(3).converged());
  ASSERT_EQ(t.result().cells(3).curves(0).epoch_size(), 2);
  EXPECT_EQ(t.result().cells(3).curves(0).epoch(1), 16);
  sparse[0].curve_epochs = {12, 16};
  t.Add("TRADES", "C&W", Clean(sparse), 0, &sparse);
  EXPECT_FALSE(t.result().cells(4).converged());
}

TEST(Harness, PresetNames) {
  EXPECT_EQ(*ParsePreset("smoke"), Preset::kSmoke);
  EXPECT_EQ(PresetName(*ParsePreset("paper")), "paper");
  EXPECT_FALSE(ParsePreset("fast").ok());
}

// A model trained by `train --config=spat/presets/mnist_paper.textproto
// --method=M` (as on a GPU machine) is the paper preset's Table 4-5 cell of M:
// the table reuses it instead of training it again over it.
TEST(Harness, PaperMnistCellIsTheRunThatTrainTrainsFromThePresetFile) {
  absl::StatusOr<TrainConfig> file =
      LoadTrainConfig(SourceTreePath("spat/presets/mnist_paper.textproto"));
  ASSERT_TRUE(file.ok()) << file.status();
  const std::map<std::string, double> lambdas = {
      {"madry", DefaultLambda("madry")}, {"alp", 0.5}, {"trades", 6}, {"mart", 5}, {"spat", 6}};
  for (const auto& [method, lambda] : lambdas) {
    TrainConfig from_cli = *file;  // what --method=M does to the file
    from_cli.mutable_method()->set_name(method);
    from_cli.set_out_dir("/somewhere/else");
    absl::StatusOr<TrainConfig> cell = Tables45CellConfig(Preset::kPaper, method);
    ASSERT_TRUE(cell.ok()) << cell.status();
    cell->set_out_dir("/spat_results/table4_5/cells/" + method);
    absl::StatusOr<TrainConfig> a = ResolveTrainConfig(from_cli), b = ResolveTrainConfig(*cell);
    ASSERT_TRUE(a.ok() && b.ok()) << method;
    EXPECT_TRUE(CheckSameRun(*a, *b, SameRun::kExactly).ok())
        << method << ": " << CheckSameRun(*a, *b, SameRun::kExactly);
    EXPECT_DOUBLE_EQ(b->method().lambda(), lambda) << method;
    EXPECT_EQ(b->seed(), 1u) << method;  // the harness's base seed
  }
}

// The protocol line describes what the trainer runs: the resolved config's
// milestones and evaluation attack, the momentum and weight decay given.
TEST(Harness, ProtocolLineDescribesTheResolvedConfig) {
  absl::StatusOr<TrainConfig> cpu = AblationBase(Preset::kCpu);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  absl::StatusOr<TrainConfig> resolved = ResolveTrainConfig(*cpu);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  ASSERT_EQ(cpu->optimizer().lr_milestones_size(), 0);  // the default is the trainer's
  std::vector<std::string> at;
  for (double f : resolved->optimizer().lr_milestones()) at.push_back(absl::StrFormat("%g", f));
  const std::string line = DescribeProtocol(*cpu);
  EXPECT_NE(line.find(absl::StrCat("at ", absl::StrJoin(at, ", "), " of the epochs")),
            std::string::npos) << line;
  EXPECT_NE(line.find("momentum 0.9, wd 0.0005"), std::string::npos) << line;
  EXPECT_NE(line.find("per-epoch check PGD-20 (CE, random start), eps 0.2, step 0.02"),
            std::string::npos) << line;

  TrainConfig mine = *cpu;
  mine.mutable_optimizer()->add_lr_milestones(0.5);
  mine.mutable_optimizer()->set_momentum(0.5);
  mine.mutable_eval_attack()->set_num_steps(7);
  const std::string changed = DescribeProtocol(mine);
  EXPECT_NE(changed.find("x0.1 at 0.5 of the epochs"), std::string::npos) << changed;
  EXPECT_NE(changed.find("momentum 0.5"), std::string::npos) << changed;
  EXPECT_NE(changed.find("check PGD-7 "), std::string::npos) << changed;
}

// A natural-training cell of seconds, and harness options writing to
// $TEST_TMPDIR/<dir> with the log in `log`.
absl::StatusOr<TrainConfig> TinyCell() {
  absl::StatusOr<TrainConfig> base = AblationBase(Preset::kSmoke);
  if (!base.ok()) return base;
  base->mutable_method()->set_name("natural");
  base->mutable_dataset()->set_train_subset(64);
  base->mutable_dataset()->set_test_subset(16);
  return base;
}

HarnessOptions TmpOptions(const std::string& dir, std::ostringstream* log) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  HarnessOptions o;
  o.out_dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + dir;
  o.threads = 1;
  o.log = log;
  return o;
}

TEST(Harness, FinishedCellIsReusedWhateverTheSpellingOfOutDir) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  absl::StatusOr<TrainConfig> base = TinyCell();
  ASSERT_TRUE(base.ok()) << base.status();
  std::ostringstream log;
  HarnessOptions o = TmpOptions("harness_reuse", &log);
  absl::StatusOr<CellResult> first = Harness(o).TrainCell("cell", *base);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->reused);
  // The same directory named differently (as `bazel run` and a shell do).
  o.out_dir = std::string(tmp) + "/./harness_reuse/";
  absl::StatusOr<CellResult> second = Harness(o).TrainCell("cell", *base);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->reused) << log.str();
  EXPECT_DOUBLE_EQ(second->clean, first->clean);
  // A changed hyper-parameter is a different cell: it trains again.
  base->mutable_optimizer()->set_lr(0.02);
  absl::StatusOr<CellResult> third = Harness(o).TrainCell("cell", *base);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_FALSE(third->reused);
}

TEST(Harness, SeedsAreCellsOfTheirOwnAndTheFirstKeepsTheBaseSeed) {
  absl::StatusOr<TrainConfig> base = TinyCell();
  ASSERT_TRUE(base.ok()) << base.status();
  base->set_seed(7);
  std::ostringstream log;
  HarnessOptions o = TmpOptions("harness_seeds", &log);
  o.seeds = 2;
  absl::StatusOr<std::vector<CellResult>> runs = Harness(o).TrainCells("cell", *base);
  ASSERT_TRUE(runs.ok()) << runs.status();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].checkpoint, o.out_dir + "/cells/cell/checkpoint.pt");
  EXPECT_EQ((*runs)[1].checkpoint, o.out_dir + "/cells/cell_seed8/checkpoint.pt");
  EXPECT_EQ(Clean(*runs), (std::vector<double>{(*runs)[0].clean, (*runs)[1].clean}));
  // More seeds later: the two finished runs are reused, the third trains.
  o.seeds = 3;
  log.str("");
  runs = Harness(o).TrainCells("cell", *base);
  ASSERT_TRUE(runs.ok()) << runs.status();
  EXPECT_TRUE((*runs)[0].reused && (*runs)[1].reused && !(*runs)[2].reused) << log.str();
  // Under --shard=1/2 the runs are dealt out one by one.
  o.seeds = 2;
  o.shard = 1;
  o.num_shards = 2;
  runs = Harness(o).TrainCells("other", *base);
  ASSERT_TRUE(runs.ok()) << runs.status();
  EXPECT_TRUE((*runs)[0].skipped);
  EXPECT_FALSE((*runs)[1].skipped);
}

TEST(Harness, CellEvalsAreKeptBesideTheRunAndOutliveItsCheckpoint) {
  absl::StatusOr<TrainConfig> base = TinyCell();
  ASSERT_TRUE(base.ok()) << base.status();
  std::ostringstream log;
  HarnessOptions o = TmpOptions("harness_evals", &log);
  CellEvals evals;
  evals.epsilon = 0.1;
  evals.attacks = {{"clean", 16}, {"fgsm", 8}, {"transfer_fgsm", 8}};
  evals.source_cell = "source";
  evals.source = *base;
  evals.source.set_seed(9);
  absl::StatusOr<CellResult> first = Harness(o).TrainCell("cell", *base, &evals);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->evals.size(), 3u) << log.str();
  EXPECT_GE(first->evals.at("clean"), 0.0);
  EXPECT_TRUE(PathExists(o.out_dir + "/cells/cell/evals.json"));
  // The source was trained on demand, as a cell of its own.
  EXPECT_TRUE(PathExists(o.out_dir + "/cells/source/metrics.json"));
  // Without the model (a fresh clone keeps config, metrics and evals), the
  // same attacks are read back.
  ASSERT_EQ(std::remove(first->checkpoint.c_str()), 0);
  absl::StatusOr<CellResult> second = Harness(o).TrainCell("cell", *base, &evals);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->reused);
  EXPECT_EQ(second->evals, first->evals);
  // An attack it never ran, or the same on other images, needs the model: a
  // clear error that says how to get it back.
  evals.attacks.push_back({"pgd3", 8});
  absl::StatusOr<CellResult> third = Harness(o).TrainCell("cell", *base, &evals);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(third.status().message().find("pgd3"), std::string::npos) << third.status();
  EXPECT_NE(third.status().message().find("metrics.json"), std::string::npos) << third.status();
  // An attack the evaluator does not know is refused before anything runs.
  evals.attacks.back() = {"pgd_three", 8};
  absl::StatusOr<CellResult> fourth = Harness(o).TrainCell("cell", *base, &evals);
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(fourth.status().message().find("'cell'"), std::string::npos) << fourth.status();
  EXPECT_NE(fourth.status().message().find("pgd_three"), std::string::npos) << fourth.status();
}

TEST(Harness, StatusReadsTheCellsAndTrainsNothing) {
  absl::StatusOr<TrainConfig> base = TinyCell();
  ASSERT_TRUE(base.ok()) << base.status();
  std::ostringstream log;
  HarnessOptions o = TmpOptions("harness_status", &log);
  CellEvals evals;
  evals.epsilon = 0.1;
  evals.attacks = {{"clean", 16}};
  ASSERT_TRUE(Harness(o).TrainCell("done", *base, &evals).ok()) << log.str();
  evals.attacks.push_back({"fgsm", 16});

  o.status = true;
  std::ostringstream status_log;
  o.log = &status_log;
  Harness h(o);
  EXPECT_TRUE(h.TrainingOnly());
  // Another process holds the finished cell's lock: it is attacked right now.
  const int fd = ::open((o.out_dir + "/cells/done/.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  absl::StatusOr<CellResult> done = h.TrainCell("done", *base, &evals);
  ::close(fd);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_TRUE(done->skipped);
  // A cell two rows share counts once.
  ASSERT_TRUE(h.TrainCell("done", *base, &evals).ok());
  absl::StatusOr<CellResult> fresh = h.TrainCell("fresh", *base);
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(PathExists(o.out_dir + "/cells/fresh")) << "--status made a cell folder";
  const int epochs = base->optimizer().epochs();
  EXPECT_NE(status_log.str().find("[done] trained; final attacks 1 of 2 (running now)"),
            std::string::npos)
      << status_log.str();
  EXPECT_NE(status_log.str().find("[done] as above"), std::string::npos) << status_log.str();
  EXPECT_NE(status_log.str().find(absl::StrFormat("[fresh] 0 of %d epochs", epochs)),
            std::string::npos)
      << status_log.str();
  EXPECT_EQ(h.StatusSummary(),
            absl::StrFormat("0 of 2 cells finished (1 running now); %d of %d epochs trained; "
                            "final attacks: 1 of 2 done",
                            epochs, 2 * epochs));
}

TEST(Harness, TheLongPresetDefaultsToResultsLongAndThreeSeeds) {
  EXPECT_EQ(*ParsePreset("long"), Preset::kLong);
  EXPECT_EQ(PresetName(Preset::kLong), "long");
  EXPECT_EQ(DefaultSeeds(Preset::kLong), 3);
  EXPECT_EQ(DefaultOutDir(Preset::kLong), "results/long");
  EXPECT_EQ(DefaultOutDir(Preset::kCpu), "spat_results/cpu");
  absl::StatusOr<TrainConfig> c = AblationBase(Preset::kLong);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->optimizer().epochs(), kLongEpochs);
  EXPECT_EQ(HalfBudget(*c).optimizer().epochs(), kLongEpochs / 2);
  // Table 4-5's attacks on SPAT's defaults, Table 1's elsewhere; AutoAttack
  // where asked, on its own number of images.
  const CellEvals table4 = LongPresetEvals(*c, true, true);
  EXPECT_EQ(table4.attacks.size(), 8u);
  EXPECT_EQ(table4.attacks.back().name, "aa");
  EXPECT_EQ(table4.attacks.back().images, kLongAutoAttackImages);
  EXPECT_EQ(table4.source_cell, "source_lenet5");
  EXPECT_EQ(table4.source.model().name(), "lenet5");
  const CellEvals table1 = LongPresetEvals(*c, false, false);
  ASSERT_EQ(table1.attacks.size(), 2u);
  EXPECT_EQ(table1.attacks[1].name, "pgd20");
  EXPECT_EQ(table1.attacks[1].images, kLongTestImages);
  EXPECT_TRUE(table1.source_cell.empty());
}

}  // namespace
}  // namespace spat::benchmarks
