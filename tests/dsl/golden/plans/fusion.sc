# consecutive global edits fuse; a save in between, a sweep or another engine stops it
invert ada.png
global 'curly hair' alpha=3
then global 'smile'
then global 'glasses' beta=0.2
save out/{name}_fused.png
global 'bald'
save out/{name}_bald.png
then global 'beard'
global 'red hair'
then global 'sad' alpha=0..2 count 2
save grid out/sweep.png
mapper 'smile'
then global 'mohawk'
then global 'sunglasses'
save out/{name}_mixed.png
