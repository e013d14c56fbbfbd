#include "routes.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "http_error.hpp"
#include "page_assets.hpp"

namespace cli::serve {

using nlohmann::json;

namespace {

// Bytes allowed around an uploaded image in a request body (multipart boundaries, headers).
constexpr size_t kBodyOverhead = 64 * 1024;

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no such page: see the README's `cbir serve` section for the API";
    case 405: return "method not allowed";
    case 413: return "the request body is too large (cbir serve --max-upload-mb)";
    case 414: return "the request URI is too long";
    case 415: return "unsupported media type";
    default: return status < 500 ? "bad request" : "internal server error";
  }
}

void set_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Replace, never throw, on text that is not UTF-8 (it only comes from the catalog).
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  set_json(res, status, {{"error", message}, {"status", status}});
}

// Runs a route; HttpError and any other exception become a JSON error response, so no bad
// request can take the server down.
template <class F>
httplib::Server::Handler guarded(F route) {
  return [route](const httplib::Request& req, httplib::Response& res) {
    try {
      route(req, res);
    } catch (const HttpError& e) {
      set_error(res, e.status, e.what());
    } catch (const std::bad_alloc&) {
      set_error(res, 503, "out of memory: try again with a smaller request");
    } catch (const std::exception& e) {
      set_error(res, 500, e.what());
    } catch (...) {
      set_error(res, 500, "internal server error");
    }
  };
}

// A route answering JSON; timings of searches also go into a Server-Timing header.
template <class F>
httplib::Server::Handler json_route(F route) {
  return guarded([route](const httplib::Request& req, httplib::Response& res) {
    json body = route(req);
    if (body.contains("timing_ms")) {
      std::string timing;
      for (auto& [name, ms] : body["timing_ms"].items())
        timing += (timing.empty() ? "" : ", ") + name + ";dur=" + ms.dump();
      res.set_header("Server-Timing", timing);
    }
    set_json(res, 200, body);
  });
}

// A whole number in [min, max] from text, or HttpError(400) naming the parameter.
size_t parse_count(const std::string& name, const std::string& text, size_t min, size_t max) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    throw HttpError(400, name + " must be a whole number from " + std::to_string(min) + " to " +
                             std::to_string(max) + " (got '" + text.substr(0, 40) + "')");
  size_t n = std::stoull(text);
  if (n < min || n > max)
    throw HttpError(400, name + " must be from " + std::to_string(min) + " to " +
                             std::to_string(max) + " (got " + text + ")");
  return n;
}

// The route pattern (httplib routes are regular expressions) matching just this path.
std::string exact_pattern(const char* path) {
  std::string pattern;
  for (const char* c = path; *c; ++c) {
    if (std::strchr(".+*?()[]{}^$|\\", *c)) pattern += '\\';
    pattern += *c;
  }
  return pattern;
}

// An item id from a URL path segment (digits only, by the route's pattern).
int64_t parse_id(const std::string& text) {
  errno = 0;
  long long id = std::strtoll(text.c_str(), nullptr, 10);
  if (errno == ERANGE) throw HttpError(404, "no item with id " + text.substr(0, 40));
  return id;
}

// A parameter from the query string, else from a multipart form's text fields.
bool param(const httplib::Request& req, const char* name, std::string* value) {
  if (req.has_param(name)) {
    *value = req.get_param_value(name);
    return true;
  }
  if (req.has_file(name)) {
    *value = req.get_file_value(name).content;
    return true;
  }
  return false;
}

// k and offset of a GET or form request.
Page page_from(const httplib::Request& req, const Gallery& gallery) {
  Page page;
  std::string v;
  if (param(req, "k", &v)) page.k = parse_count("k", v, 1, gallery.limits().max_k);
  if (param(req, "offset", &v))
    page.offset = parse_count("offset", v, 0, gallery.limits().max_depth);
  param(req, "where", &page.where);
  param(req, "from", &page.from);
  param(req, "to", &page.to);
  return page;
}

// POST /api/search with {"q": TEXT, "k": N, "offset": N}.
json search_json(const std::string& body, const Gallery& gallery) {
  json in;
  try {
    in = json::parse(body);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e400
    throw HttpError(400, std::string("the body is not valid JSON: ") + e.what());
  }
  if (!in.is_object())
    throw HttpError(400, "the body must be a JSON object such as {\"q\": \"a red circle\"}");
  Page page;
  std::string text;
  bool has_text = false;
  for (auto& [key, value] : in.items()) {
    if (key == "q") {
      if (!value.is_string()) throw HttpError(400, "\"q\" must be a string");
      text = value.get<std::string>();
      has_text = true;
    } else if (key == "where" || key == "from" || key == "to") {
      if (!value.is_string()) throw HttpError(400, "\"" + key + "\" must be a string");
      (key == "where" ? page.where : key == "from" ? page.from : page.to) = value.get<std::string>();
    } else if (key == "k" || key == "offset") {
      if (!value.is_number_unsigned())
        throw HttpError(400, "\"" + key + "\" must be a whole number");
      size_t n = value.get<size_t>();
      (key == "k" ? page.k : page.offset) = n;
    } else {
      throw HttpError(400, "unknown field \"" + key + "\" (expected q, k, offset, where, from, to)");
    }
  }
  if (!has_text) throw HttpError(400, "missing \"q\": the text to search for");
  return gallery.search_text(text, page);
}

json search_post(const httplib::Request& req, const Gallery& gallery) {
  std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) == 0) return search_json(req.body, gallery);
  if (req.is_multipart_form_data()) {
    if (!req.has_file("image"))
      throw HttpError(400, "the form has no \"image\" file field (curl -F image=@photo.jpg)");
    return gallery.search_image(req.get_file_value("image").content, page_from(req, gallery));
  }
  if (type.rfind("image/", 0) == 0 || type.rfind("application/octet-stream", 0) == 0)
    return gallery.search_image(req.body, page_from(req, gallery));
  throw HttpError(415, "send JSON ({\"q\": \"a red circle\"}), a multipart form with an "
                       "\"image\" file, or the image bytes as image/* (got Content-Type '" +
                       type.substr(0, 80) + "')");
}

}  // namespace

void add_routes(httplib::Server& server, const Gallery& gallery, Thumbnails& thumbnails) {
  for (const PageAsset& asset : kPageAssets) {
    auto serve_asset = [asset](const httplib::Request&, httplib::Response& res) {
      res.set_content(asset.text, asset.type);
      res.set_header("Cache-Control", "no-cache");
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' blob:; object-src 'none'");
    };
    server.Get(exact_pattern(asset.url), guarded(serve_asset));
  }

  server.Get("/api/info", json_route([&](const httplib::Request&) {
    json info = gallery.info();
    Thumbnails::Stats t = thumbnails.stats();
    info["thumbnails"] = {{"entries", t.entries}, {"bytes", t.bytes}, {"hits", t.hits},
                          {"misses", t.misses}};
    return info;
  }));

  server.Get("/api/search", json_route([&](const httplib::Request& req) {
    if (!req.has_param("q"))
      throw HttpError(400, "missing q: the text to search for (/api/search?q=a+red+circle)");
    return gallery.search_text(req.get_param_value("q"), page_from(req, gallery));
  }));
  server.Post("/api/search",
              json_route([&](const httplib::Request& req) { return search_post(req, gallery); }));

  server.Get(R"(/api/similar/(\d+))", json_route([&](const httplib::Request& req) {
    return gallery.similar(parse_id(req.matches[1]), page_from(req, gallery));
  }));
  server.Get(R"(/api/item/(\d+))", json_route([&](const httplib::Request& req) {
    return gallery.item(parse_id(req.matches[1]));
  }));
  server.Get(R"(/api/thumb/(\d+))",
             guarded([&](const httplib::Request& req, httplib::Response& res) {
               auto jpeg = thumbnails.get(parse_id(req.matches[1]));
               res.set_content(*jpeg, "image/jpeg");
               res.set_header("Cache-Control", "private, max-age=3600");
             }));

  // Errors httplib answers itself (no route, a body over the limit, a malformed request) get
  // the same JSON shape as the routes' own errors.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        set_error(res, res.status, reason(res.status));
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        set_error(res, 500, "internal server error");
      });
  server.set_payload_max_length(gallery.limits().max_upload_bytes + kBodyOverhead);
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
}

}  // namespace cli::serve
