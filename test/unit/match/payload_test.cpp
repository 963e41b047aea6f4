// content with its modifiers, and pcre.

#include "rule_test_util.hpp"

using namespace sg;
using namespace sg::rules;
using namespace sg::rules::test;

TEST_CASE("content: text, hex blocks and escapes are decoded") {
    CHECK(content_at(with_options("content:\"abc\";"), 0).bytes == "abc");
    CHECK(content_at(with_options("content:\"|41 42 43|\";"), 0).bytes == "ABC");
    CHECK(content_at(with_options("content:\"|414243|\";"), 0).bytes == "ABC");
    CHECK(content_at(with_options("content:\"uid=0|28|root|29|\";"), 0).bytes == "uid=0(root)");
    CHECK(content_at(with_options("content:\"|00 ff|x|0a|\";"), 0).bytes == std::string("\x00\xffx\n", 4));
    CHECK(content_at(with_options("content:\"|de AD|\";"), 0).bytes == "\xde\xad");
    // The four escapes Suricata allows.
    CHECK(content_at(with_options(R"(content:"a\"b\;c\\d\:e";)"), 0).bytes == "a\"b;c\\d:e");
    // ';' inside quotes does not end the option.
    CHECK(content_at(with_options("content:\"a;b\";"), 0).bytes == "a;b");
    const auto neg = content_at(with_options("content:!\"xyz\";"), 0);
    CHECK(neg.negated);
    CHECK(neg.bytes == "xyz");
    CHECK(content_at(with_options("content: ! \"xyz\" ;"), 0).negated);
    const auto plain = content_at(with_options("content:\"abc\";"), 0);
    CHECK_FALSE(plain.negated);
    CHECK_FALSE(plain.nocase);
    CHECK_FALSE(plain.offset);
    CHECK_FALSE(plain.depth);
    CHECK_FALSE(plain.relative());
    CHECK(plain.buffer == Buffer::payload);
}

TEST_CASE("content modifiers apply to the content before them") {
    const auto r = with_options(
        "content:\"GET \"; offset:0; depth:4; nocase; content:\"/x\"; distance:-2; within:10; fast_pattern; "
        "content:\"end\"; endswith; rawbytes;");
    REQUIRE(r.payload.size() == 3);
    const auto& a = content_at(r, 0);
    CHECK(a.offset == 0u);
    CHECK(a.depth == 4u);
    CHECK(a.nocase);
    CHECK_FALSE(a.fast_pattern);
    const auto& b = content_at(r, 1);
    CHECK(b.distance == -2);
    CHECK(b.within == 10u);
    CHECK(b.relative());
    CHECK(b.fast_pattern);
    CHECK_FALSE(b.fast_pattern_only);
    CHECK_FALSE(b.nocase);
    const auto& c = content_at(r, 2);
    CHECK(c.endswith);
    CHECK(c.rawbytes);
}

TEST_CASE("content: startswith is offset 0 and depth = length") {
    const auto c = content_at(with_options("content:\"MZ\"; startswith;"), 0);
    CHECK(c.startswith);
    CHECK(c.offset == 0u);
    CHECK(c.depth == 2u);
    // distance/within on the first match are relative to the buffer start (suricata-verify bug-docs-5030).
    const auto d = content_at(with_options("content:\"yYYY\"; distance:9; within:29; endswith;"), 0);
    CHECK(d.distance == 9);
    CHECK(d.within == 29u);
    CHECK(d.endswith);
}

TEST_CASE("content: fast_pattern forms") {
    CHECK(content_at(with_options("content:\"abcd\"; fast_pattern;"), 0).fast_pattern);
    const auto only = content_at(with_options("content:\"abcd\"; fast_pattern:only;"), 0);
    CHECK(only.fast_pattern);
    CHECK(only.fast_pattern_only);
    const auto chop = content_at(with_options("content:\"abcdefgh\"; fast_pattern:2,4;"), 0);
    CHECK(chop.fast_pattern);
    REQUIRE(chop.fast_pattern_chop);
    CHECK(chop.fast_pattern_chop->offset == 2);
    CHECK(chop.fast_pattern_chop->length == 4);
    // Allowed on a negated content.
    CHECK(content_at(with_options("content:!\"abcd\"; fast_pattern;"), 0).fast_pattern);
}

TEST_CASE("pcre: pattern, flags and negation") {
    const auto p = pcre_at(with_options(R"(pcre:"/^GET\s+\/[a-z]{3}/Rsmi";)"), 0);
    CHECK(p.pattern == R"(^GET\s+\/[a-z]{3})");
    CHECK(p.flags == "Rsmi");
    CHECK(p.relative);
    CHECK(p.dotall);
    CHECK(p.multiline);
    CHECK(p.caseless);
    CHECK_FALSE(p.negated);
    CHECK_FALSE(p.extended);
    CHECK(p.buffer == Buffer::payload);

    const auto n = pcre_at(with_options(R"(pcre:!"/foo/x";)"), 0);
    CHECK(n.negated);
    CHECK(n.extended);
    const auto all = pcre_at(with_options(R"(pcre:"/a/AEGBO";)"), 0);
    CHECK(all.anchored);
    CHECK(all.dollar_endonly);
    CHECK(all.ungreedy);
    CHECK(all.rawbytes);
    // Escapes are kept for PCRE: \; and \" are literal characters to it.
    CHECK(pcre_at(with_options(R"(pcre:"/a\;b\"c/";)"), 0).pattern == R"(a\;b\"c)");
    // An unescaped quote inside the pattern (ET writes these): the value ends at the quote before ';'.
    CHECK(pcre_at(with_options(R"(pcre:"/^["']?post/Ri";)"), 0).pattern == R"(^["']?post)");
    // Unquoted works too.
    CHECK(pcre_at(with_options("pcre:/abc/i;"), 0).pattern == "abc");
}

TEST_CASE("payload matches keep rule order across content and pcre") {
    const auto r = with_options(
        R"(content:"a"; pcre:"/b/R"; content:"c"; distance:0; pcre:"/d/"; content:"e";)");
    REQUIRE(r.payload.size() == 5);
    CHECK(content_at(r, 0).bytes == "a");
    CHECK(pcre_at(r, 1).relative);
    CHECK(content_at(r, 2).distance == 0);
    CHECK_FALSE(pcre_at(r, 3).relative);
    CHECK(content_at(r, 4).bytes == "e");
}

TEST_CASE("pcre with an HTTP buffer modifier skips the rule") {
    CHECK(skip_of(R"(alert tcp any any -> any any (pcre:"/x/U"; sid:1;))") == "pcre:/U");
    CHECK(skip_of(R"(alert tcp any any -> any any (pcre:"/x/Ri"; pcre:"/y/iH"; sid:1;))") == "pcre:/H");
    CHECK(skip_of(R"(alert tcp any any -> any any (pcre:"/x/RW"; sid:1;))") == "pcre:/W");
}

TEST_CASE("payload errors") {
    CHECK(options_error("nocase;") == "t.rules:1: sid 1: nocase: needs a preceding content");
    CHECK(options_error("pcre:\"/a/\"; depth:3;") ==
          "t.rules:1: sid 1: depth: applies to a content, but follows a pcre");
    CHECK(options_error("content:\"abcde\"; depth:3;") ==
          "t.rules:1: sid 1: depth: 3 is less than the content length 5");
    CHECK(options_error("content:\"a\"; content:\"abcde\"; within:3;") ==
          "t.rules:1: sid 1: within: 3 is less than the content length 5");
    CHECK(options_error("content:\"abc\"; nocase; nocase;") ==
          "t.rules:1: sid 1: nocase: given twice for the same content");
    CHECK(options_error("content:\"abc\"; depth:5; depth:6;") ==
          "t.rules:1: sid 1: depth: given twice for the same content");
    CHECK(options_error("content:\"a\"; content:\"abc\"; depth:5; distance:1;") ==
          "t.rules:1: sid 1: distance: cannot be combined with depth or offset on the same content");
    CHECK(options_error("content:\"a\"; content:\"abc\"; within:5; offset:1;") ==
          "t.rules:1: sid 1: offset: cannot be combined with distance or within on the same content");
    CHECK(options_error("content:\"abc\"; startswith; depth:5;") ==
          "t.rules:1: sid 1: depth: cannot be combined with startswith");
    CHECK(options_error("content:\"abc\"; offset:2; startswith;") ==
          "t.rules:1: sid 1: startswith: cannot be combined with depth, offset, distance or within");
    CHECK(options_error("content:\"abc\"; depth:x;") ==
          "t.rules:1: sid 1: depth: expected an integer 1-65535, got 'x'");
    CHECK(options_error("content:\"abc\"; offset:-1;") ==
          "t.rules:1: sid 1: offset: expected an integer 0-65535, got '-1'");
    CHECK(options_error("content:\"abc\"; distance:1.5;") ==
          "t.rules:1: sid 1: distance: expected an integer -65535-65535, got '1.5'");
    CHECK(options_error("content:\"abc\"; fast_pattern; content:\"def\"; fast_pattern;") ==
          "t.rules:1: sid 1: fast_pattern: already set on another content of this rule");
    CHECK(options_error("content:\"abc\"; fast_pattern:2,4;") ==
          "t.rules:1: sid 1: fast_pattern: 2,4 reaches past the content length 3");
    CHECK(options_error("content:\"abc\"; fast_pattern:first;") ==
          "t.rules:1: sid 1: fast_pattern: expected nothing, 'only' or OFFSET,LENGTH, got 'first'");
    CHECK(options_error("content:!\"abc\"; fast_pattern:only;") ==
          "t.rules:1: sid 1: fast_pattern: 'only' cannot be used on a negated content");
    CHECK(options_error("content:\"abc\"; nocase:yes;") == "t.rules:1: sid 1: nocase: takes no value, got 'yes'");
    CHECK(options_error("content:abc;") == "t.rules:1: sid 1: content: expected a quoted string, got 'abc'");
    CHECK(options_error("content:\"\";") == "t.rules:1: sid 1: content: empty pattern");
    CHECK(options_error("content:\"|41 4|\";") == "t.rules:1: sid 1: content: odd number of hex digits in '|41 4|'");
    CHECK(options_error("content:\"|4 1|\";") == "t.rules:1: sid 1: content: odd number of hex digits in '|4 1|'");
    CHECK(options_error("content:\"a|4G|\";") == "t.rules:1: sid 1: content: 'G' in '|4G|' is not a hex digit");
    CHECK(options_error("content:\"a|41\";") == "t.rules:1: sid 1: content: hex block '|41' is not closed with '|'");
    CHECK(options_error(R"(content:"a\x41";)") ==
          R"(t.rules:1: sid 1: content: invalid escape '\x': only \\ \" \; \: may be escaped, write other bytes in hex (|5c| is a backslash))");
    CHECK(options_error(R"(content:"a"b"c";)") ==
          R"(t.rules:1: sid 1: content: unescaped '"' inside the pattern (write \" or |22|))");
    CHECK(options_error("pcre:\"abc\";") == "t.rules:1: sid 1: pcre: expected \"/PATTERN/FLAGS\", got '\"abc\"'");
    CHECK(options_error("pcre:\"/abc/q\";") == "t.rules:1: sid 1: pcre: unknown modifier 'q' in '/abc/q'");
    CHECK(options_error("pcre:\"/a(b/i\";") ==
          "t.rules:1: sid 1: pcre: PCRE2 rejects '/a(b/i': missing closing parenthesis at offset 3");
    CHECK(options_error("pcre:\"/a{2,1}/\";") ==
          "t.rules:1: sid 1: pcre: PCRE2 rejects '/a{2,1}/': numbers out of order in {} quantifier at offset 5");
}
