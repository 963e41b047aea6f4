#pragma once
// Classifications: the classtype table of a Suricata classification.config
// ("config classification: SHORTNAME,DESCRIPTION,PRIORITY"). A rule's
// classtype gives it a priority unless the rule sets one; an unknown
// classtype is a warning, not an error (the rule keeps priority 3). With no
// file at all the table is empty and every rule defaults to priority 3.
//
// Thread: control side only.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sg::rules {

inline constexpr uint32_t kDefaultPriority = 3;

struct Classification {
    std::string description;
    uint32_t priority = kDefaultPriority;
};

class Classifications {
public:
    // nullptr when the classtype is not in the table.
    const Classification* find(std::string_view name) const;
    bool empty() const { return table_.empty(); }
    size_t size() const { return table_.size(); }
    void add(std::string name, Classification c) { table_[std::move(name)] = std::move(c); }

private:
    std::map<std::string, Classification, std::less<>> table_;
};

// Errors name the file and line: "classification.config:7: expected
// 'config classification: NAME,DESCRIPTION,PRIORITY', got '...'".
// A classtype listed twice keeps the later line, as Suricata does.
Result<Classifications> load_classifications(const std::string& path);
Result<Classifications> parse_classifications(std::string_view text, const std::string& name);

} // namespace sg::rules
