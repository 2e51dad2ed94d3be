// Where the time goes: LibTorch's profiler around a region, reduced to self
// time per operator, grouped under the innermost of our user scopes
// (RECORD_USER_SCOPE("spat.attack") etc.):
//
//   OpProfile p;
//   p.Start();
//   ... training steps ...
//   std::cout << p.StopAndFormat(/*rows=*/25);
//
// Self time: an op's wall time minus that of the ops it called.
#ifndef SPAT_BENCHMARKS_OP_PROFILE_H_
#define SPAT_BENCHMARKS_OP_PROFILE_H_

#include <string>

namespace spat::benchmarks {

class OpProfile {
 public:
  void Start();
  // A Markdown table: scope, op, calls, self ms, share of the total.
  std::string StopAndFormat(int rows);
};

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_OP_PROFILE_H_
