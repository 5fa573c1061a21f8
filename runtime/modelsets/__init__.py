"""Model sets: YAML descriptions (torch-free registry) of the networks a recipe runs with."""
