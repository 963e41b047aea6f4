#pragma once
// Small text helpers shared by the parsers (config, rules). Control side.

#include <cstddef>
#include <string>
#include <string_view>

namespace sg {

// Levenshtein distance: how many single-character edits turn a into b.
// Used to suggest the key or keyword an operator probably meant.
size_t edit_distance(std::string_view a, std::string_view b);

// The offset of the first byte that is not part of well-formed UTF-8
// (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF), or
// npos when `s` is valid. Text that ends up in JSON (eve, reports, rules
// check) must be UTF-8: the parsers reject the rest with this offset.
size_t invalid_utf8_at(std::string_view s);

// `s` with every byte that is not part of well-formed UTF-8 replaced by
// U+FFFD: for messages that quote a slice of the input (which may cut a
// character) on their way into JSON.
std::string utf8_lossy(std::string_view s);

// The 1-based line and column of byte `offset` of `text`, for messages.
struct TextPosition {
    unsigned line = 1;
    unsigned column = 1;
};
TextPosition position_of(std::string_view text, size_t offset);

} // namespace sg
