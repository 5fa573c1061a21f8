"""The engines: one folder each (``global_directions/``, ``mapper/``, ``optimization/``: the math and
an ``engine.py``), their protocol (``protocol.py``), the registry that maps a recipe's engine name
to its implementation (``registry.py``), and what they share: ``keep.py``, ``layer_choice.py``
(``layers=``), ``robust_clip.py`` (``views=``, ``smooth=``)."""
