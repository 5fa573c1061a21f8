# samples: generated faces instead of photos, with a truncation, and two subjects
# switched between with `on`.
seed 3
generate seeds=1..3 truncation=0.7 as samples
generate seed=42 as single
on samples
global 'bald' alpha=5
save grid out/samples/bald.png
save out/samples/{name}_bald.png
on single
optimize 'sunglasses' steps=30
save out/samples/single_sunglasses.png
export latent out/samples/single.npz
