#pragma once
// Header address and port fields -> normalised AddressSet / PortSet.
//
// Grammar (both fields): an item is "any", a literal, "$VAR", "[item,...]"
// or "!item". In a list, the non-negated items are united (all addresses
// when there are none) and the negated ones removed, so
// "[10.0.0.0/8,!10.1.0.0/16]" is 10/8 without 10.1/16 and "[!$HOME_NET]"
// equals "!$HOME_NET". Nesting and variables that name variables are
// resolved to plain sets of prefixes (or port ranges) here, once.
//
// Address literals: "10.0.0.1", "10.0.0.0/8", "10.0.0.0/255.0.0.0",
// "2001:db8::/32", "10.0.0.1-10.0.0.9". Host bits under the prefix length
// are cleared with a warning (Suricata accepts them silently).
// Port literals: "80", "1024:" (to 65535), ":1023" (from 0), "80:90".
//
// A set that matches nothing ("![any]", or "!$HOME_NET" while HOME_NET is
// "any") is returned as nullopt: the caller decides whether that is an error
// (written so) or a rule that cannot match under these variables.
// Errors carry no location: the rule parser prefixes file, line and field.
// Thread: control side only.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "match/rule.hpp"
#include "match/vars.hpp"

namespace sg::rules {

// `warnings` (may be null) collects the host-bits notes.
Result<std::optional<AddressSet>> parse_address_set(std::string_view text, const Vars& vars,
                                     std::vector<std::string>* warnings = nullptr);
Result<std::optional<PortSet>> parse_port_set(std::string_view text, const Vars& vars);

} // namespace sg::rules
