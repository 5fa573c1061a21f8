# ci_checks: assertions for CI. `expect` tests the latest result of the current
# subject; a failed expectation makes `styleclip run` exit 1.
invert photos/ada.png photos/bo.png as people
global 'glasses' alpha=2
expect attribute(glasses) != 'none'
expect clip_delta('glasses') > 0
expect id_sim() > 0.3
expect distance() < 0.6
save out/ci/{name}_glasses.png

global 'purple hair'   # toon's own setting for this prompt (toon.yaml)
expect attribute(hair_color) == 'purple'
expect psnr() > 8
