// Tokenizer throughput through the public C API (what a user of libcbir gets).
//
//   bench_tokenizer VOCAB TEXTS SECONDS IDS_OUT
//
// TEXTS holds the texts separated by NUL bytes. Prints two lines, "batch T" and "single T",
// T in texts per second: all texts in one cbir_tokenize call, and one text per call. Writes the
// ids (texts x 52 int64, native byte order) to IDS_OUT, for checking them against the golden.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cbir.h"

namespace {

using Clock = std::chrono::steady_clock;

void must(int status) {
  if (status == CBIR_OK) return;
  std::fprintf(stderr, "bench_tokenizer: %s\n", cbir_last_error());
  std::exit(1);
}

template <class F>
double texts_per_second(size_t texts_per_round, double seconds, F&& round) {
  size_t done = 0;
  const Clock::time_point start = Clock::now();
  double elapsed = 0;
  do {
    round();
    done += texts_per_round;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  } while (elapsed < seconds);
  return static_cast<double>(done) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bench_tokenizer VOCAB TEXTS SECONDS IDS_OUT\n");
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string all = buf.str();
  std::vector<std::string> texts;
  for (size_t start = 0, end; (end = all.find('\0', start)) != std::string::npos; start = end + 1)
    texts.push_back(all.substr(start, end - start));
  std::vector<const char*> ptrs;
  for (const std::string& t : texts) ptrs.push_back(t.c_str());
  const double seconds = std::atof(argv[3]);

  cbir_tokenizer_t* tok = nullptr;
  must(cbir_tokenizer_open(&tok, argv[1], nullptr));
  const size_t L = 52, n = ptrs.size();
  std::vector<int64_t> ids(n * L);
  std::vector<int32_t> lengths(n);
  const double batch = texts_per_second(n, seconds, [&] {
    must(cbir_tokenize(ids.data(), lengths.data(), tok, ptrs.data(), n, L));
  });
  const double single = texts_per_second(n, seconds, [&] {
    for (size_t i = 0; i < n; ++i)
      must(cbir_tokenize(ids.data() + i * L, lengths.data() + i, tok, &ptrs[i], 1, L));
  });
  must(cbir_tokenize(ids.data(), lengths.data(), tok, ptrs.data(), n, L));
  std::ofstream(argv[4], std::ios::binary)
      .write(reinterpret_cast<const char*>(ids.data()),
             static_cast<std::streamsize>(ids.size() * sizeof(int64_t)));
  cbir_tokenizer_close(tok);
  std::printf("batch %.0f\nsingle %.0f\n", batch, single);
  return 0;
}
