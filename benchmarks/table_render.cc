#include "benchmarks/table_render.h"

#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/files.h"
#include "base/proto_json.h"
#include "base/status_macros.h"
#include "benchmarks/claims.h"
#include "benchmarks/stats.h"
#include "benchmarks/table.h"

namespace spat::benchmarks {
namespace {

using CellMap = std::map<std::pair<std::string, std::string>, const ResultCell*>;

std::string Fmt(double v) { return absl::StrFormat("%.2f", v); }

// The long preset is sized for every model to reach 98% clean accuracy: a
// Clean cell below it is marked.
bool UnderCleanFloor(const TableResult& t, const ResultCell& c) {
  return t.preset() == "long" && c.column() == "Clean" && c.runs_size() > 0 && c.ours() < 98.0;
}

// The eps03 preset's marks on a Clean or PGD-20 cell: under the floor its
// row's claims need, or under the paper's regime; empty otherwise.
std::string RegimeMark(const TableResult& t, const ResultCell& c) {
  if (!t.has_regime_clean() || c.runs_size() == 0) return "";
  const bool clean = c.column() == "Clean", pgd = c.column() == "PGD-20";
  if (!clean && !pgd) return "";
  if (c.ours() < (clean ? t.floor_clean() : t.floor_pgd())) return " *under the floor*";
  if (c.ours() < (clean ? t.regime_clean() : t.regime_pgd())) return " *under the paper's regime*";
  return "";
}

// False: a table the paper does not have.
bool HasPaperNumbers(const TableResult& t) {
  for (const ResultCell& c : t.cells()) {
    if (c.has_paper()) return true;
  }
  return false;
}

// The title and what a cell shows.
std::string Heading(const TableResult& t, bool paper_numbers) {
  std::string md = absl::StrCat("# ", t.title(), "\n\n");
  absl::StrAppend(&md, "Each cell: **ours: mean ± sd over n = ", t.seeds(), " run",
                  t.seeds() == 1 ? "" : "s", " (seeds ",
                  t.seeds() == 1 ? "base" : "base, base + 1, ...", ")** ",
                  paper_numbers ? "(paper: mean of 4 runs)" : "(—: the paper has no such number)",
                  ". Preset `", t.preset(), "`.\n\n");
  return md;
}

// One cell: ours (± sd, n where it differs), the paper's, the half-budget
// mean, and its marks.
std::string CellText(const TableResult& t, const ResultCell& cell) {
  std::string ours = Fmt(cell.ours());
  if (cell.runs_size() > 1) absl::StrAppend(&ours, " ± ", Fmt(cell.sd()));
  if (cell.collapsed_runs() > 0) {
    absl::StrAppend(&ours, " (n=", cell.runs_size(), ", ", cell.collapsed_runs(), " of ",
                    cell.runs_size() + cell.collapsed_runs(), " collapsed)");
  } else if (cell.runs_size() != t.seeds()) {
    absl::StrAppend(&ours, " (n=", cell.runs_size(), ")");
  }
  std::string half;
  if (cell.half_budget_runs_size() > 0) {
    const Summary h =
        Summarize({cell.half_budget_runs().begin(), cell.half_budget_runs().end()});
    half = absl::StrCat(" · ", t.half_epochs(), " ep: ", Fmt(h.mean));
  }
  if (cell.half_budget_collapsed_runs() > 0) {
    absl::StrAppend(&half, half.empty() ? absl::StrCat(" · ", t.half_epochs(), " ep:") : "",
                    " (", cell.half_budget_collapsed_runs(), " collapsed)");
  }
  return absl::StrCat(
      "**", ours, "**",
      cell.has_paper() ? absl::StrCat(" (", Fmt(cell.paper()), ")") : std::string(" (—)"), half,
      cell.has_converged() && !cell.converged() ? " *not converged*" : "",
      UnderCleanFloor(t, cell) ? " *under 98% clean*" : "", RegimeMark(t, cell));
}

// The table proper: a header row, then each row that has a cell.
std::string Grid(const TableResult& t) {
  CellMap cells;
  for (const ResultCell& c : t.cells()) cells[{c.row(), c.column()}] = &c;
  std::vector<std::string> header = {""};
  for (const auto& c : t.columns()) header.push_back(c);
  std::vector<std::string> sep(header.size(), "---");
  std::string md = absl::StrCat("| ", absl::StrJoin(header, " | "), " |\n");
  absl::StrAppend(&md, "| ", absl::StrJoin(sep, " | "), " |\n");
  for (const auto& r : t.rows()) {
    std::vector<std::string> line = {r};
    bool any = false;
    for (const auto& c : t.columns()) {
      auto it = cells.find({r, c});
      any = any || it != cells.end();
      line.push_back(it == cells.end() ? "—" : CellText(t, *it->second));
    }
    if (any) absl::StrAppend(&md, "| ", absl::StrJoin(line, " | "), " |\n");
  }
  return md;
}

// What "N ep" means, where the table has a half budget.
std::string HalfBudgetNote(const TableResult& t) {
  if (t.half_epochs() <= 0) return "";
  return absl::StrFormat(
      "\n\"%d ep\": the same cell trained for half the budget (%d epochs, its own schedule), "
      "mean over its runs. A claim is judged only where its verdict is the same at %d and at "
      "%d epochs; where it changes, more training could change it again, and the claim is "
      "*not judged*.\n",
      t.half_epochs(), t.half_epochs(), t.half_epochs(), t.epochs());
}

std::string Protocols(const TableResult& t, bool paper_numbers) {
  std::string md = absl::StrCat("\n**Our protocol** (`", t.preset(), "`): ", t.protocol(),
                                "\n\n**Paper's protocol**: ", t.paper_protocol(), "\n");
  if (t.preset() != "paper" && paper_numbers) {
    absl::StrAppend(&md,
                    "\nOur numbers come from a reduced protocol, so they are not expected to "
                    "match the paper's; compare orderings and trends, not values.\n");
  }
  return md;
}

// What the marks in the grid mean, for each kind the table has.
std::string MarkNotes(const TableResult& t) {
  std::string md;
  int under = 0, moved = 0, decays = 0;
  std::set<std::string> collapsed;  // rows
  for (const ResultCell& c : t.cells()) {
    under += UnderCleanFloor(t, c);
    if (c.collapsed_runs() + c.half_budget_collapsed_runs() > 0) collapsed.insert(c.row());
    if (c.has_converged() && !c.converged()) ++(c.lr_decays() ? decays : moved);
  }
  if (under > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Under 98%% clean**: %d row(s) marked *under 98%% clean* did not reach the clean "
        "accuracy the long preset is sized for: less trained than the others, or trading clean "
        "accuracy for robustness (the paper finds clean accuracy falls as s grows). Claims on "
        "them are judged as on any other cell, by the verdict check.\n",
        under));
  }
  if (!collapsed.empty()) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Collapsed runs**: runs of %s collapsed or never started (a non-finite loss, or "
        "clean accuracy at chance after an epoch; \"k of m collapsed\"): they are left out of "
        "every mean and every claim, and each was replaced by the next seed, at most two per "
        "cell. A claim over a cell left with fewer than %d healthy runs is not judged.\n",
        absl::StrJoin(collapsed, ", "), kMinHealthyRuns));
  }
  if (decays > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Not converged**: %d cell(s) marked *not converged* come from training whose "
        "learning rate decays within the run, which flattens its last epochs whether or not "
        "training has plateaued: their last epoch cannot show convergence, and the claims on "
        "them are not judged. The long preset (results/long/) judges each claim at the full "
        "and at half the budget instead.\n",
        decays));
  }
  if (moved > 0) {
    absl::StrAppend(&md, absl::StrFormat(
        "\n**Not converged**: %d cell(s) marked *not converged* come from training whose last "
        "epoch still moved the mean clean or PGD-20 accuracy by more than %.0f point (or that "
        "ran one epoch); they describe the optimizer's progress, not the method, and the "
        "claims on them are not judged.\n",
        moved, kConvergedWithin));
  }
  return md;
}

// What the eps03 preset's marks mean, where the table has them.
std::string RegimeNotes(const TableResult& t) {
  if (!t.has_regime_clean()) return "";
  std::set<std::string> below_regime, below_floor;
  for (const ResultCell& c : t.cells()) {
    if (c.below_floor()) below_floor.insert(c.row());
    if (!RegimeMark(t, c).empty()) below_regime.insert(c.row());
  }
  std::string md = absl::StrFormat(
      "\n**The paper's regime**: its MNIST models reach %.0f%% clean and %.0f%% PGD-20 or "
      "more at eps 0.3 (80 epochs of PGD-40); cells below are marked *under the paper's "
      "regime*: a less trained model than the paper's, which a claim still compares. A row "
      "under %.0f%% clean or %.0f%% PGD-20 is marked *under the floor* and no claim on it is "
      "judged.",
      t.regime_clean(), t.regime_pgd(), t.floor_clean(), t.floor_pgd());
  absl::StrAppend(&md, " Rows under the regime: ",
                  below_regime.empty() ? "none" : absl::StrJoin(below_regime, ", "),
                  "; under the floor: ",
                  below_floor.empty() ? "none" : absl::StrJoin(below_floor, ", "), ".\n");
  return md;
}

std::string Notes(const TableResult& t) {
  std::string md;
  for (const auto& n : t.notes()) absl::StrAppend(&md, "\n- ", n);
  if (t.notes_size() > 0) absl::StrAppend(&md, "\n");
  return md;
}

// The other reasons a claim of `t` may be not judged, where `t` has them.
std::string NotJudgedToo(const TableResult& t) {
  bool thin = false, floor = false;
  for (const ResultCell& c : t.cells()) {
    thin = thin || (c.collapsed_runs() > 0 && c.runs_size() < kMinHealthyRuns);
    floor = floor || c.below_floor();
  }
  return absl::StrCat(thin ? absl::StrFormat(", or a cell compared has fewer than %d healthy runs",
                                             kMinHealthyRuns)
                           : "",
                      floor ? ", or a row compared is under the floor" : "");
}

// The heading of the claims: how many of each verdict, and what they mean.
std::string ClaimsHeading(const TableResult& t, bool paper_numbers) {
  int counts[4] = {0, 0, 0, 0};  // holds, contradicted, inconclusive, not judged
  for (const ClaimResult& c : t.claims()) {
    ++counts[c.outcome() == "holds"          ? 0
             : c.outcome() == "contradicted" ? 1
             : c.outcome() == "not judged"   ? 3
                                             : 2];
  }
  return absl::StrFormat(
      "\n## %s, tested on our runs\n\n%d hold, %d contradicted, %d "
      "inconclusive, %d not judged (tests at alpha 0.05 over each cell's runs, one-sided unless "
      "a claim says otherwise; "
      "contradicted = significant in the other direction; not judged = %s).\n\n",
      paper_numbers ? "The paper's claims" : "Claims", counts[0], counts[1], counts[2],
      counts[3],
      absl::StrCat(t.half_epochs() > 0
                       ? absl::StrFormat("the verdict at %d epochs differs from the one at %d",
                                         t.half_epochs(), t.epochs())
                       : std::string("a cell compared did not converge"),
                   NotJudgedToo(t)));
}

// " (p = 0.0123)", or nothing where p says nothing (an inconclusive claim
// with p = 1: no test could be run).
std::string PText(const std::string& outcome, double p) {
  if (outcome == "inconclusive" && p >= 1) return "";
  return absl::StrFormat(" (p = %.4f)", p);
}

// One claim: its verdict, p, statement, evidence, the half-budget verdict.
std::string ClaimLine(const TableResult& t, const ClaimResult& c) {
  const bool judged = c.outcome() != "not judged";
  return absl::StrCat(
      "- **", c.outcome(), "**", judged ? PText(c.outcome(), c.p()) : std::string(), ": ",
      c.statement(), ". ", c.evidence(), ".",
      c.has_half_budget_outcome() && judged
          ? absl::StrCat(" Same verdict at ", t.half_epochs(), " epochs",
                         PText(c.half_budget_outcome(), c.half_budget_p()), ".")
          : std::string(),
      " *", c.test(), "; ", c.source(), "*\n");
}

}  // namespace

std::string RenderMarkdown(const TableResult& t) {
  const bool paper_numbers = HasPaperNumbers(t);
  std::string md = absl::StrCat(Heading(t, paper_numbers), Grid(t), HalfBudgetNote(t),
                                Protocols(t, paper_numbers), MarkNotes(t), RegimeNotes(t),
                                Notes(t));
  if (t.claims_size() > 0) {
    absl::StrAppend(&md, ClaimsHeading(t, paper_numbers));
    for (const ClaimResult& c : t.claims()) absl::StrAppend(&md, ClaimLine(t, c));
  }
  return md;
}

std::string RenderJson(const TableResult& t) { return ToJson(t, /*with_defaults=*/false); }

absl::Status WriteTable(const std::string& dir, const TableResult& t, std::ostream* log) {
  SPAT_RETURN_IF_ERROR(MakeDirs(dir));
  const std::string base = absl::StrCat(dir, "/", t.id());
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(base + ".md", RenderMarkdown(t)));
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(base + ".json", RenderJson(t)));
  if (log) *log << "wrote " << base << ".md and .json\n";
  return absl::OkStatus();
}

absl::Status WritePlot(const std::string& dir, const std::string& name,
                       const std::string& script,
                       const std::map<std::string, std::string>& data_files, std::ostream* log) {
  SPAT_RETURN_IF_ERROR(MakeDirs(dir));
  const std::string png = absl::StrCat(dir, "/", name, ".png");
  const std::string gp = absl::StrCat(dir, "/", name, ".gp");
  std::string full = absl::StrCat("png = '", png, "'\n");
  for (const auto& [file, content] : data_files) {
    const std::string path = absl::StrCat(dir, "/", file);
    SPAT_RETURN_IF_ERROR(WriteFileAtomically(path, content));
    absl::StrAppend(&full, file.substr(0, file.find('.')), " = '", path, "'\n");
  }
  absl::StrAppend(&full, script);
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(gp, full));
  if (!PathExists("/usr/bin/gnuplot")) {
    if (log) *log << "warning: gnuplot not installed; skipped " << png << "\n";
    return absl::OkStatus();
  }
  const std::string cmd = absl::StrCat("/usr/bin/gnuplot '", gp, "' 2>&1");
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !PathExists(png)) {
    return absl::InternalError(absl::StrCat("gnuplot failed on ", gp, " (exit ", rc, ")"));
  }
  if (log) *log << "wrote " << png << "\n";
  return absl::OkStatus();
}

}  // namespace spat::benchmarks
