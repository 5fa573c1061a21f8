# chains: `then` continues from the latest result, `apply` starts a new branch
# from the source; consecutive global edits fuse into one step (see `styleclip plan`).
invert photos/cy.png
global 'red hair' alpha=3
then global 'glasses'
then mapper 'surprised'
save out/chains/{name}_{step}_{engine}.png

mapper 'sad'
then optimize 'beard' steps=40 l2=0.01 id=0.05
save out/chains/{name}_sad_beard.png
export latent out/chains/{name}_sad_beard.pt
