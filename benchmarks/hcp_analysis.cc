// Lemma 1 made measurable: how often untargeted PGD lands on the clean
// input's hard class (largest cos(theta_j), j != y), and the prototype norms.
// Writes DIR/hcp.md and DIR/hcp.json.
//
//   bazel run //benchmarks:hcp_analysis -- --preset=smoke|cpu|paper --out_dir=DIR
#include "benchmarks/hcp.h"

int main(int argc, char** argv) {
  return spat::benchmarks::FigureMain(argc, argv, "hcp_analysis", spat::benchmarks::RunHcpAnalysis);
}
