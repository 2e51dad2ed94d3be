// Figure 2 of the paper: t-SNE (our own exact implementation) of the
// penultimate embeddings of 1,000 test images, natural vs SPAT. Writes
// DIR/figure2.png, figure2.json and figure2.md.
//
//   bazel run //benchmarks:figure2_tsne -- --preset=smoke|cpu|paper --out_dir=DIR
#include "benchmarks/hcp.h"

int main(int argc, char** argv) {
  return spat::benchmarks::FigureMain(argc, argv, "figure2", spat::benchmarks::RunFigure2);
}
