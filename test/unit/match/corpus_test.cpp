// Real rule sets from ../shared/corpus (next to the repository): ET Open and
// the suricata-verify rules. Skipped, with a warning, when the corpus is not
// there. The figures are printed: docs/rules.md quotes them.

#include "rule_test_util.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "match/rules_check.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

namespace fs = std::filesystem;

namespace {

const fs::path kCorpus = fs::weakly_canonical(fs::path(SG_SOURCE_ROOT) / ".." / "shared" / "corpus");

bool corpus_present(const fs::path& p) {
    if (fs::exists(p)) return true;
    WARN("skipped: " << p.string() << " is not there (the shared test corpus is absent)");
    return false;
}

void print_errors(const RuleSetParse& p) {
    for (size_t i = 0; i < std::min<size_t>(p.errors.size(), 20); ++i) UNSCOPED_INFO(p.errors[i].text());
}

} // namespace

TEST_CASE("corpus: ET Open plain-strict: at least 95% accepted, no errors") {
    const auto path = kCorpus / "rules" / "et-open-plain-strict.rules";
    if (!corpus_present(path)) return;
    const auto p = parse_rules_file(path.string(), Vars{}, Classifications{});
    const size_t total = p.rules.size() + p.skipped.size() + p.errors.size();
    const double accepted_pct = total ? 100.0 * double(p.rules.size()) / double(total) : 0;
    std::printf("ET plain-strict: %zu rules, %zu accepted (%.1f%%), %zu skipped, %zu errors\n", total,
                p.rules.size(), accepted_pct, p.skipped.size(), p.errors.size());
    std::printf("%s", rules_check_text(p, std::nullopt, 15).c_str());
    print_errors(p);
    CHECK(total > 1800);
    CHECK(p.errors.empty());
    CHECK(accepted_pct >= 95.0);
}

TEST_CASE("corpus: the full ET Open folder: every rule accepted or skipped, none an error") {
    const auto dir = kCorpus / "rules" / "et-open-suricata-5.0-enhanced-2024-04-21";
    if (!corpus_present(dir)) return;
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".rules") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    const auto classes = load_classifications((dir / "classification.config").string());
    REQUIRE(classes.ok());
    const auto p = parse_rules_files(files, Vars{}, *classes);
    const size_t total = p.rules.size() + p.skipped.size() + p.errors.size();
    std::printf("ET Open folder: %zu files, %zu enabled rules, %zu accepted, %zu skipped, %zu errors\n",
                files.size(), total, p.rules.size(), p.skipped.size(), p.errors.size());
    std::printf("%s", rules_check_text(p, std::nullopt, 15).c_str());
    print_errors(p);
    CHECK(total > 24000);
    CHECK(p.errors.empty());
    // Every rule that names an app-layer protocol in its header is skipped, never accepted.
    CHECK(std::none_of(p.rules.begin(), p.rules.end(), [](const Rule& r) {
        return r.text.find("alert http ") == 0 || r.text.find("alert dns ") == 0;
    }));
}

TEST_CASE("corpus: every suricata-verify rule file parses without errors") {
    const auto dir = kCorpus / "suricata-verify";
    if (!corpus_present(dir)) return;
    size_t files = 0, rules = 0, skipped = 0;
    for (const auto& test : fs::directory_iterator(dir)) {
        if (!test.is_directory()) continue;
        for (const auto& e : fs::directory_iterator(test.path())) {
            if (e.path().extension() != ".rules") continue;
            const auto p = parse_rules_file(e.path().string(), Vars{}, Classifications{});
            ++files;
            rules += p.rules.size();
            skipped += p.skipped.size();
            INFO(e.path().string());
            print_errors(p);
            CHECK(p.errors.empty());
        }
    }
    std::printf("suricata-verify: %zu rule files, %zu accepted, %zu skipped\n", files, rules, skipped);
    CHECK(files >= 25);
}
