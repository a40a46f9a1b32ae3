# seqsal: which bases made the model say that?
# Run the embedded demo with `snakemake --cores 2`; see README.md for your own data.

from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


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
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs,
