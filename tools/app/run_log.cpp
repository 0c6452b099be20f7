#include "tools/app/run_log.hpp"

#include <ctime>
#include <filesystem>
#include <iostream>

#include "grids/error.hpp"
#include "grids/petsc_util.hpp"
#include "io/collective.hpp"
#include "tools/app/version.hpp"

namespace aeolus::app {

namespace fs = std::filesystem;

std::string utc_now_iso8601() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

RunLog::RunLog(MPI_Comm comm, const std::string& log_path, bool echo) : echo_(echo) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  root_ = (r == 0);
  if (!root_) return;
  fs::create_directories(fs::path(log_path).parent_path());
  out_.open(log_path, std::ios::app);
  if (!out_) throw IoError(log_path + ": cannot open log file for appending");
}

void RunLog::line(const std::string& text) {
  if (!root_) return;
  if (echo_) std::cout << text << std::endl;
  out_ << text << '\n';
  out_.flush();
}

void start_run_logs(const std::string& logs_dir, const std::string& resolved_yaml) {
  namespace fs = std::filesystem;
  const std::string rj = logs_dir + "/run.json";
  if (fs::exists(rj)) {
    int n = 1;
    while (fs::exists(logs_dir + "/run." + std::to_string(n) + ".json")) ++n;
    fs::rename(rj, logs_dir + "/run." + std::to_string(n) + ".json");
  }
  std::ofstream(logs_dir + "/config.resolved.yaml", std::ios::trunc) << resolved_yaml;
}

std::string existing_on_root(MPI_Comm comm, const std::vector<std::string>& paths) {
  std::string found;
  if (comm_rank(comm) == 0) {
    for (const auto& p : paths) {
      if (fs::exists(p) || fs::exists(p + ".part")) {
        found = p;
        break;
      }
    }
  }
  return io::broadcast_string(comm, found);
}

namespace {
IoError earlier_results(const std::string& path) {
  return IoError(path + ": results of an earlier run exist; pass --overwrite to replace them");
}
}  // namespace

void prepare_targets(MPI_Comm comm, const std::vector<std::string>& paths, bool overwrite) {
  const std::string found = existing_on_root(comm, paths);
  if (!found.empty() && !overwrite) throw earlier_results(found);
  if (comm_rank(comm) == 0) {
    for (const auto& p : paths) {
      if (!found.empty()) {
        std::error_code ec;
        fs::remove(p, ec);
        fs::remove(p + ".part", ec);
      }
      fs::create_directories(fs::path(p).parent_path());
    }
  }
  MPI_Barrier(comm);
}

void prepare_target(MPI_Comm comm, const std::string& path, bool overwrite) {
  prepare_targets(comm, {path}, overwrite);
}

JsonRecord provenance_record(const std::string& case_dir, const std::string& config_hash, int ranks,
                             const std::string& start_time) {
  JsonRecord prov;
  prov.set_string("program", "aeolus");
  prov.set_string("version", AEOLUS_VERSION);
  prov.set_string("git_hash", AEOLUS_GIT_HASH);
  prov.set_string("case", case_dir);
  prov.set_string("config_hash", config_hash);
  prov.set_int("ranks", ranks);
  prov.set_string("start_time", start_time);
  prov.set_string("status", "running");
  return prov;
}

void on_rank0(MPI_Comm comm, const std::function<void()>& work) {
  io::on_root<NumericsError>(comm, work);
}

void refuse_existing(MPI_Comm comm, const std::string& path, bool overwrite) {
  if (overwrite) return;
  const std::string found = existing_on_root(comm, {path});
  if (!found.empty()) throw earlier_results(found);
}

}  // namespace aeolus::app
