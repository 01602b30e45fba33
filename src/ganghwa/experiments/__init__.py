"""Experiments: many seeds and settings as ordinary run folders, compared with intervals.

- `plan.py` reads `--seeds`, `--variant` and `--grid` into one task per (variant, seed);
- `folder.py` is the experiment folder, `experiments/<name>/`, and its manifest;
- `runner.py` runs the tasks on a local process pool or on Ray, resumes what was cut short
  and never redoes a finished run;
- `compare.py` groups any run folders by what differs in their configs and reports IQM with
  a 95% bootstrap CI (rliable), the probability of improvement, and mean ± std;
- `tune.py` searches settings with Optuna, each trial scored over several seeds.
"""
