# Reference log marginal likelihoods (bridge sampling) for two brms models on
# lme4::sleepstudy. Run from /work/rref:  Rscript bridge_reference.R
suppressPackageStartupMessages({
  library(lme4)
  library(brms)
  library(rstan)
  library(bridgesampling)
})
setwd("/work/rref")
rstan::rstan_options(boost_lib = "/work/rref/boost")
rstan::rstan_options(auto_write = TRUE)
options(mc.cores = 2)

cat("R:", R.version.string, "\n")
vers <- c(brms = as.character(packageVersion("brms")),
          rstan = as.character(packageVersion("rstan")),
          StanHeaders = as.character(packageVersion("StanHeaders")),
          bridgesampling = as.character(packageVersion("bridgesampling")),
          lme4 = as.character(packageVersion("lme4")))
print(vers)

data("sleepstudy", package = "lme4")
dat <- sleepstudy
# cross-check with the copy bundled in the package (run from the repository root)
csv <- read.csv("src/multilevel/datasets/sleepstudy.csv")
cat("rows:", nrow(dat), " csv rows:", nrow(csv), "\n")
cat("max |Reaction diff| vs csv:", max(abs(dat$Reaction - csv$Reaction)),
    " max |Days diff|:", max(abs(dat$Days - csv$Days)), "\n")

prA <- c(prior(normal(300, 100), class = Intercept),
         prior(normal(0, 20), class = b),
         prior(normal(0, 50), class = sd),
         prior(normal(0, 50), class = sigma))
prB <- c(prior(normal(300, 100), class = Intercept),
         prior(normal(0, 50), class = sd),
         prior(normal(0, 50), class = sigma))

fA <- brms::bf(Reaction ~ 1 + Days + (1 | Subject))
fB <- brms::bf(Reaction ~ 1 + (1 | Subject))

scA <- make_stancode(fA, data = dat, family = gaussian(), prior = prA,
                     save_pars = save_pars(all = TRUE))
scB <- make_stancode(fB, data = dat, family = gaussian(), prior = prB,
                     save_pars = save_pars(all = TRUE))
writeLines(scA, "stancode_A.stan")
writeLines(scB, "stancode_B.stan")
cat("\n==== Stan code A ====\n"); cat(scA, "\n")
cat("\n==== Stan code B: prior lines ====\n")
cat(grep("target|lprior", strsplit(scB, "\n")[[1]], value = TRUE), sep = "\n")

fit_one <- function(f, pr) {
  brm(f, data = dat, family = gaussian(), prior = pr,
      save_pars = save_pars(all = TRUE),
      chains = 4, iter = 6000, warmup = 1000, seed = 1, cores = 2,
      refresh = 0)
}
fitA <- fit_one(fA, prA)
fitB <- fit_one(fB, prB)
saveRDS(fitA, "fitA.rds"); saveRDS(fitB, "fitB.rds")
print(summary(fitA)); print(summary(fitB))

nruns <- 5
run_bridge <- function(fit, name) {
  out <- vector("list", nruns)
  for (k in seq_len(nruns)) {
    set.seed(1000 + k)
    out[[k]] <- bridge_sampler(fit, silent = TRUE, method = "normal")
    em <- error_measures(out[[k]])
    cat(sprintf("%s run %d (seed %d): logml = %.6f  iter=%d  re2=%g  cv=%g  pct=%s\n",
                name, k, 1000 + k, out[[k]]$logml, out[[k]]$niter,
                em$re2, em$cv, em$percentage))
  }
  out
}
brA <- run_bridge(fitA, "A")
brB <- run_bridge(fitB, "B")
# also one call with repetitions = 10 (same posterior draws, new proposal draws)
set.seed(2024)
brA10 <- bridge_sampler(fitA, silent = TRUE, method = "normal", repetitions = 10)
set.seed(2024)
brB10 <- bridge_sampler(fitB, silent = TRUE, method = "normal", repetitions = 10)
cat("\nA repetitions=10:\n"); print(brA10$logml); print(error_measures(brA10))
cat("\nB repetitions=10:\n"); print(brB10$logml); print(error_measures(brB10))

lA <- sapply(brA, function(b) b$logml)
lB <- sapply(brB, function(b) b$logml)
bf1 <- bayes_factor(brA[[1]], brB[[1]], log = TRUE)
print(bf1)
log_bf_runs <- lA - lB
cat("log BF A vs B per run pair:", log_bf_runs, "\n")

rows <- list()
add <- function(model, q, v) rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = q, value = v)
for (m in c("A", "B")) {
  l <- if (m == "A") lA else lB
  l10 <- if (m == "A") brA10$logml else brB10$logml
  brs <- if (m == "A") brA else brB
  add(m, "logml_mean", mean(l))
  add(m, "logml_sd", sd(l))
  for (k in seq_along(l)) add(m, sprintf("logml_run%d_seed%d", k, 1000 + k), l[k])
  for (k in seq_along(l)) add(m, sprintf("logml_run%d_error_re2", k), error_measures(brs[[k]])$re2)
  add(m, "logml_rep10_mean", mean(l10))
  add(m, "logml_rep10_sd", sd(l10))
  fit <- if (m == "A") fitA else fitB
  dr <- as_draws_df(fit)
  pars <- c("b_Intercept", "b_Days", "sd_Subject__Intercept", "sigma", "Intercept")
  for (p in pars) if (p %in% names(dr)) {
    add(m, paste0("post_mean_", p), mean(dr[[p]]))
    add(m, paste0("post_sd_", p), sd(dr[[p]]))
  }
  rh <- rhat(fit)
  add(m, "max_rhat", max(rh[grepl("^(b_|sd_|sigma)", names(rh))], na.rm = TRUE))
}
add("AvsB", "log_bf_A_vs_B", mean(lA) - mean(lB))
add("AvsB", "log_bf_A_vs_B_sd_over_paired_runs", sd(log_bf_runs))
add("AvsB", "log_bf_A_vs_B_bayes_factor_run1", bf1$bf)
res <- do.call(rbind, rows)
write.csv(res, "bridge_reference.csv", row.names = FALSE, quote = FALSE)
options(digits = 10)
print(res)
sessionInfo()
