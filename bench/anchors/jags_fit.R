#!/usr/bin/env Rscript
# JAGS anchor (rjags) for one benchmark model.
#
#   Rscript jags_fit.R MODEL DATA.csv OUTDIR [ITER]
#
# MODEL:
#   anorexia  "Model 5" of bench/models.py: weight ~ time + C(Rx, ref=2) + (1 + time || girl) with
#             fixed effects ~ N(0, sd = 10 * sd(weight)), precision of the intercept SD ~ dgamma(0.001, 0.001),
#             SD of the time slope ~ U(0.0001, 200), residual SD ~ U(0.0001, 2000)
#   verbagg   random-intercept logistic r2 ~ Anger + Gender + btype + situ + (1 | id) (no item effect),
#             glm module, fixed effects ~ N(0, sd = 100), SD of the id intercept ~ U(0, 100)
# 4 chains (run one after another in this process, as rjags does), adaptation 1000, burn-in 1000,
# ITER kept draws per chain (default 1000), no thinning. Writes OUTDIR/draws.csv (columns named as brms
# names them, plus .chain, .iteration, .draw) and OUTDIR/timings.json:
#   compile_s   jags.model() + adapt(): model compilation + initialization + 1000 adaptation iterations
#               (split into compile_only_s and adapt_s)
#   warmup_s    update(model, 1000): burn-in
#   sampling_s  coda.samples(model, n.iter = ITER)
#   whole_s     proc.time() elapsed at the end: the whole Rscript process, R start-up and library loading included
suppressPackageStartupMessages({
  library(rjags)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: Rscript jags_fit.R MODEL DATA.csv OUTDIR [ITER]")
model <- args[1]
data_path <- args[2]
outdir <- args[3]
iter <- if (length(args) >= 4) as.integer(args[4]) else 1000L
chains <- 4L
n_adapt <- 1000L
burn_in <- 1000L
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
data <- read.csv(data_path, stringsAsFactors = FALSE)
set.seed(1)

if (model == "anorexia") {
  data$girl <- as.integer(factor(data$girl))
  X <- cbind(Intercept = 1, time = data$time, Rx1 = as.numeric(data$Rx == 1), Rx3 = as.numeric(data$Rx == 3))
  code <- "
model {
  for (i in 1:N) {
    mu[i] <- inprod(X[i, ], beta) + u0[girl[i]] + u1[girl[i]] * time[i]
    y[i] ~ dnorm(mu[i], tau_e)
  }
  for (j in 1:J) {
    u0[j] ~ dnorm(0, tau0)
    u1[j] ~ dnorm(0, tau1)
  }
  for (k in 1:K) { beta[k] ~ dnorm(0, prec_beta) }
  tau0 ~ dgamma(0.001, 0.001)
  sd0 <- 1 / sqrt(tau0)
  sd1 ~ dunif(0.0001, 200)
  tau1 <- pow(sd1, -2)
  sigma ~ dunif(0.0001, 2000)
  tau_e <- pow(sigma, -2)
}"
  jdata <- list(N = nrow(data), J = max(data$girl), K = ncol(X), X = X, y = data$weight, time = data$time,
                girl = data$girl, prec_beta = 1 / (100 * var(data$weight)))
  ols <- lm(data$weight ~ X - 1)
  s <- sd(data$weight)
  inits <- lapply(seq_len(chains), function(c) list(
    beta = unname(coef(ols) + rnorm(ncol(X), 0, 2 * sqrt(diag(vcov(ols))))),
    tau0 = 1 / (s * runif(1, 0.1, 1))^2, sd1 = s * runif(1, 0.1, 1), sigma = s * runif(1, 0.5, 1.5),
    .RNG.name = "base::Mersenne-Twister", .RNG.seed = c))
  monitor <- c("beta", "sd0", "sd1", "sigma")
  names_out <- c(paste0("b_", colnames(X)), "sd_girl__Intercept", "sd_girl__time", "sigma")
  monitor_names <- c(paste0("beta[", seq_len(ncol(X)), "]"), "sd0", "sd1", "sigma")
} else if (model == "verbagg") {
  load.module("glm")
  data$id <- as.integer(factor(data$id))
  X <- cbind(Intercept = 1, Anger = data$Anger, GenderM = as.numeric(data$Gender == "M"),
             btypescold = as.numeric(data$btype == "scold"), btypeshout = as.numeric(data$btype == "shout"),
             situself = as.numeric(data$situ == "self"))
  code <- "
model {
  for (i in 1:N) {
    logit(p[i]) <- inprod(X[i, ], beta) + u[id[i]]
    y[i] ~ dbern(p[i])
  }
  for (j in 1:J) { u[j] ~ dnorm(0, tau_u) }
  for (k in 1:K) { beta[k] ~ dnorm(0, 1.0E-4) }
  sd_u ~ dunif(0, 100)
  tau_u <- pow(sd_u, -2)
}"
  jdata <- list(N = nrow(data), J = max(data$id), K = ncol(X), X = X, y = data$r2, id = data$id)
  glm0 <- glm(data$r2 ~ X - 1, family = binomial())
  inits <- lapply(seq_len(chains), function(c) list(
    beta = unname(coef(glm0) + rnorm(ncol(X), 0, 2 * sqrt(diag(vcov(glm0))))), sd_u = runif(1, 0.5, 2),
    .RNG.name = "base::Mersenne-Twister", .RNG.seed = c))
  monitor <- c("beta", "sd_u")
  names_out <- c(paste0("b_", colnames(X)), "sd_id__Intercept")
  monitor_names <- c(paste0("beta[", seq_len(ncol(X)), "]"), "sd_u")
} else {
  stop("unknown model for JAGS: ", model)
}

t0 <- proc.time()[["elapsed"]]
jm <- jags.model(textConnection(code), data = jdata, inits = inits, n.chains = chains, n.adapt = 0, quiet = TRUE)
compile_only_s <- proc.time()[["elapsed"]] - t0
adapted <- adapt(jm, n.iter = n_adapt, progress.bar = "none", end.adaptation = TRUE)
compile_s <- proc.time()[["elapsed"]] - t0
t1 <- proc.time()[["elapsed"]]
update(jm, n.iter = burn_in, progress.bar = "none")
warmup_s <- proc.time()[["elapsed"]] - t1
t2 <- proc.time()[["elapsed"]]
samples <- coda.samples(jm, variable.names = monitor, n.iter = iter, progress.bar = "none")
sampling_s <- proc.time()[["elapsed"]] - t2

draws <- do.call(rbind, lapply(seq_along(samples), function(c) {
  m <- as.matrix(samples[[c]])[, monitor_names, drop = FALSE]
  colnames(m) <- names_out
  data.frame(m, .chain = c, .iteration = seq_len(nrow(m)), check.names = FALSE)
}))
draws$.draw <- seq_len(nrow(draws))
write.csv(draws, file.path(outdir, "draws.csv"), row.names = FALSE)

samplers <- tryCatch(as.list(table(names(list.samplers(jm)))), error = function(e) NULL)
timings <- list(
  tool = "jags", model = model, iter = iter, adapt = n_adapt, burn_in = burn_in, chains = chains,
  compile_s = round(compile_s, 3), compile_only_s = round(compile_only_s, 3),
  adapt_s = round(compile_s - compile_only_s, 3), adaptation_complete = adapted, warmup_s = round(warmup_s, 3), sampling_s = round(sampling_s, 3),
  divergences = NA,
  samplers = samplers,
  modules = list.modules(),
  versions = list(R = paste(R.version$major, R.version$minor, sep = "."),
                  rjags = as.character(packageVersion("rjags")),
                  jags = as.character(jags.version())),
  whole_s = round(proc.time()[["elapsed"]], 3)
)
writeLines(toJSON(timings, auto_unbox = TRUE, pretty = TRUE, digits = NA, na = "null"), file.path(outdir, "timings.json"))
cat(toJSON(timings, auto_unbox = TRUE, digits = NA, na = "null"), "\n")
