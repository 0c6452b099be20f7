#pragma once
// Run logs: progress lines to the terminal and CASE/logs/<name>.log, and the provenance record
// CASE/logs/run.json. Rank 0 writes; other ranks' calls do nothing.
#include <mpi.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "grids/format.hpp"  // fmt, for the app's log lines
#include "grids/progress.hpp"
#include "io/json.hpp"

namespace aeolus::app {

std::string utc_now_iso8601();

// The JSON writers are io/json.hpp's; the app layer knows them by these names.
using io::json_array;
using io::json_number;
using io::JsonRecord;
// s as a quoted JSON string (io::json_string).
inline std::string json_escape(const std::string& s) { return io::json_string(s); }

class RunLog {
 public:
  // Appends to log_path (creating logs/); echo: also print to stdout.
  RunLog(MPI_Comm comm, const std::string& log_path, bool echo);
  void line(const std::string& text);
  // line() as a sink for progress meters (grids/progress.hpp); the log must outlive it.
  ProgressSink sink() {
    return [this](const std::string& text) { line(text); };
  }

 private:
  bool root_ = false;
  bool echo_ = true;
  std::ofstream out_;
};

// The provenance fields every run.json starts with: program, version, git_hash, case,
// config_hash, ranks, start_time, and status "running".
JsonRecord provenance_record(const std::string& case_dir, const std::string& config_hash, int ranks,
                             const std::string& start_time);

// Rank 0, at the start of a run: keeps the record of an earlier invocation (logs/run.json ->
// logs/run.N.json, e.g. the run a restart continues) and writes logs/config.resolved.yaml.
void start_run_logs(const std::string& logs_dir, const std::string& resolved_yaml);

// The run-directory policy of every command (aeolus run, dataset, train, eval): results of an
// earlier run are never replaced silently. Rank 0 looks and every rank gets its verdict (a rank
// that looked on its own, before rank 0 had finished writing a file, could decide otherwise and
// leave the job waiting in a collective call).
//
// The first of `paths` that exists (or whose .part does), as rank 0 sees it; "" if none.
// Collective.
std::string existing_on_root(MPI_Comm comm, const std::vector<std::string>& paths);
// Before a command writes `paths`: IoError naming the first that exists (or its .part) unless
// `overwrite`, else rank 0 removes them; creates their parent directories. Collective.
void prepare_targets(MPI_Comm comm, const std::vector<std::string>& paths, bool overwrite);
void prepare_target(MPI_Comm comm, const std::string& path, bool overwrite);

// Collective. Runs `work` on rank 0; an exception there is thrown on every rank with the same
// text and, for Aeolus's errors, the same type (any other as NumericsError): io::on_root.
void on_rank0(MPI_Comm comm, const std::function<void()>& work);
// IoError if `path` (or path.part) exists from an earlier run and `overwrite` is false; leaves
// it in place otherwise (a training replaces its model only once the new one is saved).
// Collective.
void refuse_existing(MPI_Comm comm, const std::string& path, bool overwrite);

}  // namespace aeolus::app
