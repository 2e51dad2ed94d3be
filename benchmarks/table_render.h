// How a table reaches its reader: the Markdown (ours beside the paper's, the
// marks, both protocols, the notes and the claims), the JSON record, and the
// gnuplot figures. Reads a TableResult (benchmarks/table.h builds one); knows
// nothing of training or attacks.
//
//   std::string md = RenderMarkdown(table.result());
//   SPAT_RETURN_IF_ERROR(WriteTable("results/long", table.result(), &std::cerr));
#ifndef SPAT_BENCHMARKS_TABLE_RENDER_H_
#define SPAT_BENCHMARKS_TABLE_RENDER_H_

#include <map>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "benchmarks/results.pb.h"

namespace spat::benchmarks {

// The Markdown of `t`: title, each cell as "**ours ± sd** (paper) · half-budget
// value" with its marks (*not converged*, *under 98% clean*), the protocols,
// what the marks mean, the notes, and each claim with its verdict and p.
std::string RenderMarkdown(const TableResult& t);

// The JSON record of `t` (fields at their defaults left out).
std::string RenderJson(const TableResult& t);

// Writes DIR/<id>.md and DIR/<id>.json (creating DIR), and says so on `log`
// (may be null).
absl::Status WriteTable(const std::string& dir, const TableResult& t, std::ostream* log);

// Renders `gnuplot_script` (which must write to the PNG path it is given as
// $png) into DIR/<name>.png; each data file is written into DIR first and
// named to the script by its base name (file "s.dat" is $s). Missing gnuplot
// is a warning on `log`, not an error.
absl::Status WritePlot(const std::string& dir, const std::string& name,
                       const std::string& gnuplot_script,
                       const std::map<std::string, std::string>& data_files, std::ostream* log);

}  // namespace spat::benchmarks

#endif  // SPAT_BENCHMARKS_TABLE_RENDER_H_
