#include "base/device.h"
#include "benchmarks/hcp.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "attacks/adv_losses.h"
#include "attacks/evaluator.h"
#include "attacks/pgd.h"
#include "base/files.h"
#include "base/proto_json.h"
#include "base/status_macros.h"
#include "benchmarks/claims.h"
#include "benchmarks/presets.h"
#include "benchmarks/table_main.h"
#include "benchmarks/tsne.h"
#include "data/dataset.h"
#include "models/load_model.h"


namespace spat::benchmarks {
namespace {

struct Trained {
  std::string label;
  std::shared_ptr<models::Classifier> model;
  double clean = 0;
};

struct Setup {
  TrainConfig spat;
  TrainConfig natural;
  double epsilon = 0.1;
  int64_t n = 1000;
  std::string protocol;
};

// Fashion-MNIST at cpu scale: its T-shirt/shirt/pullover/coat classes are
// natural hard-class pairs.
absl::StatusOr<Setup> MakeSetup(Preset p) {
  SPAT_ASSIGN_OR_RETURN(TrainConfig base, AblationBase(p));
  Setup s;
  s.spat = base;
  if (p == Preset::kCpu) {
    s.spat.mutable_dataset()->set_name("fashion_mnist");
    s.spat.mutable_train_attack()->set_epsilon(0.1);
    s.spat.mutable_train_attack()->set_step_size(0.025);
  }
  s.epsilon = s.spat.train_attack().epsilon();
  s.n = p == Preset::kSmoke ? 128 : (p == Preset::kCpu ? 1000 : 10000);
  s.natural = s.spat;
  s.natural.mutable_method()->set_name("natural");
  s.natural.mutable_method()->clear_lambda();
  s.protocol = absl::StrCat(DescribeProtocol(s.spat), "; the natural model: same data and "
                            "schedule without attacks; untargeted PGD-20 (CE, step eps/10, random "
                            "start) at eps ", absl::StrFormat("%.4g", s.epsilon), " on the first ",
                            s.n, " test images");
  return s;
}

// runs[k] = {natural, SPAT} trained with seed base + k (--seeds).
absl::StatusOr<std::vector<std::vector<Trained>>> TrainBoth(const Harness& h, const Setup& s,
                                                            const data::Dataset& test) {
  std::vector<std::vector<Trained>> runs;
  for (const auto& [label, config] :
       {std::make_pair(std::string("natural"), s.natural), std::make_pair(std::string("SPAT"), s.spat)}) {
    SPAT_ASSIGN_OR_RETURN(std::vector<CellResult> all,
                          h.TrainCells(absl::StrCat("hcp_", config.method().name(), "_",
                                                    config.dataset().name()),
                                       config));
    if (h.TrainingOnly()) continue;  // --shard: the figures come from --merge
    const std::vector<CellResult> cells = Healthy(all);  // collapsed runs are left out
    models::ModelSpec spec;
    spec.name = config.model().name();
    spec.num_classes = test.num_classes;
    spec.in_channels = test.images.size(1);
    spec.image_size = test.images.size(2);
    // Pairs (natural, SPAT) by healthy run: as many as the fewer of the two.
    runs.resize(runs.empty() ? cells.size() : std::min(runs.size(), cells.size()));
    for (size_t k = 0; k < runs.size(); ++k) {
      SPAT_ASSIGN_OR_RETURN(auto model, models::LoadModel(cells[k].checkpoint, spec));
      runs[k].push_back({label, model, cells[k].clean});
    }
  }
  return runs;
}

// Untargeted PGD-20 predictions on `x` (all points, on the host), attacked on
// `device` (the model visits it and comes back to the host).
at::Tensor AdversarialPredictions(models::Classifier& m, const at::Tensor& x, const at::Tensor& y,
                                  double eps, uint64_t seed, c10::Device device) {
  m.to(device);
  attacks::PgdOptions o;
  o.epsilon = eps;
  o.step_size = eps / 10;
  o.num_steps = 20;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  std::vector<at::Tensor> preds;
  for (int64_t s = 0; s < x.size(0); s += 500) {
    const int64_t len = std::min<int64_t>(500, x.size(0) - s);
    at::Tensor xb = ToDevice(x.narrow(0, s, len), device);
    at::Tensor yb = ToDevice(y.narrow(0, s, len), device);
    at::Tensor adv = attacks::Pgd([&m](const at::Tensor& t) { return m.forward(t); }, xb,
                                  [&yb](const at::Tensor& z) {
                                    return attacks::CrossEntropyPerExample(z, yb);
                                  },
                                  o, gen);
    at::NoGradGuard no_grad;
    preds.push_back(m.forward(adv).argmax(1).cpu());
  }
  m.to(c10::Device(c10::kCPU));
  return at::cat(preds);
}

void AppendClaims(const std::vector<Claim>& claims, std::string* md) {
  if (claims.empty()) return;
  absl::StrAppend(md, "\n");
  for (const Claim& c : claims) absl::StrAppend(md, "- ", ClaimNote(c), "\n");
}

// A figure's JSON: preset and protocol, then one entry per model and the
// runs' numbers.
google::protobuf::Struct FigureJson(const Harness& h, const std::string& protocol) {
  google::protobuf::Struct j;
  (*j.mutable_fields())["preset"] = JsonText(PresetName(h.options().preset));
  if (!protocol.empty()) (*j.mutable_fields())["protocol"] = JsonText(protocol);
  return j;
}

// Where an attack sent each class: the confusion matrix of adversarial
// predictions, and per true class the most frequent wrong class and its share
// of the class's errors.
struct Confusion {
  at::Tensor conf;    // [C, C] true -> predicted
  at::Tensor errors;  // conf without its diagonal
  at::Tensor top;     // [C] most frequent wrong class
  at::Tensor share;   // [C] double: its share of the row's errors
  double accuracy = 0;
};

Confusion Confusions(const at::Tensor& pred, const at::Tensor& labels, int64_t c) {
  Confusion r;
  r.conf = at::zeros({c * c}, at::kLong)
               .index_add_(0, labels * c + pred, at::ones_like(pred))
               .view({c, c});
  r.errors = r.conf.clone();
  r.errors.fill_diagonal_(0);
  auto [top_count, top] = r.errors.max(1);
  r.top = top;
  r.share = top_count.to(at::kDouble) / r.errors.sum(1).clamp_min(1).to(at::kDouble);
  r.accuracy = 100.0 * r.conf.diagonal().sum().item<int64_t>() / std::max<int64_t>(pred.size(0), 1);
  return r;
}

// Heatmap data (gnuplot "i j value" rows): the row-normalized error
// distribution, diagonal excluded.
std::string HeatmapRows(const Confusion& r, int64_t c) {
  std::string rows;
  at::Tensor norm =
      r.errors.to(at::kDouble) / r.errors.sum(1).clamp_min(1).to(at::kDouble).unsqueeze(1);
  for (int64_t i = 0; i < c; ++i) {
    for (int64_t j = 0; j < c; ++j) absl::StrAppend(&rows, i, " ", j, " ", norm[i][j].item<double>(), "\n");
    absl::StrAppend(&rows, "\n");
  }
  return rows;
}


absl::StatusOr<data::Dataset> TestSet(const Setup& s) {
  return data::LoadDataset({s.spat.dataset().name(), s.spat.dataset().data_dir()},
                           data::Split::kTest, s.n);
}

std::string Figure1Script(const data::Dataset& test) {
  const int64_t c = test.num_classes;
  std::vector<std::string> labels;
  for (int64_t i = 0; i < c; ++i) labels.push_back(absl::StrCat("'", test.class_names[i], "' ", i));
  const std::string tics = absl::StrCat("(", absl::StrJoin(labels, ", "), ")");
  return absl::StrCat(
      "set terminal pngcairo size 1400,600 font ',10' noenhanced\nset output png\n"
      "set multiplot layout 1,2 title 'Figure 1: untargeted PGD-20 predictions (share of each "
      "class errors; rows = true class)'\n"
      "set xtics ", tics, " rotate by 45 right\nset ytics ", tics,
      "\nset yrange [", c - 0.5, ":-0.5]\nset xrange [-0.5:", c - 0.5,
      "]\nset cbrange [0:1]\nset palette defined (0 'white', 1 'dark-red')\n"
      "set xlabel 'adversarial prediction'\nset ylabel 'true class'\n"
      "set title 'natural'\nplot natural using 2:1:3 with image notitle\n"
      "set title 'SPAT'\nplot spat using 2:1:3 with image notitle\nunset multiplot\n");
}

std::string Figure2Script(const data::Dataset& test) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < test.num_classes; ++i) {
    names.push_back(absl::StrCat("'", test.class_names[i], "'"));
  }
  return absl::StrCat(
      "set terminal pngcairo size 1400,650 font ',10' noenhanced\nset output png\n"
      "set multiplot layout 1,2 title 'Figure 2: t-SNE of penultimate embeddings (color = class)'\n"
      "unset xtics\nunset ytics\nset palette maxcolors 10\n"
      "set palette defined (0 '#1f77b4', 1 '#ff7f0e', 2 '#2ca02c', 3 '#d62728', 4 '#9467bd', "
      "5 '#8c564b', 6 '#e377c2', 7 '#7f7f7f', 8 '#bcbd22', 9 '#17becf')\nset cbrange [-0.5:9.5]\n"
      "names = \"", absl::StrJoin(names, " "), "\"\n"
      "set cbtics ('0' 0, '1' 1, '2' 2, '3' 3, '4' 4, '5' 5, '6' 6, '7' 7, '8' 8, '9' 9)\n"
      "set title 'natural'\nplot natural using 1:2:3 with points pt 7 ps 0.5 palette notitle\n"
      "set title 'SPAT'\nplot spat using 1:2:3 with points pt 7 ps 0.5 palette notitle\n"
      "unset multiplot\n");
}

}  // namespace

absl::Status RunFigure1(const Harness& h) {
  SPAT_ASSIGN_OR_RETURN(Setup s, MakeSetup(h.options().preset));
  SPAT_ASSIGN_OR_RETURN(data::Dataset test, TestSet(s));
  SPAT_ASSIGN_OR_RETURN(auto runs, TrainBoth(h, s, test));
  if (h.TrainingOnly()) return absl::OkStatus();
  const int64_t c = test.num_classes;
  std::string md = absl::StrCat(
      "# Figure 1: where untargeted PGD-20 sends each class\n\nPreset `",
      PresetName(h.options().preset), "`, ", runs.size(), " run(s) per model (seeds base, base + "
      "1, ...); the per-class table and the heatmaps show the first run. Paper (CIFAR-10, "
      "ResNet-18): over 40% of the dog images attacked on a naturally trained model become "
      "cats; 30.6% with SPAT.\n\n"
      "| class | top wrong class (natural / SPAT) |");
  google::protobuf::Struct json = FigureJson(h, s.protocol);
  std::map<std::string, std::string> data;
  std::vector<at::Tensor> shares;
  std::vector<at::Tensor> tops;
  // Per model (0 natural, 1 SPAT), one value per run.
  std::vector<double> pgd_acc[2], mean_share[2];
  for (size_t k = 0; k < runs.size(); ++k) {
  for (size_t m = 0; m < runs[k].size(); ++m) {
    const Trained& t = runs[k][m];
    at::Tensor pred = AdversarialPredictions(*t.model, test.images, test.labels, s.epsilon, 7,
                                            h.options().device);
    const Confusion cf = Confusions(pred, test.labels, c);
    const double acc = cf.accuracy;
    pgd_acc[m].push_back(acc);
    mean_share[m].push_back(100 * cf.share.mean().item<double>());
    if (k > 0) continue;
    shares.push_back(cf.share);
    tops.push_back(cf.top);
    data[absl::StrCat(t.label == "SPAT" ? "spat" : "natural", ".dat")] = HeatmapRows(cf, c);
    auto& entry = JsonObject(&json, t.label);
    entry["clean_accuracy"] = JsonNumber(t.clean);
    entry["pgd20_accuracy"] = JsonNumber(acc);
    entry["confusion"] = JsonMatrix(cf.conf.contiguous().data_ptr<int64_t>(), c, c);
    const at::Tensor top_d = cf.top.to(at::kDouble).contiguous();
    entry["top_wrong_class"] =
        JsonList(std::vector<double>(top_d.data_ptr<double>(), top_d.data_ptr<double>() + c));
    entry["top_wrong_share"] = JsonList(
        std::vector<double>(cf.share.data_ptr<double>(), cf.share.data_ptr<double>() + c));
    absl::StrAppend(&md, absl::StrFormat(" %s (PGD-20 acc %.1f%%) |", t.label, acc));
  }
  }
  {
    auto& r = JsonObject(&json, "runs");
    r["natural_pgd20_accuracy"] = JsonList(pgd_acc[0]);
    r["spat_pgd20_accuracy"] = JsonList(pgd_acc[1]);
    r["natural_mean_top_wrong_share"] = JsonList(mean_share[0]);
    r["spat_mean_top_wrong_share"] = JsonList(mean_share[1]);
  }
  absl::StrAppend(&md, "\n| --- | --- | --- | --- |\n");
  for (int64_t i = 0; i < c; ++i) {
    const std::string& name = test.class_names[i];
    absl::StrAppend(&md, absl::StrFormat("| %s | %s / %s | %.1f%% | %.1f%% |\n", name,
                                         test.class_names[tops[0][i].item<int64_t>()],
                                         test.class_names[tops[1][i].item<int64_t>()],
                                         100 * shares[0][i].item<double>(),
                                         100 * shares[1][i].item<double>()));
  }
  const std::vector<Claim> claims =
      Figure1Claims(pgd_acc[0], pgd_acc[1], mean_share[0], static_cast<int>(c));
  absl::StrAppend(&md, absl::StrFormat(
      "\nOver the runs: PGD-20 accuracy natural %s, SPAT %s; mean top-wrong-class share over "
      "classes natural %s, SPAT %s (a uniform spread over the %d wrong classes would give "
      "%.1f%%).\n\n**Protocol**: %s\n",
      MeanSd(pgd_acc[0]), MeanSd(pgd_acc[1]), MeanSd(mean_share[0]), MeanSd(mean_share[1]),
      c - 1, 100.0 / (c - 1), s.protocol));
  AppendClaims(claims, &md);
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(h.options().out_dir + "/figure1.md", md));
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(
      h.options().out_dir + "/figure1.json", ToJson(json)));
  const std::string script = Figure1Script(test);
  SPAT_RETURN_IF_ERROR(h.Plot("figure1", script, data));
  if (h.options().log) *h.options().log << md;
  std::cout << md;
  return absl::OkStatus();
}

absl::Status RunHcpAnalysis(const Harness& h) {
  SPAT_ASSIGN_OR_RETURN(Setup s, MakeSetup(h.options().preset));
  SPAT_ASSIGN_OR_RETURN(data::Dataset test, TestSet(s));
  SPAT_ASSIGN_OR_RETURN(auto runs, TrainBoth(h, s, test));
  if (h.TrainingOnly()) return absl::OkStatus();
  const int64_t c = test.num_classes;
  std::string md = absl::StrCat(
      "# Hard-class pairs: do untargeted attacks land on the hardest class?\n\n"
      "For each test point the model classifies correctly, j* = argmax_{j != y} cos(theta_j) on "
      "the clean input (the hard-class pair of Lemma 1). Among points whose untargeted PGD-20 "
      "attack succeeds, we count how often the adversarial prediction is exactly j*.\n\n"
      "| model | attacked points | attacks that succeed | land on j* | chance (1/(C-1)) | "
      "prototype norms v_j: min / max / std |\n| --- | --- | --- | --- | --- | --- |\n");
  google::protobuf::Struct json = FigureJson(h, s.protocol);
  std::vector<double> hard_share[2];  // natural, SPAT: one value per run
  for (size_t k = 0; k < runs.size(); ++k) {
  for (size_t model = 0; model < runs[k].size(); ++model) {
    const Trained& t = runs[k][model];
    models::Classifier& m = *t.model;
    at::Tensor cos, clean_pred;
    {
      at::NoGradGuard no_grad;
      at::Tensor z = m.Features(test.images);
      cos = m.head().Cosines(z);
      clean_pred = m.head().forward(z).argmax(1);
    }
    at::Tensor masked = cos.scatter(1, test.labels.unsqueeze(1), -2.0);
    at::Tensor hard = masked.argmax(1);
    at::Tensor pred = AdversarialPredictions(m, test.images, test.labels, s.epsilon, 11,
                                            h.options().device);
    at::Tensor correct = clean_pred.eq(test.labels);
    at::Tensor fooled = correct.logical_and(pred.ne(test.labels));
    const int64_t n_correct = correct.sum().item<int64_t>();
    const int64_t n_fooled = fooled.sum().item<int64_t>();
    const int64_t n_hard = fooled.logical_and(pred.eq(hard)).sum().item<int64_t>();
    at::Tensor norms = m.Prototypes().detach().norm(2, 1);
    const double share = n_fooled > 0 ? 100.0 * n_hard / n_fooled : 0.0;
    hard_share[model].push_back(share);
    const std::string name = absl::StrCat(t.label, " run ", k + 1);
    absl::StrAppend(&md, absl::StrFormat(
        "| %s (%s head) | %d | %d | **%.1f%%** | %.1f%% | %.3f / %.3f / %.3f |\n", name,
        m.head().type() == models::HeadType::kNce ? "NCE" : "linear", n_correct, n_fooled, share,
        100.0 / (c - 1), norms.min().item<double>(), norms.max().item<double>(),
        norms.std().item<double>()));
    std::vector<double> v(norms.data_ptr<float>(), norms.data_ptr<float>() + c);
    auto& entry = JsonObject(&json, name);
    entry["attacked"] = JsonNumber(static_cast<double>(n_correct));
    entry["fooled"] = JsonNumber(static_cast<double>(n_fooled));
    entry["landed_on_hard_class"] = JsonNumber(static_cast<double>(n_hard));
    entry["share_percent"] = JsonNumber(share);
    entry["chance_percent"] = JsonNumber(100.0 / (c - 1));
    entry["prototype_norms"] = JsonList(v);
  }
  }
  absl::StrAppend(&md, absl::StrFormat("\nShare landing on j* over the runs: natural %s, SPAT "
                                       "%s.\n",
                                       MeanSd(hard_share[0]), MeanSd(hard_share[1])));
  absl::StrAppend(&md, "\nThe NCE head's logits use w_j / ||w_j|| (effective v_j = 1); its "
                       "raw weight norms are shown. The linear head's norms show how equal the "
                       "v_j are in practice (the appendix's claim).\n\n"
                       "**Protocol**: ", s.protocol, "\n");
  const std::vector<Claim> claims = HcpClaims(hard_share[0], hard_share[1], static_cast<int>(c));
  AppendClaims(claims, &md);
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(h.options().out_dir + "/hcp.md", md));
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(
      h.options().out_dir + "/hcp.json", ToJson(json)));
  std::cout << md;
  return absl::OkStatus();
}

absl::Status RunFigure2(const Harness& h) {
  SPAT_ASSIGN_OR_RETURN(Setup s, MakeSetup(h.options().preset));
  SPAT_ASSIGN_OR_RETURN(data::Dataset test, TestSet(s));
  SPAT_ASSIGN_OR_RETURN(auto runs, TrainBoth(h, s, test));
  if (h.TrainingOnly()) return absl::OkStatus();
  const int64_t n = std::min<int64_t>(1000, test.size());
  const at::Tensor labels = test.labels.narrow(0, 0, n);
  TsneOptions o;
  o.perplexity = std::min(30.0, (n - 1) / 3.0);
  o.seed = 5;
  std::string md = absl::StrCat(
      "# Figure 2: t-SNE of penultimate embeddings\n\nPreset `", PresetName(h.options().preset),
      "`; ", n, " test images; exact t-SNE (perplexity ", o.perplexity, ", ", o.iterations,
      " iterations), one t-SNE per trained model (", runs.size(), " run(s) per model); the plot "
      "shows the first run. Paper (CIFAR-10): hard-class pairs such as cat/dog sit close "
      "together.\n\n"
      "| model | 10-NN label agreement in the embedding | final KL(P||Q) |\n| --- | --- | --- |\n");
  std::map<std::string, std::string> data;
  google::protobuf::Struct json = FigureJson(h, "");
  std::vector<double> agreement[2];  // natural, SPAT: one value per run
  for (size_t k = 0; k < runs.size(); ++k) {
  for (size_t model = 0; model < runs[k].size(); ++model) {
    const Trained& t = runs[k][model];
    at::Tensor z;
    {
      at::NoGradGuard no_grad;
      z = t.model->Features(test.images.narrow(0, 0, n));
    }
    if (t.model->head().type() == models::HeadType::kNce) {
      z = z / z.norm(2, 1, true).clamp_min(1e-12);  // the NCE head sees directions only
    }
    TsneResult r = Tsne(z, o);
    const double agree = NeighbourAgreement(r.embedding, labels, 10);
    agreement[model].push_back(100 * agree);
    absl::StrAppend(&md, absl::StrFormat("| %s run %d | %.1f%% | %.3f |\n", t.label, k + 1,
                                         100 * agree, r.kl));
    if (k > 0) continue;
    std::string rows;
    google::protobuf::Value pts;
    for (int64_t i = 0; i < n; ++i) {
      const double a = r.embedding[i][0].item<double>(), b = r.embedding[i][1].item<double>();
      const int64_t y = labels[i].item<int64_t>();
      absl::StrAppend(&rows, a, " ", b, " ", y, "\n");
      *pts.mutable_list_value()->add_values() = JsonList({a, b, static_cast<double>(y)});
    }
    data[absl::StrCat(t.label == "SPAT" ? "spat" : "natural", ".dat")] = rows;
    auto& entry = JsonObject(&json, t.label);
    entry["knn10_agreement"] = JsonNumber(agree);
    entry["kl"] = JsonNumber(r.kl);
    entry["points"] = pts;
  }
  }
  {
    auto& r = JsonObject(&json, "runs");
    r["natural_knn10_agreement"] = JsonList(agreement[0]);
    r["spat_knn10_agreement"] = JsonList(agreement[1]);
  }
  absl::StrAppend(&md, absl::StrFormat("\n10-NN agreement over the runs: natural %s, SPAT %s.\n",
                                       MeanSd(agreement[0]), MeanSd(agreement[1])));
  absl::StrAppend(&md, "\n**Protocol**: ", s.protocol, "\n");
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(h.options().out_dir + "/figure2.md", md));
  SPAT_RETURN_IF_ERROR(WriteFileAtomically(
      h.options().out_dir + "/figure2.json", ToJson(json)));
  const std::string script = Figure2Script(test);
  SPAT_RETURN_IF_ERROR(h.Plot("figure2", script, data));
  std::cout << md;
  return absl::OkStatus();
}

int FigureMain(int argc, char** argv, const std::string& id,
               absl::Status (*run)(const Harness&)) {
  return HarnessMain(argc, argv, id, [run](const Harness& h) {
    absl::Status st = run(h);
    if (!st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return st.code() == absl::StatusCode::kNotFound ? 2 : 1;
    }
    return 0;
  });
}

}  // namespace spat::benchmarks
