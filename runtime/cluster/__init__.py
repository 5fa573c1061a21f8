"""Running a recipe on a Ray cluster (``styleclip run --ray [ADDRESS]``, docs/cluster.md).

Ray is an optional extra (``pip install 'styleclip-dsl[cluster]'``): nothing here imports it at
module level, and ``import styleclip_runtime`` never imports this package.

- ``batches.py``  (torch- and ray-free) splits a plan's subjects into batches, each a plan of its own;
- ``worker.py``   one warm replica of the models per actor (one actor per device): runs batches;
- ``driver.py``   starts or joins Ray, broadcasts directions and mappers once, hands batches to the
                  actors, and writes the outputs and run.json through the ordinary executor.
"""
