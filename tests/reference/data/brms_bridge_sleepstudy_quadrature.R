# Independent check of the bridge-sampling logml: given (sd, sigma), y is
# multivariate normal (Intercept, b, subject effects integrated out exactly):
#   y ~ N(300*1, 100^2 11' + 20^2 xc xc' + sd^2 Z Z' + sigma^2 I)
# with xc = Days - mean(Days); then 2-D quadrature over half-normal(0,50) sd, sigma.
data("sleepstudy", package = "lme4"); d <- sleepstudy
y <- d$Reaction; n <- length(y)
xc <- d$Days - mean(d$Days)
Z <- model.matrix(~ 0 + Subject, d)
one <- rep(1, n)
loglik <- function(s_u, s_e, withDays) {
  S <- 100^2 * tcrossprod(one) + s_u^2 * tcrossprod(Z) + diag(s_e^2, n)
  if (withDays) S <- S + 20^2 * tcrossprod(xc)
  R <- chol(S); r <- backsolve(R, y - 300, transpose = TRUE)
  -0.5 * n * log(2 * pi) - sum(log(diag(R))) - 0.5 * sum(r^2)
}
lhn <- function(x) log(2) + dnorm(x, 0, 50, log = TRUE)
logml <- function(withDays, su = seq(5, 120, length.out = 231), se = seq(15, 70, length.out = 221)) {
  g <- outer(su, se, Vectorize(function(a, b) loglik(a, b, withDays) + lhn(a) + lhn(b)))
  m <- max(g); h1 <- diff(su)[1]; h2 <- diff(se)[1]
  # Simpson weights (odd number of points)
  w <- function(k) { v <- rep(c(2, 4), length.out = k); v[1] <- 1; v[k] <- 1; v[2 * (1:((k - 1) / 2))] <- 4; v }
  m + log(sum(outer(w(length(su)), w(length(se))) * exp(g - m)) * h1 * h2 / 9)
}
lA <- logml(TRUE); lB <- logml(FALSE)
cat(sprintf("quadrature logml A = %.6f\nquadrature logml B = %.6f\nlog BF = %.6f\n", lA, lB, lA - lB))
# finer / wider grid for convergence check
lA2 <- logml(TRUE, seq(2, 160, length.out = 317), seq(12, 90, length.out = 313))
lB2 <- logml(FALSE, seq(2, 160, length.out = 317), seq(12, 90, length.out = 313))
cat(sprintf("wider grid: A = %.6f  B = %.6f  log BF = %.6f\n", lA2, lB2, lA2 - lB2))
