use toon
seed 7
device cpu
invert photos/*.png
invert ada.png bo.png as pair
generate seeds=[3, 9] truncation=0.5 as two
generate seed=11
load latents/dee.pt
on pair
global 'smile'
save out/{name}.png
expect clip('smile') > 0.2
expect attribute(expression) == 'smile'
on two
optimize 'closed eyes' steps=30 id=0.01
export latent out/{name}.npz
expect golden('golden/two.png', tol=0.02) < 0.05
on photos
save grid out/photos.png
