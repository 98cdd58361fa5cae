# lme4 REML fixed effects for the seed-001 focal model on the complete data and on listwise-deleted data
library(lme4)
args <- commandArgs(trailingOnly = TRUE)
complete <- read.csv(file.path(args[1], "04_multilevel_complete.csv"))
observed <- read.csv(file.path(args[1], "04_multilevel.csv"), na.strings = c("NA", ""))
f <- y ~ x1i + x2i + x3i + x2i:x3i + (1 + x1i | j)
out <- rbind(
  data.frame(data = "complete", term = names(fixef(lmer(f, complete))), estimate = unname(fixef(lmer(f, complete)))),
  data.frame(data = "listwise", term = names(fixef(lmer(f, na.omit(observed)))), estimate = unname(fixef(lmer(f, na.omit(observed))))))
out$rows <- ifelse(out$data == "complete", nrow(complete), nrow(na.omit(observed)))
write.csv(out, args[2], row.names = FALSE)
