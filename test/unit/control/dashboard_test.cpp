// The dashboard page: self-contained, and data from traffic or the
// configuration cannot become markup.

#include <catch2/catch.hpp>

#include "control/dashboard.hpp"

using namespace sg::control;
using nlohmann::json;

TEST_CASE("The page embeds its data as JSON that cannot close the script element") {
    const json data = {{"incidents", {{{"id", 1}, {"type", "</script><script>alert(1)</script>"}, {"state", "open"}}}},
                       {"posture", {{"deployments", {{{"name", "web & <db>"}}}}}}};
    const std::string page = render_dashboard(data);
    CHECK(page.find("</script><script>alert(1)") == std::string::npos);
    CHECK(page.find("web & <db>") == std::string::npos);
    CHECK(page.find(R"(\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e)") != std::string::npos);
    CHECK(page.find(R"(web \u0026 \u003cdb\u003e)") != std::string::npos);
    // The embedded text is JSON that reads back as the data.
    const std::string open = "<script type=\"application/json\" id=\"initial\">";
    const size_t from = page.find(open) + open.size();
    const size_t to = page.find("</script>", from);
    CHECK(json::parse(page.substr(from, to - from)) == data);
}

TEST_CASE("The page needs nothing from elsewhere and puts data in as text") {
    const std::string page = render_dashboard(json::object());
    CHECK(page.starts_with("<!DOCTYPE html>"));
    for (const char* outside : {"http://", "https://", "src=", "<link", "@import", "innerHTML"}) {
        INFO(outside);
        CHECK(page.find(outside) == std::string::npos);
    }
    CHECK(page.find("textContent") != std::string::npos);
    CHECK(page.find("fetch(\"/api/dashboard\"") != std::string::npos);
}
