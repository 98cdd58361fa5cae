#!/usr/bin/env Rscript
# brms anchor for one benchmark model (brms default priors, rstan backend).
#
#   Rscript brms_fit.R MODEL DATA.csv OUTDIR [ITER] [WARMUP] [ADAPT_DELTA]
#
# ITER/WARMUP default to 2000/1000 (brms defaults); ADAPT_DELTA defaults to brms's 0.8.
#
# MODEL is one of sleepstudy, anorexia, verbagg, mathach (formulas as in bench/models.py).
# Writes OUTDIR/draws.csv (post-warmup draws of b_*, sd_*, cor_*, sigma plus .chain, .iteration, .draw)
# and OUTDIR/timings.json. Timing protocol:
#   compile_s   wall clock of brm(..., chains = 0): data preparation + Stan code generation + C++ compilation
#   sampling_call_s  wall clock of update(<compiled fit>, chains = 4, cores = 2): the sampling call
#               (includes starting the 2 parallel worker processes); no recompilation happens
#   warmup_s, sampling_s  sampling_call_s split in proportion to the per-chain warmup / sampling times
#               reported by rstan::get_elapsed_time (so warmup_s + sampling_s == sampling_call_s);
#               the raw per-chain sums are kept as chain_warmup_s_sum / chain_sampling_s_sum
#   whole_s     proc.time() elapsed at the end: the whole Rscript process, R start-up and library loading included
suppressPackageStartupMessages({
  library(brms)
  library(jsonlite)
})
rstan::rstan_options(boost_lib = "/work/rref/boost")
rstan::rstan_options(auto_write = FALSE)

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: Rscript brms_fit.R MODEL DATA.csv OUTDIR [ITER] [WARMUP] [ADAPT_DELTA]")
model <- args[1]
data_path <- args[2]
outdir <- args[3]
iter <- if (length(args) >= 4) as.integer(args[4]) else 2000L
warmup <- if (length(args) >= 5) as.integer(args[5]) else as.integer(iter %/% 2)
adapt_delta <- if (length(args) >= 6) as.numeric(args[6]) else 0.8
chains <- 4L
cores <- 2L
seed <- 1L
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

data <- read.csv(data_path, stringsAsFactors = FALSE)
family <- gaussian()
if (model == "sleepstudy") {
  data$Subject <- factor(data$Subject)
  formula <- bf(Reaction ~ Days + (Days | Subject))
} else if (model == "anorexia") {
  # C(Rx, ref=2): treatment dummies with Rx == 2 as the reference
  data$Rx1 <- as.numeric(data$Rx == 1)
  data$Rx3 <- as.numeric(data$Rx == 3)
  data$girl <- factor(data$girl)
  formula <- bf(weight ~ time + Rx1 + Rx3 + (1 + time || girl))
} else if (model == "verbagg") {
  data$id <- factor(data$id)
  data$item <- factor(data$item)
  data$Gender <- factor(data$Gender)   # F (reference), M
  data$btype <- factor(data$btype)     # curse (reference), scold, shout
  data$situ <- factor(data$situ)       # other (reference), self
  formula <- bf(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item))
  family <- bernoulli()
} else if (model == "mathach") {
  data$School <- factor(data$School)
  data$Sector <- factor(data$Sector, levels = c("Public", "Catholic"))
  formula <- bf(MathAch ~ SES * Sector + MEANSES + (1 + SES | School))
} else {
  stop("unknown model: ", model)
}

# 1. compilation only
t0 <- proc.time()[["elapsed"]]
compiled <- brm(formula, data = data, family = family, chains = 0, backend = "rstan", silent = 2, refresh = 0)
compile_s <- proc.time()[["elapsed"]] - t0

# 2. sampling with the compiled model
t1 <- proc.time()[["elapsed"]]
fit <- update(compiled, recompile = FALSE, chains = chains, cores = cores, iter = iter, warmup = warmup,
              seed = seed, control = list(adapt_delta = adapt_delta), silent = 2, refresh = 0)
sampling_call_s <- proc.time()[["elapsed"]] - t1

elapsed <- rstan::get_elapsed_time(fit$fit)   # chains x (warmup, sample), seconds
chain_warmup <- sum(elapsed[, "warmup"])
chain_sampling <- sum(elapsed[, "sample"])
share <- chain_warmup / (chain_warmup + chain_sampling)

sampler <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
divergences <- sum(vapply(sampler, function(s) sum(s[, "divergent__"]), numeric(1)))
max_treedepth <- sum(vapply(sampler, function(s) sum(s[, "treedepth__"] >= 10), numeric(1)))
mean_leapfrog <- mean(unlist(lapply(sampler, function(s) s[, "n_leapfrog__"])))

draws <- as_draws_df(fit, variable = c("^b_", "^sd_", "^cor_", "^sigma$"), regex = TRUE)
draws <- as.data.frame(draws)   # keeps .chain, .iteration, .draw
write.csv(draws, file.path(outdir, "draws.csv"), row.names = FALSE)

timings <- list(
  tool = "brms", model = model, iter = iter, warmup = warmup, chains = chains, cores = cores, seed = seed,
  adapt_delta = adapt_delta,
  compile_s = round(compile_s, 3),
  warmup_s = round(sampling_call_s * share, 3),
  sampling_s = round(sampling_call_s * (1 - share), 3),
  sampling_call_s = round(sampling_call_s, 3),
  chain_warmup_s_sum = round(chain_warmup, 3),
  chain_sampling_s_sum = round(chain_sampling, 3),
  chain_elapsed_max_s = round(max(rowSums(elapsed)), 3),
  divergences = divergences,
  max_treedepth_hits = max_treedepth,
  mean_leapfrog_steps = round(mean_leapfrog, 2),
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  brms = as.character(packageVersion("brms")),
                  rstan = as.character(packageVersion("rstan")),
                  stan = rstan::stan_version()),
  whole_s = round(proc.time()[["elapsed"]], 3)
)
writeLines(toJSON(timings, auto_unbox = TRUE, pretty = TRUE, digits = NA), file.path(outdir, "timings.json"))
cat(toJSON(timings, auto_unbox = TRUE, digits = NA), "\n")
