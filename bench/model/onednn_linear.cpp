// What pre-packing bf16 weights would buy: one Linear layer through oneDNN directly, its weights
// reordered into oneDNN's blocked bf16 layout once (as a pre-packed Linear would keep them), one
// thread, cycling through 24 weight matrices so they come from memory as a model's do. Compare
// with bench/model/gemm.py's bf16 column, where LibTorch 1.13 reorders the weights on every call.
//
//   apt-get install libdnnl-dev     # the oneDNN LibTorch itself links (Debian: 2.6.3)
//   g++ -O2 bench/model/onednn_linear.cpp -o /tmp/onednn_linear -ldnnl
//   OMP_NUM_THREADS=1 /tmp/onednn_linear            # the shapes below
//   OMP_NUM_THREADS=1 /tmp/onednn_linear ROWS IN OUT
#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using dnnl::memory;

void time_shape(const char* what, int rows, int in, int out) {
  const int copies = 24;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream stream(eng);
  memory::desc src({rows, in}, memory::data_type::bf16, memory::format_tag::ab);
  memory::desc dst({rows, out}, memory::data_type::f32, memory::format_tag::ab);
  memory::desc bias({1, out}, memory::data_type::f32, memory::format_tag::ab);
  memory::desc any_weights({in, out}, memory::data_type::bf16, memory::format_tag::any);
  dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, any_weights, bias, dst), eng);
  dnnl::matmul matmul(pd);

  // A torch Linear weight is out x in, row-major: the in x out matrix in "ba" order.
  std::vector<float> plain(static_cast<size_t>(in) * out);
  for (auto& v : plain) v = static_cast<float>(std::rand() % 1000) / 1000.f - 0.5f;
  memory::desc plain_md({in, out}, memory::data_type::f32, memory::format_tag::ba);
  std::vector<memory> weights;
  for (int i = 0; i < copies; ++i) {
    memory from(plain_md, eng, plain.data()), packed(pd.weights_desc(), eng);
    dnnl::reorder(from, packed).execute(stream, from, packed);
    weights.push_back(packed);
  }
  memory x(src, eng), y(dst, eng), b(bias, eng);
  auto run = [&](int calls) {
    for (int i = 0; i < calls; ++i)
      matmul.execute(stream, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, weights[i % copies]},
                              {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, y}});
    stream.wait();
  };
  run(copies);
  int calls = copies;
  double seconds = 0;
  while (seconds < 1.0) {
    calls *= 2;
    auto t0 = std::chrono::steady_clock::now();
    run(calls);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  double per_call = seconds / calls;
  std::printf("| %s (%dx%d by %dx%d) | %.0f | %.0f | %.1f |\n", what, rows, in, in, out,
              per_call * 1e6, 2.0 * rows * in * out / per_call / 1e9,
              2.0 * in * out / per_call / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("| shape | us/call | GFLOP/s | weights GB/s |\n| --- | ---: | ---: | ---: |\n");
  if (argc == 4) {
    time_shape("given", std::atoi(argv[1]), std::atoi(argv[2]), std::atoi(argv[3]));
    return 0;
  }
  time_shape("text, 1 token: the memory floor", 1, 768, 3072);
  time_shape("text query, MLP in", 13, 768, 3072);
  time_shape("text query, MLP out", 13, 3072, 768);
  time_shape("text query, attention", 13, 768, 768);
  time_shape("ViT-B-16 batch 8, MLP in", 1576, 768, 3072);
  return 0;
}
