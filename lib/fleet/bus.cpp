#include "fleet/bus.hpp"

#include <nats/nats.h>

#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sg::fleet {

namespace {

// libnats' own description of the last error on this thread, which names
// more than the status (the server's JetStream error text).
std::string describe(natsStatus s, jsErrCode jerr = jsErrCode(0)) {
    std::string text = natsStatus_GetText(s);
    if (const char* last = nats_GetLastError(nullptr); last && *last && text.find(last) == std::string::npos)
        text = fmt::format("{}: {}", text, last);
    if (jerr) text += fmt::format(" (JetStream error {})", int(jerr));
    return text;
}

Error nats_error(std::string_view what, natsStatus s, jsErrCode jerr = jsErrCode(0)) {
    return make_error(fmt::format("{}: {}", what, describe(s, jerr)));
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
        else if (c == '-') c = '_';
    return out;
}

constexpr int64_t kWindowsMaxAge = int64_t(3600) * 1'000'000'000;  // windows older than an hour are history
constexpr int64_t kDuplicateWindow = int64_t(600) * 1'000'000'000; // resent windows are dropped for 10 minutes

} // namespace

std::string Names::window_subject(std::string_view appliance) const {
    // safeguard.<site>.*.window with the appliance in place of the wildcard
    return windows_subjects.substr(0, windows_subjects.find('*')) + std::string(appliance) + ".window";
}

Names names_for(std::string_view site) {
    Names n;
    n.windows_stream = fmt::format("SAFEGUARD_{}_WINDOWS", upper(site));
    n.windows_subjects = fmt::format("safeguard.{}.*.window", site);
    n.state_bucket = fmt::format("safeguard-{}-state", site);
    n.decisions_bucket = fmt::format("safeguard-{}-decisions", site);
    n.consumer = "aggregator";
    return n;
}

// --- Fetched ------------------------------------------------------------------------

Fetched::Fetched(natsMsg* m, uint64_t stream_seq) : msg_(m), seq_(stream_seq) {}
Fetched::~Fetched() {
    if (msg_) natsMsg_Destroy(msg_);
}
Fetched::Fetched(Fetched&& o) noexcept : msg_(std::exchange(o.msg_, nullptr)), seq_(o.seq_) {}
Fetched& Fetched::operator=(Fetched&& o) noexcept {
    if (this != &o) {
        if (msg_) natsMsg_Destroy(msg_);
        msg_ = std::exchange(o.msg_, nullptr);
        seq_ = o.seq_;
    }
    return *this;
}
std::string_view Fetched::subject() const { return natsMsg_GetSubject(msg_); }
std::string_view Fetched::data() const {
    return {natsMsg_GetData(msg_), size_t(natsMsg_GetDataLength(msg_))};
}
void Fetched::ack() {
    // Best effort: the aggregator's cursor (not the ack) is what resumes.
    (void)natsMsg_Ack(msg_, nullptr);
}

// --- PullConsumer --------------------------------------------------------------------

PullConsumer::~PullConsumer() { natsSubscription_Destroy(sub_); }

Result<std::vector<Fetched>> PullConsumer::fetch(int batch, std::chrono::milliseconds wait) {
    natsMsgList list{};
    const natsStatus s = natsSubscription_Fetch(&list, sub_, batch, int64_t(wait.count()), nullptr);
    std::vector<Fetched> out;
    if (s == NATS_TIMEOUT) return out;
    if (s != NATS_OK) return nats_error("fetching windows", s);
    out.reserve(size_t(list.Count));
    for (int i = 0; i < list.Count; ++i) {
        natsMsg* m = list.Msgs[i];
        list.Msgs[i] = nullptr;
        uint64_t seq = 0;
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
            seq = meta->Sequence.Stream;
            jsMsgMetaData_Destroy(meta);
        }
        out.emplace_back(m, seq);
    }
    natsMsgList_Destroy(&list);
    return out;
}

// --- Kv ------------------------------------------------------------------------------

Kv::~Kv() { kvStore_Destroy(kv_); }

Result<std::optional<KvEntry>> Kv::get(const std::string& key) {
    kvEntry* e = nullptr;
    const natsStatus s = kvStore_Get(&e, kv_, key.c_str());
    if (s == NATS_NOT_FOUND) return std::optional<KvEntry>();
    if (s != NATS_OK) return nats_error(fmt::format("{}: reading {}", bucket_, key), s);
    KvEntry out{key, std::string(static_cast<const char*>(kvEntry_Value(e)), size_t(kvEntry_ValueLen(e))),
                kvEntry_Revision(e), false};
    kvEntry_Destroy(e);
    return std::optional<KvEntry>(std::move(out));
}

Result<uint64_t> Kv::put(const std::string& key, std::string_view value) {
    uint64_t rev = 0;
    const natsStatus s = kvStore_Put(&rev, kv_, key.c_str(), value.data(), int(value.size()));
    if (s != NATS_OK) return nats_error(fmt::format("{}: writing {}", bucket_, key), s);
    return rev;
}

Result<uint64_t> Kv::create(const std::string& key, std::string_view value) {
    uint64_t rev = 0;
    const natsStatus s = kvStore_Create(&rev, kv_, key.c_str(), value.data(), int(value.size()));
    if (s != NATS_OK) return nats_error(fmt::format("{}: creating {}", bucket_, key), s);
    return rev;
}

Result<uint64_t> Kv::update(const std::string& key, std::string_view value, uint64_t last) {
    uint64_t rev = 0;
    const natsStatus s = kvStore_Update(&rev, kv_, key.c_str(), value.data(), int(value.size()), last);
    if (s != NATS_OK) return nats_error(fmt::format("{}: updating {} at revision {}", bucket_, key, last), s);
    return rev;
}

Result<> Kv::erase(const std::string& key) {
    const natsStatus s = kvStore_Delete(kv_, key.c_str());
    if (s != NATS_OK) return nats_error(fmt::format("{}: deleting {}", bucket_, key), s);
    return {};
}

Result<std::vector<std::string>> Kv::keys() {
    kvKeysList list{};
    const natsStatus s = kvStore_Keys(&list, kv_, nullptr);
    std::vector<std::string> out;
    if (s == NATS_NOT_FOUND) return out;  // an empty bucket
    if (s != NATS_OK) return nats_error(fmt::format("{}: listing keys", bucket_), s);
    for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
    kvKeysList_Destroy(&list);
    return out;
}

Result<std::unique_ptr<KvWatcher>> Kv::watch_all() {
    kvWatcher* w = nullptr;
    const natsStatus s = kvStore_WatchAll(&w, kv_, nullptr);
    if (s != NATS_OK) return nats_error(fmt::format("{}: watching", bucket_), s);
    return std::unique_ptr<KvWatcher>(new KvWatcher(w));
}

KvWatcher::~KvWatcher() {
    kvWatcher_Stop(w_);
    kvWatcher_Destroy(w_);
}

Result<std::optional<KvEntry>> KvWatcher::next(std::chrono::milliseconds wait) {
    kvEntry* e = nullptr;
    const natsStatus s = kvWatcher_Next(&e, w_, int64_t(wait.count()));
    if (s == NATS_TIMEOUT) return std::optional<KvEntry>();
    if (s != NATS_OK) return nats_error("watching a bucket", s);
    if (!e) return std::optional<KvEntry>(KvEntry{});  // the current values are all in
    KvEntry out{kvEntry_Key(e), std::string(static_cast<const char*>(kvEntry_Value(e)), size_t(kvEntry_ValueLen(e))),
                kvEntry_Revision(e), kvEntry_Operation(e) != kvOp_Put};
    kvEntry_Destroy(e);
    return std::optional<KvEntry>(std::move(out));
}

// --- Bus -----------------------------------------------------------------------------

struct BusCallbacks {
    // Without a callback libnats would retry inside natsConnection_Connect()
    // until it connects, which with unlimited reconnects means never
    // returning while the bus is away. With one, the call returns
    // NATS_NOT_YET_CONNECTED and libnats keeps trying on its own thread;
    // connected() tells the rest.
    static void connected_later(natsConnection*, void*) {}
    static void publish_error(jsCtx*, jsPubAckErr* pae, void* closure) {
        auto* bus = static_cast<Bus*>(closure);
        std::lock_guard<std::mutex> lock(bus->async_mutex_);
        if (bus->async_error_.empty())
            bus->async_error_ = pae->ErrText && *pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err);
    }
};

Result<std::unique_ptr<Bus>> Bus::connect(const FleetConfig& cfg, std::string_view client_name,
                                          bool retry_connect) {
    std::unique_ptr<Bus> bus(new Bus(cfg));
    natsOptions* opts = nullptr;
    if (natsStatus s = natsOptions_Create(&opts); s != NATS_OK) return nats_error("NATS options", s);
    std::vector<const char*> servers;
    for (const std::string& url : cfg.servers) servers.push_back(url.c_str());
    const std::string name(client_name);
    natsStatus s = natsOptions_SetServers(opts, servers.data(), int(servers.size()));
    if (s == NATS_OK) s = natsOptions_SetName(opts, name.c_str());
    // Forever: a fleet member outlives any outage of its bus.
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
    if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, 500);
    if (s == NATS_OK) s = natsOptions_SetTimeout(opts, 2000);
    // A request while disconnected fails at once instead of waiting its timeout.
    if (s == NATS_OK) s = natsOptions_SetFailRequestsOnDisconnect(opts, true);
    if (s == NATS_OK && retry_connect)
        s = natsOptions_SetRetryOnFailedConnect(opts, true, &BusCallbacks::connected_later, nullptr);
    if (s != NATS_OK) {
        natsOptions_Destroy(opts);
        return nats_error("NATS options", s);
    }
    s = natsConnection_Connect(&bus->nc_, opts);
    natsOptions_Destroy(opts);
    if (s != NATS_OK && !(retry_connect && s == NATS_NOT_YET_CONNECTED))
        return nats_error(fmt::format("connecting to {}", fmt::join(cfg.servers, ",")), s);
    jsOptions jo;
    jsOptions_Init(&jo);
    // Requests (key-value, stream and consumer management) wait this long;
    // the lease's margin counts on it (Lease::kRequestTimeout).
    jo.Wait = 2000;
    jo.PublishAsync.ErrHandler = &BusCallbacks::publish_error;
    jo.PublishAsync.ErrHandlerClosure = bus.get();
    jo.PublishAsync.MaxPending = 256;
    if (s = natsConnection_JetStream(&bus->js_, bus->nc_, &jo); s != NATS_OK) return nats_error("JetStream", s);
    return bus;
}

Bus::~Bus() {
    if (js_) jsCtx_Destroy(js_);
    if (nc_) {
        natsConnection_Close(nc_);
        natsConnection_Destroy(nc_);
    }
}

int64_t Bus::max_payload() const { return nc_ ? natsConnection_GetMaxPayload(nc_) : 0; }

bool Bus::connected() const { return nc_ && natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

Result<> Bus::ensure_windows_stream() {
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char* subjects[] = {names_.windows_subjects.c_str()};
    sc.Name = names_.windows_stream.c_str();
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Retention = js_LimitsPolicy;
    sc.Replicas = int64_t(cfg_.replicas);
    sc.MaxAge = kWindowsMaxAge;
    sc.Duplicates = kDuplicateWindow;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = jsErrCode(0);
    natsStatus s = js_AddStream(&si, js_, &sc, nullptr, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        jerr = jsErrCode(0);
        s = js_UpdateStream(&si, js_, &sc, nullptr, &jerr);
    }
    if (si) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) return nats_error(fmt::format("stream {}", names_.windows_stream), s, jerr);
    return {};
}

Result<std::unique_ptr<Kv>> Bus::bucket(const std::string& name, uint8_t history) {
    kvStore* kv = nullptr;
    natsStatus s = js_KeyValue(&kv, js_, name.c_str());
    if (s == NATS_NOT_FOUND) {
        kvConfig kc;
        kvConfig_Init(&kc);
        kc.Bucket = name.c_str();
        kc.History = history;
        kc.StorageType = js_FileStorage;
        kc.Replicas = int(cfg_.replicas);
        s = js_CreateKeyValue(&kv, js_, &kc);
        // Another member created it meanwhile.
        if (s != NATS_OK) s = js_KeyValue(&kv, js_, name.c_str());
    }
    if (s != NATS_OK) return nats_error(fmt::format("bucket {}", name), s);
    return std::unique_ptr<Kv>(new Kv(kv, name));
}

Result<> Bus::publish_batch(std::span<const Outgoing> batch, std::chrono::milliseconds wait) {
    // While the connection is away libnats would keep the batch in its
    // reconnect buffer (8 MB, outside fleet.backlog_mib) and send it on
    // reconnecting, even windows the publisher has since dropped from its
    // spool; and this call would wait `wait` for acknowledgements that
    // cannot come.
    if (!connected()) return make_error(fmt::format("not connected to {}", fmt::join(cfg_.servers, ",")));
    {
        std::lock_guard<std::mutex> lock(async_mutex_);
        async_error_.clear();
    }
    for (const Outgoing& o : batch) {
        natsMsg* m = nullptr;
        natsStatus s = natsMsg_Create(&m, o.subject.c_str(), nullptr, o.payload.data(), int(o.payload.size()));
        if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", o.msg_id.c_str());
        jsPubOptions po;
        jsPubOptions_Init(&po);
        po.MaxWait = int64_t(wait.count());
        if (s == NATS_OK) s = js_PublishMsgAsync(js_, &m, &po);  // takes the message on success
        if (m) natsMsg_Destroy(m);
        if (s != NATS_OK) {
            jsPubOptions co;
            jsPubOptions_Init(&co);
            co.MaxWait = 100;
            (void)js_PublishAsyncComplete(js_, &co);
            return nats_error(fmt::format("publishing {}", o.subject), s);
        }
    }
    jsPubOptions co;
    jsPubOptions_Init(&co);
    co.MaxWait = int64_t(wait.count());
    const natsStatus s = js_PublishAsyncComplete(js_, &co);
    if (s != NATS_OK) {
        // Forget what is still in flight: the whole batch is sent again.
        natsMsgList pending{};
        if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
        return nats_error(fmt::format("waiting for JetStream to acknowledge {} window(s)", batch.size()), s);
    }
    std::lock_guard<std::mutex> lock(async_mutex_);
    if (!async_error_.empty()) return make_error(fmt::format("JetStream refused a window: {}", async_error_));
    return {};
}

Result<std::unique_ptr<PullConsumer>> Bus::windows_consumer(uint64_t start) {
    const std::string& stream = names_.windows_stream;
    const std::string& durable = names_.consumer;
    jsErrCode jerr = jsErrCode(0);
    // A consumer left by another aggregator delivers from its own position:
    // this one resumes from its cursor instead.
    natsStatus s = js_DeleteConsumer(js_, stream.c_str(), durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr)
        return nats_error(fmt::format("deleting consumer {} of {}", durable, stream), s, jerr);
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = int64_t(30) * 1'000'000'000;
    cc.MaxAckPending = 100000;
    cc.DeliverPolicy = start > 1 ? js_DeliverByStartSequence : js_DeliverAll;
    if (start > 1) cc.OptStartSeq = start;
    jsConsumerInfo* ci = nullptr;
    jerr = jsErrCode(0);
    s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &jerr);
    if (ci) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) return nats_error(fmt::format("creating consumer {} of {}", durable, stream), s, jerr);
    natsSubscription* sub = nullptr;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Consumer = durable.c_str();
    s = js_PullSubscribe(&sub, js_, names_.windows_subjects.c_str(), durable.c_str(), nullptr, &so, &jerr);
    if (s != NATS_OK) return nats_error(fmt::format("binding to consumer {} of {}", durable, stream), s, jerr);
    return std::unique_ptr<PullConsumer>(new PullConsumer(sub));
}

Result<uint64_t> Bus::windows_pending() {
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = jsErrCode(0);
    const natsStatus s = js_GetConsumerInfo(&ci, js_, names_.windows_stream.c_str(), names_.consumer.c_str(),
                                            nullptr, &jerr);
    if (s != NATS_OK) return nats_error("consumer info", s, jerr);
    const uint64_t pending = ci->NumPending;
    jsConsumerInfo_Destroy(ci);
    return pending;
}

} // namespace sg::fleet
