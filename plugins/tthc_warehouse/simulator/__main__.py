"""python -m tthc_warehouse.simulator --inbox DIR --seed N --scale X"""

import sys

from tthc_warehouse.simulator.core import main

if __name__ == "__main__":
    sys.exit(main())
