// SPDX-License-Identifier: Apache-2.0
// Where `bytepiece convert` writes: devices and FIFOs in place, symlinks through to their
// target, "-" and descriptor names through the descriptor, regular files replaced atomically
// with their permissions kept and no temporary file left, whatever fails. Every device, FIFO
// and link is made in a scratch folder: no test writes to the system's /dev by name.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

using test_support::cli;
using test_support::quote;
using test_support::run;
using test_support::scratch_folder;
using test_support::status_of;

// A small model, its JSON file, and the binary image `convert` must write for it.
struct model_files {
    std::string json;
    std::string binary;
};

model_files make_model_in(const scratch_folder& dir, const std::string& name, int extra_pieces = 3) {
    std::vector<std::pair<std::string, std::uint64_t>> pieces;
    for (int i = 0; i < extra_pieces; ++i) {
        // Deterministic distinct pieces: base-16 numerals written in letters a..p, 3 long.
        std::string p;
        for (int v = i, k = 0; k < 3; ++k, v /= 16) p += static_cast<char>('a' + v % 16);
        pieces.emplace_back(p, 1 + static_cast<std::uint64_t>(i % 97));
    }
    const auto m = test_support::make_model(pieces);
    model_files f;
    f.json = dir / name;
    m.save(f.json);
    f.binary = bytepiece::tokenizer(m).to_binary();
    return f;
}

std::string convert(const std::string& model, const std::string& out, const std::string& redirect = "2>&1") {
    return quote(cli()) + " convert " + quote(model) + " " + quote(out) + " " + redirect;
}

bool is_char_device(const std::string& path, unsigned major_no, unsigned minor_no) {
    const auto s = status_of(path);
    return s.ok && S_ISCHR(s.st.st_mode) && major(s.st.st_rdev) == major_no && minor(s.st.st_rdev) == minor_no;
}

}  // namespace

TEST_CASE("convert writes into a device in place and never replaces it", "[cli][output-file]") {
    if (!test_support::require_cli() || !test_support::require_root("writing to device nodes")) return;
    scratch_folder dir("out_device");
    const auto model = make_model_in(dir, "m.json");
    REQUIRE(::mknod((dir / "null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0);  // a /dev/null
    REQUIRE(::mknod((dir / "full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);  // a /dev/full
    const auto before = dir.names();

    const auto to_null = run(convert(model.json, dir / "null"));
    CHECK(to_null.status == 0);
    CHECK(to_null.out.empty());
    CHECK(is_char_device(dir / "null", 1, 3));

    // The full device refuses the bytes: one line naming the output, and it stays a device.
    const auto to_full = run(convert(model.json, dir / "full"));
    INFO(to_full.out);
    CHECK(to_full.status == 2);
    CHECK(test_support::is_one_line(to_full.out));
    CHECK(to_full.out.find(dir / "full") != std::string::npos);
    CHECK(to_full.out.find("No space left on device") != std::string::npos);
    CHECK(is_char_device(dir / "full", 1, 7));

    // A link to a device is written through to the device, and stays a link.
    REQUIRE(::symlink("null", (dir / "to_null").c_str()) == 0);
    CHECK(run(convert(model.json, dir / "to_null")).status == 0);
    CHECK(S_ISLNK(status_of(dir / "to_null").st.st_mode));
    CHECK(is_char_device(dir / "null", 1, 3));

    auto after = dir.names();
    after.erase(std::remove(after.begin(), after.end(), "to_null"), after.end());
    CHECK(after == before);  // no temporary file left behind
}

TEST_CASE("convert writes into a FIFO in place", "[cli][output-file]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("out_fifo");
    const auto model = make_model_in(dir, "m.json");
    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0666) == 0);
    // The reader runs beside the writer; `timeout` ends both if the FIFO were replaced (the
    // reader would then wait for a writer forever).
    const auto r = run("timeout 20 cat " + quote(dir / "fifo") + " > " + quote(dir / "got") + " & " +
                       "timeout 20 " + convert(model.json, dir / "fifo") + "; s=$?; wait; exit $s");
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK(S_ISFIFO(status_of(dir / "fifo").st.st_mode));
    CHECK((test_support::read(dir / "got") == model.binary));
    CHECK(dir.names() == std::vector<std::string>{"fifo", "got", "m.json"});
}

TEST_CASE("convert through a symlink replaces the target and keeps the link", "[cli][output-file]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("out_symlink");
    const auto model = make_model_in(dir, "m.json");
    REQUIRE(::mkdir((dir / "sub").c_str(), 0777) == 0);
    test_support::write(dir / "sub/target.bpm", "old contents");
    REQUIRE(::chmod((dir / "sub/target.bpm").c_str(), 0640) == 0);
    REQUIRE(::symlink("sub/target.bpm", (dir / "link").c_str()) == 0);  // relative, as links usually are

    const auto r = run(convert(model.json, dir / "link"));
    INFO(r.out);
    CHECK(r.status == 0);
    const auto link = status_of(dir / "link");
    REQUIRE(link.ok);
    CHECK(S_ISLNK(link.st.st_mode));
    char text[256] = {};
    CHECK(::readlink((dir / "link").c_str(), text, sizeof text - 1) == 14);
    CHECK(std::string(text) == "sub/target.bpm");
    CHECK((test_support::read(dir / "sub/target.bpm") == model.binary));
    CHECK((status_of(dir / "sub/target.bpm").st.st_mode & 07777) == 0640);
    // The temporary file was made beside the target and is gone; nothing new beside the link.
    CHECK(dir.names() == std::vector<std::string>{"link", "m.json", "sub"});
    CHECK(scratch_folder::list(dir / "sub") == std::vector<std::string>{"target.bpm"});

    // A dangling link names the file to create; the link stays a link.
    REQUIRE(::symlink("sub/new.bpm", (dir / "dangling").c_str()) == 0);
    CHECK(run(convert(model.json, dir / "dangling")).status == 0);
    CHECK(S_ISLNK(status_of(dir / "dangling").st.st_mode));
    CHECK((test_support::read(dir / "sub/new.bpm") == model.binary));
    CHECK(scratch_folder::list(dir / "sub") == std::vector<std::string>{"new.bpm", "target.bpm"});
}

TEST_CASE("convert replaces a regular file keeping its permissions and leaving no temporary file", "[cli][output-file]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("out_regular");
    const auto model = make_model_in(dir, "m.json");
    test_support::write(dir / "out.bpm", "old contents");
    REQUIRE(::chmod((dir / "out.bpm").c_str(), 0604) == 0);
    const ino_t old_inode = status_of(dir / "out.bpm").st.st_ino;
    CHECK(run(convert(model.json, dir / "out.bpm")).status == 0);
    const auto s = status_of(dir / "out.bpm");
    CHECK(S_ISREG(s.st.st_mode));
    CHECK((s.st.st_mode & 07777) == 0604);
    CHECK(s.st.st_ino != old_inode);  // a new file renamed over it, not the old one rewritten
    CHECK((test_support::read(dir / "out.bpm") == model.binary));
    CHECK(dir.names() == std::vector<std::string>{"m.json", "out.bpm"});

    // Root replacing someone else's file keeps its owner, as writing into it would.
    if (::geteuid() == 0) {
        REQUIRE(::chown((dir / "out.bpm").c_str(), 4321, 8765) == 0);
        CHECK(run(convert(model.json, dir / "out.bpm")).status == 0);
        CHECK(status_of(dir / "out.bpm").st.st_uid == 4321);
        CHECK(status_of(dir / "out.bpm").st.st_gid == 8765);
        CHECK((status_of(dir / "out.bpm").st.st_mode & 07777) == 0604);
    }

    // Set-id bits are not carried over: the new file belongs to whoever wrote it.
    REQUIRE(::chmod((dir / "out.bpm").c_str(), 06755) == 0);
    CHECK(run(convert(model.json, dir / "out.bpm")).status == 0);
    CHECK((status_of(dir / "out.bpm").st.st_mode & 07777) == 0755);

    // A name as long as a file system allows: the temporary file's name must fit too.
    const std::string long_name = std::string(250, 'n') + ".bpm";
    const auto long_out = run(convert(model.json, dir / long_name));
    INFO(long_out.out);
    CHECK(long_out.status == 0);
    CHECK((test_support::read(dir / long_name) == model.binary));
    REQUIRE(::unlink((dir / long_name).c_str()) == 0);

    // Several writers at once: each has its own temporary file, and the result is whole.
    const auto r = run("for i in 1 2 3 4 5 6; do " + convert(model.json, dir / "out.bpm") + " & done; wait");
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    CHECK((test_support::read(dir / "out.bpm") == model.binary));
    CHECK(dir.names() == std::vector<std::string>{"m.json", "out.bpm"});
}

TEST_CASE("convert to '-' and to a descriptor's name writes through the descriptor", "[cli][output-file]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("out_descriptor");
    const auto model = make_model_in(dir, "m.json");
    const auto to_stdout = run(quote(cli()) + " convert " + quote(model.json) + " -");
    CHECK(to_stdout.status == 0);
    CHECK((to_stdout.out == model.binary));
    const auto json = run(quote(cli()) + " convert --to json " + quote(model.json) + " -");
    CHECK(json.status == 0);
    CHECK((json.out == test_support::read(model.json)));

    // Appending redirections: reopening the name would truncate what is already there, and
    // replacing it would cut the shell's file off. /proc's names cannot be replaced at all,
    // so a faulty writer could not harm them; the link to one is the project's own.
    test_support::write(dir / "log", "before\n");
    CHECK(run(quote(cli()) + " convert " + quote(model.json) + " - >> " + quote(dir / "log")).status == 0);
    CHECK((test_support::read(dir / "log") == "before\n" + model.binary));
    test_support::write(dir / "log", "before\n");
    CHECK(run(convert(model.json, "/proc/self/fd/3", "3>> " + quote(dir / "log"))).status == 0);
    CHECK((test_support::read(dir / "log") == "before\n" + model.binary));
    test_support::write(dir / "log", "before\n");
    REQUIRE(::symlink("/proc/self/fd/3", (dir / "fd3").c_str()) == 0);
    const auto via_link = run(convert(model.json, dir / "fd3", "3>> " + quote(dir / "log") + " 2>&1"));
    INFO(via_link.out);
    CHECK(via_link.status == 0);
    CHECK((test_support::read(dir / "log") == "before\n" + model.binary));
    CHECK(S_ISLNK(status_of(dir / "fd3").st.st_mode));
    CHECK(dir.names() == std::vector<std::string>{"fd3", "log", "m.json"});
}

TEST_CASE("convert refuses a folder or a missing folder as output, naming it", "[cli][output-file]") {
    if (!test_support::require_cli()) return;
    scratch_folder dir("out_folder");
    const auto model = make_model_in(dir, "m.json");
    REQUIRE(::mkdir((dir / "folder").c_str(), 0777) == 0);
    const auto to_folder = run(convert(model.json, dir / "folder"));
    INFO(to_folder.out);
    CHECK(to_folder.status == 2);
    CHECK(test_support::is_one_line(to_folder.out));
    CHECK(to_folder.out.find(dir / "folder") != std::string::npos);
    CHECK(S_ISDIR(status_of(dir / "folder").st.st_mode));
    CHECK(scratch_folder::list(dir / "folder").empty());

    const auto missing = run(convert(model.json, dir / "missing/out.bpm"));
    INFO(missing.out);
    CHECK(missing.status == 2);
    CHECK(test_support::is_one_line(missing.out));
    CHECK(missing.out.find(dir / "missing") != std::string::npos);
    CHECK(dir.names() == std::vector<std::string>{"folder", "m.json"});
}

TEST_CASE("convert on a full disk leaves the old file whole and no temporary file", "[cli][output-file]") {
    if (!test_support::require_cli() || !test_support::require_root("mounting a small tmpfs")) return;
    scratch_folder dir("out_disk_full");
    const auto model = make_model_in(dir, "m.json", 4000);
    REQUIRE(model.binary.size() > 64 * 1024);  // more than the file system holds
    REQUIRE(::mkdir((dir / "small").c_str(), 0777) == 0);
    if (std::system(("mount -t tmpfs -o size=64k tmpfs " + quote(dir / "small")).c_str()) != 0) {
        WARN("skipped: cannot mount a tmpfs here");
        return;
    }
    test_support::write(dir / "small/out.bpm", "old contents");
    const auto r = run(convert(model.json, dir / "small/out.bpm"));
    INFO(r.out);
    CHECK(r.status == 2);
    CHECK(test_support::is_one_line(r.out));
    CHECK(r.out.find(dir / "small/out.bpm") != std::string::npos);
    CHECK(r.out.find("No space left on device") != std::string::npos);
    CHECK(test_support::read(dir / "small/out.bpm") == "old contents");
    CHECK(scratch_folder::list(dir / "small") == std::vector<std::string>{"out.bpm"});
    // scratch_folder unmounts it on the way out.
}

// Every output format keeps the same promises; a format's writer is a different code path each.
struct output_format {
    const char* name;       // --to NAME
    const char* extension;  // of the file kept
    const char* typo;       // a misspelling that must be refused, naming NAME
};
const output_format formats[] = {{"binary", ".bpm", "binray"},
                                 {"json", ".json", "jsn"},
                                 {"sentencepiece", ".model", "sentencepeice"},
                                 {"hf", ".json", "huggingface"}};

TEST_CASE("convert --to every format leaves OUTPUT alone when it fails", "[cli][output-file]") {
    if (!test_support::require_cli()) return;
    for (const auto& f : formats) {
        INFO("--to " << f.name);
        scratch_folder dir(std::string("convert_fail_") + f.name);
        const std::string keep = std::string("keep") + f.extension;
        const std::string out = dir / keep;
        test_support::write(out, "precious");
        const std::string to = quote(cli()) + " convert --to " + f.name + " ";

        // A model that is not one: one line naming it, and the old output is still there.
        test_support::write(dir / "bad.json", "{\"QQ==\": [3, \"A\"");
        const auto bad = run(to + quote(dir / "bad.json") + " " + quote(out) + " 2>&1");
        INFO(bad.out);
        CHECK(bad.status == 2);
        CHECK(test_support::is_one_line(bad.out));
        CHECK(bad.out.find("bad.json") != std::string::npos);
        CHECK(test_support::read(out) == "precious");
        CHECK(dir.names() == std::vector<std::string>{"bad.json", keep});  // no temporary file left

        // An OUTPUT that cannot be written, or is a folder, is named before the model is read.
        const auto model = make_model_in(dir, "m.json");
        const auto nowhere = run(to + quote(model.json) + " " + quote(dir / "no_such_folder/x.out") + " 2>&1");
        INFO(nowhere.out);
        CHECK(nowhere.status == 2);
        CHECK(nowhere.out.find("no_such_folder") != std::string::npos);
        const auto folder = run(to + quote(model.json) + " " + quote(dir.path()) + " 2>&1");
        CHECK(folder.status == 2);
        CHECK(folder.out.find("folder") != std::string::npos);

        // A misspelt format is refused, listing the ones there are.
        const auto typo =
            run(quote(cli()) + " convert --to " + f.typo + " " + quote(model.json) + " " + quote(out) + " 2>&1");
        CHECK(typo.status == 2);
        CHECK(typo.out.find(std::string("'") + f.name + "'") != std::string::npos);
        CHECK(test_support::read(out) == "precious");
    }
}

TEST_CASE("convert --to every format writes into a full device in place", "[cli][output-file]") {
    if (!test_support::require_cli() || !test_support::require_root("making device nodes")) return;
    for (const auto& f : formats) {
        INFO("--to " << f.name);
        scratch_folder dir(std::string("convert_device_") + f.name);
        const auto model = make_model_in(dir, "m.json");
        REQUIRE(::mknod((dir / "full").c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);  // a /dev/full
        const auto full =
            run(quote(cli()) + " convert --to " + f.name + " " + quote(model.json) + " " + quote(dir / "full") + " 2>&1");
        INFO(full.out);
        CHECK(full.status == 2);
        CHECK(full.out.find("No space left on device") != std::string::npos);
        CHECK(is_char_device(dir / "full", 1, 7));
    }
}
