// network_structure: what FORCE training changed in the network. Weight distributions and
// matrices before and after training, eigenvalue spectra (circular law of radius g before;
// outliers after), PCA dimension of the activity of the random and the trained network and
// of the targets, and the singular values and rank of ΔJ = J_trained − J_initial.
//
//   network_structure [--training DIR [--realization K]] [--compare DIR2 [--compare-realization K]]
//                     --out DIR [--no-figures] [--pca-threshold 0.95]
//
// --training DIR: a folder written by rajan_force_training (default: its best realisation);
// without it one network is trained here on a synthetic ALM session. --compare DIR2: a second
// training folder (e.g. the suppressed variant) whose ΔJ rank and spectrum are reported beside.
// Writes DIR/structure.csv (quantity,value), DIR/eigenvalues.csv, DIR/weights_histogram.csv,
// DIR/pca.csv, DIR/dJ_singular_values.csv, PNG figures and DIR/manifest.json.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "neurodyn/analysis/coding_direction.hpp"
#include "neurodyn/experiments/network_structure.hpp"
#include "neurodyn/experiments/rajan_training.hpp"
#include "neurodyn/experiments/synthetic_session.hpp"
#include "neurodyn/io/csv.hpp"
#include "neurodyn/io/gnuplot.hpp"
#include "neurodyn/io/manifest.hpp"
#include "neurodyn/io/output_folder.hpp"
#include "support/program.hpp"
#include "support/trained_network.hpp"

namespace fs = std::filesystem;
using namespace neurodyn;
using examples::q;

namespace {
std::string num(double v, int precision = 4) {
    std::ostringstream os;
    os.precision(precision);
    os << v;
    return os.str();
}

/// What the data, manifest and figure writers share.
struct Structure {
    index_t N = 0;
    double g = 0;
    std::string variant, cmp_variant;
    NetworkStructure<double> s;
    std::optional<NetworkStructure<double>> cmp;
    Matrix<double> J_initial, J;
    index_t outside = 0;
    double pca_threshold = 0;
};

/// Scales of the weight histograms, which the figures reuse.
struct WeightScales {
    double wlim, width, dmin, dmax, ilim, iwidth, sd0;
};

/// The tables: structure.csv, eigenvalues.csv, weight histograms, pca.csv, dJ_singular_values.csv.
WeightScales write_data(const fs::path& out, const Structure& a) {
    const index_t N = a.N;
    const double g = a.g;
    const auto& s = a.s;
    const auto& cmp = a.cmp;
    const index_t outside = a.outside;
    const double pca_threshold = a.pca_threshold;
    const Matrix<double>& J = a.J;
    // ---- data
    CsvWriter q_csv({"quantity", "value"});
    q_csv.row("N", N)
        .row("g", g)
        .row("spectral_radius_initial", s.radius_initial)
        .row("spectral_radius_trained", s.radius_trained)
        .row("max_real_eig_initial", double(s.eig_initial.real().maxCoeff()))
        .row("max_real_eig_trained", s.max_real_trained)
        .row("min_real_eig_trained", s.min_real_trained)
        .row("eigs_trained_outside_initial_radius", outside)
        .row("weight_sd_initial", s.weight_sd_initial)
        .row("weight_sd_trained", s.weight_sd_trained)
        .row("pca_threshold", pca_threshold)
        .row("pca_dim_random", s.pca_dim_random)
        .row("pca_dim_targets", s.pca_dim_targets)
        .row("pca_dim_trained", s.pca_dim_trained)
        .row("rank_dJ", s.dJ.rank)
        .row("rank_tolerance", s.dJ.tolerance)
        .row("largest_singular_value_dJ", s.dJ.singular_values[0])
        .row("rank_dJ_above_1pct_of_largest", s.dJ_effective_rank);
    if (cmp)
        q_csv.row("rank_dJ_compare", cmp->dJ.rank)
            .row("rank_tolerance_compare", cmp->dJ.tolerance)
            .row("rank_dJ_above_1pct_of_largest_compare", cmp->dJ_effective_rank)
            .row("spectral_radius_trained_compare", cmp->radius_trained)
            .row("max_real_eig_trained_compare", cmp->max_real_trained)
            .row("pca_dim_trained_compare", cmp->pca_dim_trained);
    q_csv.save(out / "structure.csv");
    CsvWriter eig({"matrix", "real", "imag"});
    for (index_t i = 0; i < N; ++i) eig.row("initial", s.eig_initial[i].real(), s.eig_initial[i].imag());
    for (index_t i = 0; i < N; ++i) eig.row("trained", s.eig_trained[i].real(), s.eig_trained[i].imag());
    if (cmp)
        for (index_t i = 0; i < N; ++i) eig.row("trained_compare", cmp->eig_trained[i].real(), cmp->eig_trained[i].imag());
    eig.save(out / "eigenvalues.csv");
    // Weight histograms on a common range (density: counts / (N² · bin width)).
    const double wlim = std::max(J.cwiseAbs().maxCoeff(), a.J_initial.cwiseAbs().maxCoeff());
    const std::size_t bins = 80;
    const auto flat = [](const Matrix<double>& m) { return std::vector<double>(m.data(), m.data() + m.size()); };
    const auto h0 = histogram<double>(flat(a.J_initial), -wlim, wlim, bins);
    const auto h1 = histogram<double>(flat(J), -wlim, wlim, bins);
    const double width = 2 * wlim / double(bins), total = double(N) * double(N);
    CsvWriter wh({"weight", "density_initial", "density_trained"});
    double dmin = 1e300, dmax = 0;
    for (std::size_t b = 0; b < bins; ++b) {
        const double d0 = double(h0.counts[b]) / (total * width), d1 = double(h1.counts[b]) / (total * width);
        wh.row(h0.centre(b), d0, d1);
        for (double d : {d0, d1})
            if (d > 0) dmin = std::min(dmin, d), dmax = std::max(dmax, d);
    }
    wh.save(out / "weights_histogram.csv");
    // The initial weights alone, on their own scale (±5 g/√N), against N(0, g²/N).
    const double sd0 = g / std::sqrt(double(N)), ilim = 5 * sd0;
    const std::size_t ibins = 40;
    const auto hi = histogram<double>(flat(a.J_initial), -ilim, ilim, ibins);
    const double iwidth = 2 * ilim / double(ibins);
    CsvWriter wi({"weight", "density_initial"});
    for (std::size_t b = 0; b < ibins; ++b) wi.row(hi.centre(b), double(hi.counts[b]) / (total * iwidth));
    wi.save(out / "weights_histogram_initial.csv");
    CsvWriter pca({"components", "cumvar_random", "cumvar_targets", "cumvar_trained"});
    double cr = 0, ct = 0, cn = 0;
    for (index_t k = 0; k < s.var_ratio_random.size(); ++k) {
        cr += s.var_ratio_random[k];
        ct += s.var_ratio_targets[k];
        cn += s.var_ratio_trained[k];
        pca.row(k + 1, cr, ct, cn);
    }
    pca.save(out / "pca.csv");
    CsvWriter sv(cmp ? std::vector<std::string>{"index", "singular_value", "singular_value_compare"}
                     : std::vector<std::string>{"index", "singular_value"});
    for (index_t k = 0; k < s.dJ.singular_values.size(); ++k) {
        if (cmp) sv.row(k + 1, s.dJ.singular_values[k], cmp->dJ.singular_values[k]);
        else sv.row(k + 1, s.dJ.singular_values[k]);
    }
    sv.save(out / "dJ_singular_values.csv");
    return {wlim, width, dmin, dmax, ilim, iwidth, sd0};
}

/// The key numbers in manifest.json.
void write_manifest(const fs::path& out, const Structure& a) {
    const double g = a.g;
    const auto& s = a.s;
    const auto& cmp = a.cmp;
    const std::string& variant = a.variant;
    const std::string& cmp_variant = a.cmp_variant;
    const index_t outside = a.outside;
    const double pca_threshold = a.pca_threshold;
    auto m = Manifest::open(out, "Structure of the trained network");
    m.number("g (initial J ~ N(0, g^2/N))", g)
        .number("spectral radius, initial J", s.radius_initial)
        .number("spectral radius, trained J", s.radius_trained)
        .number("largest real part of an eigenvalue, trained J", s.max_real_trained)
        .number("most negative real part, trained J", s.min_real_trained)
        .number("trained eigenvalues outside the initial spectral radius", double(outside))
        .number("weight SD initial", s.weight_sd_initial)
        .number("weight SD trained", s.weight_sd_trained)
        .number("PCA dimension (" + num(100 * pca_threshold) + " % variance), random network", double(s.pca_dim_random))
        .number("PCA dimension, targets", double(s.pca_dim_targets))
        .number("PCA dimension, trained network", double(s.pca_dim_trained))
        .number("rank of dJ (" + variant + " targets)", double(s.dJ.rank));
    m.number("singular values of dJ above 1 % of the largest (" + variant + ")", double(s.dJ_effective_rank));
    if (cmp)
        m.number("rank of dJ (" + cmp_variant + " targets, compared folder)", double(cmp->dJ.rank))
            .number("singular values of dJ above 1 % of the largest (" + cmp_variant + ")",
                    double(cmp->dJ_effective_rank));
    m.save();
}

/// The figures: weight distributions, J heatmaps, spectra, PCA and the singular values of dJ.
void draw_figures(const fs::path& out, const Structure& a, const WeightScales& w) {
    const index_t N = a.N;
    const double g = a.g;
    const auto& s = a.s;
    const auto& cmp = a.cmp;
    const std::string& variant = a.variant;
    const std::string& cmp_variant = a.cmp_variant;
    const index_t outside = a.outside;
    const double pca_threshold = a.pca_threshold;
    const Matrix<double>& J = a.J;
    const auto [wlim, width, dmin, dmax, ilim, iwidth, sd0] = w;
    // ---- figure 1: weight distributions
    {
        Gnuplot fig(out / "weights_histogram.png", 1300, 520);
        fig << "set multiplot layout 1,2 title 'Recurrent weights, N = " << N << "'\nset grid\nset key top right\n"
            << "set style fill transparent solid 0.45 noborder\nset xlabel 'weight J_{ij}'\nset ylabel 'density'\n"
            << "set title 'initial J (SD " << num(s.weight_sd_initial) << ") and the N(0, g^2/N) law'\n"
            << "set boxwidth " << iwidth << "\nset xrange [" << -ilim << ":" << ilim << "]\n"
            << "plot " << q(out / "weights_histogram_initial.csv") << " using 1:2 with boxes lc rgb '#636363' title "
            << "'initial', exp(-x*x/(2*" << sd0 * sd0 << "))/(" << sd0 << "*sqrt(2*pi)) "
            << "with lines lw 2 dt 2 lc rgb 'black' title 'N(0, g^2/N)'\n"
            << "set title 'before (SD " << num(s.weight_sd_initial) << ") and after training (SD "
            << num(s.weight_sd_trained) << "), log density'\n"
            << "set logscale y\nset yrange [" << dmin / 2 << ":" << dmax * 2 << "]\nset boxwidth " << width
            << "\nset xrange [" << -wlim * 1.02 << ":" << wlim * 1.02 << "]\n"
            << "plot " << q(out / "weights_histogram.csv") << " using 1:($2>0?$2:1/0) with boxes lc rgb '#636363' title "
            << "'initial', '' using 1:($3>0?$3:1/0) with boxes lc rgb '#d95f02' title 'trained'\n"
            << "unset multiplot\n";
        fig.caption("Recurrent weights: the initial weights against the N(0, g^2/N) law they are drawn from "
                    "(left), and the weights before (grey) and after (orange) FORCE training on a common scale, "
                    "log density (right)");
        fig.render();
    }
    // ---- figure 2: J heatmaps and ΔJ
    {
        examples::write_matrix(out / "J_initial.txt", a.J_initial);
        examples::write_matrix(out / "J_trained.txt", J);
        examples::write_matrix(out / "dJ.txt", J - a.J_initial);
        const double lim = 3.0 * g / std::sqrt(double(N));
        const double dlim = 3.0 * std::sqrt(J.array().square().mean());
        const double ddlim = 3.0 * std::sqrt((J - a.J_initial).array().square().mean());
        Gnuplot fig(out / "J_heatmaps.png", 1650, 560);
        fig << "set datafile separator whitespace\nset multiplot layout 1,3 title 'Recurrent weights (row: "
               "postsynaptic i, column: presynaptic j)'\n"
            << "set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\nset size ratio -1\n"
            << "set xrange [-0.5:" << N - 0.5 << "]\nset yrange [" << N - 0.5 << ":-0.5]\n"
            << "set xlabel 'presynaptic j'\nset ylabel 'postsynaptic i'\n"
            << "set cbrange [" << -lim << ":" << lim << "]\nset title 'initial J'\nplot " << q(out / "J_initial.txt")
            << " matrix with image\n"
            << "set cbrange [" << -dlim << ":" << dlim << "]\nset title 'trained J'\nplot " << q(out / "J_trained.txt")
            << " matrix with image\n"
            << "set cbrange [" << -ddlim << ":" << ddlim << "]\nset title 'change {/Symbol D}J (rank " << s.dJ.rank
            << ")'\nplot " << q(out / "dJ.txt") << " matrix with image\nunset multiplot\n";
        fig.caption("Weight matrices: initial J, trained J and the change dJ = J_trained - J_initial (colour "
                    "scale of each panel: ±3 RMS of its entries)");
        fig.render();
    }
    // ---- figure 3: spectra
    {
        const fs::path e = out / "eigenvalues.csv";
        double lim = std::max({1.1 * g, 1.1 * s.radius_trained, 1.1 * s.radius_initial});
        if (cmp) lim = std::max(lim, 1.1 * cmp->radius_trained);
        const double lim0 = 1.5 * std::max(g, s.radius_initial);
        const int panels = cmp ? 3 : 2;
        Gnuplot fig(out / "eigenvalues.png", 560 * panels, 600);
        fig << "set multiplot layout 1," << panels << " title 'Eigenvalues of J; circle: radius g = " << g
            << " (circular law)'\n"
            << "set size ratio -1\nset grid\nset xlabel 'Re {/Symbol l}'\nset ylabel 'Im {/Symbol l}'\n"
            // The random network gets its own scale, so the bulk filling the circle is visible.
            << "set xrange [" << -lim0 << ":" << lim0 << "]\nset yrange [" << -lim0 << ":" << lim0 << "]\n"
            << "set object 1 circle at first 0,0 size first " << g
            << " fs empty border lc rgb 'gray40' dt 2 front\n"
            << "set title 'before training (spectral radius " << num(s.radius_initial, 3) << ")'\n"
            << "plot " << q(e) << " using (strcol(1) eq 'initial' ? $2 : 1/0):3 with points pt 7 ps 0.6 lc rgb '#636363'\n"
            << "set xrange [" << -lim << ":" << lim << "]\nset yrange [" << -lim << ":" << lim << "]\n"
            << "set title 'after training, " << variant << " targets (max Re " << num(s.max_real_trained, 3)
            << ", min Re " << num(s.min_real_trained, 3) << ")'\n"
            << "plot " << q(e) << " using (strcol(1) eq 'trained' && abs($2+{0,1}*$3) <= " << s.radius_initial
            << " ? $2 : 1/0):3 with points pt 7 ps 0.6 lc rgb '#d95f02', '' using (strcol(1) eq 'trained' && "
               "abs($2+{0,1}*$3) > "
            << s.radius_initial << " ? $2 : 1/0):3 with points pt 7 ps 1.1 lc rgb '#7a0177'\n";
        if (cmp)
            fig << "set title 'after training, " << cmp_variant << " targets (max Re " << num(cmp->max_real_trained, 3)
                << ")'\nplot " << q(e) << " using (strcol(1) eq 'trained_compare' ? $2 : 1/0):3 with points pt 7 ps 0.6 "
                << "lc rgb '#1b9e77'\n";
        fig << "unset multiplot\n";
        fig.caption("Eigenvalues of J before and after training; dashed circle: radius g (circular law). After "
                    "training, eigenvalues outside the initial spectral radius (" + std::to_string(outside) +
                    ") are drawn larger in purple");
        fig.render();
    }
    // ---- figure 4: PCA
    {
        const fs::path p = out / "pca.csv";
        const index_t kmax = std::min<index_t>(N, std::max({s.pca_dim_random, s.pca_dim_targets, s.pca_dim_trained}) * 2 + 5);
        Gnuplot fig(out / "pca.png", 900, 560);
        fig << "set xlabel 'principal components'\nset ylabel 'cumulative explained variance'\nset grid\n"
            << "set key bottom right\nset xrange [0.5:" << kmax + 0.5 << "]\nset yrange [0:1.02]\n"
            << "set arrow from graph 0, first " << pca_threshold << " to graph 1, first " << pca_threshold
            << " nohead dt 2 lc rgb 'gray30'\n";
        const char* colours[3] = {"#636363", "#1b9e77", "#d95f02"};
        const index_t dims[3] = {s.pca_dim_random, s.pca_dim_targets, s.pca_dim_trained};
        for (int i = 0; i < 3; ++i)
            fig << "set arrow from " << dims[i] << ", graph 0 to " << dims[i] << ", first " << pca_threshold
                << " nohead lw 1.5 lc rgb '" << colours[i] << "'\n";
        fig << "set title 'PCA of activity (both conditions, concatenated in time): dimension at "
            << num(100 * pca_threshold) << " %'\n"
            << "plot " << q(p) << " using 1:2 with linespoints pt 7 ps 0.6 lw 2 lc rgb '" << colours[0]
            << "' title 'random network (" << s.pca_dim_random << ")', '' using 1:3 with linespoints pt 7 ps 0.6 lw 2 lc rgb '"
            << colours[1] << "' title 'targets (" << s.pca_dim_targets << ")', '' using 1:4 with linespoints pt 7 "
            << "ps 0.6 lw 2 lc rgb '" << colours[2] << "' title 'trained network (" << s.pca_dim_trained << ")'\n";
        fig.caption("Cumulative explained variance of the activity of the random (initial) network, the targets "
                    "and the trained network; the dashed line marks " + num(100 * pca_threshold) +
                    " % and the vertical lines the dimension of each");
        fig.render();
    }
    // ---- figure 5: singular values of ΔJ, each variant normalised by its largest, so the 1 %
    // line (the effective rank) and the numerical rank tolerance read the same for both.
    {
        const fs::path p = out / "dJ_singular_values.csv";
        Gnuplot fig(out / "dJ_singular_values.png", 900, 560);
        const double top = double(s.dJ.singular_values.maxCoeff());
        const double top_c = cmp ? double(cmp->dJ.singular_values.maxCoeff()) : 1.0;
        double lo = std::min(double(s.dJ.tolerance), double(s.dJ.singular_values.minCoeff())) / top;
        if (cmp) lo = std::min({lo, double(cmp->dJ.tolerance) / top_c, double(cmp->dJ.singular_values.minCoeff()) / top_c});
        lo = std::max(lo, 1e-300);
        fig << "set yrange [" << std::min(lo / 10, 1e-3) << ":3]\n";
        fig << "set logscale y\nset format y '10^{%L}'\nset grid\nset xlabel 'index (largest first)'\n"
               "set ylabel 'singular value of {/Symbol D}J / largest'\nset key center right\n"
            << "set title 'Weight change {/Symbol D}J = J_{trained} - J_{initial}: " << s.dJ_effective_rank
            << " singular values above 1 % (" << variant << ")"
            << (cmp ? ", " + std::to_string(cmp->dJ_effective_rank) + " (" + cmp_variant + ")" : std::string())
            << "; rank " << s.dJ.rank << (cmp ? "/" + std::to_string(cmp->dJ.rank) : std::string()) << "'\n"
            << "set arrow from graph 0, first 0.01 to graph 1, first 0.01 nohead lw 2 lc rgb 'black'\n"
            << "set label '1 % of the largest' at graph 0.02, first 0.01 offset 0,-0.8\n"
            << "set arrow from graph 0, first " << s.dJ.tolerance / top << " to graph 1, first "
            << s.dJ.tolerance / top << " nohead dt 2 lc rgb '#d95f02'\n";
        if (cmp)
            fig << "set arrow from graph 0, first " << cmp->dJ.tolerance / top_c << " to graph 1, first "
                << cmp->dJ.tolerance / top_c << " nohead dt 3 lc rgb '#1b9e77'\n";
        fig << "plot " << q(p) << " using 1:($2/" << top << ") with linespoints pt 7 ps 0.5 lc rgb '#d95f02' title '"
            << variant << " (rank tolerance dashed)'";
        if (cmp)
            fig << ", '' using 1:($3/" << top_c << ") with linespoints pt 6 ps 0.5 lc rgb '#1b9e77' title '"
                << cmp_variant << " (rank tolerance dotted)'";
        fig << "\n";
        fig.caption("Singular values of dJ = J_trained - J_initial divided by the largest, log scale. Solid line: "
                    "1 % of the largest; the values above it are the effective rank (the few directions FORCE "
                    "changed). Dashed/dotted: the numerical rank tolerance (NumPy's), the rank counts the values "
                    "above it. A low-rank change drops steeply to the 1 % line; a full-rank one stays flat");
        fig.render();
    }
}
}  // namespace

int main(int argc, char** argv) {
    std::string compare_dir;
    index_t compare_realization = -1;
    double pca_threshold = 0.95;
    examples::OutputOptions options;
    examples::TrainedNetworkOptions net;
    const auto setup = [&](CLI::App& app) {
        examples::add_trained_network_options(app, net);
        app.add_option("--compare", compare_dir, "second training folder (e.g. the suppressed variant)");
        app.add_option("--compare-realization", compare_realization, "its realisation (default: its best)")
            ->check(examples::index());
        app.add_option("--pca-threshold", pca_threshold, "cumulative explained variance defining the PCA dimension")
            ->check(examples::finite_in(0, 1));
        examples::add_output_options(app, options);
    };
    const std::string about = "Structure of a FORCE-trained rate network: spectra, PCA dimension, rank of the weight change";
    return examples::run_program(argc, argv, about, setup, [&] {
        const examples::Stopwatch elapsed;
        examples::check_trained_network_options(net);
        if (compare_dir.empty())
            require(compare_realization < 0, "--compare-realization", compare_realization, "needs --compare");
        else if (!fs::is_directory(compare_dir))
            throw file_error(compare_dir, "", "is not a folder (--compare takes a folder written by rajan_force_training)");
        OutputFolder folder(options.dir, {net.training_dir, compare_dir});
        const fs::path& out = folder.path();

        // ---- the trained network (and the comparison)
        double g = RajanOptions{}.g;
        std::string variant = "raw", source;
        std::optional<NetworkStructure<double>> structure;
        Matrix<double> J_initial, J_trained;
        examples::with_trained_network(net, source, [&](const auto& t) {  // logistic or tanh
            if (!net.training_dir.empty()) {
                const auto setup = load_training_setup(net.training_dir);
                g = setup.options.g;
                variant = setup.options.variant == TargetVariant::raw ? "raw" : "suppressed";
            }
            std::cerr << "network: " << source << ", N = " << t.task.units() << ", g = " << g << ", " << variant
                      << " targets\n";
            structure = analyse_structure(t.task, t.J_initial, pca_threshold);
            J_initial = t.J_initial;
            J_trained = t.task.network.weights();
        });
        const auto& s = *structure;
        const index_t N = J_trained.rows();
        std::optional<NetworkStructure<double>> cmp;
        std::string cmp_variant;
        if (!compare_dir.empty()) {
            const auto setup = load_training_setup(compare_dir);
            cmp_variant = setup.options.variant == TargetVariant::raw ? "raw" : "suppressed";
            visit_trained_model(compare_dir, compare_realization, [&](const auto& c) {
                cmp = analyse_structure(c.task, c.J_initial, pca_threshold);
                std::cerr << "compare: realisation " << c.realization << " of " << compare_dir << " (" << cmp_variant
                          << " targets)\n";
            });
        }
        Structure a{N, g, variant, cmp_variant, s, cmp, J_initial, J_trained, s.outliers_trained,
                    pca_threshold};
        const WeightScales w = write_data(out, a);
        write_manifest(out, a);
        std::cerr << "spectral radius " << s.radius_initial << " -> " << s.radius_trained << ", max Re " << s.max_real_trained
                  << ", min Re " << s.min_real_trained << "; PCA dims random " << s.pca_dim_random << ", targets "
                  << s.pca_dim_targets << ", trained " << s.pca_dim_trained << "; rank dJ " << s.dJ.rank;
        if (cmp) std::cerr << " (" << variant << "), " << cmp->dJ.rank << " (" << cmp_variant << ")";
        std::cerr << " (" << elapsed() << " s)\n";

        if (examples::figures_wanted(options)) draw_figures(out, a, w);
        folder.commit();
        std::cerr << "output in " << folder.target().string() << " (" << elapsed() << " s)\n";
    });
}
