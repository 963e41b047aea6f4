// HttpListener through a real client: the routes, the content types and
// the dashboard's security headers.

#include <catch2/catch.hpp>

#include <httplib.h>

#include "control/http.hpp"

using namespace sg;
using namespace sg::control;
using nlohmann::json;

TEST_CASE("GET /metrics, /, /api/NAME; unknown pages and API names are 404") {
    HttpRoutes routes;
    routes.metrics = [] { return std::string("safeguard_up 1\n"); };
    routes.dashboard = [] { return std::string("<!DOCTYPE html><title>x</title>"); };
    routes.api = [](const std::string& name) -> Result<json> {
        if (name == "status") return json{{"mode", "tap"}};
        return make_error("no API named '" + name + "'");
    };
    auto listener = HttpListener::start("127.0.0.1", 0, routes);
    REQUIRE(listener.ok());
    const uint16_t port = (*listener)->port();
    REQUIRE(port != 0);

    httplib::Client client("127.0.0.1", port);
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    CHECK(metrics->body == "safeguard_up 1\n");
    CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");

    auto page = client.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK(page->get_header_value("Content-Type") == "text/html; charset=utf-8");
    CHECK(page->get_header_value("Content-Security-Policy").find("default-src 'none'") != std::string::npos);

    auto api = client.Get("/api/status");
    REQUIRE(api);
    CHECK(api->status == 200);
    CHECK(json::parse(api->body) == json{{"mode", "tap"}});

    auto missing = client.Get("/api/nothing");
    REQUIRE(missing);
    CHECK(missing->status == 404);
    CHECK(missing->body == "no API named 'nothing'\n");
    auto nowhere = client.Get("/admin");
    REQUIRE(nowhere);
    CHECK(nowhere->status == 404);

    (*listener)->stop();
    CHECK_FALSE(client.Get("/metrics"));
}

TEST_CASE("A port in use is an error naming the address") {
    HttpRoutes routes;
    routes.metrics = [] { return std::string(); };
    routes.dashboard = routes.metrics;
    routes.api = [](const std::string&) -> Result<json> { return json(); };
    auto first = HttpListener::start("127.0.0.1", 0, routes);
    REQUIRE(first.ok());
    const uint16_t port = (*first)->port();
    auto second = HttpListener::start("127.0.0.1", port, routes);
    REQUIRE_FALSE(second.ok());
    CHECK(second.error().message.starts_with("metrics.listen 127.0.0.1:" + std::to_string(port) + ": cannot listen"));
}
