#include "queue/record_ring.hpp"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <fmt/format.h>

namespace sg {

Result<RecordRing*> RecordRing::create(const std::string& name, uint32_t size, int socket) {
    rte_ring* ring = rte_ring_create_elem(name.c_str(), sizeof(Record), size, socket,
                                          RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
    if (!ring)
        return make_error(fmt::format("cannot create ring {} of {} records: {}", name, size,
                                      rte_strerror(rte_errno)));
    auto* r = new RecordRing;
    r->ring_ = ring;
    return r;
}

void RecordRing::destroy(RecordRing* r) {
    if (!r) return;
    rte_ring_free(r->ring_);
    delete r;
}

} // namespace sg
