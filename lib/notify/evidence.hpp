#pragma once
// Evidence captures: the first N packets of each incident, one pcap file per
// incident (STATE_DIR/evidence/incident-ID.pcap, Ethernet link type), written
// with libpcap. The file name goes into the e-mail and the incident.
//
// A file that exists when an incident's packets arrive (the daemon restarted)
// is appended to, counting the packets already in it, so N holds across
// restarts. Each add() flushes, so a kill loses no accepted packet.
//
// Thread: one owner (the thread that receives the packets from the workers).
// Not for the worker's packet path: it allocates and writes files.

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>

#include "core/result.hpp"
#include "core/time.hpp"

namespace sg::notify {

class EvidenceWriter {
public:
    // `max_packets` per incident (0: no evidence is written); `snaplen` bytes per packet at most.
    static Result<EvidenceWriter> open(const std::string& state_dir, uint32_t max_packets,
                                       uint32_t snaplen = 65535);
    EvidenceWriter(EvidenceWriter&&) noexcept;
    EvidenceWriter& operator=(EvidenceWriter&&) noexcept;
    ~EvidenceWriter();

    // The file name (no directory) of an incident's capture: "incident-42.pcap".
    static std::string file_name(uint64_t incident_id);
    std::string path(uint64_t incident_id) const;

    // Appends one packet (an Ethernet frame) unless the incident has its N.
    // Returns whether it was written.
    Result<bool> add(uint64_t incident_id, Nanos timestamp, std::span<const uint8_t> frame);
    // Packets in an incident's file so far.
    uint32_t count(uint64_t incident_id) const;
    // Closes an incident's file (the incident ended); later adds reopen it.
    void close(uint64_t incident_id);

private:
    struct File;
    EvidenceWriter(std::string dir, uint32_t max_packets, uint32_t snaplen);
    Result<File*> file_for(uint64_t incident_id);

    std::string dir_;
    uint32_t max_packets_ = 0;
    uint32_t snaplen_ = 0;
    std::map<uint64_t, std::unique_ptr<File>> open_;
};

} // namespace sg::notify
