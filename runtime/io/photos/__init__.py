"""Real photographs: honest decoding (``decode``), face finding (``faces``) and
the FFHQ alignment (``align``). Torch-free; dlib is imported only by ``faces``."""
