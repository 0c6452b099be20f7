#pragma once
// Saved models on disk (internal to emulators/: includes torch): atomic writes, and reading with
// errors that name the file and what is wrong. Every model kind (flux stencil, DCDM) stores its
// metadata under "meta.*" with a "meta.format" name, next to its weights.
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "grids/error.hpp"

namespace aeolus::emulators::detail {

// Writes `archive` to PATH.part and renames it to PATH, so a reader (or a crash mid-save) never
// sees half a model. IoError on failure.
inline void save_model_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  const std::string partial = path + ".part";
  try {
    archive.save_to(partial);
  } catch (const c10::Error& e) {
    throw IoError("cannot write model " + path + ": " + e.what_without_backtrace());
  }
  fs::rename(partial, path, ec);
  if (ec) throw IoError("cannot write model " + path + ": " + ec.message());
}

// A saved model of kind `kind` ("Aeolus DCDM model", ...) with metadata format `format`:
// IoError if the file cannot be read, ModelError if it is not such a model.
class ModelArchive {
 public:
  ModelArchive(const std::string& path, const std::string& format, const std::string& kind)
      : path_(path), kind_(kind) {
    if (!std::ifstream(path).good()) {
      throw IoError("model " + path + " does not exist or cannot be read");
    }
    try {
      // Onto the CPU whatever device saved it; callers move the network where it runs.
      archive_.load_from(path, torch::Device(torch::kCPU));
    } catch (const c10::Error& e) {
      throw ModelError("model " + path + " is not a torch archive: " + e.what_without_backtrace());
    }
    const c10::IValue f = read("meta.format");
    if (!f.isString() || f.toStringRef() != format) {
      throw ModelError("model " + path + " is not an " + kind + " (format '" +
                       (f.isString() ? f.toStringRef() : std::string("?")) + "')");
    }
  }
  // The value stored under `key`; ModelError if absent.
  c10::IValue read(const std::string& key) {
    c10::IValue v;
    if (!archive_.try_read(key, v)) {
      throw ModelError("model " + path_ + " lacks '" + key + "': not an " + kind_);
    }
    return v;
  }
  torch::serialize::InputArchive& archive() { return archive_; }

  // ModelError unless meta.version is `version` (this build's format).
  void check_version(std::int64_t version) {
    const std::int64_t v = read("meta.version").toInt();
    if (v != version) {
      throw ModelError("model " + path_ + " has format version " + std::to_string(v) +
                       ", this build reads version " + std::to_string(version) +
                       "; retrain or use a matching build");
    }
  }

  // Runs `parse` (the reads and checks of the metadata): a torch error, a ConfigError or a
  // ModelError there becomes ModelError("model PATH has malformed metadata: ..."); one that
  // already names the model passes unchanged.
  template <class Parse>
  void parse_metadata(Parse&& parse) {
    const std::string prefix = "model " + path_ + " has malformed metadata: ";
    try {
      parse();
    } catch (const c10::Error& e) {
      throw ModelError(prefix + e.what_without_backtrace());
    } catch (const ConfigError& e) {
      throw ModelError(prefix + e.what());
    } catch (const ModelError& e) {
      const std::string what = e.what();
      if (what.rfind("model ", 0) == 0) throw;
      throw ModelError(prefix + what);
    }
  }

  // Loads the saved weights into `module` (built from the metadata); ModelError if they do not
  // fit its architecture.
  void load_weights(torch::nn::Module& module) {
    try {
      module.load(archive_);
    } catch (const c10::Error& e) {
      throw ModelError("model " + path_ + ": weights do not fit the saved architecture: " +
                       e.what_without_backtrace());
    }
  }

 private:
  std::string path_, kind_;
  torch::serialize::InputArchive archive_;
};

}  // namespace aeolus::emulators::detail
