// cbir export --out PREFIX: every item's vector as PREFIX.npy and its facts as PREFIX.jsonl,
// for moving a collection into another vector database.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kExportUsage =
    "usage: cbir export [--db DIR] --out PREFIX\n"
    "\n"
    "Writes PREFIX.npy (float32, one L2-normalised row per item, numpy's .npy format) and\n"
    "PREFIX.jsonl (one line per row, same order: row, id, uri, content_hash, size, mtime,\n"
    "width, height, payload).\n";

namespace {

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

// A .npy v1.0 header for float32 [rows, dim], padded to a fixed 128 bytes so it can be
// rewritten in place once the row count is final.
std::string npy_header(uint64_t rows, int dim) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) +
                     ", " + std::to_string(dim) + "), }";
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  const size_t total = 128, len = total - 10;
  h += static_cast<char>(len & 0xff);
  h += static_cast<char>(len >> 8);
  dict.resize(len - 1, ' ');
  return h + dict + "\n";
}

}  // namespace

int cmd_export(int argc, char** argv) {
  Args args(argc, argv, {"--db", "--out"}, {});
  if (!args.has("--out")) throw UsageError("give --out PREFIX");
  if (!args.positional().empty()) throw UsageError("export takes no arguments");
  std::string prefix = args.get("--out");
  CollectionPtr coll = open_collection(args, nullptr, false, /*read_only=*/true);
  cbir_collection_info_t* ci = nullptr;
  check(cbir_collection_info(&ci, coll.get()));
  const int dim = ci->dim;
  cbir_free(ci);

  std::unique_ptr<FILE, FileCloser> npy(std::fopen((prefix + ".npy").c_str(), "wb"));
  std::unique_ptr<FILE, FileCloser> jsonl(std::fopen((prefix + ".jsonl").c_str(), "wb"));
  if (!npy || !jsonl) throw Failure("cannot write " + prefix + ".npy / .jsonl");
  std::fwrite(npy_header(0, dim).data(), 1, 128, npy.get());

  uint64_t rows = 0;
  std::vector<int64_t> ids(1024);
  std::vector<float> vec(static_cast<size_t>(dim));
  int64_t after = -1;
  for (;;) {
    size_t n = 0;
    check(cbir_collection_list(ids.data(), &n, coll.get(), after, ids.size()));
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      cbir_item_t* item = nullptr;
      check(cbir_collection_get(&item, coll.get(), ids[i]));
      std::unique_ptr<cbir_item_t, void (*)(void*)> owner(item, cbir_free);
      check(cbir_collection_get_vector(vec.data(), vec.size(), coll.get(), ids[i]));
      if (std::fwrite(vec.data(), sizeof(float), vec.size(), npy.get()) != vec.size())
        throw Failure("writing " + prefix + ".npy failed (disk full?)");
      std::fprintf(jsonl.get(),
                   "{\"row\": %llu, \"id\": %lld, \"uri\": %s, \"content_hash\": %s, \"size\": %lld, "
                   "\"mtime\": %lld, \"width\": %d, \"height\": %d, \"payload\": %s}\n",
                   static_cast<unsigned long long>(rows), static_cast<long long>(item->id),
                   json_quote(item->uri).c_str(), json_quote(item->content_hash).c_str(),
                   static_cast<long long>(item->size), static_cast<long long>(item->mtime),
                   item->width, item->height, json_quote(item->payload).c_str());
      ++rows;
    }
    after = ids[n - 1];
  }
  std::fseek(npy.get(), 0, SEEK_SET);
  std::fwrite(npy_header(rows, dim).data(), 1, 128, npy.get());
  if (std::fflush(npy.get()) != 0 || std::fflush(jsonl.get()) != 0)
    throw Failure("writing the export failed (disk full?)");
  std::printf("exported %llu items of dim %d to %s.npy and %s.jsonl\n",
              static_cast<unsigned long long>(rows), dim, prefix.c_str(), prefix.c_str());
  return 0;
}

}  // namespace cli
