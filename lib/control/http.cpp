#include "control/http.hpp"

#include <cerrno>
#include <cstring>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

namespace sg::control {

struct HttpListener::Impl {
    HttpRoutes routes;
    httplib::Server server;
    std::thread thread;
    uint16_t port = 0;
};

namespace {

// The dashboard is self-contained: scripts and styles inline, data from
// this origin only.
constexpr const char* kDashboardPolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void fail(httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(message + "\n", "text/plain; charset=utf-8");
}

} // namespace

HttpListener::HttpListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpListener>> HttpListener::start(const std::string& host, uint16_t port, HttpRoutes routes) {
    auto impl = std::make_unique<Impl>();
    impl->routes = std::move(routes);
    Impl* p = impl.get();
    httplib::Server& s = impl->server;
    s.new_task_queue = [] { return new httplib::ThreadPool(2); };
    // httplib's default adds SO_REUSEPORT, which would let a second daemon
    // bind the same port and take half the scrapes: reuse the address only.
    s.set_socket_options([](socket_t sock) {
        int yes = 1;
        ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    s.set_payload_max_length(64 * 1024);
    s.set_keep_alive_max_count(100);
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
            if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        fail(res, 500, what);
    });
    s.Get("/metrics", [p](const httplib::Request&, httplib::Response& res) {
        res.set_content(p->routes.metrics(), "text/plain; version=0.0.4; charset=utf-8");
    });
    s.Get("/", [p](const httplib::Request&, httplib::Response& res) {
        res.set_header("Content-Security-Policy", kDashboardPolicy);
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Cache-Control", "no-store");
        res.set_content(p->routes.dashboard(), "text/html; charset=utf-8");
    });
    s.Get(R"(/api/([a-z_]+))", [p](const httplib::Request& req, httplib::Response& res) {
        const std::string name = req.matches[1];
        Result<nlohmann::json> r = p->routes.api(name);
        if (!r) return fail(res, 404, r.error().message);
        res.set_header("Cache-Control", "no-store");
        res.set_content(r->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json");
    });
    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404 && res.body.empty())
            fail(res, 404, fmt::format("no such page: {} (try /, /metrics or /api/dashboard)", req.path));
    });
    errno = 0;
    bool bound = false;
    if (port) {
        bound = s.bind_to_port(host, port);
    } else {
        const int any = s.bind_to_any_port(host);
        bound = any > 0;
        if (bound) impl->port = uint16_t(any);
    }
    if (!bound)
        return make_error(fmt::format("metrics.listen {}:{}: cannot listen: {}", host, port,
                                      errno ? std::strerror(errno) : "bind failed"));
    if (port) impl->port = port;
    impl->thread = std::thread([p] { p->server.listen_after_bind(); });
    // stop() before the thread got to listen would be lost (httplib only
    // stops a running server): return once it runs.
    for (int i = 0; i < 5000 && !impl->server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return std::unique_ptr<HttpListener>(new HttpListener(std::move(impl)));
}

void HttpListener::stop() {
    if (!impl_) return;
    impl_->server.stop();
    if (impl_->thread.joinable()) impl_->thread.join();
}

HttpListener::~HttpListener() { stop(); }

uint16_t HttpListener::port() const { return impl_ ? impl_->port : 0; }

} // namespace sg::control
