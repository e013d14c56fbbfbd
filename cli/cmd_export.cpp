// cbir export --out PREFIX: every item's vector as PREFIX.npy and its facts as PREFIX.jsonl,
// for moving a collection into another vector database.
#include <algorithm>
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
    "width, height, payload, photo, attrs).\n"
    "\n"
    "photo holds what the file said of itself, the facts it lacks left out: format, taken\n"
    "(\"2024-07-14T18:30:05\", the camera's clock, with \"+02:00\" when the file gives the\n"
    "offset), make, model, lat, lon. attrs maps each user attribute to {TYPE: value}, TYPE one\n"
    "of string, int, float, bool, time (\"2024-07-14T16:30:05Z\").\n"
    "\n"
    "A collection with other vector spaces (cbir info lists them) also gets PREFIX.SPACE.npy for\n"
    "each, rows in the same order; an item without a vector in that space has a row of zeros.\n";

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

// Seconds since 1970 as "YYYY-MM-DDTHH:MM:SS" (the proleptic Gregorian calendar, UTC rules).
std::string iso_time(int64_t t) {
  const int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  const int64_t secs = t - days * 86400;
  // civil_from_days (Howard Hinnant's algorithm)
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(secs / 3600), static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

std::string number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string photo_json(const cbir_photo_t& p) {
  std::string out = "{";
  auto field = [&](const char* key, const std::string& value) {
    if (out.size() > 1) out += ", ";
    out += std::string("\"") + key + "\": " + value;
  };
  if (*p.format) field("format", json_quote(p.format));
  if (p.has_taken) {
    std::string t = iso_time(p.taken);
    if (p.has_offset) {
      const int m = p.offset_minutes < 0 ? -p.offset_minutes : p.offset_minutes;
      char off[16];
      std::snprintf(off, sizeof off, "%c%02d:%02d", p.offset_minutes < 0 ? '-' : '+', m / 60, m % 60);
      t += off;
    }
    field("taken", json_quote(t));
  }
  if (*p.make) field("make", json_quote(p.make));
  if (*p.model) field("model", json_quote(p.model));
  if (p.has_location) {
    field("lat", number(p.lat));
    field("lon", number(p.lon));
  }
  return out + "}";
}

std::string attrs_json(const cbir_attr_t* a, size_t n) {
  std::string out = "{";
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ", ";
    out += json_quote(a[i].key) + ": {";
    switch (a[i].type) {
      case CBIR_ATTR_STRING: out += "\"string\": " + json_quote(a[i].string_value); break;
      case CBIR_ATTR_FLOAT: out += "\"float\": " + number(a[i].float_value); break;
      case CBIR_ATTR_BOOL: out += std::string("\"bool\": ") + (a[i].int_value ? "true" : "false"); break;
      case CBIR_ATTR_TIME: out += "\"time\": " + json_quote(iso_time(a[i].int_value) + "Z"); break;
      default: out += "\"int\": " + std::to_string(a[i].int_value); break;
    }
    out += "}";
  }
  return out + "}";
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
  // The other vector spaces, one file each.
  struct Other {
    SpaceRow space;
    std::unique_ptr<FILE, FileCloser> file;
    std::vector<float> row;
  };
  std::vector<Other> others;
  const std::vector<SpaceRow> all_spaces = spaces_of(coll.get());
  for (size_t i = 1; i < all_spaces.size(); ++i) {
    const std::string path = prefix + "." + all_spaces[i].name + ".npy";
    others.push_back({all_spaces[i], std::unique_ptr<FILE, FileCloser>(std::fopen(path.c_str(), "wb")),
                      std::vector<float>(static_cast<size_t>(all_spaces[i].dim))});
    if (!others.back().file) throw Failure("cannot write " + path);
    std::fwrite(npy_header(0, all_spaces[i].dim).data(), 1, 128, others.back().file.get());
  }

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
      cbir_photo_t* photo = nullptr;
      check(cbir_collection_get_photo(&photo, coll.get(), ids[i]));
      std::unique_ptr<cbir_photo_t, void (*)(void*)> photo_owner(photo, cbir_free);
      cbir_attr_t* attrs = nullptr;
      size_t n_attrs = 0;
      check(cbir_collection_get_attrs(&attrs, &n_attrs, coll.get(), ids[i]));
      std::unique_ptr<cbir_attr_t, void (*)(void*)> attrs_owner(attrs, cbir_free);
      if (std::fwrite(vec.data(), sizeof(float), vec.size(), npy.get()) != vec.size())
        throw Failure("writing " + prefix + ".npy failed (disk full?)");
      for (Other& o : others) {
        const int rc = cbir_collection_get_space_vector(o.row.data(), o.row.size(), coll.get(),
                                                        o.space.name.c_str(), ids[i]);
        if (rc == CBIR_ENOTFOUND) std::fill(o.row.begin(), o.row.end(), 0.0f);
        else check(rc);
        if (std::fwrite(o.row.data(), sizeof(float), o.row.size(), o.file.get()) != o.row.size())
          throw Failure("writing " + prefix + "." + o.space.name + ".npy failed (disk full?)");
      }
      std::fprintf(jsonl.get(),
                   "{\"row\": %llu, \"id\": %lld, \"uri\": %s, \"content_hash\": %s, \"size\": %lld, "
                   "\"mtime\": %lld, \"width\": %d, \"height\": %d, \"payload\": %s, "
                   "\"photo\": %s, \"attrs\": %s}\n",
                   static_cast<unsigned long long>(rows), static_cast<long long>(item->id),
                   json_quote(item->uri).c_str(), json_quote(item->content_hash).c_str(),
                   static_cast<long long>(item->size), static_cast<long long>(item->mtime),
                   item->width, item->height, json_quote(item->payload).c_str(),
                   photo_json(*photo).c_str(), attrs_json(attrs, n_attrs).c_str());
      ++rows;
    }
    after = ids[n - 1];
  }
  std::fseek(npy.get(), 0, SEEK_SET);
  std::fwrite(npy_header(rows, dim).data(), 1, 128, npy.get());
  if (std::fflush(npy.get()) != 0 || std::fflush(jsonl.get()) != 0)
    throw Failure("writing the export failed (disk full?)");
  for (Other& o : others) {
    std::fseek(o.file.get(), 0, SEEK_SET);
    std::fwrite(npy_header(rows, o.space.dim).data(), 1, 128, o.file.get());
    if (std::fflush(o.file.get()) != 0) throw Failure("writing the export failed (disk full?)");
  }
  std::printf("exported %llu items of dim %d to %s.npy and %s.jsonl\n",
              static_cast<unsigned long long>(rows), dim, prefix.c_str(), prefix.c_str());
  return 0;
}

}  // namespace cli
