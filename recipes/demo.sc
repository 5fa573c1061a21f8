# demo: the README's tour. Two photos inverted, a global edit, a mapper chained
# onto it, images and a grid saved, and one sweep saved as a grid.
use toon
seed 7

invert photos/ada.png photos/bo.png as friends
apply 'curly hair' via global alpha=4 beta=0.15
then mapper 'surprised' strength=2   # toon's surprised mapper: 1.00 at strength 2 (docs/toon.md)
save out/demo/{name}_curly_surprised.png
save grid out/demo/curly_surprised.png

# a sweep: the same global edit at four strengths, one row per photo
global 'purple hair' alpha=0..6 count 4
save grid out/demo/purple_sweep.png
