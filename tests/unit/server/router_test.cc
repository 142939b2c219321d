#include "server/router.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace switchboard::server {
namespace {

HttpResponse text(std::string body) { return HttpResponse{200, "text/plain", std::move(body), {}}; }

HttpRequest request(std::string_view method, std::string_view path) { return {method, path, path, {}, "127.0.0.1"}; }

// Runs the synchronous route found for method and path.
HttpResponse call(const Router& router, std::string_view method, std::string_view path) {
  Router::Match match = router.find(method, path);
  EXPECT_NE(match.route, nullptr);
  if (match.route == nullptr || !match.route->handler) return {};
  return match.route->handler(request(method, path));
}

TEST(Router, DispatchesByPathThenMethod) {
  Router router;
  router.add("GET", "/a", [](const HttpRequest&) { return text("a"); });
  router.add("POST", "/a", [](const HttpRequest&) { return HttpResponse{201, "text/plain", "posted", {}}; });
  EXPECT_EQ(call(router, "GET", "/a").body, "a");
  EXPECT_EQ(call(router, "POST", "/a").status, 201);
  Router::Match unknown = router.find("GET", "/b");
  EXPECT_EQ(unknown.route, nullptr);
  EXPECT_EQ(unknown.allow, "");  // 404
  Router::Match other_method = router.find("DELETE", "/a");
  EXPECT_EQ(other_method.route, nullptr);
  EXPECT_EQ(other_method.allow, "GET, POST");  // 405
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add("GET", "/a", [](const HttpRequest&) { return text("body"); });
  EXPECT_EQ(call(router, "HEAD", "/a").status, 200);
}

TEST(Router, HeadFallsBackToAnAsyncGet) {
  Router router;
  router.add_async("GET", "/a", [](const HttpRequest&, HttpResponder) {});
  Router::Match match = router.find("HEAD", "/a");
  ASSERT_NE(match.route, nullptr);
  EXPECT_TRUE(match.route->async_handler);
  EXPECT_FALSE(match.route->handler);
}

TEST(Router, PathMatchIsExact) {
  Router router;
  router.add("GET", "/healthz", [](const HttpRequest&) { return HttpResponse{}; });
  EXPECT_EQ(router.find("GET", "/healthz/").route, nullptr);
  EXPECT_EQ(router.find("GET", "/HEALTHZ").route, nullptr);
}

TEST(Router, SyncAndAsyncShareThePathAndTheAllowList) {
  Router router;
  router.add("GET", "/api", [](const HttpRequest&) { return text("get"); });
  router.add_async("POST", "/api", [](const HttpRequest&, HttpResponder) {});
  EXPECT_TRUE(router.find("GET", "/api").route->handler);
  EXPECT_TRUE(router.find("POST", "/api").route->async_handler);
  EXPECT_EQ(router.find("PUT", "/api").allow, "GET, POST");
  EXPECT_TRUE(router.has("POST", "/api"));
  EXPECT_FALSE(router.has("PUT", "/api"));
  EXPECT_FALSE(router.has("GET", "/other"));
}

TEST(Router, AMethodAndPathTakeOneRouteOnly) {
  Router router;
  router.add("GET", "/a", [](const HttpRequest&) { return text("a"); });
  router.add_async("POST", "/a", [](const HttpRequest&, HttpResponder) {});
  EXPECT_THROW(router.add("GET", "/a", [](const HttpRequest&) { return text("b"); }), std::logic_error);
  EXPECT_THROW(router.add_async("GET", "/a", [](const HttpRequest&, HttpResponder) {}), std::logic_error);
  EXPECT_THROW(router.add("POST", "/a", [](const HttpRequest&) { return text("b"); }), std::logic_error);
  EXPECT_THROW(router.add_async("POST", "/a", [](const HttpRequest&, HttpResponder) {}), std::logic_error);
  // The first registrations are intact.
  EXPECT_EQ(call(router, "GET", "/a").body, "a");
  EXPECT_TRUE(router.find("POST", "/a").route->async_handler);
}

TEST(Router, EmptyHandlersAreRefused) {
  Router router;
  EXPECT_THROW(router.add("GET", "/a", RouteHandler()), std::invalid_argument);
  EXPECT_THROW(router.add_async("GET", "/a", AsyncRouteHandler()), std::invalid_argument);
  EXPECT_FALSE(router.has("GET", "/a"));
}

TEST(Router, MethodsAreTokens) {
  Router router;
  const auto handler = [](const HttpRequest&) { return HttpResponse{}; };
  EXPECT_THROW(router.add("", "/a", handler), std::invalid_argument);
  EXPECT_THROW(router.add("GET\r\nX-A: b", "/a", handler), std::invalid_argument);
  EXPECT_THROW(router.add("GET ", "/a", handler), std::invalid_argument);
  router.add("PROPFIND", "/a", handler);
  EXPECT_TRUE(router.has("PROPFIND", "/a"));
}

}  // namespace
}  // namespace switchboard::server
