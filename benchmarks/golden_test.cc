// Golden regression: the smoke preset under its fixed seed (1 thread) must
// reproduce benchmarks/goldens/<table>_smoke.json within kTolerance points.
// Regenerate after an intended change with tools/regen_goldens.sh.
#include <ATen/Parallel.h>
#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "benchmarks/ablation_tables.h"
#include "benchmarks/harness.h"
#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

// 128 test images: one image is 0.78 points. Same machine and threads give
// identical numbers; another CPU may flip a couple of borderline images.
constexpr double kTolerance = 3.0;

TableResult ReadGolden(const std::string& id) {
  std::ifstream f("benchmarks/goldens/" + id + "_smoke.json");
  std::stringstream s;
  s << f.rdbuf();
  TableResult r;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(s.str(), &r).ok()) << id;
  return r;
}

void ExpectMatchesGolden(const Table& t) {
  const TableResult golden = ReadGolden(t.result().id());
  std::map<std::pair<std::string, std::string>, double> want;
  for (const ResultCell& c : golden.cells()) want[{c.row(), c.column()}] = c.ours();
  ASSERT_EQ(static_cast<size_t>(t.result().cells_size()), want.size());
  for (const ResultCell& c : t.result().cells()) {
    auto it = want.find({c.row(), c.column()});
    ASSERT_NE(it, want.end()) << c.row() << " / " << c.column();
    EXPECT_NEAR(c.ours(), it->second, kTolerance) << c.row() << " / " << c.column();
  }
}

Harness SmokeHarness(const std::string& name) {
  HarnessOptions o;
  o.preset = Preset::kSmoke;
  const char* tmp = std::getenv("TEST_TMPDIR");
  o.out_dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  o.threads = 1;
  at::set_num_threads(1);
  return Harness(o);
}

bool MnistMissing() {
  const char* d = std::getenv("SPAT_DATA_DIR");
  const char* home = std::getenv("HOME");
  const std::string dir = (d != nullptr && *d) ? std::string(d) + "/mnist"
                                               : std::string(home ? home : "") + "/.cache/spat/mnist";
  return !std::ifstream(dir + "/t10k-labels-idx1-ubyte").good();
}

TEST(Golden, Table1Smoke) {
  if (MnistMissing()) GTEST_SKIP() << "MNIST not installed (run tools/setup.sh)";
  Harness h = SmokeHarness("table1");
  absl::StatusOr<Table> t = RunTable1(h);
  ASSERT_TRUE(t.ok()) << t.status();
  ExpectMatchesGolden(*t);
  // Re-running reuses every finished cell and gives the same table.
  absl::StatusOr<Table> again = RunTable1(h);
  ASSERT_TRUE(again.ok());
  for (int i = 0; i < t->result().cells_size(); ++i) {
    EXPECT_EQ(t->result().cells(i).ours(), again->result().cells(i).ours());
  }
}

TEST(Golden, Table2And3Smoke) {
  if (MnistMissing()) GTEST_SKIP() << "MNIST not installed (run tools/setup.sh)";
  Harness h = SmokeHarness("table23");
  absl::StatusOr<Table> t2 = RunTable2(h);
  ASSERT_TRUE(t2.ok()) << t2.status();
  ExpectMatchesGolden(*t2);
  absl::StatusOr<Table> t3 = RunTable3(h);
  ASSERT_TRUE(t3.ok()) << t3.status();
  ExpectMatchesGolden(*t3);
}

}  // namespace
}  // namespace spat::benchmarks
