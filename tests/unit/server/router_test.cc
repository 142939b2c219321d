#include "server/router.h"

#include <gtest/gtest.h>

namespace switchboard::server {
namespace {

HttpRequest request(std::string_view method, std::string_view path) { return {method, path, path, {}, "127.0.0.1"}; }

TEST(Router, DispatchesByPathThenMethod) {
  Router router;
  router.add("GET", "/a", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "a"}; });
  router.add("POST", "/a", [](const HttpRequest&) { return HttpResponse{201, "text/plain", "posted"}; });
  EXPECT_EQ(router.dispatch(request("GET", "/a")).response.body, "a");
  EXPECT_EQ(router.dispatch(request("POST", "/a")).response.status, 201);
  EXPECT_EQ(router.dispatch(request("GET", "/b")).response.status, 404);
  Router::Answer answer = router.dispatch(request("DELETE", "/a"));
  EXPECT_EQ(answer.response.status, 405);
  EXPECT_EQ(answer.allow, "GET, POST");
}

TEST(Router, HeadFallsBackToGet) {
  Router router;
  router.add("GET", "/a", [](const HttpRequest&) { return HttpResponse{200, "text/plain", "body"}; });
  EXPECT_EQ(router.dispatch(request("HEAD", "/a")).response.status, 200);
}

TEST(Router, PathMatchIsExact) {
  Router router;
  router.add("GET", "/healthz", [](const HttpRequest&) { return HttpResponse{}; });
  EXPECT_EQ(router.dispatch(request("GET", "/healthz/")).response.status, 404);
  EXPECT_EQ(router.dispatch(request("GET", "/HEALTHZ")).response.status, 404);
}

}  // namespace
}  // namespace switchboard::server
