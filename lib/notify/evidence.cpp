#include "notify/evidence.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <pcap/pcap.h>

namespace sg::notify {

struct EvidenceWriter::File {
    pcap_t* dead = nullptr;
    pcap_dumper_t* dumper = nullptr;
    uint32_t count = 0;
    long good = 0;  // bytes of whole packets on disk: a failed write is cut back to here

    void finish() {
        if (dumper) pcap_dump_close(dumper);
        if (dead) pcap_close(dead);
        dumper = nullptr;
        dead = nullptr;
    }
    ~File() { finish(); }
};

namespace {

// Packets already in a capture written before a restart; an unreadable or
// truncated file counts what could be read.
uint32_t packets_in(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline(path.c_str(), err);
    if (!p) return 0;
    uint32_t n = 0;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    while (pcap_next_ex(p, &h, &data) == 1) ++n;
    pcap_close(p);
    return n;
}

} // namespace

EvidenceWriter::EvidenceWriter(std::string dir, uint32_t max_packets, uint32_t snaplen)
    : dir_(std::move(dir)), max_packets_(max_packets), snaplen_(snaplen) {}
EvidenceWriter::EvidenceWriter(EvidenceWriter&&) noexcept = default;
EvidenceWriter& EvidenceWriter::operator=(EvidenceWriter&&) noexcept = default;
EvidenceWriter::~EvidenceWriter() = default;

Result<EvidenceWriter> EvidenceWriter::open(const std::string& state_dir, uint32_t max_packets,
                                            uint32_t snaplen) {
    if (state_dir.empty()) return make_error("state_dir: expected a directory, got nothing");
    if (snaplen < 64 || snaplen > 262144)
        return make_error(fmt::format("evidence: expected a snap length between 64 and 262144, got {}", snaplen));
    const std::string dir = state_dir + "/evidence";
    for (const auto& d : {state_dir, dir}) {
        if (::mkdir(d.c_str(), 0750) != 0 && errno != EEXIST)
            return make_error(fmt::format("{}: cannot create directory: {}", d, std::strerror(errno)));
        struct stat st {};
        if (::stat(d.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            return make_error(fmt::format("{}: expected a directory", d));
    }
    return EvidenceWriter(dir, max_packets, snaplen);
}

std::string EvidenceWriter::file_name(uint64_t incident_id) {
    return fmt::format("incident-{}.pcap", incident_id);
}

std::string EvidenceWriter::path(uint64_t incident_id) const {
    return dir_ + "/" + file_name(incident_id);
}

Result<EvidenceWriter::File*> EvidenceWriter::file_for(uint64_t incident_id) {
    if (const auto it = open_.find(incident_id); it != open_.end()) return it->second.get();
    auto f = std::make_unique<File>();
    const std::string p = path(incident_id);
    struct stat st {};
    const bool existing = ::stat(p.c_str(), &st) == 0 && st.st_size > 0;
    f->count = existing ? packets_in(p) : 0;
    if (f->count < max_packets_) {
        f->dead = pcap_open_dead(DLT_EN10MB, int(snaplen_));
        if (!f->dead) return make_error(fmt::format("{}: libpcap: cannot create a capture handle", p));
        f->dumper = existing ? pcap_dump_open_append(f->dead, p.c_str()) : pcap_dump_open(f->dead, p.c_str());
        if (!f->dumper) return make_error(fmt::format("{}: cannot write: {}", p, pcap_geterr(f->dead)));
        if (pcap_dump_flush(f->dumper) != 0) {
            // A disk that is full: no half header left behind for the next try.
            const int err = errno;
            f->finish();
            if (!existing) ::unlink(p.c_str());
            return make_error(fmt::format("{}: cannot write: {}", p, std::strerror(err)));
        }
        f->good = pcap_dump_ftell(f->dumper);
    }
    return open_.emplace(incident_id, std::move(f)).first->second.get();
}

Result<bool> EvidenceWriter::add(uint64_t incident_id, Nanos timestamp, std::span<const uint8_t> frame) {
    if (max_packets_ == 0) return false;
    auto f = file_for(incident_id);
    if (!f) return f.error();
    File& file = **f;
    if (file.count >= max_packets_ || !file.dumper) return false;
    pcap_pkthdr h {};
    h.ts.tv_sec = time_t(timestamp / kNsPerSec);
    h.ts.tv_usec = suseconds_t((timestamp % kNsPerSec) / kNsPerUs);
    h.len = uint32_t(frame.size());
    h.caplen = std::min<uint32_t>(h.len, snaplen_);
    pcap_dump(reinterpret_cast<u_char*>(file.dumper), &h, frame.data());
    if (pcap_dump_flush(file.dumper) != 0) {
        // Cut the torn packet off, so that the capture stays readable and a
        // later add (the disk has room again) appends after the last whole one.
        const int err = errno;
        const long keep = file.good;
        const std::string p = path(incident_id);
        open_.erase(incident_id);
        if (::truncate(p.c_str(), off_t(keep)) != 0 && keep == 0) ::unlink(p.c_str());
        return make_error(fmt::format("{}: cannot write: {}", p, std::strerror(err)));
    }
    file.good = pcap_dump_ftell(file.dumper);
    ++file.count;
    if (file.count >= max_packets_) file.finish();  // full: no file handle held for it
    return true;
}

uint32_t EvidenceWriter::count(uint64_t incident_id) const {
    if (const auto it = open_.find(incident_id); it != open_.end()) return it->second->count;
    return packets_in(path(incident_id));
}

void EvidenceWriter::close(uint64_t incident_id) { open_.erase(incident_id); }

} // namespace sg::notify
