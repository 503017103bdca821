import sys

from gazemodels.cli import main

sys.exit(main())
