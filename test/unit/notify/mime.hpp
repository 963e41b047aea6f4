#pragma once
// A small MIME reader for the tests: headers (unfolded), the multipart parts,
// quoted-printable decoding. Independent of the code under test.

#include <map>
#include <string>
#include <vector>

namespace sg::test {

struct MimePart {
    std::multimap<std::string, std::string> headers;  // lower-case names
    std::string body;                                 // raw (still encoded)
    std::string header(const std::string& name) const {
        const auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

inline std::string to_lower(std::string s) {
    for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

inline MimePart parse_part(const std::string& text) {
    MimePart p;
    const auto split = text.find("\r\n\r\n");
    std::string head = text.substr(0, split);
    p.body = split == std::string::npos ? "" : text.substr(split + 4);
    std::string unfolded;
    for (size_t i = 0; i < head.size(); ++i) {
        if (head.compare(i, 3, "\r\n ") == 0 || head.compare(i, 3, "\r\n\t") == 0) { i += 1; continue; }
        unfolded += head[i];
    }
    size_t pos = 0;
    while (pos <= unfolded.size()) {
        size_t eol = unfolded.find("\r\n", pos);
        if (eol == std::string::npos) eol = unfolded.size();
        const std::string line = unfolded.substr(pos, eol - pos);
        if (const auto colon = line.find(':'); colon != std::string::npos) {
            std::string value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.erase(0, 1);
            p.headers.emplace(to_lower(line.substr(0, colon)), value);
        }
        pos = eol + 2;
    }
    return p;
}

inline std::string boundary_of(const std::string& content_type) {
    const auto b = content_type.find("boundary=\"");
    if (b == std::string::npos) return {};
    const auto e = content_type.find('"', b + 10);
    return content_type.substr(b + 10, e - b - 10);
}

// The parts between "--boundary" lines, up to "--boundary--".
inline std::vector<MimePart> parts_of(const MimePart& message) {
    const std::string boundary = boundary_of(message.header("content-type"));
    std::vector<MimePart> parts;
    const std::string delim = "\r\n--" + boundary;
    std::string body = "\r\n" + message.body;
    size_t pos = body.find(delim);
    while (pos != std::string::npos) {
        size_t start = pos + delim.size();
        if (body.compare(start, 2, "--") == 0) break;
        start += 2;  // CRLF after the boundary line
        const size_t next = body.find(delim, start);
        if (next == std::string::npos) break;
        parts.push_back(parse_part(body.substr(start, next - start)));
        pos = next;
    }
    return parts;
}

inline std::string qp_decode(const std::string& in) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '=') { out += in[i]; continue; }
        if (in.compare(i + 1, 2, "\r\n") == 0) { i += 2; continue; }
        out += char(std::stoi(in.substr(i + 1, 2), nullptr, 16));
        i += 2;
    }
    return out;
}

} // namespace sg::test
