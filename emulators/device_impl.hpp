#pragma once
// The torch side of emulators/device.hpp (internal to emulators/: includes torch): the device a
// network runs on, and the number of threads it uses. Case files name the device ("cpu",
// "cuda", "cuda:N"); the same model file runs on either (saved weights are read onto the CPU
// and moved).
#include <torch/torch.h>

#include <string>

namespace aeolus::emulators::detail {

// The torch::Device called `name`. ConfigError naming `key` for an unknown device, or for CUDA
// where this LibTorch has none (Debian's LibTorch is CPU-only: a GPU preset needs a CUDA build
// of LibTorch).
torch::Device torch_device(const std::string& name, const std::string& key);

// Sets torch's intra-op thread count for a scope and restores it afterwards.
class ThreadScope {
 public:
  explicit ThreadScope(int threads);
  ~ThreadScope();
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace aeolus::emulators::detail
