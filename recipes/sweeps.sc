# sweeps: a range with `step`, a range with `count`, a list of values; saved as a
# labelled grid, an animation, and one image per value with the {alpha} placeholder.
invert photos/dee.png as dee
apply 'blonde hair' via global neutral='a face with hair' alpha=-2..6 step 2
save grid out/sweeps/blonde.png
save animation out/sweeps/blonde.gif
save out/sweeps/{name}_blonde_{alpha}.png

global 'mohawk' beta=[0.1, 0.15, 0.2]
save grid out/sweeps/mohawk_beta.png

mapper 'closed eyes' strength=0..1 count 3
save out/sweeps/{name}_eyes_{strength}.png
