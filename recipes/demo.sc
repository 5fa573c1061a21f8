# demo: the README's tour. Two photos inverted, a global edit, a mapper chained
# onto it, images and a grid saved, and one sweep saved as a grid.
use toon
seed 7

invert photos/ada.png photos/bo.png as friends
apply 'beard' via global alpha=2 beta=0.15  # toon: 1.00 success, 0.93 kept (docs/toon.md)
then mapper 'smile' strength=3  # toon's smile mapper: 0.94 / 0.94 at strength 3
save out/demo/{name}_beard_smile.png
save grid out/demo/beard_smile.png

# a sweep: the same global edit at four strengths, one row per photo
global 'purple hair' alpha=0..6 count 4
save grid out/demo/purple_sweep.png
