#!/usr/bin/env Rscript
# brms reference for the Student-t outcome family on lme4's sleepstudy.
#
# Run with: R 4.2.2, brms 2.18.0, rstan 2.21.7 (StanHeaders 2.21.0-7), posterior 1.4.0,
# all from Debian (apt-get install -y r-base-core r-cran-brms r-cran-rstan).
#
# Run from the repository root:  Rscript tests/reference/data/brms_student_sleepstudy.R
# Writes tests/reference/data/brms_student_sleepstudy.csv (posterior::summarise_draws of the
# population-level, group-level and family parameters) for two fits of
#
#   Reaction ~ Days + (Days | Subject), family = student(),
#   chains = 4, iter = 4000, warmup = 1000, seed = 1, cores = 2 (rstan backend)
#
#   fit = "default_priors": brms's own defaults (student_t(3, ...) on the centred Intercept,
#                           flat b, student_t(3, 0, ...) on sd and sigma, lkj(1), gamma(2, 0.1) on nu)
#   fit = "normal_b":       the same, except b ~ normal(0, 2.5 * sd(Reaction) / sd(Days))
#                           (sd with n - 1, computed here from the data) -- the multilevel
#                           package's default prior on coefficients
#
# "Intercept" in the csv is brms's b_Intercept (the intercept at Days = 0, not the centred
# Intercept the prior is put on). Prior summaries, divergences and timings go to stdout.
suppressPackageStartupMessages({
  library(brms)
  library(rstan)
  library(posterior)
})

# Debian's rstan needs its BH headers pointed at: a folder holding a symlink named "boost"
boost_lib <- file.path(tempdir(), "boost_lib")
dir.create(boost_lib, showWarnings = FALSE)
if (!file.exists(file.path(boost_lib, "boost"))) file.symlink("/usr/include/boost", file.path(boost_lib, "boost"))
rstan::rstan_options(boost_lib = boost_lib)
rstan::rstan_options(auto_write = FALSE)

cat(R.version.string, "\n")
print(c(brms = as.character(packageVersion("brms")),
        rstan = as.character(packageVersion("rstan")),
        StanHeaders = as.character(packageVersion("StanHeaders")),
        posterior = as.character(packageVersion("posterior")),
        stan = rstan::stan_version()))

data_path <- "src/multilevel/datasets/sleepstudy.csv"
out_path <- "tests/reference/data/brms_student_sleepstudy.csv"
if (!file.exists(data_path)) stop("run from the repository root (", data_path, " not found)")
dat <- read.csv(data_path, stringsAsFactors = FALSE)
dat$Subject <- factor(dat$Subject)
cat("rows:", nrow(dat), " subjects:", nlevels(dat$Subject), "\n")

formula <- bf(Reaction ~ Days + (Days | Subject))
b_scale <- 2.5 * sd(dat$Reaction) / sd(dat$Days)
cat(sprintf("sd(Reaction) = %.10g, sd(Days) = %.10g, normal_b scale = %.10g\n",
            sd(dat$Reaction), sd(dat$Days), b_scale))
priors <- list(
  default_priors = NULL,
  normal_b = set_prior(sprintf("normal(0, %.17g)", b_scale), class = "b")
)

names_map <- c(b_Intercept = "Intercept", b_Days = "Days",
               sd_Subject__Intercept = "sd(Intercept | Subject)", sd_Subject__Days = "sd(Days | Subject)",
               cor_Subject__Intercept__Days = "cor(Days, Intercept | Subject)",
               sigma = "sigma", nu = "nu")

rows <- list()
t_all <- proc.time()[["elapsed"]]
for (fit_name in names(priors)) {
  t0 <- proc.time()[["elapsed"]]
  fit <- brm(formula, data = dat, family = student(), prior = priors[[fit_name]],
             chains = 4, iter = 4000, warmup = 1000, seed = 1, cores = 2,
             backend = "rstan", refresh = 0, silent = 2)
  wall <- proc.time()[["elapsed"]] - t0
  cat("\n==== ", fit_name, " ====\n", sep = "")
  print(prior_summary(fit))
  sampler <- rstan::get_sampler_params(fit$fit, inc_warmup = FALSE)
  divergences <- sum(vapply(sampler, function(s) sum(s[, "divergent__"]), numeric(1)))
  treedepth <- sum(vapply(sampler, function(s) sum(s[, "treedepth__"] >= 10), numeric(1)))
  elapsed <- rstan::get_elapsed_time(fit$fit)
  cat(sprintf("wall (compile + sample) = %.1f s; chain seconds warmup/sample: %s; divergences = %d; max treedepth hits = %d\n",
              wall, paste(sprintf("%.1f/%.1f", elapsed[, 1], elapsed[, 2]), collapse = " "),
              divergences, treedepth))
  draws <- as_draws_df(fit, variable = names(names_map))
  s <- summarise_draws(draws, mean, sd, ~quantile2(.x, probs = c(0.025, 0.975)), rhat, ess_bulk, ess_tail)
  s <- as.data.frame(s)
  s$variable <- names_map[s$variable]
  s <- s[match(names_map, s$variable), ]
  num <- function(x) as.numeric(unclass(x))   # summarise_draws columns carry pillar formatting
  rows[[fit_name]] <- data.frame(fit = fit_name, parameter = s$variable, mean = num(s$mean), sd = num(s$sd),
                                 q2.5 = num(s$q2.5), q97.5 = num(s$q97.5), rhat = num(s$rhat),
                                 ess_bulk = num(s$ess_bulk), ess_tail = num(s$ess_tail))
}
res <- do.call(rbind, rows)
rownames(res) <- NULL
write.csv(res, out_path, row.names = FALSE)
cat(sprintf("\nwrote %s; total wall for both fits = %.1f s, whole script = %.1f s\n",
            out_path, proc.time()[["elapsed"]] - t_all, proc.time()[["elapsed"]]))
print(res, digits = 6)
