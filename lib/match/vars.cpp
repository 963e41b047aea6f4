#include "match/vars.hpp"

namespace sg::rules {

Vars::Vars() {
    addresses_ = {
        {"HOME_NET", "any"},
        {"EXTERNAL_NET", "!$HOME_NET"},
        {"HTTP_SERVERS", "$HOME_NET"},
        {"SMTP_SERVERS", "$HOME_NET"},
        {"SQL_SERVERS", "$HOME_NET"},
        {"DNS_SERVERS", "$HOME_NET"},
        {"TELNET_SERVERS", "$HOME_NET"},
        {"AIM_SERVERS", "$EXTERNAL_NET"},
        {"DC_SERVERS", "$HOME_NET"},
        {"DNP3_SERVER", "$HOME_NET"},
        {"DNP3_CLIENT", "$HOME_NET"},
        {"MODBUS_CLIENT", "$HOME_NET"},
        {"MODBUS_SERVER", "$HOME_NET"},
        {"ENIP_CLIENT", "$HOME_NET"},
        {"ENIP_SERVER", "$HOME_NET"},
    };
    ports_ = {
        {"HTTP_PORTS", "80"},
        {"SHELLCODE_PORTS", "!80"},
        {"ORACLE_PORTS", "1521"},
        {"SSH_PORTS", "22"},
        {"DNP3_PORTS", "20000"},
        {"MODBUS_PORTS", "502"},
        {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},
        {"FTP_PORTS", "21"},
        {"GENEVE_PORTS", "6081"},
        {"VXLAN_PORTS", "4789"},
        {"TEREDO_PORTS", "3544"},
    };
}

void Vars::set_address(std::string name, std::string text) {
    if (name == "EXTERNAL_NET") external_net_default_ = false;
    addresses_[std::move(name)] = std::move(text);
}

void Vars::set_port(std::string name, std::string text) { ports_[std::move(name)] = std::move(text); }

void Vars::set_home_net(const std::vector<Prefix>& prefixes) {
    if (prefixes.empty()) {
        set_address("HOME_NET", "any");
        return;
    }
    std::string text = "[";
    for (size_t i = 0; i < prefixes.size(); ++i) {
        if (i) text += ',';
        text += prefixes[i].to_string();
    }
    text += ']';
    set_address("HOME_NET", std::move(text));
}

const std::string* Vars::address(std::string_view name) const {
    const auto it = addresses_.find(name);
    if (it == addresses_.end()) return nullptr;
    if (name == "EXTERNAL_NET" && external_net_default_) {
        const auto home = addresses_.find("HOME_NET");
        if (home != addresses_.end() && home->second == "any") return &any_;
    }
    return &it->second;
}

const std::string* Vars::port(std::string_view name) const {
    const auto it = ports_.find(name);
    return it == ports_.end() ? nullptr : &it->second;
}

} // namespace sg::rules
