// SPDX-License-Identifier: Apache-2.0
// Options that would do nothing are refused rather than ignored, "-0" is a negative alpha
// (deterministic, as documented), `--` ends the options, and `convert` takes -m like the rest.
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;

// Many equal-length segmentations, so a sampler's output would differ from Viterbi's.
bytepiece::model ambiguous_model() {
    return test_support::make_model({{"ab", 10}, {"ba", 10}, {"aba", 10}, {"bab", 10}, {"abab", 5}}, 3);
}

}  // namespace

TEST_CASE("a negative zero alpha means deterministic encoding, as any negative alpha", "[cli][options]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("options_alpha");
    ambiguous_model().save(dir / "m.json");
    std::string input;
    for (int i = 0; i < 50; ++i) input += "abababababbabababa\n";
    test_support::write(dir / "in.txt", input);
    const std::string base = quote(cli()) + " encode -m " + quote(dir / "m.json") + " " + quote(dir / "in.txt");
    const auto plain = run(base);
    REQUIRE(plain.status == 0);
    for (const char* alpha : {"-0", "-0.0", "-0e5", "-1"}) {
        for (const char* seed : {"1", "2"}) {
            const auto r = run(base + " --alpha " + alpha + " --seed " + seed);
            INFO("--alpha " << alpha << " --seed " << seed);
            CHECK(r.status == 0);
            CHECK(r.out == plain.out);
        }
    }
    // +0 samples: uniform over segmentations, so not Viterbi's output on this many lines.
    const auto zero = run(base + " --alpha 0");
    CHECK(zero.status == 0);
    CHECK(zero.out != plain.out);
}

TEST_CASE("options that would do nothing are refused", "[cli][options]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("options_refused");
    ambiguous_model().save(dir / "m.json");
    const std::string m = " -m " + quote(dir / "m.json");
    auto refused = [&](const std::string& args, const std::string& named) {
        const auto r = run(quote(cli()) + " " + args + " 2>&1 </dev/null");
        INFO(args << " -> " << r.out);
        CHECK(r.status == 2);
        CHECK(test_support::is_one_line(r.out));
        CHECK(r.out.find(named) != std::string::npos);
    };
    refused("encode" + m + " --seed 5", "--seed");
    refused("tokenize" + m + " --seed 5", "--seed");
    refused("decode" + m + " --alpha 0.5", "--alpha");
    refused("decode" + m + " --seed 1", "--seed");
    refused("encode" + m + " --alpha 1 --seed -1", "--seed");
    refused("encode" + m + " --alpha 1 --seed ' 1'", "--seed");
    refused("encode" + m + " --alpha nan", "--alpha");
    refused("info" + m + " --alpha 1", "--alpha");
    refused("convert" + m + " --raw " + quote(dir / "out"), "--raw");

    // After "--" everything is a file name, even what looks like an option.
    const auto dashes = run(quote(cli()) + " encode" + m + " -- --raw 2>&1 </dev/null");
    CHECK(dashes.status == 2);
    CHECK(dashes.out.find("--raw: cannot open") != std::string::npos);
}

TEST_CASE("convert takes the model as -m MODEL and the output as -o FILE too", "[cli][options][convert]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("options_convert");
    const auto model = ambiguous_model();
    model.save(dir / "m.json");
    const std::string want = bytepiece::tokenizer(model).to_binary();
    const std::string c = quote(cli()) + " convert ";
    const std::string in = quote(dir / "m.json");
    const std::vector<std::string> forms = {in + " " + quote(dir / "a.bpm"), "-m " + in + " " + quote(dir / "b.bpm"),
                                            "-m " + in + " -o " + quote(dir / "c.bpm"), "-o " + quote(dir / "d.bpm") + " " + in,
                                            "--model=" + in + " --output=" + quote(dir / "e.bpm")};
    for (const auto& form : forms) {
        const auto r = run(c + form + " 2>&1");
        INFO(form << " -> " << r.out);
        CHECK(r.status == 0);
    }
    for (const char* name : {"a.bpm", "b.bpm", "c.bpm", "d.bpm", "e.bpm"}) CHECK((test_support::read(dir / name) == want));
    CHECK(run(c + "-m " + in + " -o - --to json").out == test_support::read(dir / "m.json"));

    const auto no_output = run(c + "-m " + in + " 2>&1");
    CHECK(no_output.status == 2);
    CHECK(no_output.out.find("OUTPUT") != std::string::npos);
    const auto extra = run(c + "-m " + in + " " + quote(dir / "x.bpm") + " " + quote(dir / "y.bpm") + " 2>&1");
    CHECK(extra.status == 2);
    CHECK(extra.out.find("y.bpm") != std::string::npos);
    CHECK(!test_support::file_exists(dir / "x.bpm"));
}
