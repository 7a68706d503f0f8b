"""The lab: everything that reproduces the paper or compares methods, apart from the library.

- :mod:`keras_sqnn.lab.experiments`: the main job, the comparison harness, the tuned runs
  and their reports, Biased-MNIST and the certified-invariance sweep.
- :mod:`keras_sqnn.lab.baselines`: the methods the SQNNs are compared with (AdvCls, VFAE,
  fairlearn's). Import it before loading a saved baseline model, so that its classes are
  registered.
- :mod:`keras_sqnn.lab.cli` (with :mod:`keras_sqnn.lab.cli_parser`): the ``keras-sqnn``
  command.
- :mod:`keras_sqnn.lab.plots`: the figures.

The lab imports the library; the library never imports the lab (tests/test_structure.py).
Importing this package loads nothing else.
"""
