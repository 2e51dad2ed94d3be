// The paper's qualitative claims that our reduced protocols can check, and
// the check itself:
//
//   std::vector<Claim> c = Table1Claims(table.result());
//   for (const Claim& x : c) table.Note(ClaimNote(x));
//   SPAT_RETURN_IF_ERROR(ClaimsHold(c));   // FailedPrecondition naming each failure
//
// Only claims that hold on the cpu protocol (as on the paper's) are listed:
// a claim that our protocol cannot reproduce is documented, not asserted.
// Smoke presets train too little for any claim; callers check from cpu up.
#ifndef SPAT_BENCHMARKS_CLAIMS_H_
#define SPAT_BENCHMARKS_CLAIMS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "benchmarks/results.pb.h"

namespace spat::benchmarks {

struct Claim {
  std::string statement;  // what the paper says, in words
  bool holds = false;
  std::string evidence;  // our numbers that decided it
};

// Table 1: clean accuracy falls as alpha grows; s = 1 is less robust than
// s = 5; beta = 0 is less robust than beta = 0.2. A missing cell fails.
std::vector<Claim> Table1Claims(const TableResult& ours);

// Figure 1: SPAT is more robust than natural training, and a naturally trained
// model's errors concentrate on one wrong class per class (mean top-class
// share at least 3x a uniform spread over the C-1 wrong classes).
std::vector<Claim> Figure1Claims(double natural_pgd, double spat_pgd,
                                 double natural_mean_share_percent, int num_classes);

// Lemma 1: successful untargeted attacks land on the hard class j* (highest
// clean cos theta_j) at least 3x as often as chance, for both models.
std::vector<Claim> HcpClaims(double natural_share_percent, double spat_share_percent,
                             int num_classes);

// "claim holds: <statement> (<evidence>)" or "claim FAILS: ...".
std::string ClaimNote(const Claim& c);

// OK when every claim holds; otherwise FailedPrecondition listing the failures.
absl::Status ClaimsHold(const std::vector<Claim>& claims);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_CLAIMS_H_
