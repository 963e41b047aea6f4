#pragma once
// HttpLog: the reporter's side of HTTP. Assembles each flow's transactions
// from the workers' http records (fields, status, length, body end) and
// writes Suricata 7's eve events for them when a transaction is done:
// `fileinfo` for a response body, then `http`. Alerts ask it for the http
// object of their transaction as it stands when the alert arrives (the
// records before it in the worker's ring are the worker's state then).
//
// Bounded by the workers' flows: a flow's state goes when its flow record
// arrives, a transaction once a later one was logged.
//
// Thread: the reporter's only.

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "http/http_parser.hpp"
#include "queue/record.hpp"

namespace sg {

class HttpLog {
public:
    // A worker's record of the flow whose eve flow_id is `flow_id`; writes
    // the transaction's events to `eve` (nullptr: none) when it is done.
    void add(uint64_t flow_id, const HttpRecord& r, std::FILE* eve);
    // The http object of transaction `tx` of the flow, now (null: unknown).
    nlohmann::json http_object(uint64_t flow_id, uint32_t tx) const;
    // The flow ended: its transactions are forgotten.
    void flow_ended(uint64_t flow_id) { flows_.erase(flow_id); }

    uint64_t transactions() const { return transactions_; }
    uint64_t files() const { return files_; }

private:
    struct Tx {
        std::string fields[kHttpFields];
        bool has[kHttpFields] = {};
        uint16_t status = 0;
        uint64_t length = 0;
    };
    struct FlowTxs {
        std::unordered_map<uint32_t, Tx> txs;
        HttpField last_field = HttpField::method;  // where a `continued` text goes
        uint32_t last_tx = 0;
    };
    static nlohmann::json object_of(const Tx& t);
    void write_http(uint64_t flow_id, const HttpRecord& r, const Tx& t, std::FILE* eve);
    void write_file(uint64_t flow_id, const HttpRecord& r, const Tx& t, std::FILE* eve);

    std::unordered_map<uint64_t, FlowTxs> flows_;
    uint64_t transactions_ = 0;
    uint64_t files_ = 0;
};

// (Text from traffic goes into eve through utf8_lossy, core/text.hpp.)

} // namespace sg
