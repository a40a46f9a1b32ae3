# seqsal: which bases made the model say that?
# Run the embedded demo with `snakemake --cores 2`; see README.md for your own data.

from snakemake.utils import min_version

min_version("8.0")

import os
import sys

# the workflow's own checkout of seqsal, for what the workflow reads at parse time (config
# checks, each stage's options): Snakemake's environment needs only Snakemake, and the
# jobs run wherever seqsal is installed (--sdm conda: envs/seqsal.yaml installs it from
# SEQSAL_ROOT)
sys.path.insert(0, workflow.basedir)
os.environ.setdefault("SEQSAL_ROOT", workflow.basedir)

from seqsal.config import read_config_file
from seqsal.errors import InputError

# Snakemake's own message for broken YAML gives no line, and it keeps the last of a key
# given twice: say where, for this file and every --configfile (Snakemake reads those
# first, so for their broken YAML `python -m seqsal.config FILE` says where).
try:
    for path in ["config/config.yaml", *workflow.overwrite_configfiles]:
        if os.path.isfile(path):
            read_config_file(path)
except InputError as error:
    sys.exit(str(error))


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/regions.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/attribute.smk"
include: "workflow/rules/seqlets.smk"
include: "workflow/rules/motifs.smk"
include: "workflow/rules/tracks.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/variants.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs,
