#pragma once
// Training and evaluation of the CO2 transport emulators (emulators/co2_models.hpp) on the
// CO2 data set (io/co2_dataset_format.hpp, read by emulators/co2_data.hpp). No torch here.
//
// Training, after CarbonBench (Benson et al. 2024; vitusbenson/neural_transport):
//  1. normalisation statistics of the training pairs (Co2StatsAccumulator, computed on rank 0
//     over every pair and broadcast, so that all ranks normalise bitwise alike);
//  2. one-step training: AdamW on the latitude-weighted MSE of normalised increments
//     (Co2Core::loss), learning rate decayed per step (cosine), validation each epoch;
//  3. rollout fine-tuning: Co2Core::rollout_loss over rollout_steps consecutive 6-hour steps
//     (gradients through all of them), from the best one-step weights, with a fresh optimizer.
// The saved model holds the weights with the best validation loss: the best one-step epoch is
// chosen by the one-step validation loss; fine-tuning starts from it and replaces it only
// if a fine-tuned epoch's k-step validation loss beats that of the one-step best (measured
// first).
//
// Data parallel (mpirun -n N): every rank reads the whole split, starts from the same weights
// (seeded, then broadcast from rank 0) and takes a disjoint part of each global batch of the
// epoch's seeded permutation; the gradients of the global batch mean are summed with one
// MPI_Allreduce over a flat buffer of all parameters. N ranks with batch b therefore take the
// same steps as one rank with batch b, up to the order of float summation.
//
// Checkpoints (CHECKPOINT_DIR/co2_ckpt_s<stage>_e<epoch, 4 digits>_b<batch, 6 digits>.pt: the
// position the run continues from; written by rank 0 as .part and renamed, the newest
// checkpoint_keep kept) hold the weights, the best weights, the optimizer state, the position
// (stage, epoch, next batch), torch's generator state, the statistics, the loss history and
// the best validation loss. The permutation of an epoch is a function of (seed, stage, epoch)
// and the learning rate one of (stage, step), so no other random state exists: a resumed run
// repeats the uninterrupted one bitwise on the same rank and thread counts (tested, resuming
// after every batch). A run stopped by max_minutes writes a checkpoint at the batch where it
// stopped; a run that fails leaves the last complete checkpoint as it was.
#include <mpi.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "emulators/co2_data.hpp"
#include "emulators/co2_models.hpp"
#include "grids/progress.hpp"

namespace aeolus::emulators {

struct Co2TrainingParams {
  int epochs = 8;               // one-step epochs
  int batch_size = 8;           // the global batch (all ranks together)
  double learning_rate = 1e-3;  // AdamW, at the start of the one-step stage
  double weight_decay = 0.0;    // AdamW's decoupled weight decay
  // cosine: lr(s) = lr_end + (lr0 - lr_end) (1 + cos(pi s / S)) / 2 over the S steps of a
  // stage, lr_end = min_lr_fraction lr0; constant: lr0 throughout.
  std::string schedule = "cosine";
  double min_lr_fraction = 0.01;
  std::uint64_t seed = 0;  // initial weights and every epoch's permutation
  int threads = 2;         // torch intra-op threads per rank
  // Where the network trains: cpu | cuda | cuda:N. The batches are stacked on the CPU (the
  // input noise drawn there, so every device draws the same) and moved; the gradient allreduce
  // and the checkpoints go through CPU copies, so a checkpoint written on a GPU resumes on the
  // CPU and the other way round (the device is not part of the configuration a resume must
  // match). Under mpirun, "cuda" puts the ranks of a node on its GPUs in turn (node-local rank
  // mod device count); "cuda:N" puts every rank on device N. The names are checked at load
  // (check_co2_training_params); whether the device exists, when training starts (ConfigError
  // naming training.device where this LibTorch sees no CUDA device).
  std::string device = "cpu";
  // Training pairs per epoch: 0 = all; else the first N of the epoch's permutation (a fresh
  // draw every epoch).
  long long samples_per_epoch = 0;
  // Validation pairs (one-step) or windows (rollout) per epoch: 0 = all; else N evenly spaced.
  long long valid_samples = 0;
  // Fine-tuning: rollout_epochs epochs of rollout_steps-step rollouts (0 epochs: none).
  int rollout_steps = 4;
  int rollout_epochs = 0;
  double rollout_learning_rate = 1e-4;
  int rollout_batch_size = 0;  // 0 = batch_size
  // Train through the mass fixer (fixer_* models), as the stepper runs; false trains the raw
  // increment as CarbonBench does. flux_form always conserves.
  bool train_through_fixer = true;
  // Noise injection against the instability of free runs: the CO2 input of every training
  // item (a one-step pair, or the start of a rollout) gets white noise of this many increment
  // stds of its level, minus its air-mass-weighted mean (so the column masses and the budget
  // stay those of the truth); the target stays the clean state at t + dt, so the network
  // learns to damp grid-scale perturbations as well as to transport. The noise is a function
  // of (seed, stage, epoch, item): resumed and data-parallel runs draw the same. 0 = none.
  double input_noise = 0.0;
  // Wall-clock cap of this call in minutes (0 = none): checked after every batch; on expiry a
  // checkpoint is written and the call returns with finished = false (resume continues).
  double max_minutes = 0;
  int checkpoint_every = 1;  // epochs between checkpoints (and one at the end / on stop)
  int checkpoint_keep = 2;
};

// ConfigError naming SECTION.key, the value and what was expected.
void check_co2_training_params(const Co2TrainingParams& p, const std::string& section = "training");

struct Co2EpochRecord {
  std::string stage;         // one_step | rollout
  int epoch = 0;             // within the stage, from 1
  double train_loss = 0;     // mean batch loss over the epoch
  double valid_loss = 0;     // NaN without validation data
  double learning_rate = 0;  // at the epoch's last step
  double seconds = 0;        // wall time of the epoch (training + validation)
  bool best = false;         // the new best of its stage at the time
};

struct Co2TrainReport {
  std::vector<Co2EpochRecord> epochs;  // every epoch so far, resumed ones included
  bool finished = false;  // all epochs done and the model saved; false: stopped by max_minutes
  bool resumed = false;
  std::string resumed_from;     // the checkpoint this call started from
  std::string last_checkpoint;  // the newest written
  double best_valid_loss = 0;   // of the saved weights (the stage's metric: 1-step or k-step)
  std::string best_stage;       // one_step | rollout
  int best_epoch = 0;
  double training_seconds = 0;  // training loops, summed over resumed calls
  double data_seconds = 0;      // reading the splits (this call)
  double stats_seconds = 0;     // the normalisation statistics (the call that computed them)
  long long parameters = 0;
  long long train_pairs = 0, valid_pairs = 0;
  int ranks = 1;
  std::string device;  // where rank 0 trained ("cpu", "cuda:0", ...)
  std::string model_path;
};

// Progress lines (epochs, checkpoints, the stop, and "batch K/N ..." at most every 10 s within
// epochs, grids/progress.hpp); called on rank 0 only.
using Co2TrainLog = ProgressSink;

// Collective over comm. Trains a model of `model` on the pairs of train_files (+ the first
// state of valid_files[0], which follows them in the data set) and validates on valid_files
// (empty: no validation; the last epoch is kept). Writes the best model to model_path
// (Co2Model::save; info: data files, pairs, epochs, losses, training seconds, ranks, seed)
// when all epochs are done. resume: continue from the newest checkpoint in checkpoint_dir
// (none there: start afresh); its configuration must match (ConfigError naming the key that
// differs; threads, max_minutes and the checkpoint cadence may change). Without resume an
// existing checkpoint in checkpoint_dir is an IoError (pass resume or remove it).
// ConfigError / IoError / NumericsError (a non-finite loss) on every rank alike.
Co2TrainReport train_co2_model(MPI_Comm comm, const Co2ModelParams& model,
                               const Co2TrainingParams& training,
                               const std::vector<std::string>& train_files,
                               const std::vector<std::string>& valid_files,
                               const std::string& model_path, const std::string& checkpoint_dir,
                               bool resume, const Co2TrainLog& log = {});

// ---------------------------------------------------------------------------------------------
// Evaluation, after CarbonBench's compute_score_df (neural_transport/inference/analyse.py):
// rollouts started from the true state at the start of each quarter of the test year run with
// the true meteorology, air mass and fluxes, feeding the predicted q back. Every metric is of
// the CO2 dry-air mole fraction in ppmv (x = q / co2::kMassMixingPerPpmv, physics/co2_met.hpp:
// 1e-6 * 44.0095 / 28.9647), over the 3D field (level, lat, lon) at one time, weighted by
// cos(latitude) (every level alike: CarbonBench does not weight by air mass):
//   R^2 = r^2, the squared weighted Pearson correlation of prediction and truth (CarbonBench's
//         R2_3D; xskillscore.pearson_r with the cos-lat weights), averaged over start dates;
//   RMSE = sqrt(mean over start dates of sum(w (x_p - x_t)^2) / sum(w));
//   NSE = 1 - sum(w (x_p - x_t)^2) / sum(w (x_t - mean_w x_t)^2), CarbonBench's NSE_3D (also
//         reported: unlike r^2 it sees a bias), averaged over start dates;
//   decorrelation time: the first lead time (at 6-hour resolution, in days) at which the
//         start-date mean of R^2 falls below decorrelation_r2 (CarbonBench's Days_R2>0.8);
//   mass RMSE (PgC): sqrt(mean over all rollout steps of (M_p - M_t)^2), M = sum(q airmass)
//         in carbon, 12.0107 / 44.0095 kg C per kg CO2 (CarbonBench's Mass_RMSE).
struct Co2EvalParams {
  // Start days of the rollouts in the test split; empty = the quarters floor(k D / 4),
  // k = 0..3, D = the split's length in days (0, 91, 182, 273 for a 365-day year).
  std::vector<int> start_days;
  int horizon_days = 90;  // shortened where the data ends first (reported per rollout)
  std::vector<int> report_days = {7, 30, 60, 90};
  double decorrelation_r2 = 0.8;
  // A free run from the first test state for this many days (or as long as the data allows):
  // stability, positivity and the global mean against the flux budget. 0 = none.
  int long_rollout_days = 365;
  // The persistence baseline: q(t + dt) = q(t), mass-fixed to the transported mass (as the
  // fixer_scale step), plus the surface flux into the lowest layer: what a model that moves
  // nothing scores. Evaluated on the same rollouts.
  bool persistence = true;
  int threads = 0;  // torch threads of predict_step; 0 = the model's
  // Where the network runs when evaluate_co2_model loads the model from a file (a case's
  // model.device): cpu | cuda | cuda:N. A Co2Model passed in runs where it is.
  std::string device = "cpu";
};

struct Co2LeadMetrics {  // one lead time, over the rollouts that reach it
  double lead_days = 0;
  int rollouts = 0;
  double r2 = 0, rmse_ppmv = 0, nse = 0, mass_error_pgc = 0;  // mass: RMS of M_p - M_t
  double r2_persistence = 0, rmse_persistence_ppmv = 0, nse_persistence = 0;
};

struct Co2RolloutInfo {
  int start_day = 0;
  std::size_t start_index = 0;  // state index in the test split
  int steps = 0;                // 6-hour steps run
  bool failed = false;          // the model produced non-finite values (message)
  std::string message;
};

struct Co2LongRollout {
  int steps = 0;
  double days = 0;
  bool finite = true, positive = true;
  std::string message;                    // why it stopped early, if it did
  double q_min_ppmv = 0, q_max_ppmv = 0;  // over every step of the prediction
  double truth_min_ppmv = 0, truth_max_ppmv = 0;
  double mean_start_ppmv = 0;  // global mass-weighted mean at the start
  double mean_end_ppmv = 0;    // of the prediction at the end
  double mean_end_truth_ppmv = 0;
  double mean_end_budget_ppmv = 0;       // start mass + sum of surface sources, over the air mass
  double worst_budget_relative = 0;      // max over steps |M_p - (M_0 + sum S)| / (M_0 + sum S)
  double r2_end = 0, rmse_end_ppmv = 0;  // of the last state reached
  // How long the free run stays usable (days from its start; the run's length if never):
  // the last state before the first non-positive value, and the first state whose R^2 against
  // the truth is below Co2EvalParams::decorrelation_r2.
  double days_positive = 0, decorrelation_days = 0;
  // At states 0..steps: global mass-weighted mean (ppmv) of prediction, truth and budget; the
  // prediction's smallest and largest value (ppmv) and its R^2 against the truth.
  std::vector<double> time_hours, mean_ppmv, mean_truth_ppmv, mean_budget_ppmv;
  std::vector<double> min_ppmv, max_ppmv, r2;
};

struct Co2EvalMetrics {
  std::string model_path;
  std::string arch, conservation, preset;
  long long parameters = 0;
  std::map<std::string, std::string> model_info;  // as saved by training
  double dt = 0;
  int steps_per_day = 0;
  std::vector<Co2RolloutInfo> rollouts;
  std::vector<Co2LeadMetrics> leads;    // every 6-hour lead time 1..H
  std::vector<Co2LeadMetrics> at_days;  // the report days that some rollout reaches
  double decorrelation_days = 0;        // -1 if R^2 never fell below decorrelation_r2 (> horizon)
  double decorrelation_days_persistence = 0;
  double horizon_days = 0;  // the longest rollout's
  double mass_rmse_pgc = 0, mass_rmse_relative = 0;
  double worst_step_mass_error = 0;  // max |M_after - M_before - S| / (M_before + S) per step
  Co2LongRollout long_rollout;
  double step_ms = 0;  // wall time of Co2Model::predict_step per 6-hour step (mean)
  std::string device;  // where the network ran ("cpu", "cuda:0", ...)
  int threads = 0;
  long long steps_timed = 0;
  // For plots: the lowest layer (ppmv) at the last lead of the first rollout.
  double surface_lead_days = 0;
  std::vector<double> surface_truth, surface_pred, surface_persistence;  // [nlat][nlon]
};

// ConfigError naming SECTION.key, the value and what was expected.
void check_co2_eval_params(const Co2EvalParams& p, const std::string& section = "evaluation");

// Evaluates `model` on the states of `test` (read with the meteorology the model uses).
// Serial: call it on one rank. A rollout in which the model fails (NumericsError: non-finite
// values) stops there; its message is kept, and every lead-time metric it no longer reaches
// is NaN. ConfigError for bad params, a test split of another grid or dt, or one too short
// for one step. params.threads changes the model's threads for the call only.
// progress: "eval K/N model steps ..." lines at most every 10 s.
Co2EvalMetrics evaluate_co2_model(Co2Model& model, const Co2SplitData& test,
                                  const Co2EvalParams& params = {},
                                  const ProgressSink& progress = {});

// How to read data for a model of params p: its grid, and the meteorology if its inputs use it.
Co2ReadOptions co2_read_options(const Co2ModelParams& p);

// The start days of CarbonBench's quarterly rollouts in a split of `days` days:
// floor(k days / 4), k = 0..3 (0, 91, 182, 273 for a 365-day year).
std::vector<int> co2_quarter_start_days(long long days);

// A free run from state `start` of `data` for `days` days, or as long as the data allow: what
// evaluate_co2_model reports as its long_rollout, from another start (e.g. each quarter of the
// validation year, with the validation and test years read as one sequence). Serial.
// ConfigError for data of another grid or dt, days < 1, or a start with no step after it.
// threads > 0 overrides the model's torch threads for the call.
// progress: "free run K/N steps ..." lines at most every 10 s.
Co2LongRollout co2_free_run(Co2Model& model, const Co2SplitData& data, std::size_t start, int days,
                            double decorrelation_r2 = 0.8, int threads = 0,
                            const ProgressSink& progress = {});

// Loads model_path, reads test_files and evaluates; writes json_path and netcdf_path (CF-1.8:
// the lead curves, the surface maps, the long rollout's global means) unless empty. IoError
// if a file cannot be written. Serial.
Co2EvalMetrics evaluate_co2_model(const std::string& model_path,
                                  const std::vector<std::string>& test_files,
                                  const Co2EvalParams& params, const std::string& json_path,
                                  const std::string& netcdf_path,
                                  const ProgressSink& progress = {});

// The metrics as JSON (NaN / infinity as null).
std::string co2_eval_json(const Co2EvalMetrics& m);
// One free run as a JSON object (as "long_rollout" in co2_eval_json).
std::string co2_free_run_json(const Co2LongRollout& l);

}  // namespace aeolus::emulators
