#pragma once
// HttpListener: the metrics and dashboard listener (cpp-httplib), off the
// packet path like the control socket. GET only:
//
//   /metrics          Prometheus text format (routes.metrics)
//   /                 the dashboard page (routes.dashboard)
//   /api/NAME         JSON (routes.api("NAME")): what the dashboard reads
//
// No authentication: listen on loopback (the default) or behind a proxy.
// httplib's own threads (two) call the routes, so the routes must be safe
// to call from any thread that is not a worker.
//
// Thread: start()/stop() on the control side.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace sg::control {

struct HttpRoutes {
    std::function<std::string()> metrics;
    std::function<std::string()> dashboard;
    std::function<Result<nlohmann::json>(const std::string& name)> api;
};

class HttpListener {
public:
    // Binds host:port (an error names the address and why) and serves on
    // a thread of its own. Port 0: any free port (tests), see port().
    static Result<std::unique_ptr<HttpListener>> start(const std::string& host, uint16_t port, HttpRoutes routes);
    ~HttpListener();
    HttpListener(const HttpListener&) = delete;
    HttpListener& operator=(const HttpListener&) = delete;
    void stop();
    uint16_t port() const;

private:
    struct Impl;
    explicit HttpListener(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace sg::control
