// Figure 1 of the paper: where untargeted PGD-20 sends each class, natural vs
// SPAT. Writes DIR/figure1.png, figure1.json and figure1.md.
//
//   bazel run //benchmarks:figure1_confusion -- --preset=smoke|cpu|paper --out_dir=DIR
#include "benchmarks/hcp.h"

int main(int argc, char** argv) {
  return spat::benchmarks::FigureMain(argc, argv, "figure1", spat::benchmarks::RunFigure1);
}
