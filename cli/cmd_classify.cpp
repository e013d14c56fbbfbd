// cbir classify IMAGE --labels a,b,c: zero-shot probabilities of an image over texts.
#include <algorithm>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kClassifyUsage =
    "usage: cbir classify [--model DIR] IMAGE --labels 'L1,L2,...' [--label L]... [--json]\n"
    "\n"
    "Zero-shot classification (Chinese-CLIP bundles): the probability of each label for the\n"
    "image, as softmax over the model's scaled cosine similarities. Labels may be Chinese or\n"
    "English, e.g. --labels 杰尼龟,妙蛙种子,小火龙,皮卡丘\n"
    "\n"
    "  --precision P   auto (default: bf16 where the CPU has it), fp32, bf16 or fp16\n";

int cmd_classify(int argc, char** argv) {
  Args args(argc, argv, {"--model", "--threads", "--device", "--precision", "--labels", "--label"}, {"--json"});
  if (args.positional().size() != 1) throw UsageError("give exactly one image");
  std::vector<std::string> labels = args.all("--label");
  for (const std::string& list : args.all("--labels")) {
    size_t start = 0;
    while (start <= list.size()) {
      size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      if (comma > start) labels.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
  }
  if (labels.empty()) throw UsageError("give the candidate labels with --labels or --label");

  ModelPtr model = open_model(args);
  cbir_model_info_t info = model_info(model.get());
  std::vector<float> emb(static_cast<size_t>(info.dim));
  const char* path = args.positional()[0].c_str();
  int32_t status = CBIR_OK;
  check(cbir_model_embed_image_files(emb.data(), &status, model.get(), &path, 1));
  if (status != CBIR_OK) throw Failure(cbir_model_item_error(0));

  std::vector<const char*> ptrs;
  for (const std::string& l : labels) ptrs.push_back(l.c_str());
  std::vector<float> probs(labels.size());
  check(cbir_model_classify(probs.data(), model.get(), emb.data(), ptrs.data(), ptrs.size()));

  std::vector<size_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return probs[a] > probs[b]; });
  for (size_t i : order) {
    if (args.has("--json"))
      std::printf("{\"label\": %s, \"probability\": %.6f}\n", json_quote(labels[i]).c_str(),
                  static_cast<double>(probs[i]));
    else
      std::printf("%.4f  %s\n", static_cast<double>(probs[i]), labels[i].c_str());
  }
  return 0;
}

}  // namespace cli
