// cbir verify / backup: checking a collection and copying it while it is in use.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.hpp"
#include "session.hpp"

namespace cli {

const char* const kVerifyUsage =
    "usage: cbir verify [--db DIR] [--model DIR] [--json]\n"
    "\n"
    "Checks the collection: its catalog (SQLite's integrity check), every stored vector against\n"
    "its checksum, its index snapshot (checksum, and that it belongs to the catalog), that the\n"
    "index holds exactly the catalog's items, and with --model (or $CBIR_MODEL) that the model\n"
    "is the one the collection was made with. Prints each check, what is wrong and what to do.\n"
    "Exit status 0 only when all is well.\n";

const char* const kBackupUsage =
    "usage: cbir backup [--db DIR] DEST\n"
    "\n"
    "Copies the collection to the new folder DEST while other processes search or index it: a\n"
    "consistent copy that holds every item committed before it started, and opens as a\n"
    "collection as it is. DEST appears whole or not at all.\n";

namespace {

struct Check {
  std::string name;
  int status = CBIR_OK;
  std::string message;  // what is wrong and what to do, or a note
};

void collect(void* user, const char* check, int32_t status, const char* message) {
  static_cast<std::vector<Check>*>(user)->push_back({check, status, message});
}

}  // namespace

int cmd_verify(int argc, char** argv) {
  Args args(argc, argv, {"--db", "--model"}, {"--json"});
  if (!args.positional().empty()) throw UsageError("verify takes no arguments");
  const std::string dir = db_dir(args);
  std::vector<Check> checks;
  cbir_collection_options_t opts = CBIR_COLLECTION_OPTIONS_INIT;
  opts.flags = CBIR_OPEN_READONLY;
  cbir_collection_t* raw = nullptr;
  const int rc = cbir_collection_open(&raw, dir.c_str(), &opts);
  CollectionPtr coll(raw);
  if (rc == CBIR_ENOTFOUND) throw Failure("no collection at '" + dir + "'");
  if (rc != CBIR_OK) checks.push_back({"open", rc, cbir_last_error()});
  if (coll) {
    cbir_collection_verify_report(coll.get(), collect, &checks);
    if (args.has("--model") || std::getenv("CBIR_MODEL")) {
      cbir_model_options_t mo = CBIR_MODEL_OPTIONS_INIT;
      mo.device = "cpu";
      mo.towers = CBIR_TOWER_TEXT;  // the fingerprint is the bundle's; one small tower loads
      const std::string mdir = model_dir(args);
      cbir_model_t* m = nullptr;
      Check c{"model", cbir_model_open(&m, mdir.c_str(), &mo), ""};
      if (c.status != CBIR_OK) {
        c.message = cbir_last_error();
      } else {
        ModelPtr model(m);
        cbir_collection_info_t* ci = nullptr;
        check(cbir_collection_info(&ci, coll.get()));
        const std::string want = ci->fingerprint, have = model_info(model.get()).fingerprint;
        cbir_free(ci);
        if (want != have) {
          c.status = CBIR_EMISMATCH;
          c.message = "the collection was made with the model '" + want + "', not " + mdir +
                      " ('" + have + "'): search it with that model, or index into a new collection";
        }
      }
      checks.push_back(c);
    }
  }
  bool ok = true;
  for (const Check& c : checks) ok = ok && c.status == CBIR_OK;
  if (args.has("--json")) {
    std::string list;
    for (const Check& c : checks)
      list += (list.empty() ? "" : ", ") + std::string("{\"check\": ") + json_quote(c.name) +
              ", \"ok\": " + (c.status == CBIR_OK ? "true" : "false") +
              (c.message.empty() ? "" : ", \"message\": " + json_quote(c.message)) + "}";
    std::printf("{\"path\": %s, \"ok\": %s, \"checks\": [%s]}\n", json_quote(dir).c_str(),
                ok ? "true" : "false", list.c_str());
  } else {
    for (const Check& c : checks)
      std::printf("%-9s %s%s%s\n", c.name.c_str(), c.status == CBIR_OK ? "ok" : "FAILED",
                  c.message.empty() ? "" : ": ", c.message.c_str());
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
