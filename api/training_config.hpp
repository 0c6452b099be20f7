#pragma once
// The online-training settings of the C API's trainer (aeolus_trainer_create): read from a YAML
// mapping of a file, with the schema's defaults, ranges and unknown-key check (io/yaml_schema).
#include <string>

#include "emulators/torchscript_training.hpp"

namespace aeolus::api {

// The settings in the mapping at the dotted path `section` ("training",
// "emulator.online_training") of the YAML file `path`. IoError if the file cannot be read;
// ConfigError (file:line, key, value, expectation) for a YAML error, a missing section or one
// that is not a mapping (the keys found instead named, with the closest), an unknown key (with
// "did you mean"), a bad value, or a key that does not apply to the optimizer chosen.
emulators::OnlineTrainingSettings read_training_settings(const std::string& path,
                                                         const std::string& section);

}  // namespace aeolus::api
