#include "benchmarks/claims.h"

#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

namespace spat::benchmarks {
namespace {

// benchmarks/goldens/table1_cpu.json is the cpu preset's Table 1 as run by
// `bazel run //benchmarks:table1_sweep` (see the README); the claims must
// hold on it, and must fail when the numbers say otherwise.
TableResult Table1Cpu() {
  const char* src = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  const std::string path = std::string(src ? src : ".") + "/" + (ws ? ws : "") +
                           "/benchmarks/goldens/table1_cpu.json";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  TableResult t;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text.str(), &t).ok()) << path;
  return t;
}

void SetOurs(TableResult* t, const std::string& row, const std::string& column, double v) {
  for (ResultCell& c : *t->mutable_cells()) {
    if (c.row() == row && c.column() == column) c.set_ours(v);
  }
}

TEST(Claims, Table1ClaimsHoldOnTheCpuRun) {
  const TableResult t = Table1Cpu();
  ASSERT_EQ(t.preset(), "cpu");
  const std::vector<Claim> claims = Table1Claims(t);
  ASSERT_EQ(claims.size(), 3u);
  for (const Claim& c : claims) EXPECT_TRUE(c.holds) << ClaimNote(c);
  EXPECT_TRUE(ClaimsHold(claims).ok());
}

TEST(Claims, Table1ClaimFailsWhenTheNumbersSayOtherwise) {
  TableResult t = Table1Cpu();
  SetOurs(&t, "s=1", "PGD-20", 45.0);  // s=5 has 40.1
  const std::vector<Claim> claims = Table1Claims(t);
  EXPECT_FALSE(claims[1].holds);
  EXPECT_NE(claims[1].evidence.find("45.00"), std::string::npos) << claims[1].evidence;
  const absl::Status st = ClaimsHold(claims);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("s = 5 is more robust than s = 1"), std::string::npos);
  EXPECT_EQ(ClaimNote(claims[1]).rfind("claim FAILS: ", 0), 0u);
}

TEST(Claims, MissingCellFailsAndIsNamed) {
  TableResult t = Table1Cpu();
  t.mutable_cells()->RemoveLast();  // beta=0.6 PGD-20: no claim uses it
  t.mutable_cells()->DeleteSubrange(0, 2);  // s=1
  const std::vector<Claim> claims = Table1Claims(t);
  EXPECT_FALSE(claims[1].holds);
  EXPECT_NE(claims[1].evidence.find("'s=1'"), std::string::npos) << claims[1].evidence;
  EXPECT_TRUE(claims[0].holds);
}

TEST(Claims, Figure1AndLemma1OnTheCpuRunAndAtChance) {
  // The cpu preset's Figure 1 and hcp_analysis (Fashion-MNIST): PGD-20 natural
  // 35.9%, SPAT 46.1%; mean top-wrong-class share 54.3%; attacks landing on j*
  // 58.9% (natural) and 76.9% (SPAT).
  EXPECT_TRUE(ClaimsHold(Figure1Claims(35.9, 46.1, 54.3, 10)).ok());
  EXPECT_TRUE(ClaimsHold(HcpClaims(58.9, 76.9, 10)).ok());
  // At chance (1/9 = 11.1%) and with SPAT no better, every claim fails.
  for (const Claim& c : Figure1Claims(40.0, 40.0, 11.1, 10)) EXPECT_FALSE(c.holds) << c.statement;
  for (const Claim& c : HcpClaims(11.1, 20.0, 10)) EXPECT_FALSE(c.holds) << c.statement;
  // The threshold is 3x chance: 33.4% passes, 33.2% does not.
  EXPECT_TRUE(HcpClaims(33.4, 33.4, 10)[0].holds);
  EXPECT_FALSE(HcpClaims(33.2, 33.4, 10)[0].holds);
}

}  // namespace
}  // namespace spat::benchmarks
