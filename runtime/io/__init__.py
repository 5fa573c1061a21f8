"""Files in and out: input images and photos, latents, PNG/JPEG stills, grids, animations."""
