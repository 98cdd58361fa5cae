"""Agreement with Blimp 4.1 on the Blimp book's growth models, in posterior-SD units (priors="blimp").

    python bench/blimp_agreement.py [--slow]

Uses the scripts and logs of tests/reference/test_blimp_agreement.py (the same comparisons) and writes
bench/results/blimp_agreement.md. ``--slow`` adds the quadratic models of the slow tier.
"""

import sys
import warnings
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
warnings.simplefilter("ignore")

import multilevel as ml  # noqa: E402
from tests.reference import test_blimp_agreement as cases  # noqa: E402

from table import markdown  # noqa: E402

log = cases.read_blimp_log(cases.LOGS / "7.3_growth_model_random_slopes.log")
runs = [("empty model (run 1)", cases.SCRIPTS / "empty.imp", 1, cases.SHORT),
        ("linear growth, random slope (run 2)", cases.SCRIPTS / "growth_linear.imp", 2, cases.SHORT)]
if "--slow" in sys.argv:
    runs.append(("quadratic growth (run 4)", cases.SCRIPTS / "growth_quadratic.imp", 4,
                 dict(warmup=2000, draws=3000, progress=False, warn=False)))
rows = []
for label, script, run, settings in runs:
    fit = ml.fit_script(script, priors="blimp", **settings)
    reference = log[log.run == run]
    for name, distance, tolerance, ess in cases.compare(fit, reference, "person"):
        rows.append({"model": label, "parameter": name, "(ours - Blimp) / sd": distance, "tolerance": tolerance,
                     "our ess_bulk": ess})
frame = pd.DataFrame(rows)
text = markdown(frame)
print(text)
(HERE / "results" / "blimp_agreement.md").write_text(
    "Posterior medians against Blimp 4.1's Estimate column (medtriallong, priors='blimp'), in units of our "
    "posterior SD.\n\n" + text + "\n")
