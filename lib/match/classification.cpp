#include "match/classification.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "match/text_util.hpp"

namespace sg::rules {

const Classification* Classifications::find(std::string_view name) const {
    const auto it = table_.find(name);
    return it == table_.end() ? nullptr : &it->second;
}

Result<Classifications> load_classifications(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(fmt::format("{}: cannot open the classification file", path));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_classifications(text.str(), path);
}

Result<Classifications> parse_classifications(std::string_view text, const std::string& name) {
    Classifications out;
    unsigned line_no = 0;
    for (std::string_view line : split_lines(text)) {
        ++line_no;
        line = trim(line);
        if (line.empty() || line.front() == '#') continue;
        const auto fail = [&] {
            return make_error(fmt::format(
                "{}:{}: expected 'config classification: NAME,DESCRIPTION,PRIORITY', got '{}'", name,
                line_no, line));
        };
        // The description is eve's alert.category: JSON text.
        if (const size_t bad = invalid_utf8_at(line); bad != std::string_view::npos)
            return make_error(fmt::format("{}:{}: expected UTF-8 text, got the byte 0x{:02x} at column {}", name,
                                          line_no, static_cast<unsigned char>(line[bad]), bad + 1));
        constexpr std::string_view kHead = "config classification:";
        if (!line.starts_with(kHead)) return fail();
        // The description may hold commas: the name ends at the first comma,
        // the priority starts after the last.
        const auto body = line.substr(kHead.size());
        const auto first = body.find(',');
        const auto last = body.rfind(',');
        if (first == std::string_view::npos || first == last) return fail();
        const auto short_name = trim(body.substr(0, first));
        const auto description = trim(body.substr(first + 1, last - first - 1));
        const auto priority = parse_uint(trim(body.substr(last + 1)), 1, 255);
        if (short_name.empty() || !priority) return fail();
        out.add(std::string(short_name), Classification{std::string(description), uint32_t(*priority)});
    }
    return out;
}

} // namespace sg::rules
