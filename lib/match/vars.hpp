#pragma once
// Vars: the address and port variables a rule header may name ("$HOME_NET",
// "$HTTP_PORTS"), as text in rule syntax. A new Vars holds Suricata-like
// defaults; the caller sets HOME_NET from the protected deployments. The
// parser expands them (recursively, at most kMaxVarDepth deep) when it reads
// a header, so a change here affects only rule sets parsed afterwards.
//
// EXTERNAL_NET defaults to "!$HOME_NET", except while HOME_NET is "any": then
// it is "any" too, because "!any" matches nothing and every rule naming
// $EXTERNAL_NET would be rejected.
//
// Thread: control side only.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.hpp"

namespace sg::rules {

inline constexpr int kMaxVarDepth = 16;

class Vars {
public:
    Vars();  // the defaults listed in docs/rules.md

    void set_address(std::string name, std::string text);  // name without '$'
    void set_port(std::string name, std::string text);
    // HOME_NET = "[p1,p2,...]" (or "any" when the list is empty).
    void set_home_net(const std::vector<Prefix>& prefixes);

    // The text of a variable, or nullptr when it is not defined.
    const std::string* address(std::string_view name) const;
    const std::string* port(std::string_view name) const;

    const std::map<std::string, std::string, std::less<>>& addresses() const { return addresses_; }
    const std::map<std::string, std::string, std::less<>>& ports() const { return ports_; }

private:
    std::map<std::string, std::string, std::less<>> addresses_;
    std::map<std::string, std::string, std::less<>> ports_;
    bool external_net_default_ = true;
    std::string any_ = "any";
};

} // namespace sg::rules
