# chains: `then` continues from the latest result, `apply` starts a new branch
# from the source; consecutive global edits fuse into one step (see `styleclip plan`).
invert photos/cy.png
global 'red hair' alpha=3
then global 'glasses'
then mapper 'surprised'
save out/chains/{name}_{step}_{engine}.png

# on toon, optimize is a masked optimization in StyleSpace (toon.yaml's engine_defaults); 60 steps add
# the beard here (the published W+ settings with steps=40 l2=0.01 added none)
mapper 'closed eyes'
then optimize 'beard' steps=60
save out/chains/{name}_eyes_beard.png
export latent out/chains/{name}_eyes_beard.pt
