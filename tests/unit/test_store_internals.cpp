// The collection's building blocks: index specs, the snapshot checksum and file format.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "c_api/guard.hpp"
#include "store/catalog.hpp"
#include "store/checksum.hpp"
#include "store/huge_pages.hpp"
#include "store/index_spec.hpp"
#include "store/snapshot.hpp"
#include "test_store_util.hpp"

using cbir::store::IndexKind;
using cbir::store::IndexSpec;
using cbir::store::IvfCode;

namespace {

int parse_status(const std::string& text) {
  return cbir::capi::guard([&] { IndexSpec::parse(text); });
}

}  // namespace

TEST_CASE("index specs parse to canonical text and back") {
  for (const char* text : {"flat", "auto", "hnsw:M=32,efConstruction=40,efSearch=64",
                           "ivf:nlist=auto,nprobe=auto,code=flat,rerank=0",
                           "ivf:nlist=256,nprobe=16,code=pq16x8,rerank=4",
                           "ivf:nlist=64,nprobe=8,code=sq8,rerank=0", "faiss:IVF64,PQ8"}) {
    INFO(text);
    CHECK(IndexSpec::parse(text).str() == text);
  }
  IndexSpec h = IndexSpec::parse("HNSW:m=16,efsearch=128");
  CHECK(h.kind == IndexKind::Hnsw);
  CHECK(h.hnsw_m == 16);
  CHECK(h.ef_search == 128);
  CHECK(h.ef_construction == 40);
  IndexSpec i = IndexSpec::parse("ivf:code=pq");
  CHECK(i.code == IvfCode::Pq);
  CHECK(i.pq_m == 0);
  CHECK(i.pq_bits == 8);
  CHECK(IndexSpec::parse(i.str()).str() == i.str());
}

TEST_CASE("bad index specs are refused with what is accepted") {
  for (const char* text : {"", "annoy", "flat:x=1", "hnsw:M=2", "hnsw:M=abc", "hnsw:ef=5",
                           "hnsw:M", "ivf:nlist=8,nprobe=9", "ivf:code=lsh", "ivf:code=pq8x20",
                           "faiss:", "hnsw:", "ivf:nlist=-3", "ivf:rerank=1000"}) {
    INFO(text);
    CHECK(parse_status(text) == CBIR_EINVAL);
    CHECK(std::string(cbir_last_error()).find("index spec") != std::string::npos);
  }
  CHECK(parse_status("ivf:nlist=8,nprobe=9") == CBIR_EINVAL);
  CHECK(std::string(cbir_last_error()).find("nprobe cannot exceed nlist") != std::string::npos);
}

TEST_CASE("auto resolves by size and memory budget; ivf gets numbers") {
  const IndexSpec a = IndexSpec::parse("auto");
  const uint64_t big = uint64_t{1} << 40;
  CHECK(a.resolve(0, 512, big).kind == IndexKind::Flat);
  CHECK(a.resolve(100000, 512, big).kind == IndexKind::Flat);
  CHECK(a.resolve(100001, 512, big).kind == IndexKind::Hnsw);
  // 1M x 512 floats do not fit 1 GiB: IVF with compressed codes.
  IndexSpec low = a.resolve(1000000, 512, uint64_t{1} << 30);
  CHECK(low.kind == IndexKind::Ivf);
  CHECK(low.code == IvfCode::Sq8);
  IndexSpec tiny = a.resolve(1000000, 512, uint64_t{100} << 20);
  CHECK(tiny.code == IvfCode::Pq);
  CHECK(tiny.pq_m == 64);
  CHECK(tiny.nlist >= 1024);
  CHECK(tiny.nprobe >= 1);
  CHECK(tiny.nprobe <= tiny.nlist);
  // Never more lists than the data can train (39 points per list).
  IndexSpec small = IndexSpec::parse("ivf").resolve(5000, 64, big);
  CHECK(size_t(small.nlist) * 39 <= 5000);
  CHECK(small.training_minimum() <= 5000);
  // pq sub-quantizers must divide the dimension.
  CHECK(cbir::capi::guard([] { IndexSpec::parse("ivf:code=pq7").resolve(100000, 64, uint64_t{1} << 40); }) ==
        CBIR_EINVAL);
  CHECK(IndexSpec::parse("ivf:code=pq").resolve(100000, 100, big).pq_m == 10);
  CHECK(IndexSpec::parse("ivf:nlist=16,code=pq8x8").resolve(0, 64, big).training_minimum() == 39 * 256);
}

TEST_CASE("the checksum streams, and sees any changed bit or length") {
  std::vector<unsigned char> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 7 + 3);
  cbir::store::Checksum whole;
  whole.update(data.data(), data.size());
  for (size_t piece : {1, 3, 31, 32, 33, 500}) {
    cbir::store::Checksum parts;
    for (size_t i = 0; i < data.size(); i += piece) parts.update(data.data() + i, std::min(piece, data.size() - i));
    CHECK(parts.digest() == whole.digest());
  }
  for (size_t bit : {0, 9, 4000, 7999}) {
    auto flipped = data;
    flipped[bit / 8] ^= static_cast<unsigned char>(1u << (bit % 8));
    cbir::store::Checksum c;
    c.update(flipped.data(), flipped.size());
    CHECK(c.digest() != whole.digest());
  }
  cbir::store::Checksum shorter, zero_tail;
  shorter.update(data.data(), 999);
  CHECK(shorter.digest() != whole.digest());
  std::vector<unsigned char> padded(data.begin(), data.begin() + 999);
  padded.push_back(0);
  zero_tail.update(padded.data(), padded.size());
  CHECK(zero_tail.digest() != shorter.digest());
  CHECK(cbir::store::checksum_of(data.data(), data.size()) == whole.digest());  // one XXH3-64
}

namespace {

void write_sample(const std::string& path, const std::vector<float>& payload) {
  cbir::store::SnapshotInfo info;
  info.dim = 4;
  info.watermark = 17;
  info.generation = 2;
  info.spec = "flat";
  cbir::store::write_snapshot(path, info, [&](cbir::store::SnapshotSink& sink) {
    sink.write(payload.data(), payload.size() * sizeof(float));
  });
}

bool read_sample(const std::string& path, std::vector<float>& payload, std::string& problem,
                 bool& parsed) {
  cbir::store::SnapshotInfo info;
  parsed = false;
  return cbir::store::read_snapshot(
      path, info,
      [&](cbir::store::SnapshotSource& src) {
        parsed = true;
        CHECK(info.watermark == 17);
        CHECK(info.generation == 2);
        CHECK(info.spec == "flat");
        src.read(payload.data(), payload.size() * sizeof(float));
      },
      problem);
}

}  // namespace

TEST_CASE("snapshots are written atomically and verified before parsing") {
  store_test::TempDir dir;
  const std::string path = dir.sub("index.snap");
  std::vector<float> payload(3000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = float(i) * 0.5f;
  write_sample(path, payload);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

  std::vector<float> back(payload.size());
  std::string problem;
  bool parsed = false;
  REQUIRE(read_sample(path, back, problem, parsed));
  CHECK(back == payload);

  SECTION("a flipped bit anywhere is caught by the checksum, and nothing is parsed") {
    const auto size = std::filesystem::file_size(path);
    for (uint64_t offset : {uint64_t{40}, size / 2, size - 1}) {
      write_sample(path, payload);
      {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(std::streamoff(offset));
        char c = 0;
        f.read(&c, 1);
        c ^= 0x10;
        f.seekp(std::streamoff(offset));
        f.write(&c, 1);
      }
      CHECK_FALSE(read_sample(path, back, problem, parsed));
      CHECK_FALSE(parsed);
      CHECK(problem.find("checksum") != std::string::npos);
    }
  }
  SECTION("a truncated or extended file is refused") {
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - 5);
    CHECK_FALSE(read_sample(path, back, problem, parsed));
    CHECK_FALSE(parsed);
    CHECK(problem.find("length") != std::string::npos);
    write_sample(path, payload);
    std::ofstream(path, std::ios::app) << "x";
    CHECK_FALSE(read_sample(path, back, problem, parsed));
  }
  SECTION("a missing file or a foreign one is a problem, not an error") {
    CHECK_FALSE(read_sample(dir.sub("none"), back, problem, parsed));
    CHECK(problem.find("no index snapshot") != std::string::npos);
    std::ofstream(path, std::ios::trunc) << "not a snapshot at all, but long enough for a header";
    CHECK_FALSE(read_sample(path, back, problem, parsed));
    CHECK(problem.find("header") != std::string::npos);
  }
  SECTION("a body that reads past the end counts as damage") {
    std::vector<float> more(payload.size() + 1);
    CHECK_FALSE(read_sample(path, more, problem, parsed));
    CHECK(problem.find("ends early") != std::string::npos);
  }
  SECTION("a failed write keeps the previous snapshot") {
    cbir::store::SnapshotInfo info;
    CHECK(cbir::capi::guard([&] {
            cbir::store::write_snapshot(path, info, [](cbir::store::SnapshotSink& sink) {
              sink.write("abc", 3);
              cbir::fail(CBIR_EIO, "disk full (simulated)");
            });
          }) == CBIR_EIO);
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
    REQUIRE(read_sample(path, back, problem, parsed));
    CHECK(back == payload);
  }
}

namespace {

// The VmFlags line of the mapping of /proc/self/smaps that holds `p` ("" if none is found).
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find('-') < 17)
      inside = lo <= at && at < hi;
    else if (inside && line.rfind("VmFlags:", 0) == 0)
      return line;
  }
  return "";
}

}  // namespace

TEST_CASE("arrays grown for vectors keep their contents and ask for huge pages") {
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  cbir::store::reserve_huge(v, 8u << 20);  // 32 MiB: its own mapping
  REQUIRE(v.capacity() >= (8u << 20));
  REQUIRE(v.size() == 1000);
  for (size_t i = 0; i < v.size(); ++i) REQUIRE(v[i] == static_cast<float>(i));
  const float* block = v.data();
  cbir::store::reserve_huge(v, 4u << 20);  // room enough already: nothing moves
  CHECK(v.data() == block);
  cbir::store::reserve_huge(v, v.capacity() + 1);  // grows by doubling, as push_back would
  CHECK(v.capacity() >= 2 * (8u << 20));
  const std::string flags = vm_flags_of(v.data() + v.capacity() / 2);
  if (flags.empty() || !std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled")) {
    WARN("SKIPPED: the huge-page check: no /proc/self/smaps or no transparent huge pages here");
    return;
  }
  CHECK(flags.find(" hg") != std::string::npos);  // MADV_HUGEPAGE was applied
}

TEST_CASE("commits reach the database file through the background checkpoint, not at close") {
  store_test::TempDir dir;
  const std::string path = dir.sub("catalog.sqlite");
  const size_t dim = 2048;  // 8 KiB a vector: 3,000 of them are 24 MiB, past the 16 MiB mark
  const std::vector<float> vec(dim, 0.5f);
  cbir::store::Catalog catalog(path, /*writer=*/true, /*create=*/true);
  cbir::store::CatalogMeta meta;
  meta.dim = static_cast<int32_t>(dim);
  meta.fingerprint = "test";
  meta.index_spec = "flat";
  catalog.initialize(meta);
  const auto main_file_mib = [&] { return std::filesystem::file_size(path) >> 20; };
  const auto before = main_file_mib();
  catalog.begin_write();
  for (int64_t i = 0; i < 3000; ++i) {
    cbir::store::ItemInfo item;
    item.uri = "u" + std::to_string(i);
    catalog.insert(item, vec.data(), dim, i + 1);
  }
  catalog.commit();
  catalog.wait_for_background_checkpoint();
  // The writer never checkpoints itself (SQLite's automatic checkpoint is off) and is still
  // open, so only the background pass can have moved the 24 MiB into the main file.
  CHECK(before < 2);
  CHECK(main_file_mib() >= 20);
  // The log is restarted and the next transaction writes from its start.
  catalog.begin_write();
  cbir::store::ItemInfo item;
  item.uri = "after";
  catalog.insert(item, vec.data(), dim, 3001);
  catalog.commit();
  CHECK(std::filesystem::file_size(path + "-wal") < (64u << 20));
  CHECK(catalog.count() == 3001);
}
