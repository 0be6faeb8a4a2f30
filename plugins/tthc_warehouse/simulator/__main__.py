"""python -m tthc_warehouse.simulator --inbox DIR --seed N --scale X"""

import sys

from tthc_warehouse.simulator.core import main

sys.exit(main())
