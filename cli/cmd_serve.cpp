// cbir serve: a web gallery of a collection -- search by text or by an uploaded image, click a
// result for more like it -- and the JSON API behind it (routes in serve/routes.cpp).
#include "commands.hpp"

#ifdef CBIR_CLI_SERVE
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "serve/routes.hpp"
#include "session.hpp"
#endif

const char* const cli::kServeUsage =
    "usage: cbir serve [OPTIONS]\n"
    "\n"
    "Serves a web gallery of the collection at http://127.0.0.1:8080/: search by a text (Chinese\n"
    "or English) or by an uploaded image, and click a result for more like it. The same searches\n"
    "answer as JSON under /api/ (see the README). Only images of the collection are served, by\n"
    "id. Ctrl-C stops it.\n"
    "\n"
    "  --db DIR            collection folder (default $CBIR_DB, else ./cbir-index)\n"
    "  --model DIR         model bundle (default $CBIR_MODEL, else the shipped default model)\n"
    "  --port N            TCP port (default 8080; 0 picks a free one)\n"
    "  --host ADDR         address to listen on (default 127.0.0.1, this machine only; the\n"
    "                      gallery has no login, so expose it to a network with care)\n"
    "  --max-upload-mb N   largest uploaded image in MiB (default 20)\n"
    "  --thumb-size N      thumbnail side in pixels (default 256)\n"
    "  --cache-mb N        memory for cached thumbnails in MiB (default 64)\n"
    "  --refresh S         take in what others committed to the collection every S seconds\n"
    "                      (default 5; 0: never)\n"
    "  --workers N         threads answering requests (default 8)\n"
    "  --threads N         inference threads per request (default: the process setting,\n"
    "                      one here; requests run side by side on the workers)\n"
    "  --device DEV        cpu, cuda, cuda:N or auto (default)\n"
    "  --precision P       auto (default: bf16 where the CPU has it), fp32, bf16 or fp16\n"
    "  --log               print one line per request to stderr\n";

#ifndef CBIR_CLI_SERVE

int cli::cmd_serve(int, char**) {
  throw Failure("this cbir was built without cpp-httplib: install it (apt-get install "
                "libcpp-httplib-dev, or run scripts/setup) and rebuild to use cbir serve");
}

#else

namespace cli {

namespace {

// Stops the server on SIGINT/SIGTERM, so it finishes the requests in flight and the collection
// is closed, instead of the process dying inside a request. The handler only writes to a pipe
// (async-signal-safe, and whichever thread the signal lands on: libraries start threads of
// their own before main); a thread reads the pipe and stops the server.
int g_stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  unsigned char c = static_cast<unsigned char>(sig);
  ssize_t ignored = write(g_stop_pipe[1], &c, 1);
  (void)ignored;
}

void stop_on_signal(httplib::Server* server) {
  if (pipe(g_stop_pipe) != 0) return;  // then Ctrl-C just ends the process
  std::thread([server] {
    unsigned char sig = 0;
    while (read(g_stop_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    // A signal just before listening: give the server a moment to start, then stop it.
    for (int i = 0; i < 100 && !server->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!server->is_running()) std::_Exit(128 + sig);
    server->stop();
  }).detach();
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Calls cbir_collection_refresh every `seconds` until stopped, so items others index while the
// gallery runs show up.
class Refresher {
 public:
  Refresher(cbir_collection_t* coll, long seconds) {
    if (seconds <= 0) return;
    thread_ = std::thread([this, coll, seconds] {
      std::unique_lock<std::mutex> lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::seconds(seconds), [this] { return stop_; })) {
        if (cbir_collection_refresh(coll) != CBIR_OK)
          std::fprintf(stderr, "cbir serve: refreshing the collection failed: %s\n",
                       cbir_last_error());
      }
    });
  }
  ~Refresher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

int cmd_serve(int argc, char** argv) {
  Args args(argc, argv,
            {CLI_SESSION_FLAGS, "--port", "--host", "--max-upload-mb", "--thumb-size",
             "--cache-mb", "--refresh", "--workers"},
            {"--log"});
  if (!args.positional().empty())
    throw UsageError("unexpected argument '" + args.positional()[0] + "'");
  int port = static_cast<int>(args.get_int("--port", 8080, 0, 65535));
  std::string host = args.get("--host", "127.0.0.1");
  serve::Limits limits;
  limits.max_upload_bytes = static_cast<size_t>(args.get_int("--max-upload-mb", 20, 1, 1024)) << 20;
  auto thumb_side = static_cast<int32_t>(args.get_int("--thumb-size", 256, 16, 2048));
  size_t cache_bytes = static_cast<size_t>(args.get_int("--cache-mb", 64, 0, 1 << 20)) << 20;
  long refresh_s = args.get_int("--refresh", 5, 0, 86400);
  auto workers = static_cast<size_t>(args.get_int("--workers", 8, 1, 1024));

  ModelPtr model = open_model(args, 0, /*all_cores=*/false);
  CollectionPtr coll = open_collection(args, model.get(), false, /*read_only=*/true);
  serve::Gallery gallery(model.get(), coll.get(), limits);
  serve::Thumbnails thumbnails(coll.get(), thumb_side, cache_bytes);
  httplib::Server server;
  serve::add_routes(server, gallery, thumbnails);
  server.set_keep_alive_max_count(1000);
  server.set_tcp_nodelay(true);  // else small answers wait ~40 ms on Nagle + delayed ACK
  server.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  if (args.has("--log"))
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s %d %zu\n", req.method.c_str(), req.path.c_str(), res.status,
                   res.body.size());
    });

  bool bound = port == 0 ? (port = server.bind_to_any_port(host)) > 0
                         : server.bind_to_port(host, port);
  if (!bound)
    throw Failure("cannot listen on " + host + ":" + std::to_string(port) +
                  " (in use, or not an address of this machine): pick another --port/--host");
  if (host != "127.0.0.1" && host != "localhost" && host != "::1")
    std::fprintf(stderr, "cbir serve: warning: listening on %s, reachable from other machines; "
                 "the gallery has no login\n", host.c_str());
  stop_on_signal(&server);
  Refresher refresher(coll.get(), refresh_s);
  nlohmann::json info = gallery.info();
  std::string url = "http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                    ":" + std::to_string(port) + "/";
  std::printf("cbir serve: %s  (%s, %s items; Ctrl-C stops)\n", url.c_str(),
              info["model"]["name"].get<std::string>().c_str(),
              info["collection"]["count"].dump().c_str());
  std::fflush(stdout);

  if (!server.listen_after_bind()) throw Failure("the server stopped on a socket error");
  std::printf("cbir serve: stopped\n");
  return 0;
}

}  // namespace cli

#endif
