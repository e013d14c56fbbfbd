// cbir index DIR|FILE...: add images to the collection, with a progress bar and a summary.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kIndexUsage =
    "usage: cbir index [OPTIONS] DIR|FILE...\n"
    "\n"
    "Indexes the images in each folder (recursively) or file into the collection, creating it\n"
    "for the model when needed. Files already indexed and unchanged are skipped; files that fail\n"
    "are listed at the end and never stop the run.\n"
    "\n"
    "  --db DIR             collection folder (default $CBIR_DB, else ./cbir-index)\n"
    "  --model [SPACE=]DIR  model bundle (default $CBIR_MODEL, else the shipped default model).\n"
    "                       Repeat it to index into several vector spaces in one pass (each\n"
    "                       image decoded once): the first is the collection's first space's,\n"
    "                       each other one fills SPACE (default: \"clip\" for Chinese-CLIP,\n"
    "                       \"dino\" for DINOv2), made when missing; items already indexed that\n"
    "                       lack a vector in a space are encoded for that space only, e.g.\n"
    "                       cbir index photos --model CLIP_DIR --model dino=DINO_DIR\n"
    "  --index-spec SPEC    index for a new collection: auto, flat, hnsw[:...], ivf[:...]\n"
    "  --ext LIST           extensions to index (default jpg,jpeg,png,bmp,gif,tga,pnm,ppm,pgm,pbm,\n"
    "                       heic,heif,avif,webp,tif,tiff,jxl)\n"
    "  --no-recursive       only the folder itself, not its sub-folders\n"
    "  --follow-symlinks    follow symbolic links\n"
    "  --prune              remove items under DIR whose files are gone\n"
    "  --workers N          decoding threads (default: one per core)\n"
    "  --commit-every N     commit after N items (default 256)\n"
    "  --fast               decode large JPEGs at reduced scale (faster, slightly different)\n"
    "  --threads N          inference threads (default: one per core)\n"
    "  --device DEV         cpu, cuda, cuda:N or auto (default)\n"
    "  --precision P        auto (default: bf16 where the CPU has it), fp32, bf16 or fp16\n"
    "  --json               print the summary as one JSON object\n"
    "  --quiet              no progress output\n";

namespace {

struct ProgressPrinter {
  bool tty = false;
  bool quiet = false;
  std::chrono::steady_clock::time_point last{};
};

std::string clock_text(double s) {
  if (s < 0) return "?";
  char buf[32];
  long t = static_cast<long>(s + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}

int on_progress(void* user, const cbir_ingest_progress_t* p) {
  auto* pp = static_cast<ProgressPrinter*>(user);
  if (pp->quiet) return 0;
  auto now = std::chrono::steady_clock::now();
  bool last = p->done >= p->total;
  if (!last && now - pp->last < std::chrono::milliseconds(pp->tty ? 200 : 5000)) return 0;
  pp->last = now;
  double frac = p->total ? static_cast<double>(p->done) / static_cast<double>(p->total) : 1.0;
  if (pp->tty) {
    const int width = 30;
    int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r[%s] %llu/%llu  %.1f files/s  ETA %s  failed %llu ", bar.c_str(),
                 static_cast<unsigned long long>(p->done), static_cast<unsigned long long>(p->total),
                 p->rate, clock_text(p->eta_seconds).c_str(), static_cast<unsigned long long>(p->failed));
    if (last) std::fputc('\n', stderr);
  } else {
    std::fprintf(stderr, "indexed %llu/%llu (%.0f%%), %.1f files/s, ETA %s, failed %llu\n",
                 static_cast<unsigned long long>(p->done), static_cast<unsigned long long>(p->total),
                 100.0 * frac, p->rate, clock_text(p->eta_seconds).c_str(),
                 static_cast<unsigned long long>(p->failed));
  }
  return 0;
}

}  // namespace

int cmd_index(int argc, char** argv) {
  Args args(argc, argv,
            {CLI_SESSION_FLAGS, "--index-spec", "--ext", "--workers", "--commit-every"},
            {"--no-recursive", "--follow-symlinks", "--prune", "--fast", "--json", "--quiet"});
  if (args.positional().empty()) throw UsageError("give at least one folder or file to index");

  // --model [SPACE=]DIR, repeated: one model per vector space (the first: the first space's).
  std::vector<std::string> given = args.all("--model");
  if (given.empty()) given.push_back(model_dir(args));
  std::vector<ModelPtr> models;
  std::vector<std::string> names;
  for (size_t i = 0; i < given.size(); ++i) {
    std::string dir = given[i], name;
    const size_t eq = dir.find('=');
    struct stat st;
    if (eq != std::string::npos && eq > 0 && stat(dir.c_str(), &st) != 0) {
      name = dir.substr(0, eq);
      dir = dir.substr(eq + 1);
    }
    if (i == 0 && !name.empty())
      throw UsageError("the first --model is the collection's first space's: give it without SPACE=");
    models.push_back(open_model_at(args, dir, CBIR_TOWER_IMAGE));  // indexing needs no text tower
    names.push_back(name.empty() && i > 0 ? default_space_name(model_info(models.back().get())) : name);
  }
  const cbir_model_t* const model_ptr = models.front().get();
  CollectionPtr coll = open_collection(args, model_ptr, /*create=*/true, /*read_only=*/false);
  std::vector<cbir_space_model_t> space_models{{nullptr, model_ptr}};
  const std::vector<SpaceRow> existing = spaces_of(coll.get());
  for (size_t i = 1; i < models.size(); ++i) {
    bool have = false;
    for (const SpaceRow& s : existing) have = have || s.name == names[i];
    if (!have) {  // a new space for this model, indexed as --index-spec says (else auto)
      const cbir_model_info_t info = model_info(models[i].get());
      const std::string spec = args.get("--index-spec", "");
      check(cbir_collection_add_space(coll.get(), names[i].c_str(), info.dim, info.fingerprint,
                                      spec.empty() ? nullptr : spec.c_str()),
            "space " + names[i]);
    }
    space_models.push_back({names[i].c_str(), models[i].get()});
  }

  ProgressPrinter printer;
  printer.tty = isatty(STDERR_FILENO) != 0;
  printer.quiet = args.has("--quiet");
  cbir_ingest_options_t opts = CBIR_INGEST_OPTIONS_INIT;
  std::string ext = args.get("--ext", "");
  if (args.has("--ext")) opts.extensions = ext.c_str();
  opts.recursive = !args.has("--no-recursive");
  opts.follow_symlinks = args.has("--follow-symlinks");
  opts.prune = args.has("--prune");
  opts.fast_decode = args.has("--fast");
  opts.workers = static_cast<int32_t>(args.get_int("--workers", 0, 0, 256));
  opts.commit_every = static_cast<int32_t>(args.get_int("--commit-every", 0, 0, 1 << 30));
  opts.progress = on_progress;
  opts.progress_user = &printer;

  cbir_ingest_summary_t total{};
  std::vector<std::string> failures;
  auto tally = [&](cbir_ingest_report_t* report) {
    cbir_ingest_summary_t s;
    s.version = sizeof s;
    check(cbir_ingest_report_summary(&s, report));
    total.found += s.found;
    total.added += s.added;
    total.updated += s.updated;
    total.unchanged += s.unchanged;
    total.duplicates += s.duplicates;
    total.failed += s.failed;
    total.removed += s.removed;
    total.filled += s.filled;
    total.seconds += s.seconds;
    for (size_t i = 0; i < cbir_ingest_report_failures(report); ++i) {
      const char* path = nullptr;
      const char* msg = nullptr;
      int32_t code = 0;
      cbir_ingest_report_failure(report, i, &path, &code, &msg);
      failures.push_back(std::string(path) + ": " + msg + " [" + cbir_status_str(code) + "]");
    }
    cbir_ingest_report_free(report);
  };

  std::vector<std::string> files;
  for (const std::string& target : args.positional()) {
    struct stat st;
    if (stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      cbir_ingest_report_t* r = nullptr;
      check(cbir_ingest_dir_spaces(&r, coll.get(), space_models.data(), space_models.size(),
                                   target.c_str(), &opts),
            target);
      tally(r);
    } else {
      files.push_back(target);  // a missing one is reported as that file's failure
    }
  }
  if (!files.empty()) {
    std::vector<const char*> paths;
    for (const std::string& f : files) paths.push_back(f.c_str());
    cbir_ingest_report_t* r = nullptr;
    check(cbir_ingest_files_spaces(&r, coll.get(), space_models.data(), space_models.size(),
                                   paths.data(), paths.size(), &opts));
    tally(r);
  }
  check(cbir_collection_save(coll.get()), "saving the collection");

  if (args.has("--json")) {
    std::printf("{\"found\": %llu, \"added\": %llu, \"updated\": %llu, \"unchanged\": %llu, "
                "\"duplicates\": %llu, \"failed\": %llu, \"removed\": %llu, \"filled\": %llu, "
                "\"seconds\": %.3f, \"failures\": [",
                static_cast<unsigned long long>(total.found), static_cast<unsigned long long>(total.added),
                static_cast<unsigned long long>(total.updated),
                static_cast<unsigned long long>(total.unchanged),
                static_cast<unsigned long long>(total.duplicates),
                static_cast<unsigned long long>(total.failed),
                static_cast<unsigned long long>(total.removed),
                static_cast<unsigned long long>(total.filled), total.seconds);
    for (size_t i = 0; i < failures.size(); ++i)
      std::printf("%s%s", i ? ", " : "", json_quote(failures[i]).c_str());
    std::printf("]}\n");
  } else {
    std::printf("added %llu, updated %llu, unchanged %llu, duplicates %llu, failed %llu, removed %llu "
                "(%.1f s)\n",
                static_cast<unsigned long long>(total.added), static_cast<unsigned long long>(total.updated),
                static_cast<unsigned long long>(total.unchanged),
                static_cast<unsigned long long>(total.duplicates),
                static_cast<unsigned long long>(total.failed),
                static_cast<unsigned long long>(total.removed), total.seconds);
    if (total.filled)
      std::printf("filled %llu items' vectors in the spaces they lacked\n",
                  static_cast<unsigned long long>(total.filled));
    for (const std::string& f : failures) std::printf("  failed: %s\n", f.c_str());
  }
  return 0;
}

}  // namespace cli
