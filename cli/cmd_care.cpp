// cbir verify / backup: checking a collection and copying it while it is in use.
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kVerifyUsage =
    "usage: cbir verify [--db DIR] [--json]\n"
    "\n"
    "Checks the collection: its catalog (SQLite's integrity check), every stored vector against\n"
    "its checksum, its index snapshot (checksum, and that it belongs to the catalog), and that\n"
    "the index holds exactly the catalog's items.\n"
    "Prints each check, what is wrong and what to do. Exit status 0 only when all is well.\n";

const char* const kBackupUsage =
    "usage: cbir backup [--db DIR] DEST\n"
    "\n"
    "Copies the collection to the new folder DEST while other processes search or index it: a\n"
    "consistent copy that holds every item committed before it started, and opens as a\n"
    "collection as it is. DEST appears whole or not at all.\n";

namespace {

struct Check {
  std::string name;
  std::string problem;  // empty: passed
};

// The library's warnings while the collection opens: a snapshot it could not use is rebuilt
// from the catalog and says so there.
void collect_warning(void* user, int32_t level, const char* message) {
  if (level >= CBIR_LOG_WARN) static_cast<std::vector<std::string>*>(user)->push_back(message);
}

}  // namespace

int cmd_verify(int argc, char** argv) {
  Args args(argc, argv, {"--db"}, {"--json"});
  if (!args.positional().empty()) throw UsageError("verify takes no arguments");
  const std::string dir = db_dir(args);
  std::vector<Check> checks;
  std::vector<std::string> warnings;
  cbir_set_log_callback(collect_warning, &warnings, CBIR_LOG_WARN);
  cbir_collection_options_t opts = CBIR_COLLECTION_OPTIONS_INIT;
  opts.flags = CBIR_OPEN_READONLY;
  cbir_collection_t* raw = nullptr;
  const int rc = cbir_collection_open(&raw, dir.c_str(), &opts);
  CollectionPtr coll(raw);
  cbir_set_log_callback(nullptr, nullptr, CBIR_LOG_WARN);
  if (rc == CBIR_ENOTFOUND) throw Failure("no collection at '" + dir + "'");
  checks.push_back({"open", rc == CBIR_OK ? "" : cbir_last_error()});
  if (coll) {
    std::string snapshot;
    for (const std::string& w : warnings)
      if (w.find("rebuilding the index") != std::string::npos)
        snapshot = w.compare(0, 6, "cbir: ") == 0 ? w.substr(6) : w;
    checks.push_back({"snapshot", snapshot.empty() ? "" :
                      snapshot + "; it was rebuilt from the catalog in memory: open the "
                                 "collection for writing (cbir compact) to save a good one"});
    checks.push_back({"catalog and index", cbir_collection_verify(coll.get()) == CBIR_OK ? ""
                                                                                      : cbir_last_error()});
  }
  bool ok = true;
  for (const Check& c : checks) ok = ok && c.problem.empty();
  if (args.has("--json")) {
    std::string list;
    for (const Check& c : checks)
      list += (list.empty() ? "" : ", ") + std::string("{\"check\": ") + json_quote(c.name) +
              ", \"ok\": " + (c.problem.empty() ? "true" : "false") +
              (c.problem.empty() ? "" : ", \"problem\": " + json_quote(c.problem)) + "}";
    std::printf("{\"path\": %s, \"ok\": %s, \"checks\": [%s]}\n", json_quote(dir).c_str(),
                ok ? "true" : "false", list.c_str());
  } else {
    for (const Check& c : checks)
      std::printf("%-18s %s\n", c.name.c_str(), c.problem.empty() ? "ok" : c.problem.c_str());
    std::printf("%s\n", ok ? "all well" : "problems found");
  }
  return ok ? 0 : 1;
}

int cmd_backup(int argc, char** argv) {
  Args args(argc, argv, {"--db"}, {});
  if (args.positional().size() != 1) throw UsageError("give the folder to write the backup to");
  CollectionPtr coll = open_collection(args, nullptr, false, /*read_only=*/true);
  const std::string& dest = args.positional()[0];
  check(cbir_collection_backup(coll.get(), dest.c_str()), "backup to " + dest);
  cbir_collection_info_t* ci = nullptr;
  check(cbir_collection_info(&ci, coll.get()));
  std::printf("backed up %s to %s\n", ci->path, dest.c_str());
  cbir_free(ci);
  return 0;
}

}  // namespace cli
