# The workflow is workflow/Snakefile (the Snakemake workflow catalog's entry); this file
# lets `snakemake --cores 2` run it from the checkout.


include: "workflow/Snakefile"


# an included file's default target does not carry over: name it here
rule default:
    default_target: True
    input:
        rules.all.input,
