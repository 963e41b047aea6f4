// Text helpers of the parsers: UTF-8 checks for what goes into JSON, and
// positions for messages.

#include "core/text.hpp"

#include <catch2/catch.hpp>

using sg::invalid_utf8_at;
using sg::position_of;
using sg::utf8_lossy;

TEST_CASE("invalid_utf8_at finds the first byte that is not well-formed UTF-8") {
    constexpr auto npos = std::string_view::npos;
    CHECK(invalid_utf8_at("") == npos);
    CHECK(invalid_utf8_at("plain ASCII") == npos);
    CHECK(invalid_utf8_at("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == npos);  // é € 😀
    CHECK(invalid_utf8_at("ab\xff") == 2);           // never a UTF-8 byte
    CHECK(invalid_utf8_at("a\xc3") == 1);            // cut character
    CHECK(invalid_utf8_at("a\xc3(") == 1);           // lead byte without continuation
    CHECK(invalid_utf8_at("\x80") == 0);             // stray continuation byte
    CHECK(invalid_utf8_at("\xc0\xaf") == 0);         // overlong '/'
    CHECK(invalid_utf8_at("\xe0\x80\xaf") == 0);     // overlong, three bytes
    CHECK(invalid_utf8_at("\xed\xa0\x80") == 0);     // a UTF-16 surrogate
    CHECK(invalid_utf8_at("\xf4\x90\x80\x80") == 0); // past U+10FFFF
}

TEST_CASE("utf8_lossy replaces each bad byte with U+FFFD and keeps the rest") {
    CHECK(utf8_lossy("ok") == "ok");
    CHECK(utf8_lossy("caf\xc3\xa9") == "caf\xc3\xa9");
    CHECK(utf8_lossy("a\xffz") == "a\xef\xbf\xbdz");
    CHECK(utf8_lossy("\xc3") == "\xef\xbf\xbd");
    CHECK(invalid_utf8_at(utf8_lossy("\x80\x80\xe2\x82")) == std::string_view::npos);
}

TEST_CASE("position_of counts lines and columns from 1") {
    const std::string_view text = "ab\ncd\n\nx";
    CHECK(position_of(text, 0).line == 1);
    CHECK(position_of(text, 0).column == 1);
    CHECK(position_of(text, 4).line == 2);
    CHECK(position_of(text, 4).column == 2);
    CHECK(position_of(text, 7).line == 4);
    CHECK(position_of(text, 7).column == 1);
}
