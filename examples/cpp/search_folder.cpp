// search_folder (C++17): index a folder of images with cbir, then search it by text and by
// image. The same program as examples/c/search_folder.c, written the C++ way: handles owned
// by std::unique_ptr, failures turned into exceptions, buffers in std::vector.
//
//   search_folder_cpp MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <cbir.h>

namespace {

// One owner type per handle: the deleter is the handle's close function.
using Model = std::unique_ptr<cbir_model_t, decltype(&cbir_model_close)>;
using Collection = std::unique_ptr<cbir_collection_t, decltype(&cbir_collection_close)>;
using Report = std::unique_ptr<cbir_ingest_report_t, decltype(&cbir_ingest_report_free)>;
using ItemPtr = std::unique_ptr<cbir_item_t, decltype(&cbir_free)>;

struct Error : std::runtime_error {
  int status;
  Error(int s, const std::string& what) : std::runtime_error(what), status(s) {}
};

// Throws the failure of the cbir call that returned `status`, with cbir's message.
void check(int status, const std::string& what) {
  if (status != CBIR_OK)
    throw Error(status, what + ": " + cbir_last_error() + " (" + cbir_status_str(status) + ")");
}

struct Searcher {
  Model model{nullptr, cbir_model_close};
  Collection coll{nullptr, cbir_collection_close};
  size_t dim = 0;

  Searcher(const char* model_dir, const char* collection_dir) {
    cbir_model_t* m = nullptr;
    check(cbir_model_open(&m, model_dir, nullptr), "opening the model");
    model.reset(m);
    cbir_model_info_t info{};
    info.version = sizeof info;
    check(cbir_model_info(&info, model.get()), "reading the model");
    dim = static_cast<size_t>(info.dim);

    // Created on the first run; the fingerprint makes it refuse any other model later.
    cbir_collection_options_t opts = CBIR_COLLECTION_OPTIONS_INIT;
    opts.flags = CBIR_OPEN_CREATE;
    opts.dim = info.dim;
    opts.fingerprint = info.fingerprint;
    cbir_collection_t* c = nullptr;
    check(cbir_collection_open(&c, collection_dir, &opts), "opening the collection");
    coll.reset(c);
  }

  void index(const char* dir) {
    cbir_ingest_options_t opts = CBIR_INGEST_OPTIONS_INIT;
    opts.progress = [](void*, const cbir_ingest_progress_t* p) -> int {
      std::fprintf(stderr, "\rindexing: %llu/%llu files", static_cast<unsigned long long>(p->done),
                   static_cast<unsigned long long>(p->total));
      if (p->done == p->total) std::fputc('\n', stderr);
      return 0;  // nonzero would cancel
    };
    cbir_ingest_report_t* r = nullptr;
    check(cbir_ingest_dir(&r, coll.get(), model.get(), dir, &opts), "indexing");
    Report rep(r, cbir_ingest_report_free);
    cbir_ingest_summary_t sum{};
    sum.version = sizeof sum;
    check(cbir_ingest_report_summary(&sum, rep.get()), "reading the report");
    std::cout << "indexed " << dir << ": " << sum.found << " found, " << sum.added << " added, "
              << sum.unchanged << " unchanged, " << sum.failed << " failed\n";
    for (size_t i = 0; i < cbir_ingest_report_failures(rep.get()); ++i) {
      const char* path = nullptr;
      const char* message = nullptr;
      cbir_ingest_report_failure(rep.get(), i, &path, nullptr, &message);
      std::cout << "failed: " << path << ": " << message << "\n";
    }
  }

  void print_hits(const std::vector<float>& query, size_t k) const {
    std::vector<int64_t> ids(k);
    std::vector<float> scores(k);
    check(cbir_collection_search(ids.data(), scores.data(), coll.get(), query.data(), 1, dim, k,
                                 nullptr),
          "searching");
    for (size_t i = 0; i < k && ids[i] != -1; ++i) {
      cbir_item_t* raw = nullptr;
      check(cbir_collection_get(&raw, coll.get(), ids[i]), "reading an item");
      ItemPtr item(raw, cbir_free);
      char score[16];
      std::snprintf(score, sizeof score, "%.3f", scores[i]);
      std::cout << "  " << i + 1 << ". " << score << " " << item->uri << "\n";
    }
  }

  void search_text(const char* text, size_t k) const {
    std::vector<float> query(dim);
    check(cbir_model_embed_texts(query.data(), model.get(), &text, 1), text);
    std::cout << "text \"" << text << "\":\n";
    print_hits(query, k);
  }

  void search_image(const char* path, size_t k) const {
    std::vector<float> query(dim);
    int32_t item_status = CBIR_OK;
    check(cbir_model_embed_image_files(query.data(), &item_status, model.get(), &path, 1), path);
    // The batch ran; this image may still have failed, with its own message.
    if (item_status != CBIR_OK)
      throw Error(item_status, std::string(cbir_model_item_error(0)) + " (" +
                                   cbir_status_str(item_status) + ")");
    std::cout << "image \"" << path << "\":\n";
    print_hits(query, k);
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: " << argv[0]
              << " MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...\n";
    return 2;
  }
  try {
    Searcher s(argv[1], argv[3]);
    s.index(argv[2]);
    size_t k = 5;
    for (int i = 4; i + 1 < argc; i += 2) {
      std::string flag = argv[i];
      if (flag == "-k") k = std::stoul(argv[i + 1]);
      else if (flag == "-t") s.search_text(argv[i + 1], k);
      else if (flag == "-i") s.search_image(argv[i + 1], k);
      else std::cerr << "ignoring unknown option " << flag << "\n";
    }
    // Closing saves too, but could only log a failure.
    check(cbir_collection_save(s.coll.get()), "saving the collection");
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
