# demo: the README's tour. Two photos inverted, a global edit, a mapper chained
# onto it, images and a grid saved, and one sweep saved as a grid.
use toon
seed 7

invert photos/ada.png photos/bo.png as friends
apply 'beard' via global alpha=2 beta=0.15  # toon: 1.00 success, 0.93 kept (docs/toon.md)
then mapper 'smile' strength=3  # toon's smile mapper: 0.94 / 0.94 at strength 3
save out/demo/{name}_beard_smile.png
save grid out/demo/beard_smile.png

# a sweep: one global edit at four strengths, one row per photo. keep= projects out what toon-CLIP
# also reads in 'purple hair' (a bald head); a colour wants few channels (a high beta) on the medium
# rows, where toon keeps hair colour: 0.84 success, 0.87 kept at alpha 10 (docs/toon.md)
global 'purple hair' keep='a bald head' beta=0.38 layers=medium alpha=0..12 count 4
save grid out/demo/purple_sweep.png
