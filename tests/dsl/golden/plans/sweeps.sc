# sweeps: a range with a step, a downward range, a count, a list, an integer sweep
invert ada.png
apply 'purple hair' via global neutral='a face with hair' alpha=-2..6 step 2
save grid out/purple.png
save animation out/{name}_purple.gif
save out/{name}_{alpha}.png
global 'smile' alpha=6..0 step 3
then mapper 'sad' strength=0..1 count 3
save out/{name}_{alpha}_{strength}.png
optimize 'glasses' steps=[20, 40] l2=0.01
save out/{name}_{steps}.png
