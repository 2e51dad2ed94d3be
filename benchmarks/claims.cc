#include "benchmarks/claims.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace spat::benchmarks {
namespace {

std::optional<double> Ours(const TableResult& t, const std::string& row,
                           const std::string& column) {
  for (const ResultCell& c : t.cells()) {
    if (c.row() == row && c.column() == column) return c.ours();
  }
  return std::nullopt;
}

// "a > b" between two cells of `t`; fails (naming the cell) if one is missing.
Claim Greater(const TableResult& t, const std::string& statement, const std::string& row_a,
              const std::string& row_b, const std::string& column) {
  Claim c{statement};
  const std::optional<double> a = Ours(t, row_a, column);
  const std::optional<double> b = Ours(t, row_b, column);
  if (!a || !b) {
    c.evidence = absl::StrCat("cell '", !a ? row_a : row_b, "' / ", column, " is missing");
    return c;
  }
  c.holds = *a > *b;
  c.evidence = absl::StrFormat("%s: %s %.2f vs %s %.2f", column, row_a, *a, row_b, *b);
  return c;
}

}  // namespace

std::vector<Claim> Table1Claims(const TableResult& ours) {
  return {
      Greater(ours, "clean accuracy falls as alpha grows (paper: 84.66 at 0.0, 83.01 at 0.6)",
              "alpha=0.0", "alpha=0.6", "Clean"),
      Greater(ours, "s = 5 is more robust than s = 1 (paper: 59.56 vs 49.52)", "s=5", "s=1",
              "PGD-20"),
      Greater(ours,
              "the self-paced weighting of L_rob (beta = 0.2) is more robust than none "
              "(beta = 0; paper: 59.56 vs 57.88)",
              "beta=0.2", "beta=0.0", "PGD-20"),
  };
}

std::vector<Claim> Figure1Claims(double natural_pgd, double spat_pgd,
                                 double natural_mean_share_percent, int num_classes) {
  const double uniform = 100.0 / (num_classes - 1);
  return {
      {"SPAT is more robust to PGD-20 than natural training", spat_pgd > natural_pgd,
       absl::StrFormat("PGD-20 accuracy: SPAT %.1f%%, natural %.1f%%", spat_pgd, natural_pgd)},
      {"a naturally trained model's errors concentrate on one wrong class per class "
       "(at least 3x a uniform spread)",
       natural_mean_share_percent >= 3 * uniform,
       absl::StrFormat("mean top-wrong-class share %.1f%%, uniform %.1f%%",
                       natural_mean_share_percent, uniform)},
  };
}

std::vector<Claim> HcpClaims(double natural_share_percent, double spat_share_percent,
                             int num_classes) {
  const double chance = 100.0 / (num_classes - 1);
  std::vector<Claim> out;
  for (const auto& [model, share] :
       {std::pair<const char*, double>{"natural", natural_share_percent},
        {"SPAT", spat_share_percent}}) {
    out.push_back({absl::StrCat("Lemma 1 (", model,
                                "): successful untargeted attacks land on the hard class j* "
                                "at least 3x as often as chance"),
                   share >= 3 * chance,
                   absl::StrFormat("%.1f%% on j*, chance %.1f%%", share, chance)});
  }
  return out;
}

std::string ClaimNote(const Claim& c) {
  return absl::StrCat(c.holds ? "claim holds: " : "claim FAILS: ", c.statement, " (",
                      c.evidence, ")");
}

absl::Status ClaimsHold(const std::vector<Claim>& claims) {
  std::vector<std::string> failed;
  for (const Claim& c : claims) {
    if (!c.holds) failed.push_back(absl::StrCat(c.statement, " (", c.evidence, ")"));
  }
  if (failed.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the paper's claim does not hold on our run: ", absl::StrJoin(failed, "; ")));
}

}  // namespace spat::benchmarks
