"""``python -m keras_sqnn``: the same as the ``keras-sqnn`` command."""

import sys

from keras_sqnn.lab.cli import main

sys.exit(main())
