"""seqsal: which bases made the model say that?

Data contract (docs/design.md, in full)
---------------------------------------
- Coordinates are 0-based, half-open (BED) everywhere; only what a person reads in IGV
  is 1-based. Every region keeps its ``name`` through every stage.
- One-hot sequences are ``uint8`` arrays of shape ``(N, 4, L)`` in ACGT order. ``N`` and
  the other IUPAC codes encode as all-zero columns; lowercase bases are upper-cased.
- A ``-`` strand region is reverse-complemented when encoded; its attributions are mapped
  back to the ``+`` strand when written to genome tracks.
- Attributions: ``hyp`` ``(N, 4, L)`` hypothetical contributions and ``attr`` ``(N, L)``
  actual contributions, ``attr = (hyp * X).sum(axis=1)``, taken w.r.t. the model's
  pre-activation output (the logit) by default.
- A model checkpoint is a plain dict (architecture name, hyperparameters, ``state_dict``,
  input length, alphabet, targets, task types, metrics, seqsal version) that loads with
  ``torch.load(..., weights_only=True)``.
"""

import os

# OpenMP's default wait policy keeps idle threads spinning after each parallel region: a
# job whose threads share cores with any other work (Snakemake's other jobs, a laptop's
# browser, a shared node) then ran 8-10x slower on 2 threads than on 1. A passive wait
# yields the core. Set here, before any module of seqsal imports torch and its OpenMP
# runtime, for the seqsal command and for a script that imports seqsal first alike; a
# value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
