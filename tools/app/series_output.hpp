#pragma once
// The output file of a run whose state is a few numbers (TimeSteppingCase::steps_on_root: a
// Hamiltonian system, an ODE): CF-1.8 series over one time axis, where a field case writes
// fields on its grid (io::OutputWriter).
//
// The number of samples is known when the run starts, so the time dimension has its final size
// from the start. Each sample is written to PATH.part as it comes (time last: a sample whose
// time is written is complete) and synced to disk at flush(), which the time loop calls before
// each checkpoint (a sync per sample costs more than the steps between two samples of a
// Hamiltonian run); --restart reopens PATH.part and reads the samples the checkpoint counts back,
// so that end-of-run figures over the whole series (energy drift, ...) are the same as for an
// uninterrupted run; finalize() renames PATH.part to PATH. Rank 0 only (the loop of such a case
// runs on rank 0 alone).
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "grids/field.hpp"
#include "tools/app/case_model.hpp"

namespace aeolus::app {

// A variable of the file: per sample (dims (time) with width 0, (time, dim) with width > 0), or
// static (dims (dim), given once).
struct SeriesVariable {
  std::string name, units, long_name;
  std::string dim;   // the second dimension of a (time, dim) series, or a static's dimension
  size_t width = 0;  // values per sample (0: one, on dims (time) alone)
};

struct SeriesFileSpec {
  std::string path;  // final path (CASE/output/FILE)
  size_t samples = 0;
  std::string time_long_name = "time";
  std::string time_units = "1";
  std::vector<SeriesVariable> series;
  std::vector<std::pair<SeriesVariable, std::vector<double>>> statics;
  std::vector<std::pair<std::string, std::string>> text_attributes;  // global
  std::vector<std::pair<std::string, double>> number_attributes;     // global
};

// The global attributes every run file has: title, source (program version), case, config_hash;
// the model appends its own (system, method, stepper, ...).
std::vector<std::pair<std::string, std::string>> run_file_attributes(const CaseConfig& c);

class SeriesOutput : public FrameOutput {
 public:
  // sample(t, row): the values of the sample at time t, row = every series' values in the
  // order of spec.series (max(width, 1) each), resized by the caller to their total.
  using Sampler = std::function<void(real_t t, std::vector<double>& row)>;
  // A new file (resume = false; IoError if PATH exists), or PATH.part reopened to continue at
  // sample `next_sample` (IoError if it is missing or does not have this spec's shape).
  SeriesOutput(SeriesFileSpec spec, Sampler sample, bool resume, size_t next_sample);
  ~SeriesOutput() override;

  void write_frame(real_t t) override;
  size_t frames_written() const override { return written_; }
  void flush() override;
  // std::logic_error unless every sample of the spec was written.
  void finalize() override;

  // The samples so far: times, and the values of series i (width values per sample).
  const std::vector<double>& times() const { return times_; }
  const std::vector<double>& values(size_t i) const { return values_.at(i); }

 private:
  void create();
  void reopen(size_t next_sample);

  SeriesFileSpec spec_;
  Sampler sample_;
  std::string part_;
  size_t written_ = 0, row_size_ = 0;
  std::vector<double> times_, row_;
  std::vector<std::vector<double>> values_;
  struct File;
  std::unique_ptr<File> file_;
};

// A CaseModel whose state is one small Field ("state", on small_state_grid) and whose output is a
// SeriesOutput: the Hamiltonian and spiral models. A model gives its file's layout and the values
// of a sample; describe_output and frame_scalars (the grid writer's) do not apply.
class SeriesModel : public CaseModel {
 public:
  SeriesModel(const CaseConfig& c, const CartesianGrid& grid) : c_(c), state_(grid, "state") {}
  std::vector<Field*> fields() override { return {&state_}; }
  void describe_output(io::OutputSpec&) override {}
  std::vector<double> frame_scalars(real_t) override { return {}; }
  std::unique_ptr<FrameOutput> open_output(const CartesianGrid& grid, const io::OutputSpec& spec,
                                           bool resume, size_t next_frame) final;

 protected:
  // The file: spec.path, the number of samples, the series; run_file_attributes(c_) and the
  // model's own attributes.
  virtual SeriesFileSpec series_file(const io::OutputSpec& spec) = 0;
  // The values of the sample at time t (SeriesOutput::Sampler); out_->times().size() is its
  // index.
  virtual void sample(real_t t, std::vector<double>& row) = 0;

  const CaseConfig& c_;
  Field state_;
  SeriesOutput* out_ = nullptr;  // owned by the time loop, alive until after diagnose(last)
};

}  // namespace aeolus::app
