#include "training_config.hpp"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "grids/error.hpp"
#include "io/yaml_schema.hpp"

namespace aeolus::api {

namespace {

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::string part;
  for (char c : dotted + ".") {
    if (c != '.') {
      part += c;
      continue;
    }
    if (part.empty()) {
      throw std::invalid_argument("section = \"" + dotted +
                                  "\"; expected keys separated by single dots, e.g. "
                                  "\"training\" or \"emulator.online_training\"");
    }
    parts.push_back(part);
    part.clear();
  }
  return parts;
}

}  // namespace

emulators::OnlineTrainingSettings read_training_settings(const std::string& path,
                                                         const std::string& section) {
  const std::vector<std::string> keys = split_path(section);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError("config file " + path + " is a directory; expected a YAML file");
  }
  if (!std::ifstream(path).good()) {
    throw IoError("config file " + path + " does not exist or cannot be read");
  }
  auto doc = io::Document::load_file(path);
  // The path's nodes, checked with yaml-cpp on the same text: a Section reads a missing or
  // scalar node as an empty mapping, and a trainer's section must be there.
  const YAML::Node root = YAML::Load(doc->text());
  YAML::Node node = root;
  io::Section s = doc->root();
  std::string at;
  for (const std::string& key : keys) {
    const std::string parent = at.empty() ? "the top level" : "'" + at + "'";
    at += (at.empty() ? "" : ".") + key;
    if (!node.IsMap() || !node[key].IsDefined()) {
      std::vector<std::string> found;
      if (node.IsMap()) {
        for (const auto& kv : node) found.push_back(kv.first.Scalar());
      }
      std::string msg = path + ": no section '" + at + "' (" + parent + " has " +
                        (found.empty() ? std::string("no keys") : "keys " + comma_list(found));
      const std::string near = io::did_you_mean(key, found);
      if (!near.empty()) msg += "; did you mean '" + near + "'?";
      throw ConfigError(msg + "); expected the mapping of the online-training settings");
    }
    node = node[key];
    if (!node.IsMap() && !node.IsNull()) {
      throw ConfigError(s.where(key) + ": '" + at +
                        "' is not a mapping; expected the online-training settings (optimizer, "
                        "learning_rate, ...) under it");
    }
    s = s.section(key);
  }

  // Defaults from the struct: its definition is the one place they are written.
  const emulators::OnlineTrainingSettings d;
  emulators::OnlineTrainingSettings out;
  out.optimizer = s.get_choice("optimizer", d.optimizer, emulators::online_optimizers());
  out.learning_rate = s.get_double("learning_rate", d.learning_rate, io::Range::positive());
  out.weight_decay = s.get_double("weight_decay", d.weight_decay, io::Range::non_negative());
  const bool sgd = out.optimizer == "sgd";
  if (sgd) {
    out.momentum = s.get_double("momentum", d.momentum, {0.0, 1.0, false, true});
  } else if (s.has("momentum")) {
    throw ConfigError(s.where("momentum") + ": " + at +
                      ".momentum applies to optimizer sgd only; " + "this section's optimizer is " +
                      out.optimizer + " (its betas instead)");
  }
  if (!sgd) {
    const std::vector<double> b =
        s.get_doubles("betas", {d.betas[0], d.betas[1]}, 2, 2, {0.0, 1.0, false, true});
    out.betas = {b[0], b[1]};
  } else if (s.has("betas")) {
    throw ConfigError(s.where("betas") + ": " + at +
                      ".betas applies to optimizers adam and adamw only; this section's "
                      "optimizer is sgd (its momentum instead)");
  }
  out.loss = s.get_choice("loss", d.loss, emulators::online_losses());
  out.grad_clip = s.get_double("grad_clip", d.grad_clip, io::Range::non_negative());
  out.threads = int(s.get_int("threads", d.threads, io::Range::closed(0, 4096)));
  s.finish();
  emulators::check_settings(out);
  return out;
}

}  // namespace aeolus::api
